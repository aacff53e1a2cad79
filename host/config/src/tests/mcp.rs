//! `[mcp_servers.NAME]`, `mcp_oauth_*`, and the edits `wharf mcp add` and
//! `remove` make.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use wharf_sandbox::SandboxMode;

use super::Fixture;
use crate::mcp::{DEFAULT_STARTUP_TIMEOUT, DEFAULT_TOOL_TIMEOUT, McpToolApprovals};
use crate::toml_types::McpServerToml;
use crate::{
    Location, McpOAuthCredentialsStore, McpOfferLimits, McpSandbox, McpServerConfig, McpTransport,
    Source, add_mcp_server, json_schema, mcp_server_names, remove_mcp_server,
};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The examples of codex's documentation, copied as a codex user has them.
const CODEX_EXAMPLE: &str = r#"
# MCP servers, as in ~/.codex/config.toml
[mcp_servers.context7]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]
startup_timeout_ms = 20000

[mcp_servers.context7.env]
MY_ENV_VAR = "MY_ENV_VALUE"

[mcp_servers.docs]
command = "docs-server"
args = ["--port", "4000"]
env = { "API_KEY" = "value" }
env_vars = ["LOCAL_TOKEN"]
cwd = "/srv/docs"
startup_timeout_sec = 20
tool_timeout_sec = 30.5
enabled_tools = ["open", "search"]
disabled_tools = ["search"]
max_tools = 16
max_tool_schema_bytes = 4096
required = true

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
bearer_token_env_var = "FIGMA_OAUTH_TOKEN"
http_headers = { "X-Figma-Region" = "us-east-1" }
env_http_headers = { "X-Org" = "FIGMA_ORG" }
scopes = ["read", "write"]
oauth_resource = "https://mcp.figma.com"
enabled = false
"#;

#[test]
fn codex_example_tables_resolve() {
    let fixture = Fixture::new();
    let path = fixture.user_config(CODEX_EXAMPLE);
    let config = fixture.load();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let names: Vec<&str> = config.mcp_servers.keys().map(String::as_str).collect();
    assert_eq!(names, ["context7", "docs", "figma"]);
    let at = |line, column| {
        Source::User(Location {
            path: path.clone(),
            line,
            column,
        })
    };

    assert_eq!(
        config.mcp_servers["context7"],
        McpServerConfig {
            name: "context7".to_owned(),
            transport: McpTransport::Stdio {
                command: "npx".to_owned(),
                args: strings(&["-y", "@upstash/context7-mcp"]),
                env: map(&[("MY_ENV_VAR", "MY_ENV_VALUE")]),
                env_vars: vec![],
                cwd: None,
            },
            enabled: true,
            required: false,
            startup_timeout: Duration::from_secs(20),
            tool_timeout: DEFAULT_TOOL_TIMEOUT,
            enabled_tools: None,
            disabled_tools: vec![],
            offer_limits: McpOfferLimits::default(),
            scopes: vec![],
            tool_approvals: McpToolApprovals::default(),
            sandbox: None,
            source: at(4, 1),
            blocked: None,
        }
    );
    assert_eq!(
        config.mcp_servers["docs"],
        McpServerConfig {
            name: "docs".to_owned(),
            transport: McpTransport::Stdio {
                command: "docs-server".to_owned(),
                args: strings(&["--port", "4000"]),
                env: map(&[("API_KEY", "value")]),
                env_vars: strings(&["LOCAL_TOKEN"]),
                cwd: Some(PathBuf::from("/srv/docs")),
            },
            enabled: true,
            required: true,
            startup_timeout: Duration::from_secs(20),
            tool_timeout: Duration::from_millis(30_500),
            enabled_tools: Some(strings(&["open", "search"])),
            disabled_tools: strings(&["search"]),
            offer_limits: McpOfferLimits {
                max_tools: Some(16),
                max_tool_description_bytes: None,
                max_tool_schema_bytes: Some(4096),
            },
            scopes: vec![],
            tool_approvals: McpToolApprovals::default(),
            sandbox: None,
            source: at(12, 1),
            blocked: None,
        }
    );
    assert_eq!(
        config.mcp_servers["figma"],
        McpServerConfig {
            name: "figma".to_owned(),
            transport: McpTransport::Http {
                url: "https://mcp.figma.com/mcp".to_owned(),
                bearer_token_env_var: Some("FIGMA_OAUTH_TOKEN".to_owned()),
                http_headers: map(&[("X-Figma-Region", "us-east-1")]),
                env_http_headers: map(&[("X-Org", "FIGMA_ORG")]),
                oauth_resource: Some("https://mcp.figma.com".to_owned()),
            },
            enabled: false,
            required: false,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            tool_timeout: DEFAULT_TOOL_TIMEOUT,
            enabled_tools: None,
            disabled_tools: vec![],
            offer_limits: McpOfferLimits::default(),
            scopes: strings(&["read", "write"]),
            tool_approvals: McpToolApprovals::default(),
            sandbox: None,
            source: at(26, 1),
            blocked: None,
        }
    );
    assert_eq!(
        config.mcp_servers["figma"].transport.kind(),
        "streamable_http"
    );
    assert_eq!(
        config.mcp_oauth_credentials_store,
        McpOAuthCredentialsStore::Auto
    );
    assert_eq!(config.mcp_oauth_callback_port, None);
}

