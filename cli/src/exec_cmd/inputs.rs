//! What `wharf exec` reads besides the prompt: the images of `-i` and the
//! JSON Schema of `--output-schema`, checked before any request, and the
//! final message checked against that schema after the turn.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::Value;
use wharf_model::models::ModelInfo;
use wharf_model::protocol::InputImage;

/// The most an attached image may hold: the providers' own limit (20 MiB).
/// A longer file, or a device that never ends, is refused after reading
/// one byte more, not read into memory whole.
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// The images of `-i`, for `model`: refused before any request when the
/// model does not read images, or when a file cannot be read, is larger
/// than [`MAX_IMAGE_BYTES`] or is not a PNG, JPEG, GIF or WebP image (its
/// bytes say, not its name).
pub fn load_images(
    paths: &[PathBuf],
    cwd: &Path,
    model: &ModelInfo,
) -> anyhow::Result<Vec<InputImage>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    if !model.supports_image_input() {
        bail!(
            "the model {} does not read images, so -i cannot attach any (choose a model with \
             image input with -m, or leave the images out)",
            model.slug
        );
    }
    paths
        .iter()
        .map(|path| {
            let path = cwd.join(path);
            let bytes = read_image(&path)?;
            InputImage::from_bytes(&bytes).with_context(|| {
                format!(
                    "{} is not an image a model reads (PNG, JPEG, GIF or WebP)",
                    path.display()
                )
            })
        })
        .collect()
}

fn read_image(path: &Path) -> anyhow::Result<Vec<u8>> {
    let cannot = || format!("cannot read the image {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        bail!(
            "the image {} is larger than {} MiB, the most a model is sent (make it smaller)",
            path.display(),
            MAX_IMAGE_BYTES / (1024 * 1024)
        );
    }
    Ok(bytes)
}

/// `--output-schema`: the schema the final message must match.
pub struct OutputSchema {
    path: PathBuf,
    schema: Value,
    validator: jsonschema::Validator,
}

impl OutputSchema {
    /// Reads and compiles the schema at `path` (relative to `cwd`).
    pub fn load(path: &Path, cwd: &Path) -> anyhow::Result<OutputSchema> {
        let path = cwd.join(path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the output schema {}", path.display()))?;
        let schema: Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "the output schema {} is not JSON (fix it, or check the path)",
                path.display()
            )
        })?;
        let validator = jsonschema::validator_for(&schema).map_err(|err| {
            anyhow::anyhow!(
                "the output schema {} is not a valid JSON Schema: {err}",
                path.display()
            )
        })?;
        Ok(OutputSchema {
            path,
            schema,
            validator,
        })
    }

    /// The schema, for the request.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Checks the turn's final message: JSON matching the schema. The
    /// error says what failed (at most five problems, with where).
    pub fn check(&self, message: Option<&str>) -> Result<(), String> {
        let path = self.path.display();
        let Some(message) = message else {
            return Err(format!(
                "the model wrote no final message to check against the output schema {path}"
            ));
        };
        let value: Value = serde_json::from_str(message)
            .map_err(|err| format!("the final message is not JSON ({err}), as {path} asks"))?;
        let problems = wharf_runtime::pipeline::schema_problems(&self.validator, &value);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the final message does not match the output schema {path}: {}",
                problems.join("; ")
            ))
        }
    }
}
