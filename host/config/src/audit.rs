//! `[audit] enabled`: whether every tool call is recorded. Only the user
//! turns it off: a repository must not hide what its session did.

use crate::layer::Layered;
use crate::toml_types::AuditToml;
use crate::{Project, Source};

/// `[audit] enabled` (default `true`), unless a project file set it: that
/// value is ignored with a warning.
pub(crate) fn audit_enabled(
    audit: Option<&AuditToml>,
    effective: &Layered,
    project: &Project,
    warnings: &mut Vec<String>,
) -> bool {
    let Some(enabled) = audit.and_then(|audit| audit.enabled) else {
        return true;
    };
    let key = vec!["audit".to_owned(), "enabled".to_owned()];
    let source = effective.sources.get(&key);
    let project_file = project.file.as_ref().map(|file| file.path.as_path());
    let at = match source {
        Some(Source::Project(at)) => Some(at),
        Some(Source::Profile { at, .. }) if Some(at.path.as_path()) == project_file => Some(at),
        _ => None,
    };
    if let Some(at) = at {
        warnings.push(format!(
            "{at}: `audit.enabled`: a project file cannot change the audit log (ignored; set it \
             in your own config.toml)"
        ));
        return true;
    }
    enabled
}