#[test]
fn sandboxes_paths_and_oauth_settings_resolve() {
    let fixture = Fixture::new();
    fixture.user_config(
        "mcp_oauth_credentials_store = \"file\"\nmcp_oauth_callback_port = 8765\n\
         [mcp_servers.ro]\ncommand = \"a\"\nsandbox_mode = \"read-only\"\ncwd = \"~/srv\"\n\
         [mcp_servers.ww]\ncommand = \"b\"\nsandbox_mode = \"workspace-write\"\n\
         network_access = false\ncwd = \"rel\"\n\
         [mcp_servers.full]\ncommand = \"c\"\nsandbox_mode = \"danger-full-access\"\n\
         network_access = true\nstartup_timeout_sec = 0.25\nstartup_timeout_ms = 99\n",
    );
    let config = fixture.load();
    let sandbox = |name: &str| config.mcp_servers[name].sandbox;
    let cwd = |name: &str| match &config.mcp_servers[name].transport {
        McpTransport::Stdio { cwd, .. } => cwd.clone(),
        McpTransport::Http { .. } => panic!("{name} is not stdio"),
    };
    assert_eq!(
        sandbox("ro"),
        Some(McpSandbox {
            mode: SandboxMode::ReadOnly,
            network_access: false
        })
    );
    assert_eq!(
        sandbox("ww"),
        Some(McpSandbox {
            mode: SandboxMode::WorkspaceWrite,
            network_access: false
        })
    );
    assert_eq!(
        sandbox("full"),
        Some(McpSandbox {
            mode: SandboxMode::DangerFullAccess,
            network_access: true
        })
    );
    assert_eq!(cwd("ro"), Some(fixture.home().join("srv")));
    assert_eq!(cwd("ww"), Some(fixture.cwd().join("rel")));
    assert_eq!(
        config.mcp_servers["full"].startup_timeout,
        Duration::from_millis(250),
        "startup_timeout_sec wins over startup_timeout_ms"
    );
    assert_eq!(
        config.mcp_oauth_credentials_store,
        McpOAuthCredentialsStore::File
    );
    assert_eq!(config.mcp_oauth_callback_port, Some(8765));
}

