//! Nothing a command starts outlives it: daemons (`setsid`, a double fork)
//! end with the command, and everything ends when wharf is killed.

#![allow(clippy::disallowed_methods)]

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use super::World;
use crate::spawn::test_procs::{RUNNING, assert_gone, sleeping, unique_sleep};
use crate::{Command, PtySize, RunLimits, Stdio};

/// A script that starts `sleep DAEMON` in a new session and `sleep
/// ORPHAN` through a double fork, and exits once both run.
fn leave_behind(daemon: &str, orphan: &str) -> String {
    format!(
        "{RUNNING}setsid sleep {daemon} </dev/null >/dev/null 2>&1 &
running $! {daemon}
( sleep {orphan} </dev/null >/dev/null 2>&1 & echo $! > orphan.pid )
running $(cat orphan.pid) {orphan}
echo both-run"
    )
}

#[test]
fn what_a_command_starts_ends_with_it() {
    let world = World::new();
    let sandbox = world.sandbox(&world.workspace_write());
    let limits = RunLimits {
        timeout: Duration::from_secs(20),
        max_output_bytes: 4096,
    };

    // Pipes, through `Sandbox::run`.
    let (daemon, orphan) = (unique_sleep(), unique_sleep());
    let command = Command::new(["/bin/sh", "-c", &leave_behind(&daemon, &orphan)]);
    let output = sandbox.run(command, None, limits).unwrap();
    assert_eq!(output.exit_code, Some(0), "{output:?}");
    assert_gone(&daemon, "a setsid daemon");
    assert_gone(&orphan, "a double-forked process");

    // A terminal, waited for by hand.
    let (daemon, orphan) = (unique_sleep(), unique_sleep());
    let command = Command::new(["/bin/sh", "-c", &leave_behind(&daemon, &orphan)]);
    let mut pty = sandbox.spawn_pty(command, PtySize::default()).unwrap();
    let status = pty.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_gone(&daemon, "a setsid daemon on a terminal");
    assert_gone(&orphan, "a double-forked process on a terminal");
}

/// The environment variable that makes
/// [`helper_holding_sandboxed_processes`] do its work.
const HELPER: &str = "WHARF_SANDBOX_TEST_HELPER";

/// What the helper prints once its commands run.
const READY: &str = "helper-ready";

#[test]
fn nothing_outlives_a_killed_wharf() {
    let world = World::new();
    let (daemon, plain) = (unique_sleep(), unique_sleep());
    // Another process plays wharf: it starts the commands and is killed.
    let mut wharf = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "spawn::escapes::lifetime::helper_holding_sandboxed_processes",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER, format!("{daemon} {plain} {}", world.root.display()))
        .current_dir(&world.work)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(wharf.stdout.take().unwrap()).lines();
    // (The test harness prints the test's name on the same line.)
    let ready = lines.find(|line| line.as_ref().is_ok_and(|line| line.ends_with(READY)));
    assert!(ready.is_some(), "the helper did not start its commands");
    assert!(!sleeping(&daemon).is_empty() && !sleeping(&plain).is_empty());

    wharf.kill().unwrap();
    wharf.wait().unwrap();
    assert_gone(&daemon, "a setsid daemon of a killed wharf");
    assert_gone(&plain, "a command of a killed wharf");
}

/// Not a test of its own: the process [`nothing_outlives_a_killed_wharf`]
/// starts and kills. Without [`HELPER`] set it does nothing.
#[test]
fn helper_holding_sandboxed_processes() {
    let Ok(setting) = std::env::var(HELPER) else {
        return;
    };
    let mut parts = setting.splitn(3, ' ');
    let (daemon, plain, root) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        PathBuf::from(parts.next().unwrap()),
    );
    let world = World::at(root);
    let sandbox = world.sandbox(&world.workspace_write());
    // It says when both sleeps run.
    let script = format!(
        "{RUNNING}setsid sleep {daemon} </dev/null >/dev/null 2>&1 &
running $! {daemon}
sleep {plain} </dev/null >/dev/null 2>&1 &
running $! {plain}
echo ready
wait"
    );
    let mut command = Command::new(["/bin/sh", "-c", &script]);
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = sandbox.spawn(command).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n", "the commands did not start");
    println!("{READY}");
    loop {
        std::thread::park();
    }
}
