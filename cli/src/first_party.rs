//! wharf's own feature keys: its builtin plugins' and its own, declared as
//! data in `cli/features.toml`. The host crates know no key; every registry
//! of a wharf session starts from this one.

use anyhow::Context as _;
use wharf_config::features::FeatureRegistry;

/// A registry holding wharf's own feature keys and their aliases.
pub fn feature_registry() -> anyhow::Result<FeatureRegistry> {
    FeatureRegistry::from_toml(include_str!("../features.toml"))
        .context("cli/features.toml, built into wharf (a bug of this build)")
}

#[cfg(test)]
mod tests {
    use wharf_config::features::Stage;

    #[test]
    fn the_keys_are_those_of_the_product_spec() {
        let registry = super::feature_registry().unwrap();
        let table: Vec<(&str, Stage, bool)> = registry
            .specs()
            .map(|spec| (spec.key.as_str(), spec.stage, spec.default_enabled))
            .collect();
        assert_eq!(
            table,
            [
                ("apply_patch", Stage::Stable, true),
                ("apply_patch_freeform", Stage::Experimental, false),
                ("hooks", Stage::Experimental, false),
                ("mcp_client", Stage::Stable, true),
                ("plan_tool", Stage::Stable, true),
                ("responses_websockets", Stage::UnderDevelopment, false),
                ("shell_tool", Stage::Stable, true),
                ("telemetry", Stage::Stable, true),
                ("unified_exec", Stage::Stable, true),
                ("view_image", Stage::Stable, true),
            ]
        );
        assert_eq!(registry.canonical("view_image_tool"), Some("view_image"));
    }
}
