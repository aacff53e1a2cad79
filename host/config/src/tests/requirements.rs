//! The requirements applied by `Config::load`: fallbacks of the approval
//! policy and sandbox mode from every layer, feature pins, and the MCP
//! allowlist. Each case is a row.

use wharf_sandbox::SandboxMode;

use super::{Fixture, feature_row};
use crate::otel::{OtelConfig, OtelExporter};
use crate::requirements::RequirementsSource;
use crate::{ApprovalPolicy, Config, ConfigError, ConfigOptions};

/// Where each fixture's requirements file is written.
const FILE: &str = "requirements.toml";

impl Fixture {
    /// Loads with `requirements` in force, after `edit` of the options.
    fn load_required(
        &self,
        requirements: &str,
        edit: impl FnOnce(&mut ConfigOptions),
    ) -> Result<Config, ConfigError> {
        let path = self.dir.path().join(FILE);
        std::fs::write(&path, requirements).unwrap();
        self.load_with(|options| {
            options.requirements = RequirementsSource::File(path);
            edit(options);
        })
    }

    /// `text` with `REQ` replaced by the requirements file's path and
    /// `ROOT` by the project root.
    fn expand(&self, text: &str) -> String {
        text.replace("REQ", &self.dir.path().join(FILE).display().to_string())
            .replace("ROOT", &self.repo().display().to_string())
            .replace("HOME", &self.wharf_home().display().to_string())
    }
}

const APPROVALS: &str = "allowed_approval_policies = [\"untrusted\", \"on-request\"]\n";
/// [`APPROVALS`] and the sandbox modes.
const BOTH: &str = "allowed_approval_policies = [\"untrusted\", \"on-request\"]\n\
                    allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n";

/// One load: the requirements, the user's file, the project's file
/// (trusted when given), the flags; the effective approval policy, the
/// sandbox mode and the warnings (`REQ`, `ROOT`, `HOME` expanded).
struct Case {
    name: &'static str,
    requirements: &'static str,
    user: &'static str,
    project: Option<&'static str>,
    approval_flag: Option<ApprovalPolicy>,
    sandbox_flag: Option<SandboxMode>,
    approval: Option<ApprovalPolicy>,
    sandbox: SandboxMode,
    warnings: &'static [&'static str],
}

const CASE: Case = Case {
    name: "",
    requirements: "",
    user: "",
    project: None,
    approval_flag: None,
    sandbox_flag: None,
    approval: None,
    sandbox: SandboxMode::ReadOnly,
    warnings: &[],
};