#[test]
fn bad_servers_name_the_file_the_server_and_the_field() {
    // (config.toml text, the error's expected suffix after the file path)
    let cases = [
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nurl = \"http://h/mcp\"\n",
            "config.toml:3:1: mcp_servers.docs: `url` cannot be combined with `command` (a \
             server is either started with `command` or reached at `url`; remove one)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nbearer_token_env_var = \"T\"\n",
            "config.toml:3:1: mcp_servers.docs: `bearer_token_env_var` is not supported for \
             stdio servers (remove it or use `url`)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nhttp_headers = { A = \"b\" }\n",
            "config.toml:3:18: mcp_servers.docs: `http_headers` is not supported for stdio \
             servers (remove it or use `url`)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\n[mcp_servers.docs.env_http_headers]\nA = \"B\"\n",
            "config.toml:4:1: mcp_servers.docs: `env_http_headers` is not supported for stdio \
             servers (remove it or use `url`)",
        ),
        (
            "[mcp_servers.api]\nurl = \"https://h/mcp\"\nargs = [\"-v\"]\n",
            "config.toml:3:1: mcp_servers.api: `args` is not supported for streamable HTTP \
             servers (remove it or use `command`)",
        ),
        (
            "[mcp_servers.api]\nurl = \"https://h/mcp\"\n[mcp_servers.api.env]\nK = \"v\"\n",
            "config.toml:4:1: mcp_servers.api: `env` is not supported for streamable HTTP \
             servers (remove it or use `command`)",
        ),
        (
            "[mcp_servers.api]\nurl = \"https://h/mcp\"\nenv_vars = [\"K\"]\n",
            "config.toml:3:1: mcp_servers.api: `env_vars` is not supported for streamable HTTP \
             servers (remove it or use `command`)",
        ),
        (
            "[mcp_servers.api]\nurl = \"https://h/mcp\"\ncwd = \"/\"\n",
            "config.toml:3:1: mcp_servers.api: `cwd` is not supported for streamable HTTP \
             servers (remove it or use `command`)",
        ),
        (
            "[mcp_servers.api]\nurl = \"https://h/mcp\"\nsandbox_mode = \"read-only\"\n",
            "config.toml:3:1: mcp_servers.api: `sandbox_mode` is not supported for streamable \
             HTTP servers (remove it or use `command`)",
        ),
        (
            "[mcp_servers.api]\nenabled = true\nrequired = true\n",
            "config.toml:2:1: mcp_servers.api: needs `command` (a server wharf starts, speaking \
             on stdio) or `url` (a streamable HTTP server)",
        ),
        (
            "[mcp_servers.api]\nurl = \"https://h/mcp\"\nbearer_token = \"sk-123\"\n",
            "config.toml:3:1: mcp_servers.api: `bearer_token` is not supported: keep the token \
             out of the file, in an environment variable, and name that variable with \
             `bearer_token_env_var`",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nstartup_timeout_sec = 0\n",
            "config.toml:3:1: mcp_servers.docs: `startup_timeout_sec` must be a positive number \
             of seconds, found 0",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nstartup_timeout_sec = -1.5\n",
            "config.toml:3:1: mcp_servers.docs: `startup_timeout_sec` must be a positive number \
             of seconds, found -1.5",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nstartup_timeout_sec = inf\n",
            "config.toml:3:1: mcp_servers.docs: `startup_timeout_sec` must be a positive number \
             of seconds, found inf",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nstartup_timeout_sec = nan\n",
            "config.toml:3:1: mcp_servers.docs: `startup_timeout_sec` must be a positive number \
             of seconds, found NaN",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\ntool_timeout_sec = 1e300\n",
            "config.toml:3:1: mcp_servers.docs: `tool_timeout_sec` is too large (1e300 \
             seconds)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nstartup_timeout_ms = 0\n",
            "config.toml:3:1: mcp_servers.docs: `startup_timeout_ms` must be more than 0",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nmax_tools = 0\n",
            "config.toml:3:1: mcp_servers.docs: `max_tools` must be more than 0 (to offer no \
             tools, set `enabled_tools = []`)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nmax_tool_schema_bytes = 0\n",
            "config.toml:3:1: mcp_servers.docs: `max_tool_schema_bytes` must be more than 0 (to \
             offer no tools, set `enabled_tools = []`)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nstartup_timeout_ms = -5\n",
            "config.toml:3:22: mcp_servers.docs.startup_timeout_ms: invalid value: integer \
             `-5`, expected u64",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"  \"\n",
            "config.toml:2:1: mcp_servers.docs: `command` is empty (name the program that runs \
             the server)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nenv = { \"A=B\" = \"c\" }\n",
            "config.toml:3:9: mcp_servers.docs: `env` names the variable \"A=B\", which cannot \
             be set (a name is not empty and has no `=`)",
        ),
        (
            "[mcp_servers.api]\nurl = \"localhost:3000/mcp\"\n",
            "config.toml:2:1: mcp_servers.api: `url` must be an http:// or https:// URL, found \
             `localhost:3000/mcp`",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nnetwork_access = false\n",
            "config.toml:3:1: mcp_servers.docs: `network_access` only applies with \
             `sandbox_mode` (set one, or remove it)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nsandbox_mode = \"danger-full-access\"\n\
             network_access = false\n",
            "config.toml:4:1: mcp_servers.docs: `network_access = false` needs a sandbox, and \
             `danger-full-access` is none (use `read-only` or `workspace-write`)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nsandbox_mode = \"read-only\"\n\
             network_access = true\n",
            "config.toml:4:1: mcp_servers.docs: `read-only` has no network (use \
             `sandbox_mode = \"workspace-write\"` with `network_access = true`, or leave out \
             `sandbox_mode`)",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"\nsandbox_mode = \"jail\"\n",
            "config.toml:3:16: mcp_servers.docs.sandbox_mode: unknown variant `jail`, expected \
             one of `read-only`, `workspace-write`, `danger-full-access`",
        ),
        (
            "[mcp_servers.docs]\ncommand = [\"x\"]\n",
            "config.toml:2:11: mcp_servers.docs.command: invalid type: sequence, expected a \
             string",
        ),
        (
            "mcp_oauth_credentials_store = \"vault\"\n",
            "config.toml:1:31: mcp_oauth_credentials_store: unknown variant `vault`, expected \
             one of `auto`, `keyring`, `file`",
        ),
        (
            "mcp_oauth_callback_port = 70000\n",
            "config.toml:1:27: mcp_oauth_callback_port: invalid value: integer `70000`, \
             expected u16",
        ),
    ];
    for (text, expected) in cases {
        let fixture = Fixture::new();
        let path = fixture.user_config(text);
        let err = fixture.load_with(|_| {}).unwrap_err();
        let expected = format!(
            "{}{}",
            path.display(),
            expected.trim_start_matches("config.toml")
        );
        assert_eq!(err.to_string(), expected, "for config:\n{text}");
        assert!(!err.is_usage(), "{err}");
    }
}

