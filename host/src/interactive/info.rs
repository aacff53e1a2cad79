//! What the front end is told about the session ([`SessionInfo`]), and the
//! working tree's changes for `/diff`.

use std::path::PathBuf;
use std::time::Duration;

use wharf_model::models::ModelInfo;
use wharf_runtime::pipeline::Session;
use wharf_runtime::plugin::manifest::PluginKind;
use wharf_sandbox::{Command, RunLimits};

use crate::ops::{FeatureState, ModelChoice, PluginState, SessionInfo};
use crate::session::Host;

pub(super) fn session_info(
    host: &Host,
    catalog: &[ModelInfo],
    provider: &str,
    rollout: Option<PathBuf>,
) -> SessionInfo {
    let session = host.session();
    let config = host.config();
    let model = host.model();
    let plugins = host.plugins();
    let features = session
        .features
        .iter()
        .map(|(name, state)| FeatureState {
            name: name.to_owned(),
            enabled: state.enabled,
            locked: host.feature_locked(name),
        })
        .collect();
    let mut states: Vec<PluginState> = plugins
        .entries
        .iter()
        .map(|entry| PluginState {
            name: entry.manifest.name.to_string(),
            kind: kind_name(entry.manifest.kind).to_owned(),
            feature: Some(entry.feature_key().to_owned()),
            tools: entry
                .plugin
                .tools()
                .iter()
                .map(|spec| spec.name.clone())
                .collect(),
            unavailable: plugins
                .offered(entry, &session.features)
                .err()
                .map(|why| why.to_string()),
        })
        .collect();
    // MCP servers the requirements block were never started.
    states.extend(config.mcp_servers.values().filter_map(|server| {
        let reason = server.blocked.as_ref()?;
        Some(PluginState {
            name: server.name.clone(),
            kind: kind_name(PluginKind::Mcp).to_owned(),
            feature: None,
            tools: Vec::new(),
            unavailable: Some(reason.clone()),
        })
    }));
    states.extend(plugins.skipped.iter().map(|skipped| PluginState {
        name: skipped.name.clone(),
        kind: String::new(),
        feature: None,
        tools: Vec::new(),
        unavailable: Some(format!("skipped: {}", skipped.reason)),
    }));
    SessionInfo {
        session_id: session.session_id.to_string(),
        cwd: session.cwd.clone(),
        model: model.map_or_else(String::new, |m| m.slug.clone()),
        provider: provider.to_owned(),
        sandbox: config.sandbox_policy.mode().as_str().to_owned(),
        approval_policy: session
            .approval_policy
            .unwrap_or(wharf_config::ApprovalPolicy::Never),
        context_window: model.and_then(|m| m.context_window),
        rollout,
        instructions: host.project_docs().paths(),
        requirements: config
            .requirements
            .origin
            .as_ref()
            .map(|origin| origin.to_string()),
        models: catalog
            .iter()
            .map(|m| ModelChoice {
                slug: m.slug.clone(),
                display_name: m.display_name.clone(),
                description: String::new(),
            })
            .collect(),
        features,
        plugins: states,
    }
}

fn kind_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Wasm => "wasm",
        PluginKind::Native => "native",
        PluginKind::Mcp => "mcp",
    }
}

/// How long `git` may take, and how much of its output is shown.
const GIT_LIMITS: RunLimits = RunLimits {
    timeout: Duration::from_secs(10),
    max_output_bytes: 1 << 20,
};

/// The working tree's changes against `HEAD` and its untracked files, as
/// `git` shows them, run in the session's sandbox; or why there are none
/// to show (and whether that is an error).
pub(super) fn git_diff(session: &Session) -> (String, bool) {
    let git = |args: &[&str]| {
        let mut argv = vec!["git", "--no-optional-locks", "--no-pager"];
        argv.extend_from_slice(args);
        let mut command = Command::new(argv);
        command.cwd(&session.cwd);
        session.sandbox.run(command, None, GIT_LIMITS)
    };
    let inside = match git(&["rev-parse", "--is-inside-work-tree"]) {
        Ok(output) => output.exit_code == Some(0),
        Err(err) => return (format!("cannot run git: {err}"), true),
    };
    if !inside {
        return (
            format!("{} is not in a git repository", session.cwd.display()),
            true,
        );
    }
    let mut text = String::new();
    // Without a commit yet, against the empty tree.
    let base = match git(&["rev-parse", "--verify", "--quiet", "HEAD"]) {
        Ok(output) if output.exit_code == Some(0) => "HEAD",
        _ => "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    };
    match git(&["diff", "--no-color", "--no-ext-diff", base, "--"]) {
        Ok(output) => text.push_str(&String::from_utf8_lossy(&output.stdout)),
        Err(err) => return (format!("cannot run git diff: {err}"), true),
    }
    if let Ok(output) = git(&["ls-files", "--others", "--exclude-standard"]) {
        let untracked = String::from_utf8_lossy(&output.stdout);
        if !untracked.trim().is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("untracked files:\n");
            for path in untracked.lines() {
                text.push_str("  ");
                text.push_str(path);
                text.push('\n');
            }
        }
    }
    if text.trim().is_empty() {
        return ("no changes".to_owned(), false);
    }
    (text, false)
}

#[cfg(test)]
mod tests;
