//! requirements.toml, the configuration side, through the binary:
//! `$WHARF_REQUIREMENTS` names the file (these machines have no
//! `/etc/wharf`). Fallbacks of the approval policy and the sandbox mode
//! that really change what runs, feature pins, the MCP allowlist (a
//! renamed server is still blocked), and fail-closed loading.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::exec::{done, exec, recording, say};

/// Writes `text` as the requirements file (outside the working
/// directory), returns its path.
fn requirements(env: &Env, text: &str) -> PathBuf {
    let path = env.dir.path().join("requirements.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `wharf args` as `user` under the requirements at `file` (none:
/// without any).
fn wharf(env: &Env, user: User, file: Option<&Path>, args: &[&str]) -> Output {
    let mut command = env.wharf_as(user);
    command.args(args);
    if let Some(file) = file {
        command.env("WHARF_REQUIREMENTS", file);
    }
    let output = command.output().unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// `wharf args` under the requirements `text`.
fn required(env: &Env, text: &str, args: &[&str]) -> Output {
    let file = requirements(env, text);
    wharf(env, User::Me, Some(&file), args)
}

fn touch(name: &str) -> String {
    json!({ "cmd": format!("touch {name}"), "login": false }).to_string()
}

/// `-s danger-full-access` from the command line, `sandbox_mode` from the
/// user's file: each falls back to read-only, and a command really runs
/// read-only (as root too, where only the sandbox stops the write).
#[test]
fn a_disallowed_sandbox_mode_falls_back_and_the_command_runs_under_it() {
    let modes = "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n";
    for user in users() {
        for (config, flags) in [
            ("", &["-s", "danger-full-access"][..]),
            ("sandbox_mode = \"danger-full-access\"\n", &[][..]),
        ] {
            let env = env_for(user);
            env.write_config(config);
            let file = requirements(&env, modes);
            let args = touch("made");
            let mut words = flags.to_vec();
            words.extend(["tool", "call", "exec_command", "--args", &args]);

            // Without the requirements, the write happens: the test can see it.
            wharf(&env, user, None, &words).success();
            assert!(env.cwd().join("made").exists(), "{user:?} {flags:?}");
            std::fs::remove_file(env.cwd().join("made")).unwrap();

            let out = wharf(&env, user, Some(&file), &words);
            assert!(
                out.stderr.contains(&format!(
                    "warning: blocked by requirements ({}: allowed_sandbox_modes): sandbox mode \
                     `danger-full-access` is not allowed (allowed: read-only, workspace-write): \
                     `danger-full-access` (from ",
                    display(&file)
                )),
                "{user:?} {flags:?}: {}",
                out.stderr
            );
            assert!(
                out.stderr.contains("falls back to `read-only`"),
                "{}",
                out.stderr
            );
            assert!(!env.cwd().join("made").exists(), "{user:?} {flags:?}");
        }
    }
}

/// `-a never` falls back to the first allowed policy (`config show` says
/// so); `wharf exec`'s own default, `never`, does too, and the session
/// really asks: a command that `never` runs is declined.
#[test]
fn a_disallowed_approval_policy_falls_back_and_the_session_asks() {
    let env = Env::new();
    let text = "allowed_approval_policies = [\"untrusted\", \"on-request\"]\n";
    let file = requirements(&env, text);
    let out = required(&env, text, &["-a", "never", "config", "show"]).success();
    let line = out
        .stdout
        .lines()
        .find(|line| line.starts_with("approval_policy = "))
        .unwrap();
    assert!(
        line.starts_with("approval_policy = \"untrusted\"")
            && line.ends_with(&format!(
                "# requirements ({}: allowed_approval_policies)",
                display(&file)
            )),
        "{line}"
    );
    assert!(
        out.stderr
            .contains("`never` (from cli (--ask-for-approval)) falls back to `untrusted`"),
        "{}",
        out.stderr
    );

    let rec = env.dir.path().join("touch.jsonl");
    let script = recording(&[
        (
            1,
            "user_message",
            &[],
            vec![exec("call_1", "touch made"), done(1)],
        ),
        (3, "tool_output", &["call_1"], vec![say("done"), done(1)]),
    ]);
    std::fs::write(&rec, script).unwrap();
    let rec = display(&rec);
    let args = [
        "-s",
        "workspace-write",
        "exec",
        "--skip-git-repo-check",
        "--replay",
        &rec,
        "make a file",
    ];
    // Without the requirements `never` runs it: the test can see it.
    env.wharf(&args).success();
    assert!(env.cwd().join("made").exists());
    std::fs::remove_file(env.cwd().join("made")).unwrap();

    let out = wharf(&env, User::Me, Some(&file), &args).success();
    assert!(
        out.stderr.contains(&format!(
            "warning: blocked by requirements ({}: allowed_approval_policies): approval policy \
             `never` is not allowed (allowed: untrusted, on-request): `never` (from this \
             command's default) falls back to `untrusted`",
            display(&file)
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("· approval untrusted"),
        "{}",
        out.stderr
    );
    assert!(!env.cwd().join("made").exists(), "{}", out.stderr);
}

/// `wharf tool call` without `-a` asks nothing, its own `never`; where the
/// requirements do not allow `never`, its default falls back like `exec`'s
/// and the call is asked for: with no terminal to ask on, a command that
/// writes is refused.
#[test]
fn tool_calls_default_policy_falls_back_too() {
    let env = Env::new();
    let text = "allowed_approval_policies = [\"untrusted\", \"on-request\"]\n";
    let file = requirements(&env, text);
    let args = touch("made");
    let words = [
        "-s",
        "workspace-write",
        "tool",
        "call",
        "exec_command",
        "--args",
        &args,
    ];
    // Without the requirements it runs: the test can see it.
    wharf(&env, User::Me, None, &words).success();
    assert!(env.cwd().join("made").exists());
    std::fs::remove_file(env.cwd().join("made")).unwrap();

    let out = wharf(&env, User::Me, Some(&file), &words);
    assert!(
        out.stderr.contains(&format!(
            "warning: blocked by requirements ({}: allowed_approval_policies): approval policy \
             `never` is not allowed (allowed: untrusted, on-request): `never` (from this \
             command's default) falls back to `untrusted`",
            display(&file)
        )),
        "{}",
        out.stderr
    );
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(!env.cwd().join("made").exists(), "{}", out.stdout);
}

/// A feature pinned off: `--enable` is a usage error, `features enable`
/// too (the file untouched), a config layer that turns it on is a warning
/// and changes nothing, and `features list` says why.
#[test]
fn a_pinned_off_feature_cannot_be_turned_on() {
    let env = Env::new();
    let text = "[features]\nunified_exec = false\n";
    let file = requirements(&env, text);
    let reason = format!(
        "blocked by requirements ({}: [features]): feature `unified_exec` is pinned off, so it \
         cannot be turned on",
        display(&file)
    );

    let out = required(&env, text, &["--enable", "unified_exec", "tool", "list"]).fails_with(2);
    assert_eq!(out.stderr, format!("error: {reason}\n"));
    let out = required(&env, text, &["features", "enable", "unified_exec"]).fails_with(2);
    assert_eq!(out.stderr, format!("error: {reason}\n"));
    assert!(!env.config_path().exists(), "the file was written");
    // Agreeing with the pin is fine.
    required(
        &env,
        text,
        &["--disable", "unified_exec", "features", "list"],
    )
    .success();

    env.write_config("[features]\nunified_exec = true\n");
    let out = required(&env, text, &["features", "list", "--json"]).success();
    assert!(
        out.stderr.contains(&format!(
            "warning: {reason}; the setting in config ({}:2:1) has no effect",
            display(&env.config_path())
        )),
        "{}",
        out.stderr
    );
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let row = rows
        .iter()
        .find(|row| row["key"] == "unified_exec")
        .unwrap();
    assert_eq!(row["enabled"], false);
    assert_eq!(row["source"], "requirements");
    assert_eq!(row["detail"], format!("{}: [features]", display(&file)));
    // The pin holds in a session: the plugin's tools are not there.
    let out = required(
        &env,
        text,
        &["tool", "call", "exec_command", "--args", &touch("x")],
    );
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(!env.cwd().join("x").exists());
}

/// A stdio server that leaves `marker` when it is started.
fn server(name: &str, command: &str, marker: &Path) -> String {
    format!(
        "[mcp_servers.{name}]\ncommand = \"{command}\"\nargs = [\"-c\", \"touch {}\"]\n",
        display(marker)
    )
}

/// The allowlist matches name and identity: a copy of the allowed server
/// under another name, or the allowed name with another command, is never
/// started, and every listing says why.
#[test]
fn a_renamed_or_changed_mcp_server_is_never_started() {
    let env = Env::new();
    let text = "[mcp_servers.docs.identity]\ncommand = \"sh\"\n";
    let file = requirements(&env, text);
    let at = display(&file);
    let marker = |name: &str| env.dir.path().join(format!("{name}.started"));

    // The allowed server starts (its marker proves the check below can fail).
    env.write_config(&server("docs", "sh", &marker("docs")));
    required(&env, text, &["tool", "list"]).success();
    assert!(marker("docs").exists());

    let config = [
        server("docs2", "sh", &marker("docs2")),
        server("docs", "/bin/sh", &marker("docs")),
    ]
    .concat();
    std::fs::remove_file(marker("docs")).unwrap();
    env.write_config(&config);
    let renamed = format!(
        "blocked by requirements ({at}: [mcp_servers]): `docs2` is not an allowed MCP server \
         (allowed: docs)"
    );
    let changed = format!(
        "blocked by requirements ({at}: [mcp_servers.docs.identity]): MCP server `docs` must be \
         the stdio server `sh`, not the stdio server `/bin/sh`"
    );
    let out = required(&env, text, &["tool", "list"]).success();
    assert!(
        out.stderr
            .contains(&format!("mcp: docs2 not started: {renamed}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("mcp: docs not started: {changed}")),
        "{}",
        out.stderr
    );
    // `--tools` starts the servers it may.
    let out = required(&env, text, &["mcp", "list", "--tools"]).success();
    assert!(
        out.stdout.contains("blocked by requirements"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&renamed) && out.stdout.contains(&changed),
        "{}",
        out.stdout
    );
    let out = required(&env, text, &["mcp", "get", "docs2", "--tools"]).success();
    assert!(
        out.stdout.contains(&format!("enabled: false ({renamed})")),
        "{}",
        out.stdout
    );
    let out = required(&env, text, &["mcp", "list", "--json"]).success();
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let blocked: Vec<(&str, &str)> = rows
        .iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap(),
                row["blocked"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        blocked,
        [("docs", changed.as_str()), ("docs2", renamed.as_str())]
    );
    assert!(rows.iter().all(|row| row["enabled"] == false));
    let out = required(&env, text, &["config", "show"]).success();
    assert!(
        out.stdout
            .contains(&format!("\n# {changed}\n# {renamed}\n")),
        "{}",
        out.stdout
    );
    let out = required(&env, text, &["config", "show", "--json"]).success();
    let shown: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        shown["requirements"]["blocked_mcp_servers"],
        json!({ "docs": changed, "docs2": renamed })
    );
    for name in ["docs", "docs2"] {
        assert!(!marker(name).exists(), "{name} was started");
    }

    // A required server that is blocked fails the session, naming why.
    env.write_config(&format!(
        "{}required = true\n",
        server("docs2", "sh", &marker("docs2"))
    ));
    let out = required(&env, text, &["tool", "list"]).fails_with(1);
    assert!(out.stderr.contains(&renamed), "{}", out.stderr);
    assert!(!marker("docs2").exists());
}

#[test]
fn mcp_add_refuses_a_server_the_allowlist_would_block() {
    let env = Env::new();
    let text = "[mcp_servers.docs.identity]\nurl = \"https://mcp.example.com/docs\"\n";
    let file = requirements(&env, text);
    let cases: [(&[&str], String); 3] = [
        (
            &[
                "mcp",
                "add",
                "docs2",
                "--url",
                "https://mcp.example.com/docs",
            ],
            format!(
                "error: blocked by requirements ({}: [mcp_servers]): `docs2` is not an allowed \
                 MCP server (allowed: docs); `docs2` was not added\n",
                display(&file)
            ),
        ),
        (
            &[
                "mcp",
                "add",
                "docs",
                "--url",
                "https://mcp.example.com/other",
            ],
            format!(
                "error: blocked by requirements ({}: [mcp_servers.docs.identity]): MCP server \
                 `docs` must be the HTTP server at `https://mcp.example.com/docs`, not the HTTP \
                 server at `https://mcp.example.com/other`; `docs` was not added\n",
                display(&file)
            ),
        ),
        (
            &["mcp", "add", "docs", "--", "docs-mcp"],
            format!(
                "error: blocked by requirements ({}: [mcp_servers.docs.identity]): MCP server \
                 `docs` must be the HTTP server at `https://mcp.example.com/docs`, not the stdio \
                 server `docs-mcp`; `docs` was not added\n",
                display(&file)
            ),
        ),
    ];
    for (args, error) in cases {
        let out = wharf(&env, User::Me, Some(&file), args).fails_with(1);
        assert_eq!(out.stderr, error, "{args:?}");
        assert!(!env.config_path().exists(), "{args:?}");
    }
    // The allowed identity, written another way, is added.
    let args = [
        "mcp",
        "add",
        "docs",
        "--url",
        "https://MCP.EXAMPLE.COM:443/docs/",
    ];
    wharf(&env, User::Me, Some(&file), &args).success();
    assert!(
        std::fs::read_to_string(env.config_path())
            .unwrap()
            .contains("[mcp_servers.docs]")
    );
}

/// Fail closed: a requirements file that is malformed, holds an unknown
/// key or a wrong value, or is missing stops every command that reads the
/// configuration, with the file, line and column.
#[test]
fn a_malformed_or_missing_requirements_file_stops_wharf() {
    let env = Env::new();
    let path = env.dir.path().join("requirements.toml");
    let at = display(&path);
    let cases = [
        (
            "allowed_sandbox_modes = [\n",
            format!("error: {at}:1:26: requirements: "),
        ),
        (
            "\n\nallow_native_plugin = false\n",
            format!("error: {at}:3:1: requirements: "),
        ),
        (
            "allowed_approval_policies = [\"sometimes\"]\n",
            format!("error: {at}:1:30: requirements: "),
        ),
        (
            "[features]\nunified_exec = \"off\"\n",
            format!("error: {at}:2:16: requirements: "),
        ),
    ];
    let commands: [&[&str]; 4] = [
        &["config", "show"],
        &["tool", "list"],
        &["features", "list"],
        &["exec", "--skip-git-repo-check", "hello"],
    ];
    for (text, start) in &cases {
        std::fs::write(&path, text).unwrap();
        for args in commands {
            let out = wharf(&env, User::Me, Some(&path), args).fails_with(1);
            assert!(
                out.stderr.starts_with(start),
                "{text:?} {args:?}: {}",
                out.stderr
            );
        }
    }
    std::fs::remove_file(&path).unwrap();
    for args in commands {
        let out = wharf(&env, User::Me, Some(&path), args).fails_with(1);
        assert!(
            out.stderr.starts_with(&format!("error: cannot read {at}")),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn config_show_prints_where_the_requirements_come_from_and_each_rule() {
    let env = Env::new();
    let text = "allowed_approval_policies = [\"on-request\"]\nallow_native_plugins = false\n\
                [features]\nhooks = false\n[mcp_servers.docs.identity]\ncommand = \"docs-mcp\"\n";
    let file = requirements(&env, text);
    let out = env.wharf(&["config", "show"]).success();
    assert!(
        out.stdout.contains("# requirements: none\n"),
        "{}",
        out.stdout
    );
    let out = required(&env, text, &["config", "show"]).success();
    let expected = format!(
        "# requirements: {}\n\
         #   allowed_approval_policies = [\"on-request\"]\n\
         #   allow_native_plugins = false\n\
         #   features.hooks = false\n\
         #   mcp_servers.docs.identity.command = \"docs-mcp\"\n",
        display(&file)
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    let out = required(&env, text, &["config", "show", "--json"]).success();
    let shown: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        shown["requirements"],
        json!({
            "origin": display(&file),
            "rules": {
                "allowed_approval_policies": ["on-request"],
                "allow_native_plugins": false,
                "features.hooks": false,
                "mcp_servers.docs.identity.command": "docs-mcp",
            },
            "blocked_mcp_servers": {},
        })
    );
    let out = env.wharf(&["config", "show", "--json"]).success();
    let shown: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(shown["requirements"], Value::Null);
}

/// `wharf mcp login` never contacts a server the allowlist blocks.
#[test]
fn mcp_login_refuses_a_blocked_server() {
    let env = Env::new();
    let text = "[mcp_servers.docs.identity]\nurl = \"https://mcp.example.com/docs\"\n";
    let file = requirements(&env, text);
    env.write_config("[mcp_servers.docs2]\nurl = \"http://127.0.0.1:9/mcp\"\n");
    let out = required(&env, text, &["mcp", "login", "docs2"]).fails_with(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: blocked by requirements ({}: [mcp_servers]): `docs2` is not an allowed MCP \
             server (allowed: docs); not logging in to `docs2`\n",
            display(&file)
        )
    );
}
