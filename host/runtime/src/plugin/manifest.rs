//! `plugin.toml`: what a plugin is, where its artifact lies, and what it
//! asks to touch.
//!
//! A plugin lives in `$WHARF_HOME/plugins/<name>/` beside its artifact.
//! [`Manifest::parse`] checks the file the way the configuration is checked:
//! every error names the file, line, column and key; unknown keys are
//! warnings, not errors, so that an older wharf can still load a plugin
//! written for a newer one. What a plugin *asks* for here is only a request:
//! [`super::grant`] intersects it with the session's sandbox policy.

mod hooks;
mod raw;
mod read;
mod values;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

pub use self::hooks::{HookSelection, HookedEvent};
use self::raw::{ManifestToml, Spans};
pub use self::read::{MAX_ARTIFACT_BYTES, MAX_MANIFEST_BYTES, ReadError, read_limited};
use self::values::{EnvName, Positive, Word};
pub use self::values::{
    HostPort, InvalidValue, MAX_NAME_LEN, PathRequest, PluginKind, PluginName, Sha256,
};
use wharf_config::features::Stage;
use wharf_config::layer::{CheckError, check};
use wharf_config::{Location, display_key};

/// The file name of a manifest inside a plugin's directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed and checked `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: PluginName,
    /// The plugin's own version, free-form.
    pub version: String,
    /// The `wharf:plugin` WIT version the plugin targets.
    pub api: String,
    pub kind: PluginKind,
    /// The artifact, absolute: resolved against the manifest's directory,
    /// which it never leaves (checked lexically; see [`Manifest::parse`]).
    pub artifact: PathBuf,
    /// The digest the artifact must have, when the manifest pins one. The
    /// pin that decides is wharf's own, in `plugins.lock` (see
    /// `registry::lock`): this one can only refuse more.
    pub sha256: Option<Sha256>,
    pub description: Option<String>,
    /// Whether a failure to load this plugin fails startup.
    pub required: bool,
    pub feature: FeatureDecl,
    pub capabilities: Capabilities,
    /// Model capabilities the plugin's tools need (`image_input`), from the
    /// top-level `requires` and `capabilities.requires` together.
    pub requires: Vec<String>,
    pub limits: LimitWishes,
    /// The events its `wharf:plugin/hooks` export is called for
    /// (`[hooks]`); `None`: it hooks nothing.
    pub hooks: Option<HookSelection>,
    /// The `plugin.toml` this was read from.
    pub path: PathBuf,
}

/// The feature flag that turns the plugin on and off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDecl {
    /// Defaults to the plugin's name.
    pub key: String,
    /// Defaults to [`Stage::Experimental`].
    pub stage: Stage,
    pub default_enabled: bool,
    /// Another feature that, when on, replaces this plugin: its tools are
    /// not offered then (a one-shot command tool gives way to long-lived
    /// command sessions).
    pub replaced_by: Option<String>,
}

/// What the plugin asks to touch. The default asks for nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub fs_read: Vec<PathRequest>,
    /// Roots below which the plugin may return file changes; the host
    /// applies them after checking each path.
    pub fs_write: Vec<PathRequest>,
    pub network: Vec<HostPort>,
    /// Names of environment variables the plugin wants to see.
    pub env: Vec<String>,
    pub exec: bool,
}

/// Per-call limits the plugin would like; the host clamps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitWishes {
    pub timeout_ms: Option<u64>,
    pub memory_mb: Option<u64>,
}
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Unreadable, not a regular file, over [`MAX_MANIFEST_BYTES`] or not
    /// UTF-8.
    #[error(transparent)]
    File(#[from] ReadError),
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: {key}: {message}")]
    Invalid {
        at: Location,
        key: String,
        message: String,
    },
    #[error("{at}: missing key{} {}", if keys.len() == 1 { "" } else { "s" }, quoted(keys))]
    Missing { at: Location, keys: Vec<String> },
}

fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A manifest found by [`discover`], with the warnings its file produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub manifest: Manifest,
    pub warnings: Vec<String>,
}

