//! Tool names are unique across every kind of plugin. The rule, decided
//! when a session's plugins load:
//!
//! 1. first-party plugins (embedded in the binary) come first, whether
//!    their feature is on or off;
//! 2. MCP servers' tools live in their kind's namespace,
//!    `<kind>__<server>__<tool>` (see [`namespace`]), a prefix no other
//!    plugin may use, so they never meet another kind's names;
//! 3. an installed plugin offering a name that 1 or 2 holds is skipped,
//!    naming the holder;
//! 4. two installed plugins offering the same name are both skipped, each
//!    naming the other: neither may take the other's tool by being loaded
//!    first.
//!
//! `wharf plugin add` refuses a plugin that would meet 3 or 4.

use std::collections::BTreeMap;

use super::load::Loaded;
use super::{Candidate, Plugins};
use crate::plugin::manifest::PluginKind;

/// The prefix of the tool names of a kind that brings tools from elsewhere
/// (an MCP server's, which the MCP client names): the kind's word and two
/// underscores. Kinds whose tools name themselves have none.
pub fn namespace(kind: PluginKind) -> Option<String> {
    match kind {
        PluginKind::Mcp => Some(format!("{}__", kind.as_str())),
        PluginKind::Wasm | PluginKind::Native => None,
    }
}

/// Why a plugin of `kind` may not offer a tool named `tool`, if it may not.
pub fn reserved(kind: PluginKind, tool: &str) -> Option<String> {
    match kind {
        PluginKind::Mcp => None,
        PluginKind::Wasm | PluginKind::Native => {
            let prefix = namespace(PluginKind::Mcp)?;
            tool.starts_with(&prefix).then(|| {
                format!(
                    "its tool `{tool}` starts with `{prefix}`, which is reserved for the tools \
                     of MCP servers (`[mcp_servers]`); rename the tool"
                )
            })
        }
    }
}

/// Skips the installed plugins that rules 3 and 4 rule out and returns the
/// others, in order.
pub(super) fn settle_installed(
    plugins: &mut Plugins,
    installed: Vec<(Candidate, Loaded)>,
) -> Vec<(Candidate, Loaded)> {
    // Rule 3 first, so that a plugin skipped for it does not take an
    // installed rival down with it.
    let mut remaining = Vec::new();
    for (candidate, loaded) in installed {
        match plugins.refusal(&candidate.manifest, loaded.plugin.tools()) {
            Some(reason) => plugins.skip(&candidate, reason),
            None => remaining.push((candidate, loaded)),
        }
    }
    let mut offered_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (candidate, loaded) in &remaining {
        for spec in loaded.plugin.tools() {
            offered_by
                .entry(spec.name.as_str())
                .or_default()
                .push(candidate.manifest.name.as_str());
        }
    }
    let conflicts: Vec<Option<String>> = remaining
        .iter()
        .map(|(candidate, loaded)| {
            let name = candidate.manifest.name.as_str();
            loaded.plugin.tools().iter().find_map(|spec| {
                let others: Vec<String> = offered_by
                    .get(spec.name.as_str())?
                    .iter()
                    .filter(|other| **other != name)
                    .map(|other| format!("`{other}`"))
                    .collect();
                (!others.is_empty()).then(|| {
                    format!(
                        "its tool `{}` is also offered by the installed plugin {}; neither is \
                         loaded until one is removed (`wharf plugin remove NAME`)",
                        spec.name,
                        others.join(", ")
                    )
                })
            })
        })
        .collect();
    let mut kept = Vec::new();
    for ((candidate, loaded), conflict) in remaining.into_iter().zip(conflicts) {
        match conflict {
            Some(reason) => plugins.skip(&candidate, reason),
            None => kept.push((candidate, loaded)),
        }
    }
    kept
}
