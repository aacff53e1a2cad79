//! A custom build's baked-in `config.toml`: above wharf's defaults, below
//! the project's and the user's files, the flags and the requirements; an
//! error in it names it as built in.

use super::{Fixture, feature_row, shown, source_of};
use crate::build_config::BuildConfig;
use crate::requirements::RequirementsSource;
use crate::{Config, ConfigError, ConfigOptions};

const NAME: &str = "acme/config.toml";
const WHERE: &str = "acme/config.toml (built into this wharf)";

/// The build's defaults: each value is overridden by a different layer
/// below, except `model_reasoning_effort`, which only the build sets.
const BAKED: &str = "model = \"acme-model\"\n\
                     model_reasoning_effort = \"high\"\n\
                     approval_policy = \"untrusted\"\n\
                     sandbox_mode = \"workspace-write\"\n\
                     personality = \"friendly\"\n\
                     [features]\n\
                     plan_tool = false\n\
                     view_image = false\n";

impl Fixture {
    fn load_built(
        &self,
        baked: &'static str,
        edit: impl FnOnce(&mut ConfigOptions),
    ) -> Result<Config, ConfigError> {
        self.load_with(|options| {
            options.build_config = Some(BuildConfig::new(NAME, baked));
            edit(options);
        })
    }
}

#[test]
fn the_build_config_sits_between_the_defaults_and_the_files() {
    let fixture = Fixture::new();
    fixture.project_config("personality = \"pragmatic\"\n");
    fixture.user_config("model = \"user-model\"\n");
    // The trusted project's defaults (on-request, workspace-write) replace
    // wharf's defaults, not the build's.
    fixture.trust();
    let requirements = fixture.dir.path().join("requirements.toml");
    std::fs::write(&requirements, "[features]\nplan_tool = true\n").unwrap();
    let config = fixture
        .load_built(BAKED, |options| {
            options.sandbox_mode = Some(wharf_sandbox::SandboxMode::ReadOnly);
            options.requirements = RequirementsSource::File(requirements);
        })
        .unwrap();
    // (key, the value shown, the layer that set it)
    let rows = [
        ("model_reasoning_effort", "\"high\"", "build"),
        ("approval_policy", "\"untrusted\"", "build"),
        ("personality", "\"pragmatic\"", "project"),
        ("model", "\"user-model\"", "config"),
        ("sandbox_mode", "\"read-only\"", "cli"),
        ("features.view_image", "false", "build"),
        ("features.plan_tool", "true", "requirements"),
    ];
    for (key, value, kind) in rows {
        let entry = config
            .effective
            .entries()
            .into_iter()
            .find(|entry| entry.key == key)
            .unwrap_or_else(|| panic!("no {key}:\n{}", shown(&config)));
        assert_eq!(
            (entry.value.to_string().as_str(), entry.source.kind()),
            (value, kind),
            "{key}"
        );
    }
    assert_eq!(feature_row(&config, "view_image"), (false, "build".into()));
    assert_eq!(
        source_of(&config, "approval_policy").to_string(),
        format!("build ({WHERE}:3:1)")
    );
    // No file was read for it.
    assert_eq!(config.files.len(), 2, "{:?}", config.files);
}

#[test]
fn a_malformed_build_config_is_an_error_naming_it() {
    // (baked text, the error after "NAME (built into this wharf)")
    let cases = [
        (
            "sandbox_mode = \"sandboxed\"\n",
            ":1:16: sandbox_mode: unknown variant `sandboxed`, expected one of \
             `read-only`, `workspace-write`, `danger-full-access`",
        ),
        (
            "model = \n",
            ":1:9: string values must be quoted, expected literal string",
        ),
        (
            "[features]\nview_image = 1\n",
            ":2:14: features.view_image: invalid type: integer `1`, expected `true`, `false`, or \
             a table with `enabled = true|false`",
        ),
    ];
    for (baked, expected) in cases {
        let fixture = Fixture::new();
        let err = fixture.load_built(baked, |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{WHERE}{expected}"),
            "for:\n{baked}"
        );
    }
}

#[test]
fn a_build_config_neither_trusts_projects_nor_hides_unknown_keys() {
    let fixture = Fixture::new();
    let project = fixture.project_config("model = \"planted\"\n");
    let root = crate::trust::project_root(
        &fixture.cwd(),
        &crate::project_search::default_root_markers(),
    );
    let baked: &'static str = format!(
        "modle = \"x\"\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        root.display()
    )
    .leak();
    let config = fixture.load_built(baked, |_| {}).unwrap();
    // The project's file stays unread: trust is the user's to give.
    assert_eq!(config.model, None);
    assert!(!config.files.contains(&project), "{:?}", config.files);
    let user = fixture.wharf_home().join("config.toml");
    assert_eq!(
        config.warnings,
        [
            format!(
                "ignoring {}: the project {repo} is not trusted (run `wharf trust {repo}` to use it)",
                project.display(),
                repo = fixture.repo().display()
            ),
            format!("{WHERE}:1:1: unknown key `modle` (ignored)"),
            format!(
                "{WHERE}:2:2: `projects`: trust is only read from {} (ignored; use `wharf trust`)",
                user.display()
            ),
        ]
    );
}
