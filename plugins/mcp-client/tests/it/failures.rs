//! Servers that do not start, die, or are shut down.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use wharf_plugin_mcp_client::{
    CallError, CallHooks, MAX_RESTARTS, McpServer, ResultContent, StartError,
};

use crate::{group_alive, http_spec, kill, program_spec, server_env, start_stdio, temp_cwd};
use wharf_tests::mcp_servers::EverythingHttp;

fn echo(server: &McpServer) -> Result<(), CallError> {
    let result = server.call("echo", json!({"message": "ping"}), &CallHooks::none())?;
    assert_eq!(
        result.content,
        [ResultContent::Text("Echo: ping".to_owned())]
    );
    Ok(())
}

#[test]
fn a_missing_command_is_named() {
    let (_dir, cwd) = temp_cwd();
    let spec = program_spec("docs", "wharf-no-such-mcp-server", &[], server_env(), &cwd);
    let Err(err) = McpServer::start(spec) else {
        panic!("a missing command started");
    };
    assert!(matches!(err, StartError::CommandNotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("mcp server `docs`")
            && message.contains("`wharf-no-such-mcp-server` not found"),
        "{message}"
    );
}

#[test]
fn a_server_that_exits_at_once_shows_its_stderr() {
    let (_dir, cwd) = temp_cwd();
    let script = "echo 'docs-server: cannot read /etc/docs.toml' >&2; exit 3";
    let spec = program_spec("docs", "sh", &["-c", script], server_env(), &cwd);
    let started = Instant::now();
    let Err(err) = McpServer::start(spec) else {
        panic!("a server that exits started");
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let StartError::Exited { status, stderr, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(status, "exited with status 3");
    assert_eq!(stderr, "docs-server: cannot read /etc/docs.toml");
    assert!(
        err.to_string()
            .starts_with("mcp server `docs` exited with status 3 before it was ready"),
        "{err}"
    );
}

#[test]
fn a_silent_server_times_out_and_is_killed() {
    let (_dir, cwd) = temp_cwd();
    let mut spec = program_spec(
        "slow",
        "sh",
        &["-c", "echo starting >&2; exec sleep 60"],
        server_env(),
        &cwd,
    );
    spec.startup_timeout = Duration::from_millis(500);
    let started = Instant::now();
    let Err(err) = McpServer::start(spec) else {
        panic!("a silent server started");
    };
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            StartError::Timeout {
                phase: "initialize",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("mcp server `slow`: initialize timed out after 500 ms"),
        "{err}"
    );
}

#[test]
fn a_killed_server_fails_one_call_then_restarts() {
    let (_dir, server) = start_stdio("every");
    echo(&server).unwrap();
    for restart in 1..=MAX_RESTARTS {
        let pid = server.pid().unwrap();
        kill(pid);
        let Err(CallError::Disconnected(message)) = echo(&server) else {
            panic!("a call to a killed server did not fail with Disconnected");
        };
        assert!(
            message.contains("mcp server `every`")
                && message.contains("was killed by signal 9 (SIGKILL)"),
            "{message}"
        );
        assert!(message.ends_with("the next call restarts it"), "{message}");
        assert_eq!(server.pid(), None);
        echo(&server).unwrap_or_else(|err| panic!("restart {restart}: {err}"));
        let new_pid = server.pid().unwrap();
        assert_ne!(new_pid, pid);
        assert!(
            !group_alive(pid),
            "the killed server's group is still there"
        );
    }
    kill(server.pid().unwrap());
    assert!(matches!(echo(&server), Err(CallError::Disconnected(_))));
    assert_eq!(echo(&server), Err(CallError::RestartLimit(MAX_RESTARTS)));
    assert_eq!(echo(&server), Err(CallError::RestartLimit(MAX_RESTARTS)));
}

#[test]
fn shutdown_ends_the_process_group() {
    let (_dir, server) = start_stdio("every");
    let pid = server.pid().unwrap();
    assert!(group_alive(pid));
    server.shutdown();
    assert!(
        !group_alive(pid),
        "the server's process group outlived shutdown"
    );
    assert!(matches!(echo(&server), Err(CallError::Disconnected(_))));

    // Dropping does the same.
    let (_dir, server) = start_stdio("every");
    let pid = server.pid().unwrap();
    drop(server);
    assert!(
        !group_alive(pid),
        "the server's process group outlived drop"
    );
}

#[test]
fn a_dead_http_server_disconnects_and_the_restart_reports_why() {
    let mut fixture = EverythingHttp::start().unwrap();
    let server = McpServer::start(http_spec("web", &fixture.url)).unwrap();
    echo(&server).unwrap();
    fixture.stop();
    let Err(CallError::Disconnected(message)) = echo(&server) else {
        panic!("a call to a stopped HTTP server did not fail with Disconnected");
    };
    assert!(
        message.contains("mcp server `web`") && message.contains(&fixture.url),
        "{message}"
    );
    let Err(CallError::Restart(StartError::Http { message, .. })) = echo(&server) else {
        panic!("restarting against a stopped HTTP server did not fail");
    };
    assert!(message.contains("initialize failed"), "{message}");
    assert!(!message.contains("Transport ["), "{message}");
    // The cause, not only reqwest's "error sending request".
    assert!(message.contains("Connection refused"), "{message}");
}

#[test]
fn servers_start_in_parallel() {
    let (_dir, cwd) = temp_cwd();
    let mut specs: Vec<_> = (0..3)
        .map(|index| crate::stdio_spec(&format!("s{index}"), crate::unconfined(&cwd)))
        .collect();
    specs.push(program_spec(
        "broken",
        "wharf-no-such-mcp-server",
        &[],
        BTreeMap::new(),
        &cwd,
    ));
    let servers = McpServer::start_all(specs);
    assert_eq!(servers.len(), 4);
    for (index, server) in servers.iter().take(3).enumerate() {
        let server = server.as_ref().unwrap();
        assert_eq!(server.name(), format!("s{index}"));
        echo(server).unwrap();
    }
    assert!(matches!(
        servers[3],
        Err(StartError::CommandNotFound { .. })
    ));
}