#[test]
fn unknown_server_keys_warn() {
    let fixture = Fixture::new();
    let path = fixture.user_config(
        "[mcp_servers.docs]\ncommand = \"x\"\ntransport = \"stdio\"\n[mcp_servers.docs.tools.open]\n\
         approval = \"never\"\n",
    );
    let config = fixture.load();
    let path = path.display();
    assert_eq!(
        config.warnings,
        [
            format!("{path}:3:1: unknown key `mcp_servers.docs.transport` (ignored)"),
            format!("{path}:5:1: unknown key `mcp_servers.docs.tools.open.approval` (ignored)"),
        ]
    );
    assert!(config.mcp_servers.contains_key("docs"));
}

#[test]
fn a_file_replaces_whole_entries_while_profiles_and_overrides_change_keys() {
    let fixture = Fixture::new();
    let project = fixture.project_config(
        "[mcp_servers.docs]\ncommand = \"project-docs\"\nenv_vars = [\"GITHUB_TOKEN\"]\n\
         cwd = \"/tmp\"\n\
         [mcp_servers.repo]\ncommand = \"repo-server\"\n\
         [profiles.ci.mcp_servers.api]\nurl = \"http://project/mcp\"\n",
    );
    let user = fixture.user_config(
        "[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n\
         [profiles.ci.mcp_servers.docs]\ntool_timeout_sec = 5\n\
         [profiles.ci.mcp_servers.api]\ncommand = \"user-api\"\n",
    );
    fixture.trust();

    let config = fixture.load();
    let docs = &config.mcp_servers["docs"];
    // No `env_vars` or `cwd` from the project: they would not even be
    // allowed next to `url`.
    assert!(
        matches!(&docs.transport, McpTransport::Http { url, .. } if url == "https://docs.example/mcp"),
        "{docs:?}"
    );
    assert_eq!(docs.source.kind(), "config");
    let repo = &config.mcp_servers["repo"];
    assert_eq!(
        repo.source,
        Source::Project(Location {
            path: project.clone(),
            line: 6,
            column: 1
        })
    );

    let config = fixture
        .load_with(|options| {
            options.profile = Some("ci".to_owned());
            options.overrides = vec![
                "mcp_servers.repo.enabled=false".to_owned(),
                "mcp_servers.docs.scopes=[\"read\"]".to_owned(),
            ];
        })
        .unwrap();
    let docs = &config.mcp_servers["docs"];
    assert_eq!(
        docs.tool_timeout,
        Duration::from_secs(5),
        "from the profile"
    );
    assert_eq!(docs.scopes, ["read"], "from -c");
    assert!(matches!(docs.transport, McpTransport::Http { .. }));
    assert!(!config.mcp_servers["repo"].enabled);
    assert!(
        matches!(&config.mcp_servers["api"].transport, McpTransport::Stdio { command, .. } if command == "user-api"),
        "the user's profile entry replaced the project's: {:?}",
        config.mcp_servers["api"]
    );
    assert_eq!(
        config.mcp_servers["api"].source,
        Source::Profile {
            name: "ci".to_owned(),
            at: Location {
                path: user.clone(),
                line: 6,
                column: 1
            }
        }
    );
}