#[test]
fn disallowed_policies_and_modes_fall_back_to_the_first_allowed_one() {
    let cases = [
        Case {
            name: "nothing restricted: the flags stand",
            requirements: "[features]\n",
            approval_flag: Some(ApprovalPolicy::Never),
            sandbox_flag: Some(SandboxMode::DangerFullAccess),
            approval: Some(ApprovalPolicy::Never),
            sandbox: SandboxMode::DangerFullAccess,
            ..CASE
        },
        Case {
            name: "allowed flags stand",
            requirements: BOTH,
            approval_flag: Some(ApprovalPolicy::OnRequest),
            sandbox_flag: Some(SandboxMode::WorkspaceWrite),
            approval: Some(ApprovalPolicy::OnRequest),
            sandbox: SandboxMode::WorkspaceWrite,
            ..CASE
        },
        Case {
            name: "-a never and -s danger-full-access",
            requirements: BOTH,
            approval_flag: Some(ApprovalPolicy::Never),
            sandbox_flag: Some(SandboxMode::DangerFullAccess),
            approval: Some(ApprovalPolicy::Untrusted),
            sandbox: SandboxMode::ReadOnly,
            warnings: &[
                "blocked by requirements (REQ: allowed_approval_policies): approval policy \
                 `never` is not allowed (allowed: untrusted, on-request): `never` (from cli \
                 (--ask-for-approval)) falls back to `untrusted`",
                "blocked by requirements (REQ: allowed_sandbox_modes): sandbox mode \
                 `danger-full-access` is not allowed (allowed: read-only, workspace-write): \
                 `danger-full-access` (from cli (--sandbox)) falls back to `read-only`",
            ],
            ..CASE
        },
        Case {
            name: "the user's file",
            requirements: "allowed_approval_policies = [\"on-request\"]\n\
                           allowed_sandbox_modes = [\"workspace-write\"]\n",
            user: "approval_policy = \"on-failure\"\nsandbox_mode = \"danger-full-access\"\n",
            approval: Some(ApprovalPolicy::OnRequest),
            sandbox: SandboxMode::WorkspaceWrite,
            warnings: &[
                "blocked by requirements (REQ: allowed_approval_policies): approval policy \
                 `on-failure` is not allowed (allowed: on-request): `on-failure` (from config \
                 (HOME/config.toml:1:1)) falls back to `on-request`",
                "blocked by requirements (REQ: allowed_sandbox_modes): sandbox mode \
                 `danger-full-access` is not allowed (allowed: workspace-write): \
                 `danger-full-access` (from config (HOME/config.toml:2:1)) falls back to \
                 `workspace-write`",
            ],
            ..CASE
        },
        Case {
            name: "a trusted project's file",
            requirements: "allowed_sandbox_modes = [\"workspace-write\", \"read-only\"]\n",
            project: Some("sandbox_mode = \"danger-full-access\"\n"),
            approval: Some(ApprovalPolicy::OnRequest),
            sandbox: SandboxMode::WorkspaceWrite,
            warnings: &[
                "blocked by requirements (REQ: allowed_sandbox_modes): sandbox mode \
                 `danger-full-access` is not allowed (allowed: workspace-write, read-only): \
                 `danger-full-access` (from project (ROOT/.wharf/config.toml:1:1)) falls back \
                 to `workspace-write`",
            ],
            ..CASE
        },
        Case {
            name: "a trusted project's defaults",
            requirements: "allowed_approval_policies = [\"untrusted\"]\n\
                           allowed_sandbox_modes = [\"read-only\"]\n",
            project: Some(""),
            approval: Some(ApprovalPolicy::Untrusted),
            sandbox: SandboxMode::ReadOnly,
            warnings: &[
                "blocked by requirements (REQ: allowed_approval_policies): approval policy \
                 `on-request` is not allowed (allowed: untrusted): `on-request` (from trust \
                 (the project ROOT is trusted)) falls back to `untrusted`",
                "blocked by requirements (REQ: allowed_sandbox_modes): sandbox mode \
                 `workspace-write` is not allowed (allowed: read-only): `workspace-write` (from \
                 trust (the project ROOT is trusted)) falls back to `read-only`",
            ],
            ..CASE
        },
        Case {
            name: "the built-in default",
            requirements: "allowed_sandbox_modes = [\"workspace-write\"]\n",
            sandbox: SandboxMode::WorkspaceWrite,
            warnings: &[
                "blocked by requirements (REQ: allowed_sandbox_modes): sandbox mode `read-only` \
                 is not allowed (allowed: workspace-write): `read-only` (from default) falls \
                 back to `workspace-write`",
            ],
            ..CASE
        },
        Case {
            name: "a profile",
            requirements: BOTH,
            user: "[profiles.yolo]\nsandbox_mode = \"danger-full-access\"\n",
            approval: None,
            sandbox: SandboxMode::ReadOnly,
            warnings: &[
                "blocked by requirements (REQ: allowed_sandbox_modes): sandbox mode \
                 `danger-full-access` is not allowed (allowed: read-only, workspace-write): \
                 `danger-full-access` (from profile (yolo at HOME/config.toml:2:1)) falls back \
                 to `read-only`",
            ],
            ..CASE
        },
    ];
    for case in cases {
        let fixture = Fixture::new();
        fixture.user_config(case.user);
        if let Some(project) = case.project {
            fixture.project_config(project);
            fixture.trust();
        }
        let profile = case.user.contains("[profiles.yolo]");
        let config = fixture
            .load_required(case.requirements, |options| {
                options.approval_policy = case.approval_flag;
                options.sandbox_mode = case.sandbox_flag;
                if profile {
                    options.profile = Some("yolo".to_owned());
                }
            })
            .unwrap_or_else(|err| panic!("{}: {err}", case.name));
        assert_eq!(config.approval_policy, case.approval, "{}", case.name);
        assert_eq!(config.sandbox_policy.mode(), case.sandbox, "{}", case.name);
        let warnings: Vec<String> = case.warnings.iter().map(|w| fixture.expand(w)).collect();
        assert_eq!(config.warnings, warnings, "{}", case.name);
    }
}

