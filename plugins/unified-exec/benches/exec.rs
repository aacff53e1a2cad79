//! unified_exec's costs (run with `cargo xtask bench`), each measured side
//! by side with what it is compared to, in one run:
//!
//! - `exec_command` of `true` under workspace-write against a bare spawn of
//!   the same command line (`bash -c true`, no sandbox): the overhead;
//! - `exec_command` of `echo hi`: until its output is in hand;
//! - 64 concurrent sessions: the growth of this process's RSS.

#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use wharf_plugin_unified_exec::{ExecArgs, UnifiedExec};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

const ROUNDS: usize = 200;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().canonicalize().unwrap();
    // A repository, so that the .git mount is part of every spawn.
    std::fs::create_dir_all(work.join(".git")).unwrap();
    let env = PathEnv {
        cwd: work.clone(),
        tmpdir: None,
        protected: Vec::new(),
    };
    let sandbox = Sandbox::new(&SandboxPolicy::new_workspace_write(), &env);
    let exec = UnifiedExec::new();
    let args = |cmd: &str| ExecArgs {
        cmd: cmd.to_owned(),
        login: Some(false),
        ..ExecArgs::default()
    };

    let mut bare = Vec::new();
    let mut through = Vec::new();
    let mut echo = Vec::new();
    for round in 0..ROUNDS + 20 {
        let started = Instant::now();
        let status = std::process::Command::new("/bin/bash")
            .args(["-c", "true"])
            .current_dir(&work)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .status()
            .unwrap();
        let plain = started.elapsed();
        assert!(status.success());

        let started = Instant::now();
        let response = exec
            .exec_command(&sandbox, "bench", args("true"), &|| false)
            .unwrap();
        let exec_true = started.elapsed();
        assert_eq!(response.exit_code(), Some(0));

        let started = Instant::now();
        let response = exec
            .exec_command(&sandbox, "bench", args("echo hi"), &|| false)
            .unwrap();
        let exec_echo = started.elapsed();
        assert_eq!(response.output, "hi\n");
        if round >= 20 {
            bare.push(plain);
            through.push(exec_true);
            echo.push(exec_echo);
        }
    }
    let (bare, through) = (p50(&mut bare), p50(&mut through));
    println!(
        "exec_command `true` under workspace-write: p50 {:.0} µs vs a bare spawn of `bash -c true` {:.0} µs: overhead {:.0} µs",
        micros(through),
        micros(bare),
        micros(through) - micros(bare)
    );
    println!(
        "exec_command `echo hi`, output in hand: p50 {:.0} µs",
        micros(p50(&mut echo))
    );

    let before = rss_kib();
    let sessions: Vec<i64> = (0..64)
        .map(|_| {
            let response = exec
                .exec_command(
                    &sandbox,
                    "sessions",
                    ExecArgs {
                        tty: Some(true),
                        yield_time_ms: Some(250),
                        ..args("echo ready; sleep 60")
                    },
                    &|| false,
                )
                .unwrap();
            i64::from(response.session_id().expect("still running").0)
        })
        .collect();
    let after = rss_kib();
    assert_eq!(sessions.len(), 64);
    println!(
        "64 concurrent PTY sessions: RSS {} KiB → {} KiB, growth {:.1} MiB",
        before,
        after,
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    exec.end_session("sessions");
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn p50(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