/// Loads the manifest of every subdirectory of `plugins_dir` that holds a
/// `plugin.toml`, sorted by directory name. A missing `plugins_dir` holds no
/// plugins. A failure names the plugin's directory, so that the caller can
/// report it and go on with the others.
pub fn discover(plugins_dir: &Path) -> Vec<Result<Discovered, (PathBuf, ManifestError)>> {
    let entries = match fs::read_dir(plugins_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(source) => {
            let path = plugins_dir.to_path_buf();
            return vec![Err((path.clone(), ManifestError::Read { path, source }))];
        }
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut failures = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => dirs.push(entry.path()),
            Err(source) => failures.push(Err((
                plugins_dir.to_path_buf(),
                ManifestError::Read {
                    path: plugins_dir.to_path_buf(),
                    source,
                },
            ))),
        }
    }
    // Hidden directories are not plugins: `wharf plugin add` stages one as
    // `.adding-*` before renaming it into place.
    let hidden = |dir: &Path| {
        dir.file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'))
    };
    dirs.retain(|dir| dir.is_dir() && !hidden(dir) && dir.join(MANIFEST_FILE).is_file());
    dirs.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let loaded = dirs.into_iter().map(|dir| {
        let dir_name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(MANIFEST_FILE);
        read_manifest_text(&path)
            .and_then(|text| parse_manifest(&path, &text, Some(&dir_name)))
            .map(|(manifest, warnings)| Discovered { manifest, warnings })
            .map_err(|err| (dir, err))
    });
    failures.into_iter().chain(loaded).collect()
}

impl Manifest {
    /// Reads and checks the manifest at `path`, dropping its warnings.
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let text = read_manifest_text(path)?;
        Manifest::parse(path, &text).map(|(manifest, _)| manifest)
    }

    /// Checks `text`, the contents of `path`, and returns the manifest with
    /// the warnings (unknown keys, each with its location).
    ///
    /// `artifact` must be relative and must not leave the manifest's
    /// directory, judged on the text (`..` may only undo a component written
    /// before it): a symlink inside the plugin's own directory is the
    /// plugin's business, and the `sha256` pin covers what it points to.
    pub fn parse(path: &Path, text: &str) -> Result<(Manifest, Vec<String>), ManifestError> {
        parse_manifest(path, text, None)
    }

    /// One line per thing the plugin asks for, for `wharf plugin add`:
    /// `reads: the workspace`, `network: none`, `runs commands: no`.
    pub fn describe_capabilities(&self) -> Vec<String> {
        let caps = &self.capabilities;
        let paths = |requests: &[PathRequest]| {
            list_or(
                requests.iter().map(|request| match request {
                    PathRequest::Workspace => "the workspace".to_owned(),
                    PathRequest::Cwd => "the working directory".to_owned(),
                    PathRequest::Path(path) => path.display().to_string(),
                }),
                "nothing",
            )
        };
        let mut lines = vec![
            format!("reads: {}", paths(&caps.fs_read)),
            format!("writes: {}", paths(&caps.fs_write)),
            format!(
                "network: {}",
                list_or(caps.network.iter().map(HostPort::to_string), "none")
            ),
            format!("environment: {}", list_or(caps.env.iter().cloned(), "none")),
            format!("runs commands: {}", if caps.exec { "yes" } else { "no" }),
        ];
        if !self.requires.is_empty() {
            lines.push(format!("needs a model with: {}", self.requires.join(", ")));
        }
        if let Some(hooks) = &self.hooks {
            lines.push(hooks.describe());
        }
        lines
    }
}

/// The text of the manifest at `path`, at most [`MAX_MANIFEST_BYTES`].
pub fn read_manifest_text(path: &Path) -> Result<String, ManifestError> {
    let bytes = read_limited(path, MAX_MANIFEST_BYTES, "a plugin.toml")?;
    String::from_utf8(bytes).map_err(|_| {
        ManifestError::File(ReadError::Io {
            path: path.to_path_buf(),
            error: io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        })
    })
}

