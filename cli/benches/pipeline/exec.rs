//! `exec_command` through the pipeline against a bare spawn.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::registry::Plugins;

use crate::{percentile, report};

/// `exec_command` of `true` through the whole pipeline (the builtin
/// plugin over the C ABI, the sandbox under workspace-write with a `.git` to
/// protect) against a bare spawn of the same command line, interleaved;
/// and `echo hi` until its output is in hand.
pub fn exec_calls(plugins: &Arc<Plugins>, session: &Arc<Session>, work: &Path) {
    std::fs::create_dir_all(work.join(".git")).unwrap();
    let exec = |cmd: &str| ToolCall {
        call_id: "e".into(),
        tool: "exec_command".to_owned(),
        args: serde_json::json!({ "cmd": cmd, "login": false }).to_string(),
    };
    let (exec_true, exec_echo) = (exec("true"), exec("echo hi"));
    let mut bare = Vec::new();
    let mut through = Vec::new();
    let mut echo = Vec::new();
    for round in 0..220 {
        let started = Instant::now();
        let status = Command::new("/bin/bash")
            .args(["-c", "true"])
            .current_dir(work)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .status()
            .unwrap();
        let plain = started.elapsed();
        assert!(status.success());

        let started = Instant::now();
        let outcome = pipeline::call(plugins, session, &exec_true);
        let confined = started.elapsed();
        let text = outcome.result.unwrap().text();
        assert!(text.contains("Process exited with code 0"), "{text}");

        let started = Instant::now();
        let outcome = pipeline::call(plugins, session, &exec_echo);
        let echoed = started.elapsed();
        assert!(outcome.result.unwrap().text().ends_with("Output:\nhi\n"));
        if round >= 20 {
            bare.push(plain);
            through.push(confined);
            echo.push(echoed);
        }
    }
    bare.sort();
    through.sort();
    let (bare, through) = (percentile(&bare, 0.5), percentile(&through, 0.5));
    println!(
        "exec_command `true` through the pipeline under workspace-write: p50 {:.0} µs, a bare spawn of \
         `bash -c true` p50 {:.0} µs: overhead {:.0} µs",
        through.as_secs_f64() * 1e6,
        bare.as_secs_f64() * 1e6,
        (through.as_secs_f64() - bare.as_secs_f64()) * 1e6
    );
    report(
        "exec_command `echo hi` through the pipeline, output in hand",
        echo,
    );
}
