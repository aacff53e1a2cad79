//! A stdio server confined by the sandbox still serves.

use serde_json::json;
use wharf_plugin_mcp_client::{CallHooks, McpServer, ResultContent};
use wharf_sandbox::{NETWORK_DISABLED_ENV, PathEnv, Sandbox, SandboxPolicy};

use crate::{stdio_spec, temp_cwd};

#[test]
fn a_read_only_server_without_network_serves_echo() {
    let (_dir, cwd) = temp_cwd();
    let env = PathEnv {
        cwd: cwd.clone(),
        tmpdir: None,
        protected: Vec::new(),
    };
    let policy = SandboxPolicy::new_read_only();
    assert!(!policy.has_network_access());
    let server = McpServer::start(stdio_spec("confined", Sandbox::new(&policy, &env))).unwrap();
    let result = server
        .call("echo", json!({"message": "inside"}), &CallHooks::none())
        .unwrap();
    assert_eq!(
        result.content,
        [ResultContent::Text("Echo: inside".to_owned())]
    );

    // The process really runs under the policy: the sandbox marks it.
    let env = server
        .call("get-env", json!({}), &CallHooks::none())
        .unwrap();
    let [ResultContent::Text(text)] = env.content.as_slice() else {
        panic!("{env:?}");
    };
    let vars: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(vars[NETWORK_DISABLED_ENV], "1", "{vars}");
}
