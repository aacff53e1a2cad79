//! A config file, loaded by `wharf-host`, decides what `wharf-sandbox`'s path
//! rules allow.

use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};
use wharf_sandbox::{PathEnv, PathRules, SandboxMode};
use wharf_tests::Machine;

fn rules(machine: &Machine, edit: impl FnOnce(&mut ConfigOptions)) -> PathRules {
    let mut options = ConfigOptions {
        wharf_home: machine.wharf_home(),
        home_dir: Some(machine.home()),
        cwd: machine.repo(),
        tmpdir: Some(machine.tmpdir()),
        ..ConfigOptions::default()
    };
    edit(&mut options);
    let config = Config::load(&options, &wharf_features()).unwrap();
    let env = PathEnv {
        cwd: config.cwd.clone(),
        tmpdir: options.tmpdir.clone(),
        protected: Vec::new(),
    };
    PathRules::new(&config.sandbox_policy, &env)
}

#[test]
fn workspace_write_config_sets_the_writable_roots() {
    let machine = Machine::new().unwrap();
    machine
        .write_user_config(
            "sandbox_mode = \"workspace-write\"\n\
             [sandbox_workspace_write]\n\
             writable_roots = [\"~/notes\"]\n\
             exclude_tmpdir_env_var = true\n\
             exclude_slash_tmp = true\n",
        )
        .unwrap();
    std::fs::create_dir_all(machine.home().join("notes")).unwrap();
    let rules = rules(&machine, |_| {});
    assert_eq!(rules.mode(), SandboxMode::WorkspaceWrite);
    let root = machine.root();
    // (path, writable?)
    let cases = [
        ("repo/src/main.rs", true),
        ("repo/../outside.txt", false),
        ("repo/.git/config", false),
        ("repo/.wharf/config.toml", false),
        ("home/notes/todo.md", true),
        ("home/.wharf/config.toml", false),
        ("tmp/scratch", false),
    ];
    for (path, writable) in cases {
        assert_eq!(rules.can_write(&root.join(path)), writable, "{path}");
    }
    assert!(!rules.can_write(std::path::Path::new("/tmp/wharf-test-never-written")));
}

#[test]
fn the_sandbox_flag_beats_the_file() {
    let machine = Machine::new().unwrap();
    machine
        .write_user_config("sandbox_mode = \"workspace-write\"\n")
        .unwrap();
    let rules = rules(&machine, |options| {
        options.sandbox_mode = Some(SandboxMode::ReadOnly);
    });
    assert!(!rules.can_write(&machine.repo().join("src/main.rs")));
    assert!(rules.can_read(&machine.repo().join("src/main.rs")));
}

#[test]
fn restricted_reads_from_config_are_enforced_by_the_rules() {
    let machine = Machine::new().unwrap();
    machine.write("secrets/key", "hunter2").unwrap();
    machine.write("docs/readme", "hello").unwrap();
    let config = format!(
        "read_only_access = {{ type = \"restricted\", include_platform_defaults = false, \
         readable_roots = [{:?}] }}\n",
        machine.root().join("docs")
    );
    machine.write_user_config(&config).unwrap();
    let rules = rules(&machine, |_| {});
    assert!(rules.can_read(&machine.root().join("docs/readme")));
    assert!(
        rules.can_read(&machine.repo().join("README.md")),
        "the cwd stays readable"
    );
    assert!(!rules.can_read(&machine.root().join("secrets/key")));
    assert!(!rules.can_read(&machine.root().join("docs/../secrets/key")));
}

/// The annotated example in `examples/config.toml` stays valid and warning-free.
#[test]
fn the_example_config_loads_cleanly() {
    let machine = Machine::new().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config.toml");
    machine
        .write_user_config(&std::fs::read_to_string(example).unwrap())
        .unwrap();
    let options = ConfigOptions {
        wharf_home: machine.wharf_home(),
        home_dir: Some(machine.home()),
        cwd: machine.repo(),
        ..ConfigOptions::default()
    };
    let config = Config::load(&options, &wharf_features()).unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.model.as_deref(), Some("gpt-5"));
    assert_eq!(config.sandbox_policy.mode(), SandboxMode::WorkspaceWrite);

    let careful = ConfigOptions {
        profile: Some("careful".to_owned()),
        ..options
    };
    let config = Config::load(&careful, &wharf_features()).unwrap();
    assert_eq!(config.sandbox_policy.mode(), SandboxMode::ReadOnly);
    assert!(!config.features.enabled("unified_exec"));
}

/// wharf's own feature keys, as the binary declares them.
fn wharf_features() -> FeatureRegistry {
    FeatureRegistry::from_toml(include_str!("../../cli/features.toml")).unwrap()
}