/// `items` joined by `, `, or `empty` when there are none.
pub(crate) fn list_or(items: impl Iterator<Item = String>, empty: &str) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}
/// [`Manifest::parse`], also checking that `name` is `dir_name` when given.
fn parse_manifest(
    path: &Path,
    text: &str,
    dir_name: Option<&str>,
) -> Result<(Manifest, Vec<String>), ManifestError> {
    let root = DeTable::parse(text).map_err(|err| ManifestError::Syntax {
        at: Location::of_offset(path, text, err.span().map_or(0, |span| span.start)),
        message: err.message().trim_end().to_owned(),
    })?;
    let mut spans = Spans {
        path,
        text,
        keys: BTreeMap::new(),
        values: BTreeMap::new(),
    };
    spans.collect(root.get_ref(), &mut Vec::new());

    let (raw, unknown) = check::<ManifestToml, _>(toml::Deserializer::from(root)).map_err(
        |CheckError { key, message, span }| {
            // Array elements have no span of their own in toml's errors, so
            // our own map of value spans comes first.
            let at = match (spans.values.get(&key), span) {
                (Some(span), _) => spans.at(span.start),
                (None, Some(span)) => spans.at(span.start),
                (None, None) => spans.key(&key),
            };
            ManifestError::Invalid {
                at,
                key: display_key(&key),
                message,
            }
        },
    )?;
    let mut warnings: Vec<(Location, String)> = unknown
        .iter()
        .map(|key| {
            let at = spans.key(key);
            let message = format!("{at}: unknown key `{}` (ignored)", display_key(key));
            (at, message)
        })
        .collect();
    warnings.sort_by_key(|(at, _)| (at.line, at.column));
    let warnings = warnings.into_iter().map(|(_, message)| message).collect();

    let present = [
        ("name", raw.name.is_some()),
        ("version", raw.version.is_some()),
        ("api", raw.api.is_some()),
        ("kind", raw.kind.is_some()),
        ("artifact", raw.artifact.is_some()),
    ];
    let (Some(name), Some(version), Some(api), Some(kind), Some(artifact)) =
        (raw.name, raw.version, raw.api, raw.kind, raw.artifact)
    else {
        let keys = present
            .into_iter()
            .filter(|(_, present)| !present)
            .map(|(key, _)| key.to_owned())
            .collect();
        return Err(ManifestError::Missing {
            at: spans.at(0),
            keys,
        });
    };
    if let Some(dir_name) = dir_name
        && name.as_str() != dir_name
    {
        return Err(ManifestError::Invalid {
            at: spans.value(&["name".to_owned()]),
            key: "name".to_owned(),
            message: format!(
                "the plugin `{name}` is in the directory `{dir_name}` (rename the directory to `{name}` or change the name)"
            ),
        });
    }

    // A relative manifest path is taken from the current directory.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    let mut requires: Vec<String> = Vec::new();
    for Word(word) in raw.requires.into_iter().chain(raw.capabilities.requires) {
        if !requires.contains(&word) {
            requires.push(word);
        }
    }
    let feature = FeatureDecl {
        key: raw
            .feature
            .key
            .map_or_else(|| name.as_str().to_owned(), |Word(key)| key),
        stage: raw.feature.stage.map_or(Stage::Experimental, Stage::from),
        default_enabled: raw.feature.default_enabled.unwrap_or(false),
        replaced_by: raw.feature.replaced_by.map(|Word(key)| key),
    };
    if api.0 == "0.1.0" && !raw.capabilities.network.is_empty() {
        return Err(ManifestError::Invalid {
            at: spans.value(&["capabilities".to_owned(), "network".to_owned()]),
            key: "capabilities.network".to_owned(),
            message: format!(
                "the plugin `{name}` targets wharf:plugin@0.1.0, which has no network access; \
                 set `api = \"0.2.0\"` and rebuild it against wit/0.2.0/plugin.wit to ask for hosts"
            ),
        });
    }
    let hooks = raw
        .hooks
        .map(|table| hooks::selection(table, &api.0, kind == PluginKind::Wasm))
        .transpose()
        .map_err(|message| ManifestError::Invalid {
            at: spans.key(&["hooks".to_owned()]),
            key: "hooks".to_owned(),
            message: format!("the plugin `{name}` asks for hooks, but {message}"),
        })?;
    let capabilities = Capabilities {
        fs_read: raw.capabilities.fs.read,
        fs_write: raw.capabilities.fs.write,
        network: raw.capabilities.network,
        env: raw
            .capabilities
            .env
            .into_iter()
            .map(|EnvName(name)| name)
            .collect(),
        exec: raw.capabilities.exec,
    };
    let manifest = Manifest {
        name,
        version: version.0,
        api: api.0,
        kind,
        artifact: dir.join(artifact.0),
        sha256: raw.sha256,
        description: raw.description,
        required: raw.required,
        feature,
        capabilities,
        requires,
        limits: LimitWishes {
            timeout_ms: raw.limits.timeout_ms.map(|Positive(ms)| ms),
            memory_mb: raw.limits.memory_mb.map(|Positive(mb)| mb),
        },
        hooks,
        path: path.to_path_buf(),
    };
    Ok((manifest, warnings))
}

#[cfg(test)]
mod tests;
