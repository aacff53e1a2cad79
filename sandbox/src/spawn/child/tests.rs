//! The lifecycle of a [`Child`] against the real kernel, under a policy
//! with an init (workspace-write) and one without (danger-full-access):
//! waiting with a deadline, killing the group from another thread, and
//! ending what a command left in its group before the reap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::spawn::test_procs::{RUNNING, assert_gone, unique_sleep};
use crate::spawn::{Command, RunLimits, Sandbox, Stdio};
use crate::{PathEnv, ReadOnlyAccess, SandboxPolicy};

struct Fixture {
    _dir: tempfile::TempDir,
    work: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().canonicalize().unwrap().join("work");
        std::fs::create_dir_all(&work).unwrap();
        Fixture { _dir: dir, work }
    }

    /// A sandbox per kind of lifecycle: with an init, and without.
    fn sandboxes(&self) -> [(&'static str, Sandbox); 2] {
        let env = PathEnv {
            cwd: self.work.clone(),
            tmpdir: None,
            protected: Vec::new(),
        };
        let confined = SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: false,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        };
        [
            ("workspace-write", Sandbox::new(&confined, &env)),
            (
                "danger-full-access",
                Sandbox::new(&SandboxPolicy::DangerFullAccess, &env),
            ),
        ]
    }
}

/// `sleep DURATION` started in the background of a script that then runs
/// `then`, with everything on /dev/null.
fn leaving(duration: &str, then: &str) -> Command {
    let script = format!("sleep {duration} </dev/null >/dev/null 2>&1 & {then}");
    let mut command = Command::new(["/bin/sh", "-c", &script]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[test]
fn wait_deadline_is_none_at_the_deadline_then_the_status() {
    let fixture = Fixture::new();
    for (name, sandbox) in fixture.sandboxes() {
        let mut command = Command::new(["/bin/sh", "-c", "read line; exit 7"]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = sandbox.spawn(command).unwrap();
        let started = Instant::now();
        let waited = child
            .wait_deadline(Some(started + Duration::from_millis(200)))
            .unwrap();
        assert_eq!(waited, None, "{name}: exited before its input");
        assert!(started.elapsed() >= Duration::from_millis(200), "{name}");

        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let status = child.wait_deadline(None).unwrap().unwrap();
        assert_eq!(status.code(), Some(7), "{name}: {status:?}");
        // Reaped once; the status stays.
        let again = child.wait_deadline(Some(Instant::now())).unwrap();
        assert_eq!(again, Some(status), "{name}");
        assert_eq!(child.wait().unwrap(), status, "{name}");
        // Its pid may be someone else's now: no signal goes out.
        child.kill_group().unwrap();
    }
}

#[test]
fn waiting_ends_what_the_command_left_in_its_group() {
    let fixture = Fixture::new();
    for (name, sandbox) in fixture.sandboxes() {
        let left = unique_sleep();
        let child = sandbox
            .spawn(leaving(
                &left,
                &format!("while ! grep -q {left} /proc/$!/cmdline; do :; done; exit 3"),
            ))
            .unwrap();
        let status = child.wait_deadline(None).unwrap().unwrap();
        assert_eq!(status.code(), Some(3), "{name}: {status:?}");
        assert_gone(
            &left,
            &format!("{name}: a background process outlived the wait"),
        );
    }
}

#[test]
fn another_thread_can_kill_the_group_of_a_waited_child() {
    let fixture = Fixture::new();
    for (name, sandbox) in fixture.sandboxes() {
        let (left, own) = (unique_sleep(), unique_sleep());
        // It says when the background sleep runs, then becomes a sleep.
        let script = format!(
            "{RUNNING}sleep {left} </dev/null >/dev/null 2>&1 &
running $! {left}
echo ready
exec sleep {own} >/dev/null"
        );
        let mut command = Command::new(["/bin/sh", "-c", &script]);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = sandbox.spawn(command).unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n", "{name}");
        let process = child.process();
        let waiter = std::thread::spawn(move || process.wait_deadline(None));
        child.kill_group().unwrap();
        let status = waiter.join().unwrap().unwrap().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{name}: {status:?}");
        assert_gone(&left, &format!("{name}: the group outlived the kill"));
        assert_gone(&own, &format!("{name}: the command outlived the kill"));
    }
}

#[test]
fn run_leaves_nothing_behind_on_exit_or_timeout() {
    let fixture = Fixture::new();
    for (name, sandbox) in fixture.sandboxes() {
        let limits = RunLimits {
            timeout: Duration::from_secs(20),
            max_output_bytes: 4096,
        };
        let left = unique_sleep();
        let script = format!(
            "sleep {left} </dev/null >/dev/null 2>&1 &
while ! grep -q {left} /proc/$!/cmdline; do :; done; echo done"
        );
        let output = sandbox
            .run(Command::new(["/bin/sh", "-c", &script]), None, limits)
            .unwrap();
        assert_eq!(output.exit_code, Some(0), "{name}: {output:?}");
        assert!(!output.timed_out, "{name}");
        assert_gone(&left, &format!("{name}: a background process outlived run"));

        let (left, own) = (unique_sleep(), unique_sleep());
        let script = format!("sleep {left} </dev/null >/dev/null 2>&1 & exec sleep {own}");
        let limits = RunLimits {
            timeout: Duration::from_millis(300),
            ..limits
        };
        let output = sandbox
            .run(Command::new(["/bin/sh", "-c", &script]), None, limits)
            .unwrap();
        assert!(output.timed_out, "{name}: {output:?}");
        assert_eq!(output.signal, Some(libc::SIGKILL), "{name}: {output:?}");
        assert_gone(&left, &format!("{name}: the group outlived the timeout"));
        assert_gone(&own, &format!("{name}: the command outlived the timeout"));
    }
}
