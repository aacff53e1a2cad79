//! Where a project's configuration is looked for: from the working
//! directory up to the project root, the first directory holding one of
//! the root markers (`project_root_markers`, codex's key; default `.git`).

use std::path::{Path, PathBuf};

use super::CONFIG_FILE;

/// What marks a project root when `project_root_markers` is unset.
pub const DEFAULT_PROJECT_ROOT_MARKERS: &[&str] = &[".git"];

/// The default root markers, owned.
pub fn default_root_markers() -> Vec<String> {
    DEFAULT_PROJECT_ROOT_MARKERS
        .iter()
        .map(|marker| (*marker).to_owned())
        .collect()
}

/// The nearest `.wharf/config.toml` from `cwd` upwards, not looking past the
/// project root (see [`project_config_dirs`]).
pub fn find_project_config(cwd: &Path, markers: &[String]) -> Option<PathBuf> {
    find_in_project(cwd, markers, ".wharf")
}

/// The nearest `DIR/config.toml` (`DIR` being `.wharf` or `.codex`) from
/// `cwd` upwards, not looking past the project root.
pub(crate) fn find_in_project(cwd: &Path, markers: &[String], dir: &str) -> Option<PathBuf> {
    search_dirs(cwd, markers)
        .map(|ancestor| ancestor.join(dir).join(CONFIG_FILE))
        .find(|candidate| candidate.is_file())
}

/// Every `.wharf` directory the project search looks in, nearest first:
/// one per directory from `cwd` up to the project root (the first
/// directory holding one of `markers`), or up to `/` when none does; only
/// `cwd`'s own with no markers at all (`project_root_markers = []`). They
/// are listed whether or not they exist: a tool that could create one
/// could plant a configuration for the next session.
pub fn project_config_dirs(cwd: &Path, markers: &[String]) -> Vec<PathBuf> {
    search_dirs(cwd, markers)
        .map(|dir| dir.join(".wharf"))
        .collect()
}

/// The directories the project search visits, nearest first.
fn search_dirs<'a>(cwd: &'a Path, markers: &[String]) -> impl Iterator<Item = &'a Path> {
    let top = if markers.is_empty() {
        Some(cwd)
    } else {
        marked_root(cwd, markers)
    };
    let mut done = false;
    cwd.ancestors().take_while(move |dir| {
        let visit = !done;
        done = done || Some(*dir) == top;
        visit
    })
}

/// The first directory from `dir` up that holds one of `markers`: where
/// the project search stops, and the root trust is recorded for.
pub(crate) fn marked_root<'a>(dir: &'a Path, markers: &[String]) -> Option<&'a Path> {
    dir.ancestors().find(|ancestor| {
        markers
            .iter()
            .any(|marker| !marker.is_empty() && ancestor.join(marker).exists())
    })
}

pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
