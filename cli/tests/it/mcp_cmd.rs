use super::*;

/// The words of the row of `name` in `wharf mcp list`.
fn row(list: &str, name: &str) -> Vec<String> {
    let line = list
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{list}"));
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn add_writes_stdio_and_http_servers_keeping_the_file() {
    let env = Env::new();
    let path = env.write_config("# my settings\nmodel = \"o3\"  # the best\n");
    let out = env
        .wharf(&[
            "mcp",
            "add",
            "docs",
            "--env",
            "TOKEN=secret-value",
            "--env",
            "MODE=fast",
            "--",
            "npx",
            "-y",
            "@acme/docs-mcp",
            "--port",
            "4000",
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!("added MCP server `docs` to {}\n", display(&path))
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    env.wharf(&[
        "mcp",
        "add",
        "figma",
        "--url",
        "https://mcp.figma.com/mcp",
        "--bearer-token-env-var",
        "FIGMA_TOKEN",
    ])
    .success();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my settings\nmodel = \"o3\"  # the best\n\n\
         [mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"@acme/docs-mcp\", \"--port\", \"4000\"]\n\
         env = { MODE = \"fast\", TOKEN = \"secret-value\" }\n\n\
         [mcp_servers.figma]\nurl = \"https://mcp.figma.com/mcp\"\nbearer_token_env_var = \"FIGMA_TOKEN\"\n"
    );

    // Adding a name again replaces the entry, in place, and says so.
    let out = env
        .wharf(&["mcp", "add", "docs", "--", "docs-server"])
        .success();
    assert_eq!(
        out.stderr,
        format!(
            "warning: replaced the existing [mcp_servers.docs] in {}\n",
            display(&path)
        )
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my settings\nmodel = \"o3\"  # the best\n\n\
         [mcp_servers.docs]\ncommand = \"docs-server\"\n\n\
         [mcp_servers.figma]\nurl = \"https://mcp.figma.com/mcp\"\nbearer_token_env_var = \"FIGMA_TOKEN\"\n"
    );
}

#[test]
fn list_shows_transport_status_and_auth() {
    let env = Env::new();
    let out = env.wharf(&["mcp", "list"]).success();
    assert_eq!(
        out.stdout,
        "No MCP servers configured yet. Try `wharf mcp add my-tool -- my-command`.\n"
    );
    assert_eq!(
        env.wharf(&["mcp", "list", "--json"]).success().stdout,
        "[]\n"
    );

    let path = env.write_config(
        "[mcp_servers.docs]\ncommand = \"docs-server\"\nargs = [\"--root\", \"my docs\"]\n\
         [mcp_servers.off]\ncommand = \"x\"\nenabled = false\n\
         [mcp_servers.api]\nurl = \"https://api.example/mcp\"\nbearer_token_env_var = \"API_TOKEN\"\n\
         [mcp_servers.open]\nurl = \"http://127.0.0.1:9/mcp\"\n\
         [mcp_servers.hdr]\nurl = \"http://127.0.0.1:9/mcp\"\nenv_http_headers = { Authorization = \"HDR\" }\n",
    );
    let out = env.wharf(&["mcp", "list"]).success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let list = &out.stdout;
    assert_eq!(row(list, "NAME"), ["NAME", "TRANSPORT", "STATUS", "AUTH"]);
    assert_eq!(
        row(list, "docs"),
        [
            "docs",
            "docs-server",
            "--root",
            "\"my",
            "docs\"",
            "enabled",
            "unsupported"
        ]
    );
    assert_eq!(
        row(list, "off"),
        [
            "off",
            "x",
            "disabled:",
            "enabled",
            "=",
            "false",
            "unsupported"
        ]
    );
    assert_eq!(
        row(list, "api"),
        [
            "api",
            "https://api.example/mcp",
            "enabled",
            "bearer",
            "token",
            "(API_TOKEN)"
        ]
    );
    assert_eq!(
        row(list, "open"),
        [
            "open",
            "http://127.0.0.1:9/mcp",
            "enabled",
            "not",
            "logged",
            "in"
        ]
    );
    assert_eq!(
        row(list, "hdr"),
        [
            "hdr",
            "http://127.0.0.1:9/mcp",
            "enabled",
            "authorization",
            "header"
        ]
    );
    let names: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["api", "docs", "hdr", "off", "open"]);

    // With the feature off, every server is off, and the reason says so.
    let out = env
        .wharf(&["--disable", "mcp_client", "mcp", "list"])
        .success();
    assert_eq!(
        row(&out.stdout, "docs")[5..],
        ["disabled:", "feature", "mcp_client", "off", "unsupported"]
    );
    let out = env.wharf(&["mcp", "list", "--json"]).success();
    let servers: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let off = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "off")
        .unwrap();
    assert_eq!(off["enabled"], false);
    assert_eq!(
        off["disabled_reason"],
        format!("enabled = false, set by config ({}:6:1)", display(&path))
    );
}

