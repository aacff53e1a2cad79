//! `wharf.plugin_load`: what `tracing` hears of each plugin the registry
//! adds or skips (wharf's log; an exporter later). Names, hashes and
//! timings only; nothing is formatted unless a subscriber wants the event.

use super::{Candidate, Loaded, Origin};

/// A plugin joined the registry (`loaded = false`: a stand-in for one
/// whose feature is off, never read).
pub(super) fn plugin_load(candidate: &Candidate, loaded: &Loaded) {
    tracing::info!(
        target: "wharf.plugin_load",
        plugin = candidate.manifest.name.as_str(),
        kind = candidate.manifest.kind.as_str(),
        first_party = matches!(candidate.origin, Origin::Embedded),
        // Builtin native plugins have no artifact to hash.
        sha256 = (!loaded.sha256.is_empty()).then_some(loaded.sha256.as_str()),
        loaded = loaded.loaded,
        from_cache = loaded.from_cache,
        tools = loaded.plugin.tools().len(),
        duration_ms = u64::try_from(loaded.load_time.as_millis()).unwrap_or(u64::MAX),
        "plugin loaded"
    );
}

/// A plugin that will not be offered, and why.
pub(super) fn plugin_skipped(candidate: &Candidate, reason: &str) {
    tracing::warn!(
        target: "wharf.plugin_load",
        plugin = candidate.manifest.name.as_str(),
        reason,
        "plugin skipped"
    );
}