#[test]
fn bad_overrides_of_servers_are_usage_errors() {
    let fixture = Fixture::new();
    fixture.user_config("[mcp_servers.docs]\ncommand = \"docs\"\n");
    let err = fixture
        .load_with(|options| {
            options.overrides = vec!["mcp_servers.docs.url=https://h/mcp".to_owned()];
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "-c mcp_servers.docs.url=https://h/mcp: `url` cannot be combined with `command` (a \
         server is either started with `command` or reached at `url`; remove one)"
    );
    assert!(err.is_usage());
}

#[test]
fn the_schema_describes_mcp_servers_but_not_inline_tokens() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let properties = &schema["properties"];
    assert!(properties["mcp_servers"].is_object(), "{properties}");
    assert!(properties["mcp_oauth_credentials_store"].is_object());
    assert!(properties["mcp_oauth_callback_port"].is_object());
    let server = &schema["$defs"]["McpServerToml"]["properties"];
    for key in [
        "command",
        "args",
        "env",
        "env_vars",
        "cwd",
        "url",
        "bearer_token_env_var",
        "http_headers",
        "env_http_headers",
        "enabled",
        "required",
        "startup_timeout_sec",
        "startup_timeout_ms",
        "tool_timeout_sec",
        "enabled_tools",
        "disabled_tools",
        "max_tools",
        "max_tool_description_bytes",
        "max_tool_schema_bytes",
        "scopes",
        "sandbox_mode",
        "network_access",
    ] {
        assert!(server[key].is_object(), "{key} missing: {server}");
    }
    assert!(server["bearer_token"].is_null(), "{server}");
}

fn stdio(command: &str, args: &[&str], env: &[(&str, &str)]) -> McpServerToml {
    McpServerToml {
        command: Some(command.to_owned()),
        args: (!args.is_empty()).then(|| strings(args)),
        env: (!env.is_empty()).then(|| map(env)),
        ..McpServerToml::default()
    }
}

