//! What a stdio server's environment really is: a shell that writes its
//! environment to a file and exits.

use std::collections::BTreeMap;

use wharf_plugin_mcp_client::{McpServer, StartError, stdio_env};

use crate::{program_spec, temp_cwd};

/// Writes the environment to `$WHARF_TEST_DUMP`, one `NAME=value` a line.
const DUMP_ENV: &str = "exec env > \"$WHARF_TEST_DUMP\"";

/// What a shell sets by itself (dash: `PWD`; bash also `SHLVL`, `_`).
const SHELL_SET: &[&str] = &["PWD", "SHLVL", "_"];

#[test]
fn the_server_gets_exactly_the_built_environment() {
    let (_dir, cwd) = temp_cwd();
    let dump = cwd.join("env.json");
    let real_path = std::env::var("PATH").unwrap();
    // wharf's environment as the config code sees it: allowlisted names,
    // names the user passes through, and secrets nobody asked for.
    let parent = |name: &str| {
        let value = match name {
            "PATH" => real_path.as_str(),
            "HOME" => "/home/tester",
            "LANG" => "C.UTF-8",
            "TZ" => "UTC",
            "DOCS_TOKEN" => "passed-through",
            "OPENAI_API_KEY" => "must-not-leak",
            "AWS_SECRET_ACCESS_KEY" => "must-not-leak",
            _ => return None,
        };
        Some(value.to_owned())
    };
    let env_vars = ["DOCS_TOKEN".to_owned(), "UNSET_VAR".to_owned()];
    let configured: BTreeMap<String, String> = [
        ("WHARF_TEST_DUMP", dump.display().to_string()),
        ("TZ", "Europe/Paris".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    let env = stdio_env(&parent, &env_vars, &configured);
    assert_eq!(env.get("TZ").map(String::as_str), Some("Europe/Paris"));

    let spec = program_spec("envdump", "sh", &["-c", DUMP_ENV], env.clone(), &cwd);
    // It is not an MCP server: it exits once the file is written.
    let Err(err) = McpServer::start(spec) else {
        panic!("the env dumper started as a server");
    };
    assert!(matches!(err, StartError::Exited { .. }), "{err:?}");

    let mut seen: BTreeMap<String, String> = std::fs::read_to_string(&dump)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    seen.retain(|name, _| !SHELL_SET.contains(&name.as_str()));
    assert_eq!(seen, env);
    assert!(!seen.contains_key("OPENAI_API_KEY"));
    assert!(!seen.contains_key("UNSET_VAR"));
    assert_eq!(
        seen.get("DOCS_TOKEN").map(String::as_str),
        Some("passed-through")
    );
}
