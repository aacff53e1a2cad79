//! The hooks of a session's plugins, for the pipeline and the agent.

use std::sync::Arc;

use super::Plugins;
use crate::hooks::Hook;
use wharf_config::features::Features;

impl Plugins {
    /// The hooks of the loaded plugins whose tools are offered under
    /// `features` (a plugin whose feature is off hooks nothing), ordered by
    /// plugin name. The session's [`crate::hooks::Hooks`] puts them beside
    /// the command hooks of the configuration.
    pub fn hooks(&self, features: &Features) -> Vec<Arc<dyn Hook>> {
        let mut hooked: Vec<_> = self
            .entries
            .iter()
            .filter(|entry| entry.loaded && self.offered(entry, features).is_ok())
            .filter_map(|entry| Some((entry.manifest.name.as_str(), entry.hooks.clone()?)))
            .collect();
        hooked.sort_by_key(|(name, _)| *name);
        hooked.into_iter().map(|(_, hook)| hook).collect()
    }
}