#[test]
fn adding_servers_keeps_the_file_and_replaces_entries_in_place() {
    let fixture = Fixture::new();
    let path = fixture.user_config(
        "# my settings\nmodel = \"o3\"  # the best\n\n\
         # the docs server, keep this comment\n[mcp_servers.docs]\ncommand = \"old\"\n\
         [mcp_servers.docs.env]\nOLD = \"1\"\n\n[features]\nhooks = true\n",
    );
    let replaced = add_mcp_server(
        &path,
        "docs",
        &stdio("npx", &["-y", "docs-mcp"], &[("TOKEN", "t")]),
    )
    .unwrap();
    assert!(replaced);
    let http = McpServerToml {
        url: Some("https://h/mcp".to_owned()),
        bearer_token_env_var: Some("H_TOKEN".to_owned()),
        ..McpServerToml::default()
    };
    assert!(!add_mcp_server(&path, "api", &http).unwrap());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my settings\nmodel = \"o3\"  # the best\n\n\
         # the docs server, keep this comment\n[mcp_servers.docs]\ncommand = \"npx\"\n\
         args = [\"-y\", \"docs-mcp\"]\nenv = { TOKEN = \"t\" }\n\n\
         [mcp_servers.api]\nurl = \"https://h/mcp\"\nbearer_token_env_var = \"H_TOKEN\"\n\n\
         [features]\nhooks = true\n",
        "a new server goes after the others"
    );
    let config = fixture.load();
    assert_eq!(config.mcp_servers.len(), 2);
    assert_eq!(mcp_server_names(&path).unwrap(), ["docs", "api"]);

    assert!(remove_mcp_server(&path, "docs").unwrap());
    assert!(!remove_mcp_server(&path, "docs").unwrap());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my settings\nmodel = \"o3\"  # the best\n\n\
         [mcp_servers.api]\nurl = \"https://h/mcp\"\nbearer_token_env_var = \"H_TOKEN\"\n\n\
         [features]\nhooks = true\n"
    );
}

#[test]
fn adding_to_a_new_file_and_inline_tables() {
    let fixture = Fixture::new();
    let path = fixture.dir.path().join("fresh/config.toml");
    assert!(!remove_mcp_server(&path, "x").unwrap());
    assert!(mcp_server_names(&path).unwrap().is_empty());
    add_mcp_server(&path, "x", &stdio("srv", &[], &[])).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "[mcp_servers.x]\ncommand = \"srv\"\n"
    );

    std::fs::write(
        &path,
        "[mcp_servers]\nx = { command = \"a\", args = [\"b\"] }  # inline\ny = { command = \"c\" }\n",
    )
    .unwrap();
    assert!(add_mcp_server(&path, "x", &stdio("z", &[], &[])).unwrap());
    assert!(remove_mcp_server(&path, "y").unwrap());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "[mcp_servers]\nx = { command = \"z\" }  # inline\n"
    );
}

#[test]
fn adding_refuses_bad_entries_and_files() {
    let fixture = Fixture::new();
    let path = fixture.user_config("# keep\n");
    let cases = [
        (
            "my docs",
            stdio("x", &[], &[]),
            "mcp_servers.\"my docs\": invalid server name: use only ASCII letters, digits, `-` \
             and `_`",
        ),
        (
            "docs",
            McpServerToml {
                url: Some("ftp://h".to_owned()),
                ..McpServerToml::default()
            },
            "mcp_servers.docs: `url` must be an http:// or https:// URL, found `ftp://h`",
        ),
        (
            "docs",
            stdio("x", &[], &[("", "v")]),
            "mcp_servers.docs: `env` names the variable \"\", which cannot be set (a name is \
             not empty and has no `=`)",
        ),
    ];
    for (name, server, expected) in cases {
        let err = add_mcp_server(&path, name, &server).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    std::fs::write(&path, "mcp_servers = [1]\n").unwrap();
    let err = add_mcp_server(&path, "docs", &stdio("x", &[], &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:1:1: mcp_servers: expected a table; fix or remove it before adding MCP servers",
            path.display()
        )
    );
    std::fs::write(&path, "[mcp_servers\n").unwrap();
    let err = remove_mcp_server(&path, "docs").unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:1:", path.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[mcp_servers\n");
}