#[test]
fn the_front_ends_default_falls_back_too() {
    let fixture = Fixture::new();
    let config = fixture.load_required(APPROVALS, |_| {}).unwrap();
    assert_eq!(config.approval_policy, None);
    let at = fixture.expand("REQ");
    let cases = [
        (ApprovalPolicy::OnRequest, ApprovalPolicy::OnRequest, None),
        (
            ApprovalPolicy::Never,
            ApprovalPolicy::Untrusted,
            Some(format!(
                "blocked by requirements ({at}: allowed_approval_policies): approval policy \
                 `never` is not allowed (allowed: untrusted, on-request): `never` (from this \
                 command's default) falls back to `untrusted`"
            )),
        ),
    ];
    for (default, policy, warning) in cases {
        assert_eq!(config.approval_policy_or(default), (policy, warning));
    }
    // A configured policy was checked when loading.
    let config = fixture
        .load_required(APPROVALS, |options| {
            options.approval_policy = Some(ApprovalPolicy::Never);
        })
        .unwrap();
    assert_eq!(
        config.approval_policy_or(ApprovalPolicy::Never).0,
        ApprovalPolicy::Untrusted
    );
}

#[test]
fn an_empty_list_of_allowed_values_stops_loading() {
    for (text, key) in [
        (
            "allowed_approval_policies = []\n",
            "allowed_approval_policies",
        ),
        ("allowed_sandbox_modes = []\n", "allowed_sandbox_modes"),
    ] {
        let fixture = Fixture::new();
        let err = fixture.load_required(text, |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            fixture.expand(&format!(
                "REQ: {key}: the list is empty, so nothing could run; list at least one value"
            ))
        );
        assert!(!err.is_usage());
    }
}

#[test]
fn pinned_features_win_over_every_layer() {
    let fixture = Fixture::new();
    fixture.user_config("[features]\nunified_exec = true\nview_image = true\n");
    fixture.project_config("[features]\nhooks = true\n");
    fixture.trust();
    let requirements = "[features]\nunified_exec = false\nview_image_tool = false\n\
                        hooks = false\ntelemetry = true\ngrep_tool = true\n";
    let config = fixture
        .load_required(requirements, |options| {
            options.overrides = vec!["features.telemetry=false".to_owned()];
            // Agreeing with a pin is no conflict.
            options.disable = vec!["hooks".to_owned()];
        })
        .unwrap();
    for key in ["unified_exec", "view_image", "hooks", "telemetry"] {
        let enabled = key == "telemetry";
        assert_eq!(
            feature_row(&config, key),
            (enabled, "requirements".to_owned()),
            "{key}"
        );
        let source = &config.features.state(key).unwrap().source;
        assert_eq!(source.detail(), Some(fixture.expand("REQ: [features]")));
    }
    assert_eq!(
        feature_row(&config, "shell_tool"),
        (true, "default".to_owned())
    );
    let expected = [
        "requirements (REQ: [features]): this wharf has no feature `grep_tool` (its pin is \
         ignored)",
        "blocked by requirements (REQ: [features]): feature `telemetry` is pinned on, so it \
         cannot be turned off; the setting in cli (-c features.telemetry=false) has no effect",
        "blocked by requirements (REQ: [features]): feature `unified_exec` is pinned off, so it \
         cannot be turned on; the setting in config (HOME/config.toml:2:1) has no effect",
        "blocked by requirements (REQ: [features]): feature `view_image` is pinned off, so it \
         cannot be turned on; the setting in config (HOME/config.toml:3:1) has no effect",
    ];
    let expected: Vec<String> = expected.iter().map(|w| fixture.expand(w)).collect();
    assert_eq!(config.warnings, expected);
}

#[test]
fn flags_against_a_pin_are_usage_errors() {
    let requirements = "[features]\nunified_exec = false\nhooks = true\nview_image_tool = false\n";
    let cases: [(&[&str], &[&str], &str); 3] = [
        (
            &["unified_exec"],
            &[],
            "feature `unified_exec` is pinned off, so it cannot be turned on",
        ),
        (
            &[],
            &["hooks"],
            "feature `hooks` is pinned on, so it cannot be turned off",
        ),
        // An alias on either side is the same feature.
        (
            &["view_image_tool"],
            &[],
            "feature `view_image` is pinned off, so it cannot be turned on",
        ),
    ];
    for (enable, disable, message) in cases {
        let fixture = Fixture::new();
        let err = fixture
            .load_required(requirements, |options| {
                options.enable = enable.iter().map(|key| (*key).to_owned()).collect();
                options.disable = disable.iter().map(|key| (*key).to_owned()).collect();
            })
            .unwrap_err();
        assert!(err.is_usage(), "{err}");
        assert_eq!(
            err.to_string(),
            fixture.expand(&format!(
                "blocked by requirements (REQ: [features]): {message}"
            ))
        );
    }
}