#[test]
fn list_json_has_the_resolved_config_with_secret_values_masked() {
    let env = Env::new();
    let path = env.write_config(
        "[mcp_servers.docs]\ncommand = \"docs-server\"\nenv = { TOKEN = \"s3cret\" }\n\
         env_vars = [\"HOME_TOKEN\"]\ncwd = \"~/docs\"\nsandbox_mode = \"workspace-write\"\n\
         enabled_tools = [\"search\"]\n\
         [mcp_servers.api]\nurl = \"https://api.example/mcp\"\n\
         http_headers = { \"X-Key\" = \"h3ader\" }\nenv_http_headers = { \"X-Org\" = \"ORG\" }\n\
         startup_timeout_ms = 2500\ntool_timeout_sec = 5\nscopes = [\"read\"]\nrequired = true\n",
    );
    let out = env
        .wharf(&["--disable", "mcp_client", "mcp", "list", "--json"])
        .success();
    assert!(
        !out.stdout.contains("s3cret") && !out.stdout.contains("h3ader"),
        "{}",
        out.stdout
    );
    let servers: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let expected = serde_json::json!([
        {
            "name": "api",
            "enabled": false,
            "disabled_reason": "feature mcp_client is off, set by cli (--disable)",
            "transport": {
                "type": "streamable_http",
                "url": "https://api.example/mcp",
                "bearer_token_env_var": null,
                "http_headers": { "X-Key": "*****" },
                "env_http_headers": { "X-Org": "ORG" },
                "oauth_resource": null,
            },
            "required": true,
            "startup_timeout_sec": 2.5,
            "tool_timeout_sec": 5.0,
            "enabled_tools": null,
            "disabled_tools": [],
            "max_tools": null,
            "max_tool_description_bytes": null,
            "max_tool_schema_bytes": null,
            "scopes": ["read"],
            "sandbox": null,
            "auth_status": "not logged in",
            "source": "config",
            "detail": format!("{}:9:1", display(&path)),
        },
        {
            "name": "docs",
            "enabled": false,
            "disabled_reason": "feature mcp_client is off, set by cli (--disable)",
            "transport": {
                "type": "stdio",
                "command": "docs-server",
                "args": [],
                "env": { "TOKEN": "*****" },
                "env_vars": ["HOME_TOKEN"],
                "cwd": display(&env.home().join("docs")),
            },
            "required": false,
            "startup_timeout_sec": 10.0,
            "tool_timeout_sec": 60.0,
            "enabled_tools": ["search"],
            "disabled_tools": [],
            "max_tools": null,
            "max_tool_description_bytes": null,
            "max_tool_schema_bytes": null,
            "scopes": [],
            "sandbox": { "mode": "workspace-write", "network_access": true },
            "auth_status": "unsupported",
            "source": "config",
            "detail": format!("{}:2:1", display(&path)),
        },
    ]);
    assert_eq!(servers, expected);
}

#[test]
fn get_shows_one_server() {
    let env = Env::new();
    let path = env.write_config(
        "[mcp_servers.docs]\ncommand = \"docs-server\"\nargs = [\"-v\"]\nenv = { TOKEN = \"s3cret\" }\n\
         sandbox_mode = \"read-only\"\nnetwork_access = false\ndisabled_tools = [\"rm\", \"mv\"]\n\
         max_tools = 5\n[mcp_servers.api]\nurl = \"https://api.example/mcp\"\nbearer_token_env_var = \"API_TOKEN\"\n\
         env_http_headers = { \"X-Org\" = \"ORG\" }\n",
    );
    let out = env.wharf(&["mcp", "get", "docs"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "docs\n  enabled: true\n  transport: stdio\n  command: docs-server\n  args: -v\n\
             \x20 cwd: -\n  env: TOKEN=*****\n  env_vars: -\n  sandbox: read-only, network off\n\
             \x20 required: false\n  startup_timeout_sec: 10\n  tool_timeout_sec: 60\n\
             \x20 enabled_tools: all\n  disabled_tools: rm, mv\n  max_tools: 5\n\
             \x20 max_tool_description_bytes: default\n  max_tool_schema_bytes: default\n\
             \x20 scopes: -\n  auth: unsupported\n\
             \x20 source: config ({}:2:1)\n  remove: wharf mcp remove docs\n",
            display(&path)
        )
    );
    let out = env
        .wharf(&["-c", "mcp_servers.api.enabled=false", "mcp", "get", "api"])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "api\n  enabled: false (enabled = false, set by cli (-c mcp_servers.api.enabled=false))\n\
             \x20 transport: streamable_http\n  url: https://api.example/mcp\n\
             \x20 bearer_token_env_var: API_TOKEN\n  http_headers: -\n  env_http_headers: X-Org=ORG\n\
             \x20 oauth_resource: -\n  required: false\n  startup_timeout_sec: 10\n\
             \x20 tool_timeout_sec: 60\n  enabled_tools: all\n  disabled_tools: -\n\
             \x20 max_tools: default\n  max_tool_description_bytes: default\n\
             \x20 max_tool_schema_bytes: default\n  scopes: -\n\
             \x20 auth: bearer token (API_TOKEN)\n  source: config ({}:10:1)\n\
             \x20 remove: wharf mcp remove api\n",
            display(&path)
        )
    );

    let out = env.wharf(&["mcp", "get", "api", "--json"]).success();
    let server: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(server["name"], "api");
    assert_eq!(server["transport"]["type"], "streamable_http");
    assert_eq!(server["auth_status"], "bearer token (API_TOKEN)");

    let out = env.wharf(&["mcp", "get", "nope"]).fails_with(2);
    assert_eq!(
        out.stderr,
        "error: no MCP server named `nope`; known: api, docs\n"
    );
    let empty = Env::new();
    let out = empty.wharf(&["mcp", "get", "nope", "--json"]).fails_with(2);
    assert_eq!(
        out.stderr,
        "error: no MCP server named `nope` (none is configured; add one with `wharf mcp add`)\n"
    );
}

