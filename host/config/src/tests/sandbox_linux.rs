//! `[sandbox_linux] namespaces`: read from every layer, applied to the
//! session's sandbox, and a warning whenever commands run without them.

use super::*;

struct Case {
    /// The user's config.toml.
    file: &'static str,
    overrides: &'static [&'static str],
    mode: Option<SandboxMode>,
    namespaces: bool,
    warns: bool,
}

const OFF: &str = "[sandbox_linux]\nnamespaces = false\n";

#[test]
fn namespaces_follow_the_layers_and_warn_when_off() {
    let cases = [
        Case {
            file: "",
            overrides: &[],
            mode: None,
            namespaces: true,
            warns: false,
        },
        Case {
            file: "[sandbox_linux]\nnamespaces = true\n",
            overrides: &[],
            mode: None,
            namespaces: true,
            warns: false,
        },
        Case {
            file: OFF,
            overrides: &[],
            mode: None,
            namespaces: false,
            warns: true,
        },
        Case {
            file: "",
            overrides: &["sandbox_linux.namespaces=false"],
            mode: Some(SandboxMode::WorkspaceWrite),
            namespaces: false,
            warns: true,
        },
        Case {
            file: OFF,
            overrides: &["sandbox_linux.namespaces=true"],
            mode: None,
            namespaces: true,
            warns: false,
        },
        Case {
            file: "[profiles.ci.sandbox_linux]\nnamespaces = false\n",
            overrides: &["profile=ci"],
            mode: None,
            namespaces: false,
            warns: true,
        },
        // Nothing is given up where nothing is enforced.
        Case {
            file: OFF,
            overrides: &[],
            mode: Some(SandboxMode::DangerFullAccess),
            namespaces: false,
            warns: false,
        },
    ];
    for case in cases {
        let fixture = Fixture::new();
        fixture.user_config(case.file);
        let config = fixture
            .load_with(|options| {
                options.overrides = case.overrides.iter().map(|arg| (*arg).to_owned()).collect();
                options.sandbox_mode = case.mode;
            })
            .unwrap();
        let what = format!("{:?} {:?} {:?}", case.file, case.overrides, case.mode);
        assert_eq!(config.sandbox_namespaces, case.namespaces, "{what}");
        let env = PathEnv::from_process(config.cwd.clone());
        assert_eq!(config.sandbox(&env).namespaces(), case.namespaces, "{what}");
        let warning = config
            .warnings
            .iter()
            .find(|warning| warning.contains("[sandbox_linux] namespaces = false"));
        assert_eq!(
            warning.is_some(),
            case.warns,
            "{what}: {:?}",
            config.warnings
        );
        if let Some(warning) = warning {
            assert!(warning.contains(".git, .wharf"), "{warning}");
            assert!(warning.contains("other processes are visible"), "{warning}");
        }
    }
}
