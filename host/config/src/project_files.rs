//! A trusted project's files as layers: its `.codex/config.toml` (a codex
//! user's project file) below its `.wharf/config.toml`, each read under the
//! same trust rules (`trust.rs`), each stripped of what only the user's own
//! file may say.

use std::path::{Path, PathBuf};

use crate::layer::FileLayer;
use crate::trust::{self, Project, ProjectLayers};

/// Keys codex itself ignores in a project's `.codex/config.toml` (they
/// redirect credentials or run machine-local programs): wharf ignores them
/// there too, with a warning.
const CODEX_USER_ONLY: &[&str] = &[
    "openai_base_url",
    "chatgpt_base_url",
    "model_provider",
    "model_providers",
    "notify",
    "profile",
    "profiles",
    "experimental_realtime_ws_base_url",
    "otel",
];

/// Pushes the project's layers that were read onto `loaded`, lowest first,
/// and their paths onto `files`; a `.codex/config.toml` that is read is
/// said once in `warnings`.
pub(crate) fn push_layers(
    project: &Project,
    layers: ProjectLayers,
    user_path: &Path,
    loaded: &mut Vec<FileLayer>,
    files: &mut Vec<PathBuf>,
    warnings: &mut Vec<String>,
) {
    if let (Some(mut file), Some(found)) = (layers.codex, &project.codex_file) {
        for key in CODEX_USER_ONLY {
            drop_key(
                &mut file,
                key,
                "codex ignores it in a project's .codex/config.toml too",
            );
        }
        let beside = project.file.as_ref().map_or_else(String::new, |wharf| {
            format!(" (below {})", wharf.path.display())
        });
        warnings.push(format!(
            "note: reading {}, the project's codex configuration{beside}",
            found.path.display()
        ));
        push(file, &found.path, user_path, loaded, files);
    }
    if let (Some(file), Some(found)) = (layers.wharf, &project.file) {
        push(file, &found.path, user_path, loaded, files);
    }
}

fn push(
    mut file: FileLayer,
    path: &Path,
    user_path: &Path,
    loaded: &mut Vec<FileLayer>,
    files: &mut Vec<PathBuf>,
) {
    trust::drop_trust_table(&mut file, user_path);
    crate::otel::drop_project_otel(&mut file);
    let markers = format!(
        "only your own {} says what a project root is",
        user_path.display()
    );
    drop_key(&mut file, "project_root_markers", &markers);
    files.push(path.to_path_buf());
    loaded.push(file);
}

/// Removes top-level `key` from `file`, with a warning saying `why`.
fn drop_key(file: &mut FileLayer, key: &str, why: &str) {
    if file.layered.remove(key).is_none() {
        return;
    }
    let at = file
        .key_locations
        .get([key.to_owned()].as_slice())
        .map_or_else(String::new, |at| format!("{at}: "));
    file.warnings.push(format!("{at}`{key}`: {why} (ignored)"));
}
