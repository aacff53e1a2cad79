use super::*;

/// wharf's own feature table, as the binary declares it.
pub(crate) fn wharf_features() -> FeatureRegistry {
    FeatureRegistry::from_toml(include_str!("../../../../cli/features.toml")).unwrap()
}

fn spec(key: &str) -> FeatureSpec {
    FeatureSpec {
        key: key.to_owned(),
        stage: Stage::Experimental,
        default_enabled: false,
        description: String::new(),
    }
}

#[test]
fn plugins_register_their_own_keys() {
    let mut registry = wharf_features();
    registry.register(spec("grep_tool")).unwrap();
    assert_eq!(
        registry.get("grep_tool").map(|s| s.stage),
        Some(Stage::Experimental)
    );
    let errors = [
        (
            spec("grep_tool"),
            "feature flag `grep_tool` is already registered",
        ),
        (
            spec("view_image_tool"),
            "feature flag `view_image_tool` is already registered",
        ),
        (
            spec("has space"),
            "`has space` is not a valid feature key (use letters, digits, `_` and `-`)",
        ),
        (
            spec(""),
            "`` is not a valid feature key (use letters, digits, `_` and `-`)",
        ),
    ];
    for (spec, expected) in errors {
        assert_eq!(registry.register(spec).unwrap_err().to_string(), expected);
    }
}

#[test]
fn higher_layers_win_and_aliases_yield_to_canonical_keys() {
    let registry = wharf_features();
    let setting = |key: &str, enabled, source: Source| FeatureSetting {
        key: key.to_owned(),
        enabled,
        source,
    };
    let settings = [
        setting(
            "view_image",
            true,
            Source::Override("features.view_image=true".into()),
        ),
        setting(
            "view_image_tool",
            false,
            Source::Override("features.view_image_tool=false".into()),
        ),
        setting(
            "hooks",
            true,
            Source::Override("features.hooks=true".into()),
        ),
        setting("hooks", false, Source::Flag("--disable")),
    ];
    let (features, warnings) = Features::resolve(&registry, &settings, false);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(features.enabled("view_image"));
    assert!(!features.enabled("hooks"));
    assert_eq!(
        features.state("hooks").map(|s| s.source.kind()),
        Some("cli")
    );
    assert!(!features.enabled("no_such_key"));
}

#[test]
fn a_feature_table_that_does_not_fit_is_refused() {
    let entry = "stage = \"stable\"\ndefault_enabled = true\ndescription = \"d\"\n";
    let cases = [
        (
            format!("[a]\n{entry}aliases = [\"b\"]\n[b]\n{entry}"),
            "feature flag `b` is already registered",
        ),
        (
            format!("[a]\n{entry}aliases = [\"a\"]\n"),
            "feature flag `a` is already registered",
        ),
        (
            format!("[\"a b\"]\n{entry}"),
            "`a b` is not a valid feature key",
        ),
        (
            format!("[a]\n{entry}colour = 1\n"),
            "unknown field `colour`",
        ),
        (
            "[a]\nstage = \"done\"\n".to_owned(),
            "unknown variant `done`",
        ),
    ];
    for (table, expected) in cases {
        let err = FeatureRegistry::from_toml(&table).unwrap_err();
        assert!(err.to_string().contains(expected), "{table}: {err}");
    }
    let registry =
        FeatureRegistry::from_toml(&format!("[a]\n{entry}aliases = [\"old_a\"]\n")).unwrap();
    assert_eq!(registry.canonical("old_a"), Some("a"));
}