#[test]
fn mcp_servers_off_the_allowlist_are_blocked_by_name_and_identity() {
    let requirements = "[mcp_servers.docs.identity]\ncommand = \"docs-mcp\"\n\
                        [mcp_servers.tracker.identity]\nurl = \"https://mcp.example.com/tracker\"\n";
    // The server as configured, and why it is blocked (`None`: allowed).
    let cases = [
        ("docs", "command = \" docs-mcp \"", None),
        (
            "tracker",
            "url = \"https://MCP.Example.COM:443/tracker/\"",
            None,
        ),
        (
            // Renamed to get around the allowlist.
            "docs2",
            "command = \"docs-mcp\"",
            Some(
                "blocked by requirements (REQ: [mcp_servers]): `docs2` is not an allowed MCP \
                 server (allowed: docs, tracker)",
            ),
        ),
        (
            "docs",
            "command = \"/tmp/docs-mcp\"",
            Some(
                "blocked by requirements (REQ: [mcp_servers.docs.identity]): MCP server `docs` \
                 must be the stdio server `docs-mcp`, not the stdio server `/tmp/docs-mcp`",
            ),
        ),
        (
            "docs",
            "url = \"https://docs-mcp\"",
            Some(
                "blocked by requirements (REQ: [mcp_servers.docs.identity]): MCP server `docs` \
                 must be the stdio server `docs-mcp`, not the HTTP server at `https://docs-mcp`",
            ),
        ),
        (
            "tracker",
            "url = \"https://mcp.example.com:8443/tracker\"",
            Some(
                "blocked by requirements (REQ: [mcp_servers.tracker.identity]): MCP server \
                 `tracker` must be the HTTP server at `https://mcp.example.com/tracker`, not the \
                 HTTP server at `https://mcp.example.com:8443/tracker`",
            ),
        ),
        (
            "tracker",
            "command = \"tracker-mcp\"",
            Some(
                "blocked by requirements (REQ: [mcp_servers.tracker.identity]): MCP server \
                 `tracker` must be the HTTP server at `https://mcp.example.com/tracker`, not the \
                 stdio server `tracker-mcp`",
            ),
        ),
    ];
    for (name, identity, blocked) in cases {
        let fixture = Fixture::new();
        fixture.user_config(&format!("[mcp_servers.{name}]\n{identity}\n"));
        let config = fixture.load_required(requirements, |_| {}).unwrap();
        let expected = blocked.map(|reason| fixture.expand(reason));
        assert_eq!(
            config.mcp_servers[name].blocked, expected,
            "{name}: {identity}"
        );
        // Without the allowlist, nothing is blocked.
        let config = fixture.load_required("", |_| {}).unwrap();
        assert_eq!(config.mcp_servers[name].blocked, None);
    }
    // An empty allowlist allows no server.
    let fixture = Fixture::new();
    fixture.user_config("[mcp_servers.docs]\ncommand = \"docs-mcp\"\n");
    let config = fixture.load_required("mcp_servers = {}\n", |_| {}).unwrap();
    assert_eq!(
        config.mcp_servers["docs"].blocked,
        Some(fixture.expand(
            "blocked by requirements (REQ: [mcp_servers]): `docs` is not an allowed MCP server \
             (allowed: none)"
        ))
    );
}

/// A forced `[otel]` replaces the user's whole table: none of the user's
/// keys survive beside it, and the config says it was forced.
#[test]
fn a_forced_otel_table_replaces_the_users() {
    let fixture = Fixture::new();
    fixture.user_config(
        "[otel]\nlog_user_prompt = true\nexporter = \"none\"\nenvironment = \"laptop\"\n",
    );
    let config = fixture
        .load_required(
            "[otel]\nenvironment = \"prod\"\n\
             exporter = { otlp-grpc = { endpoint = \"https://otel.example.com:4317\" } }\n",
            |_| {},
        )
        .unwrap();
    assert_eq!(
        config.otel,
        OtelConfig {
            environment: "prod".to_owned(),
            exporter: OtelExporter::OtlpGrpc {
                endpoint: "https://otel.example.com:4317".to_owned(),
                headers: Default::default(),
                tls: Default::default(),
            },
            log_user_prompt: false,
            flush_timeout: crate::otel::DEFAULT_FLUSH_TIMEOUT,
            forced: true,
        }
    );
    assert_eq!(config.warnings, Vec::<String>::new());
}

/// A forced `[otel]` this wharf cannot read stops it, with the position.
#[test]
fn a_malformed_forced_otel_table_fails_closed() {
    let fixture = Fixture::new();
    let err = fixture
        .load_required("[otel]\nexporter = { otlp-ftp = {} }\n", |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&fixture.expand("REQ:2:")),
        "the error names the file, line and column: {err}"
    );
}
