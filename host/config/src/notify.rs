//! The keys of a session's side programs and files: `notify`, which only
//! the user may set, and the default budget of the project instructions.

use crate::layer::Layered;
use crate::{ConfigError, Project, Source, invalid_value};

/// The default of `project_doc_max_bytes`: 32 KiB, as codex.
pub const DEFAULT_PROJECT_DOC_MAX_BYTES: usize = 32 * 1024;

/// `notify`, unless a project file set it: a repository must not choose a
/// program wharf runs outside the sandbox after every turn. An empty list
/// is an error (there is no program to run).
pub(crate) fn notify_program(
    notify: Option<Vec<String>>,
    effective: &Layered,
    project: &Project,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(argv) = notify else {
        return Ok(None);
    };
    let key = vec!["notify".to_owned()];
    let source = effective.sources.get(&key);
    let project_file = project.file.as_ref().map(|file| file.path.as_path());
    let from_project = match source {
        Some(Source::Project(_)) => true,
        Some(Source::Profile { at, .. }) => Some(at.path.as_path()) == project_file,
        _ => false,
    };
    if from_project {
        let at = match source {
            Some(Source::Project(at) | Source::Profile { at, .. }) => format!("{at}: "),
            _ => String::new(),
        };
        warnings.push(format!(
            "{at}`notify`: a project file cannot choose a program to run after each turn \
             (ignored; set it in your own config.toml)"
        ));
        return Ok(None);
    }
    if argv.first().is_none_or(|program| program.is_empty()) {
        return Err(invalid_value(
            source,
            &key,
            "`notify` needs a program: `notify = [\"program\", \"arg\", …]`".to_owned(),
        ));
    }
    Ok(Some(argv))
}
