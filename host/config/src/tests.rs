use std::path::{Path, PathBuf};

use tempfile::TempDir;
use wharf_sandbox::{ReadOnlyAccess, SandboxMode, SandboxPolicy};

use super::*;
use crate::features::{FeatureSpec, Stage};

/// A home directory and a project checkout in a temp dir:
/// `home/.wharf/` and `work/repo/` (a git root) with `work/repo/sub/` as cwd.
/// The temp dir is in `/var/tmp`: below `/tmp`, the home directory would
/// make `/tmp` a refused writable root (see `tests/roots.rs`).
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture {
            dir: tempfile::Builder::new().tempdir_in("/var/tmp").unwrap(),
        };
        std::fs::create_dir_all(fixture.repo().join(".git")).unwrap();
        std::fs::create_dir_all(fixture.cwd()).unwrap();
        std::fs::create_dir_all(fixture.wharf_home()).unwrap();
        fixture
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn wharf_home(&self) -> PathBuf {
        self.home().join(".wharf")
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("work/repo")
    }

    fn cwd(&self) -> PathBuf {
        self.repo().join("sub")
    }

    fn user_config(&self, text: &str) -> PathBuf {
        let path = self.wharf_home().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn project_config(&self, text: &str) -> PathBuf {
        let path = self.repo().join(".wharf/config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Records in the user's file that the project is trusted, with the
    /// hash of its file as it is now.
    fn trust(&self) {
        let file = std::fs::read(self.repo().join(".wharf/config.toml")).ok();
        let sha256 = file.as_deref().map(crate::trust::sha256_hex);
        set_project_trust(
            &self.wharf_home().join("config.toml"),
            &crate::trust::project_root(&self.cwd(), &project_search::default_root_markers()),
            TrustLevel::Trusted,
            sha256.as_deref(),
        )
        .unwrap();
    }

    fn options(&self) -> ConfigOptions {
        ConfigOptions {
            wharf_home: self.wharf_home(),
            home_dir: Some(self.home()),
            cwd: self.cwd(),
            tmpdir: None,
            ..ConfigOptions::default()
        }
    }

    fn load_with(&self, edit: impl FnOnce(&mut ConfigOptions)) -> Result<Config, ConfigError> {
        let mut options = self.options();
        edit(&mut options);
        Config::load(&options, &features::tests::wharf_features())
    }

    fn load(&self) -> Config {
        self.load_with(|_| {}).unwrap()
    }
}

/// `key = value  # source-kind` for every effective value, one per line.
fn shown(config: &Config) -> String {
    config
        .effective
        .entries()
        .iter()
        .map(|entry| format!("{} = {}  # {}", entry.key, entry.value, entry.source.kind()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn source_of<'a>(config: &'a Config, key: &str) -> &'a Source {
    config
        .effective
        .entries()
        .into_iter()
        .find(|entry| entry.key == key)
        .map(|entry| entry.source)
        .unwrap_or_else(|| panic!("no effective value for {key}:\n{}", shown(config)))
}

#[test]
fn without_files_the_defaults_apply() {
    let fixture = Fixture::new();
    let config = fixture.load();
    assert_eq!(config.model, None);
    assert_eq!(config.model_provider.id, "openai");
    assert_eq!(config.model_provider.base_url, "https://api.openai.com/v1");
    let providers: Vec<&str> = config.model_providers.keys().map(String::as_str).collect();
    assert_eq!(providers, ["lmstudio", "ollama", "openai"]);
    assert_eq!(config.approval_policy, None);
    assert_eq!(config.personality, Personality::None);
    assert_eq!(
        config.sandbox_policy,
        SandboxPolicy::ReadOnly {
            access: ReadOnlyAccess::FullAccess
        }
    );
    assert!(config.files.is_empty());
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(
        shown(&config),
        "model_provider = \"openai\"  # default\n\
         personality = \"none\"  # default\n\
         project_doc_fallback_filenames = []  # default\n\
         project_doc_max_bytes = 32768  # default\n\
         read_only_access.type = \"full-access\"  # default\n\
         sandbox_linux.namespaces = true  # default\n\
         sandbox_mode = \"read-only\"  # default\n\
         sandbox_workspace_write.exclude_slash_tmp = false  # default\n\
         sandbox_workspace_write.exclude_tmpdir_env_var = false  # default\n\
         sandbox_workspace_write.network_access = false  # default\n\
         sandbox_workspace_write.writable_roots = []  # default\n\
         suppress_unstable_features_warning = false  # default"
    );
}

#[test]
fn file_errors_name_file_line_column_and_key() {
    // (config.toml text, the error's expected suffix after the file path)
    let cases = [
        (
            "model = \"o3\"\nsandbox_mode = 3\n",
            "config.toml:2:16: sandbox_mode: invalid type: integer `3`, expected one of \
             \"read-only\", \"workspace-write\", \"danger-full-access\"",
        ),
        (
            "sandbox_mode = \"sandboxed\"\n",
            "config.toml:1:16: sandbox_mode: unknown variant `sandboxed`, expected one of \
             `read-only`, `workspace-write`, `danger-full-access`",
        ),
        (
            "[sandbox_workspace_write]\nnetwork_access = \"yes\"\n",
            "config.toml:2:18: sandbox_workspace_write.network_access: invalid type: \
             string \"yes\", expected a boolean",
        ),
        (
            "[sandbox_linux]\nnamespaces = \"no\"\n",
            "config.toml:2:14: sandbox_linux.namespaces: invalid type: string \"no\", \
             expected a boolean",
        ),
        (
            "[features]\nview_image = 1\n",
            "config.toml:2:14: features.view_image: invalid type: integer `1`, expected `true`, \
             `false`, or a table with `enabled = true|false`",
        ),
        (
            "[profiles.ci]\nsandbox_mode = true\n",
            "config.toml:2:16: profiles.ci.sandbox_mode: invalid type: boolean `true`, \
             expected one of \"read-only\", \"workspace-write\", \"danger-full-access\"",
        ),
        (
            "model = \"o3\"\nmodel = \"o4\"\n",
            "config.toml:2:1: duplicate key",
        ),
        (
            "model = \n",
            "config.toml:1:9: string values must be quoted, expected literal string",
        ),
        (
            "read_only_access = { type = \"full-access\", readable_roots = [\"/x\"] }\n",
            "config.toml:1:44: read_only_access.readable_roots: `readable_roots` only applies \
             with type = \"restricted\" (set the type, or remove it)",
        ),
        (
            "profile = \"nope\"\n",
            "config.toml:1:1: profile: config profile `nope` not found (no profiles are defined)",
        ),
    ];
    for (text, expected) in cases {
        let fixture = Fixture::new();
        let path = fixture.user_config(text);
        let err = fixture.load_with(|_| {}).unwrap_err();
        let message = err.to_string();
        let expected = format!(
            "{}{}",
            path.display(),
            expected.trim_start_matches("config.toml")
        );
        assert_eq!(message, expected, "for config:\n{text}");
        assert!(!err.is_usage(), "{message}");
    }
}

#[test]
fn unknown_keys_warn_with_their_location() {
    let fixture = Fixture::new();
    let path = fixture.user_config(
        "modle = \"o3\"\n[sandbox_workspace_write]\nnetwork = true\n[profiles.ci]\nshiny = 1\n",
    );
    let config = fixture.load();
    let path = path.display();
    assert_eq!(
        config.warnings,
        [
            format!("{path}:1:1: unknown key `modle` (ignored)"),
            format!("{path}:3:1: unknown key `sandbox_workspace_write.network` (ignored)"),
            format!("{path}:5:1: unknown key `profiles.ci.shiny` (ignored)"),
        ]
    );
    let shown = shown(&config);
    assert!(
        !shown.contains("modle") && !shown.contains("network ="),
        "{shown}"
    );
}

#[test]
fn layers_apply_in_order_and_remember_their_source() {
    let fixture = Fixture::new();
    let project = fixture.project_config(
        "model = \"project-model\"\nsandbox_mode = \"workspace-write\"\n\
         [sandbox_workspace_write]\nnetwork_access = true\n",
    );
    let user = fixture.user_config(
        "model = \"user-model\"\nprofile = \"ci\"\n\
         [profiles.ci]\nsandbox_workspace_write = { exclude_slash_tmp = true }\n\
         [profiles.other]\nmodel = \"other\"\n",
    );
    fixture.trust();
    let config = fixture
        .load_with(|options| {
            options.overrides = vec!["sandbox_workspace_write.exclude_tmpdir_env_var=true".into()];
        })
        .unwrap();
    assert_eq!(config.files, [project.clone(), user.clone()]);
    assert_eq!(config.model.as_deref(), Some("user-model"));
    assert_eq!(config.profile.as_deref(), Some("ci"));
    assert_eq!(
        shown(&config),
        "approval_policy = \"on-request\"  # trust\n\
         model = \"user-model\"  # config\n\
         model_provider = \"openai\"  # default\n\
         personality = \"none\"  # default\n\
         profile = \"ci\"  # config\n\
         project_doc_fallback_filenames = []  # default\n\
         project_doc_max_bytes = 32768  # default\n\
         read_only_access.type = \"full-access\"  # default\n\
         sandbox_linux.namespaces = true  # default\n\
         sandbox_mode = \"workspace-write\"  # project\n\
         sandbox_workspace_write.exclude_slash_tmp = true  # profile\n\
         sandbox_workspace_write.exclude_tmpdir_env_var = true  # cli\n\
         sandbox_workspace_write.network_access = true  # project\n\
         sandbox_workspace_write.writable_roots = []  # default\n\
         suppress_unstable_features_warning = false  # default"
    );
    assert_eq!(
        source_of(&config, "sandbox_mode").to_string(),
        format!("project ({}:2:1)", project.display())
    );
    assert_eq!(
        source_of(&config, "sandbox_workspace_write.exclude_slash_tmp").to_string(),
        format!("profile (ci at {}:4:29)", user.display())
    );
    assert_eq!(
        source_of(&config, "sandbox_workspace_write.exclude_tmpdir_env_var").to_string(),
        "cli (-c sandbox_workspace_write.exclude_tmpdir_env_var=true)"
    );
    assert_eq!(
        config.sandbox_policy,
        SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![],
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: true,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        }
    );
}

#[test]
fn flags_beat_overrides_beat_profiles() {
    let fixture = Fixture::new();
    fixture.user_config("[profiles.ci]\nsandbox_mode = \"workspace-write\"\nmodel = \"p\"\n");
    let config = fixture
        .load_with(|options| {
            options.profile = Some("ci".into());
            options.overrides = vec!["model=gpt-5".into(), "sandbox_mode=read-only".into()];
            options.sandbox_mode = Some(SandboxMode::DangerFullAccess);
        })
        .unwrap();
    assert_eq!(config.model.as_deref(), Some("gpt-5"));
    assert_eq!(config.sandbox_policy, SandboxPolicy::DangerFullAccess);
    assert_eq!(
        source_of(&config, "sandbox_mode"),
        &Source::Flag("--sandbox")
    );
    assert_eq!(source_of(&config, "profile"), &Source::Flag("--profile"));
}

#[test]
fn overrides_read_toml_values_or_else_strings() {
    let fixture = Fixture::new();
    let config = fixture
        .load_with(|options| {
            options.overrides = vec![
                "model=o3".into(),
                "sandbox_workspace_write.writable_roots=[\"/a\", \"~/b\"]".into(),
                "sandbox_mode = workspace-write".into(),
                "profiles.ci.sandbox_workspace_write.network_access=true".into(),
                "profile=ci".into(),
            ];
        })
        .unwrap();
    assert_eq!(config.model.as_deref(), Some("o3"));
    assert_eq!(config.profile.as_deref(), Some("ci"));
    let SandboxPolicy::WorkspaceWrite {
        writable_roots,
        network_access,
        ..
    } = &config.sandbox_policy
    else {
        panic!("expected workspace-write, got {:?}", config.sandbox_policy);
    };
    assert_eq!(
        writable_roots,
        &[PathBuf::from("/a"), fixture.home().join("b")]
    );
    assert!(network_access);
}

#[test]
fn bad_overrides_and_profiles_are_usage_errors() {
    // (-c arguments, --profile, expected message)
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (&["model"], None, "-c model: expected key.path=value"),
        (
            &["a..b=1"],
            None,
            "-c a..b=1: the key path has an empty part",
        ),
        (
            &["sandbox_mode=3"],
            None,
            "-c sandbox_mode=3: sandbox_mode: invalid type: integer `3`, expected one of \
             \"read-only\", \"workspace-write\", \"danger-full-access\"",
        ),
        (
            &["features.view_image=maybe"],
            None,
            "-c features.view_image=maybe: features.view_image: invalid type: string \"maybe\", \
             expected `true`, `false`, or a table with `enabled = true|false`",
        ),
        (
            &[],
            Some("nope"),
            "config profile `nope` not found; known: ci",
        ),
    ];
    for (overrides, profile, expected) in cases {
        let fixture = Fixture::new();
        fixture.user_config("[profiles.ci]\nmodel = \"x\"\n");
        let err = fixture
            .load_with(|options| {
                options.overrides = overrides.iter().map(|s| (*s).to_owned()).collect();
                options.profile = profile.map(str::to_owned);
            })
            .unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(err.is_usage(), "{err}");
    }
}

#[test]
fn unknown_override_keys_warn() {
    let fixture = Fixture::new();
    let config = fixture
        .load_with(|options| options.overrides = vec!["no_such.key=1".into()])
        .unwrap();
    assert_eq!(
        config.warnings,
        ["-c no_such.key=1: unknown key `no_such` (ignored)"]
    );
}

#[test]
fn project_config_is_found_up_to_the_repository_root() {
    let fixture = Fixture::new();
    // Above the repository root: not a project config of this checkout.
    std::fs::create_dir_all(fixture.dir.path().join("work/.wharf")).unwrap();
    std::fs::write(
        fixture.dir.path().join("work/.wharf/config.toml"),
        "model = \"x\"",
    )
    .unwrap();
    assert_eq!(
        find_project_config(&fixture.cwd(), &project_search::default_root_markers()),
        None
    );
    let project = fixture.project_config("model = \"y\"");
    assert_eq!(
        find_project_config(&fixture.cwd(), &project_search::default_root_markers()),
        Some(project)
    );
}

#[test]
fn the_user_file_is_not_read_twice_as_a_project_file() {
    let fixture = Fixture::new();
    fixture.user_config("model = \"m\"\n");
    let config = fixture
        .load_with(|options| options.cwd = fixture.home())
        .unwrap();
    assert_eq!(config.files, [fixture.wharf_home().join("config.toml")]);
    assert_eq!(source_of(&config, "model").kind(), "config");
}

#[test]
fn restricted_reads_expand_home_and_default_to_platform_paths() {
    let fixture = Fixture::new();
    fixture.user_config(
        "sandbox_mode = \"read-only\"\n\
         read_only_access = { type = \"restricted\", readable_roots = [\"~/docs\", \"/srv\"] }\n",
    );
    assert_eq!(
        fixture.load().sandbox_policy,
        SandboxPolicy::ReadOnly {
            access: ReadOnlyAccess::Restricted {
                include_platform_defaults: true,
                readable_roots: vec![fixture.home().join("docs"), PathBuf::from("/srv")],
            }
        }
    );
}

#[test]
fn profiles_inside_profiles_warn() {
    let fixture = Fixture::new();
    let path = fixture.user_config("[profiles.a]\nprofile = \"b\"\n");
    let config = fixture.load();
    assert_eq!(
        config.warnings,
        [format!(
            "{}:2:1: `profiles.a.profile` has no effect inside a profile (ignored)",
            path.display()
        )]
    );
}

fn feature_row(config: &Config, key: &str) -> (bool, String) {
    let state = config.features.state(key).unwrap();
    (state.enabled, state.source.kind().to_owned())
}

#[test]
fn features_resolve_from_every_layer() {
    let fixture = Fixture::new();
    fixture.project_config("[features]\nhooks = true\nmcp_client = false\n");
    fixture.user_config(
        "profile = \"p\"\n[features]\nview_image_tool = false\nmcp_client = true\n\
         [profiles.p.features]\ntelemetry = false\n",
    );
    fixture.trust();
    let config = fixture
        .load_with(|options| {
            options.enable = vec!["apply_patch_freeform".into()];
            options.disable = vec!["unified_exec".into()];
        })
        .unwrap();
    let expect = [
        ("apply_patch", (true, "default")),
        ("apply_patch_freeform", (true, "cli")),
        ("hooks", (true, "project")),
        ("mcp_client", (true, "config")),
        ("shell_tool", (true, "default")),
        ("telemetry", (false, "profile")),
        ("unified_exec", (false, "cli")),
        ("view_image", (false, "config")),
    ];
    for (key, (enabled, source)) in expect {
        assert_eq!(
            feature_row(&config, key),
            (enabled, source.to_owned()),
            "{key}"
        );
    }
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn unknown_features_warn_in_files_and_fail_on_the_command_line() {
    let fixture = Fixture::new();
    let path = fixture.user_config("[features]\nteleport = true\n");
    let config = fixture.load();
    assert_eq!(config.warnings.len(), 1);
    assert!(
        config.warnings[0].starts_with(&format!(
            "unknown feature flag `teleport` in config ({}:2:1) (ignored); known: apply_patch, ",
            path.display()
        )),
        "{}",
        config.warnings[0]
    );

    let err = fixture
        .load_with(|options| options.enable = vec!["no_such_flag".into()])
        .unwrap_err();
    assert!(err.is_usage());
    assert_eq!(
        err.to_string(),
        "unknown feature flag: no_such_flag; known: apply_patch, apply_patch_freeform, hooks, \
         mcp_client, plan_tool, responses_websockets, shell_tool, telemetry, unified_exec, view_image"
    );
    let err = fixture
        .load_with(|options| {
            options.enable = vec!["hooks".into()];
            options.disable = vec!["hooks".into()];
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "feature flag `hooks` is both enabled and disabled on the command line"
    );
}

#[test]
fn unstable_and_removed_features_warn() {
    let fixture = Fixture::new();
    let mut registry = features::tests::wharf_features();
    let spec = |key: &str, stage| FeatureSpec {
        key: key.to_owned(),
        stage,
        default_enabled: false,
        description: String::new(),
    };
    registry
        .register(spec("wip", Stage::UnderDevelopment))
        .unwrap();
    registry.register(spec("gone", Stage::Removed)).unwrap();
    registry.register(spec("old", Stage::Deprecated)).unwrap();
    fixture.user_config("[features]\nwip = true\ngone = true\nold = true\n");
    let config = Config::load(&fixture.options(), &registry).unwrap();
    assert!(config.features.enabled("wip"));
    assert!(config.features.enabled("old"));
    assert!(!config.features.enabled("gone"));
    let warnings = config.warnings.join("\n");
    assert!(
        warnings.contains("feature `gone` has been removed"),
        "{warnings}"
    );
    assert!(
        warnings.contains("feature `wip` is under development"),
        "{warnings}"
    );
    assert!(
        warnings.contains("feature `old` is deprecated"),
        "{warnings}"
    );

    fixture.user_config("suppress_unstable_features_warning = true\n[features]\nwip = true\n");
    let config = Config::load(&fixture.options(), &registry).unwrap();
    assert!(config.features.enabled("wip"));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn enabling_a_feature_keeps_comments_and_formatting() {
    let fixture = Fixture::new();
    let registry = features::tests::wharf_features();
    let original = "# my wharf settings\nmodel   =   \"o3\"  # the best one\n\n\
                    [features]\n# images are handy\nview_image_tool = false\nhooks = true # mine\n";
    let path = fixture.user_config(original);
    set_feature(&path, None, &registry, "view_image", true).unwrap();
    set_feature(&path, None, &registry, "hooks", false).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my wharf settings\nmodel   =   \"o3\"  # the best one\n\n\
         [features]\nhooks = false # mine\n# images are handy\nview_image = true\n"
    );
    set_feature(&path, Some("ci"), &registry, "unified_exec", false).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.ends_with("view_image = true\n\n[profiles.ci.features]\nunified_exec = false\n"),
        "{text}"
    );
    let config = fixture
        .load_with(|o| o.profile = Some("ci".into()))
        .unwrap();
    assert!(config.features.enabled("view_image"));
    assert!(!config.features.enabled("unified_exec"));
}

#[test]
fn editing_features_creates_the_file_and_refuses_bad_input() {
    let fixture = Fixture::new();
    let registry = features::tests::wharf_features();
    let path = fixture.dir.path().join("fresh/config.toml");
    set_feature(&path, None, &registry, "hooks", true).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "[features]\nhooks = true\n"
    );

    let err = set_feature(&path, None, &registry, "nope", true).unwrap_err();
    assert!(err.is_usage());
    std::fs::write(&path, "features = 3\n").unwrap();
    let err = set_feature(&path, None, &registry, "hooks", true).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("features: expected a table; fix or remove it before enabling features"),
        "{err}"
    );
    std::fs::write(&path, "features = {\n").unwrap();
    let err = set_feature(&path, None, &registry, "hooks", true).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:1:", path.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "features = {\n");
}

#[test]
fn defaults_are_a_valid_config() {
    let typed: ConfigToml = toml::from_str(toml_types::DEFAULTS).unwrap();
    assert_eq!(
        typed.sandbox_mode,
        Some(toml_types::SandboxModeToml::ReadOnly)
    );
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config.schema.json")
            .exists()
    );
}

mod build_config;
mod codex_shapes;
mod hooks;
mod mcp;
mod models;
mod otel;
mod provider_stream;
mod requirements;
mod roots;
mod sandbox_linux;
mod trust;
mod ui;