#[test]
fn remove_deletes_the_entry_and_keeps_the_rest() {
    let env = Env::new();
    let path = env.write_config(
        "# servers I use\n[mcp_servers.docs]\ncommand = \"docs-server\"\n\
         [mcp_servers.docs.env]\nA = \"1\"\n\n# keep me\n[mcp_servers.api]\nurl = \"https://h/mcp\"\n",
    );
    let out = env.wharf(&["mcp", "remove", "docs"]).success();
    assert_eq!(
        out.stdout,
        format!("removed MCP server `docs` from {}\n", display(&path))
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# keep me\n[mcp_servers.api]\nurl = \"https://h/mcp\"\n"
    );
    let out = env.wharf(&["mcp", "remove", "docs"]).fails_with(2);
    assert_eq!(
        out.stderr,
        format!(
            "error: no MCP server named `docs` in {}; known: api\n",
            display(&path)
        )
    );

    // A server from the project's file is not the user's to remove here.
    let project = env.cwd().join(".wharf/config.toml");
    std::fs::create_dir_all(project.parent().unwrap()).unwrap();
    std::fs::write(&project, "[mcp_servers.repo]\ncommand = \"repo-mcp\"\n").unwrap();
    env.wharf(&["trust"]).success();
    let out = env.wharf(&["mcp", "remove", "repo"]).fails_with(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: MCP server `repo` is not in {} but comes from project ({}:2:1); remove it there\n",
            display(&path),
            display(&project)
        )
    );
}

#[test]
fn mistakes_on_the_command_line_exit_2_and_change_nothing() {
    let env = Env::new();
    let path = env.write_config("# untouched\n");
    // (arguments, start of stderr)
    let cases: &[(&[&str], &str)] = &[
        (
            &["mcp", "add", "my docs", "--", "x"],
            "error: mcp_servers.\"my docs\": invalid server name: use only ASCII letters, \
             digits, `-` and `_`\n",
        ),
        (
            &["mcp", "add", "docs", "--url", "https://h/mcp", "--", "x"],
            "error: the argument '--url <URL>' cannot be used with '[COMMAND]...'",
        ),
        (
            &["mcp", "add", "docs", "--env", "TOKEN", "--", "x"],
            "error: invalid value 'TOKEN' for '--env <KEY=VALUE>': expected KEY=VALUE, found \
             `TOKEN`",
        ),
        (
            &[
                "mcp",
                "add",
                "docs",
                "--env",
                "A=1",
                "--url",
                "https://h/mcp",
            ],
            "error: the argument '--env <KEY=VALUE>' cannot be used with '--url <URL>'",
        ),
        (
            &[
                "mcp",
                "add",
                "docs",
                "--bearer-token-env-var",
                "T",
                "--",
                "x",
            ],
            "error: the argument '--bearer-token-env-var <VAR>' cannot be used with \
             '[COMMAND]...'",
        ),
        (
            &["mcp", "add", "docs"],
            "error: the following required arguments were not provided:\n  <COMMAND|--url <URL>>",
        ),
        (
            &["mcp", "add", "docs", "--url", "localhost:3000"],
            "error: mcp_servers.docs: `url` must be an http:// or https:// URL, found \
             `localhost:3000`\n",
        ),
        (
            &["mcp", "remove", "nope"],
            "error: no MCP server named `nope` in ",
        ),
    ];
    for (args, stderr) in cases {
        let out = env.wharf(args).fails_with(2);
        assert!(out.stderr.starts_with(stderr), "{args:?}:\n{}", out.stderr);
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# untouched\n");
}

#[test]
fn a_bad_hand_written_server_names_the_file_the_server_and_the_field() {
    let env = Env::new();
    let path = env.write_config(
        "[mcp_servers.api]\nurl = \"https://h/mcp\"\nbearer_token = \"sk-live-123\"\n\
         [mcp_servers.ok]\ncommand = \"x\"\n",
    );
    for args in [&["mcp", "list"][..], &["mcp", "get", "ok"]] {
        let out = env.wharf(args).fails_with(1);
        assert_eq!(
            out.stderr,
            format!(
                "error: {}:3:1: mcp_servers.api: `bearer_token` is not supported: keep the token \
                 out of the file, in an environment variable, and name that variable with \
                 `bearer_token_env_var`\n",
                display(&path)
            )
        );
    }
    // The broken entry can still be removed.
    env.wharf(&["mcp", "remove", "api"]).success();
    env.wharf(&["mcp", "list"]).success();

    env.write_config("[mcp_servers.mixed]\ncommand = \"x\"\nurl = \"https://h/mcp\"\n");
    let out = env.wharf(&["mcp", "list"]).fails_with(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: {}:3:1: mcp_servers.mixed: `url` cannot be combined with `command` (a server \
             is either started with `command` or reached at `url`; remove one)\n",
            display(&path)
        )
    );
}

