//! A hook plugin: refuses tool calls whose arguments name a file that
//! usually holds a secret (see README.md). No tools; one hook,
//! `before-tool-call`, for the tools `plugin.toml` lists.

use wharf_plugin_api::{BeforeToolCall, Hooks, ToolCall};

/// File names that hold secrets, matched against the last component of
/// every word of the arguments: exact names, and `*.ext` suffixes.
const SECRET_NAMES: &[&str] = &[".env", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];
const SECRET_SUFFIXES: &[&str] = &[".pem", ".key", ".p12", ".pfx"];

pub struct SecretGuard;

impl Hooks for SecretGuard {
    fn before_tool_call(call: &ToolCall) -> BeforeToolCall {
        match secret_in(&call.args) {
            Some(word) => BeforeToolCall::Deny(format!(
                "secret-guard: `{}` names `{word}`, which looks like a secret (.env, SSH \
                 keys, *.pem, *.key); leave it out of tool calls, or remove the \
                 secret-guard plugin to allow it",
                call.tool
            )),
            None => BeforeToolCall::Allow,
        }
    }
}

wharf_plugin_api::plugin!(hooks = SecretGuard);

/// The first word of any string in `args` that names a secret file.
pub fn secret_in(args: &serde_json::Value) -> Option<String> {
    match args {
        serde_json::Value::String(text) => text
            .split(|c: char| c.is_whitespace() || "'\"`;|&<>()=,".contains(c))
            .find(|word| is_secret(word))
            .map(str::to_owned),
        serde_json::Value::Array(items) => items.iter().find_map(secret_in),
        serde_json::Value::Object(fields) => fields.values().find_map(secret_in),
        _ => None,
    }
}

fn is_secret(word: &str) -> bool {
    let name = word.rsplit('/').next().unwrap_or(word);
    SECRET_NAMES.contains(&name)
        || name.starts_with(".env.")
        || SECRET_SUFFIXES
            .iter()
            .any(|suffix| name.len() > suffix.len() && name.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_are_found_in_any_string_of_the_arguments() {
        let cases = [
            (
                serde_json::json!({"command": ["cat", ".env"]}),
                Some(".env"),
            ),
            (
                serde_json::json!({"cmd": "cat ./config/.env.local | head"}),
                Some("./config/.env.local"),
            ),
            (
                serde_json::json!({"cmd": "ssh -i ~/.ssh/id_rsa host"}),
                Some("~/.ssh/id_rsa"),
            ),
            (
                serde_json::json!({"input": "*** Update File: certs/server.pem\n"}),
                Some("certs/server.pem"),
            ),
            (serde_json::json!({"cmd": "ls src"}), None),
            (
                serde_json::json!({"cmd": "cat environment.md .envrc"}),
                None,
            ),
            (serde_json::json!({"cmd": "echo .pem"}), None),
        ];
        for (args, expected) in cases {
            assert_eq!(secret_in(&args).as_deref(), expected, "{args}");
        }
    }
}