/// A `~/.codex/config.toml` as codex's documentation writes it, copied
/// verbatim into `$WHARF_HOME/config.toml`.
const CODEX_CONFIG: &str = r#"model = "gpt-5-codex"
approval_policy = "on-request"

# --- MCP servers ---
[mcp_servers.context7]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]
startup_timeout_ms = 20_000

[mcp_servers.context7.env]
MY_ENV_VAR = "MY_ENV_VALUE"

[mcp_servers.chrome_devtools]
command = "npx"
args = ["-y", "chrome-devtools-mcp@latest"]
env_vars = ["LOCAL_TOKEN"]
cwd = "/Users/me/code/my-server"
enabled_tools = ["open", "screenshot"]
disabled_tools = ["screenshot"]
startup_timeout_sec = 20
tool_timeout_sec = 45

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
bearer_token_env_var = "FIGMA_OAUTH_TOKEN"
http_headers = { "X-Figma-Region" = "us-east-1" }

[mcp_servers.linear]
url = "https://mcp.linear.app/mcp"
scopes = ["read", "write"]
enabled = false
required = false
"#;

#[test]
fn a_codex_config_works_unchanged() {
    let env = Env::new();
    let path = env.write_config(CODEX_CONFIG);
    let out = env.wharf(&["mcp", "list"]).success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(
        row(&out.stdout, "context7"),
        [
            "context7",
            "npx",
            "-y",
            "@upstash/context7-mcp",
            "enabled",
            "unsupported"
        ]
    );
    assert_eq!(
        row(&out.stdout, "figma"),
        [
            "figma",
            "https://mcp.figma.com/mcp",
            "enabled",
            "bearer",
            "token",
            "(FIGMA_OAUTH_TOKEN)"
        ]
    );
    assert_eq!(
        row(&out.stdout, "linear")[..5],
        [
            "linear",
            "https://mcp.linear.app/mcp",
            "disabled:",
            "enabled",
            "="
        ]
    );
    let out = env
        .wharf(&["mcp", "get", "chrome_devtools", "--json"])
        .success();
    let server: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(server["transport"]["cwd"], "/Users/me/code/my-server");
    assert_eq!(server["transport"]["env_vars"][0], "LOCAL_TOKEN");
    assert_eq!(server["startup_timeout_sec"], 20.0);
    assert_eq!(server["tool_timeout_sec"], 45.0);
    assert_eq!(
        server["enabled_tools"],
        serde_json::json!(["open", "screenshot"])
    );
    let out = env.wharf(&["mcp", "get", "context7", "--json"]).success();
    let server: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(server["startup_timeout_sec"], 20.0);
    assert_eq!(server["transport"]["env"]["MY_ENV_VAR"], "*****");

    // And `wharf mcp remove` edits it like any other file.
    env.wharf(&["mcp", "remove", "figma"]).success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            "model = \"gpt-5-codex\"\napproval_policy = \"on-request\"\n\n# --- MCP servers ---\n"
        ),
        "{text}"
    );
    assert!(!text.contains("figma"), "{text}");
    assert!(text.contains("[mcp_servers.linear]"), "{text}");
}
