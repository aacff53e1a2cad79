//! Escapes tried against the real kernel. Each test builds a workspace in
//! a temporary directory, with `outside/` beside it that no policy here
//! makes writable (`/tmp` and `$TMPDIR` are excluded from the writable
//! roots so that the temporary directory itself does not count).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Command, KernelSupport, Namespaces, PtySize, Sandbox, SpawnError};
use crate::{PathEnv, ReadOnlyAccess, SandboxPolicy, Stdio};

struct Fixture {
    _dir: tempfile::TempDir,
    work: PathBuf,
    outside: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let work = root.join("work");
        let outside = root.join("outside");
        std::fs::create_dir_all(work.join(".git/hooks")).unwrap();
        std::fs::write(work.join(".git/config"), "[core]\n").unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "secret\n").unwrap();
        Fixture {
            _dir: dir,
            work,
            outside,
        }
    }

    fn sandbox(&self, policy: SandboxPolicy) -> Sandbox {
        let env = PathEnv {
            cwd: self.work.clone(),
            tmpdir: None,
            protected: Vec::new(),
        };
        Sandbox::new(&policy, &env)
    }
}

fn workspace_write(network_access: bool, read_only_access: ReadOnlyAccess) -> SandboxPolicy {
    SandboxPolicy::WorkspaceWrite {
        writable_roots: Vec::new(),
        read_only_access,
        network_access,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: true,
    }
}

pub(super) struct Ran {
    pub(super) code: Option<i32>,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

/// Runs `argv` with no stdin and captured output.
pub(super) fn run(sandbox: &Sandbox, argv: &[&str]) -> Ran {
    let mut command = Command::new(argv);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = sandbox.spawn(command).unwrap().wait_with_output().unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(super) fn sh(sandbox: &Sandbox, script: &str) -> Ran {
    run(sandbox, &["/bin/sh", "-c", script])
}

fn python(sandbox: &Sandbox, code: &str) -> Ran {
    run(sandbox, &["python3", "-c", code])
}

#[track_caller]
pub(super) fn assert_ok(ran: &Ran, what: &str) {
    assert_eq!(ran.code, Some(0), "{what}: {}{}", ran.stdout, ran.stderr);
}

fn assert_denied(ran: &Ran, what: &str) {
    assert_ne!(
        ran.code,
        Some(0),
        "{what} should have failed: {}",
        ran.stdout
    );
    let stderr = ran.stderr.to_lowercase();
    assert!(
        stderr.contains("permission denied")
            || stderr.contains("read-only file system")
            || stderr.contains("operation not permitted"),
        "{what}: {}",
        ran.stderr
    );
}

#[test]
fn writes_stay_inside_the_writable_roots() {
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    let outside = fx.outside.display();

    assert_ok(
        &sh(
            &sandbox,
            "echo hi > inside.txt && mkdir -p a/b && echo x > a/b/c",
        ),
        "write inside",
    );
    assert_eq!(
        std::fs::read_to_string(fx.work.join("inside.txt")).unwrap(),
        "hi\n"
    );
    assert_ok(&sh(&sandbox, "echo x > /dev/null"), "write /dev/null");

    assert_denied(
        &sh(&sandbox, &format!("echo x > {outside}/new.txt")),
        "write outside",
    );
    assert_denied(
        &sh(&sandbox, &format!("echo x >> {outside}/secret.txt")),
        "append outside",
    );
    assert_denied(
        &sh(&sandbox, &format!("rm {outside}/secret.txt")),
        "delete outside",
    );
    assert_denied(
        &sh(&sandbox, &format!("truncate -s 0 {outside}/secret.txt")),
        "truncate outside",
    );
    assert_denied(
        &sh(&sandbox, "echo x > ../outside/dotdot.txt"),
        "write through ..",
    );
    std::os::unix::fs::symlink(&fx.outside, fx.work.join("link")).unwrap();
    assert_denied(
        &sh(&sandbox, "echo x > link/through-symlink.txt"),
        "write through a symlink",
    );
    // A grandchild is confined like its parent.
    assert_denied(
        &sh(
            &sandbox,
            &format!("sh -c 'sh -c \"echo x > {outside}/grandchild.txt\"'"),
        ),
        "write from a grandchild",
    );
    assert_eq!(
        std::fs::read_dir(&fx.outside).unwrap().count(),
        1,
        "only secret.txt is outside"
    );
    assert_eq!(
        std::fs::read_to_string(fx.outside.join("secret.txt")).unwrap(),
        "secret\n"
    );
}

#[test]
fn git_stays_read_only_inside_a_writable_root() {
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    assert_denied(
        &sh(&sandbox, "echo evil >> .git/config"),
        "append to .git/config",
    );
    assert_denied(
        &sh(&sandbox, "echo '#!/bin/sh' > .git/hooks/pre-commit"),
        "add a hook",
    );
    assert_denied(
        &sh(&sandbox, "ln -s /tmp/x .git/hooks/post-checkout"),
        "symlink a hook",
    );
    assert_denied(&sh(&sandbox, "rm .git/config"), "delete .git/config");
    let moved = sh(&sandbox, "mv .git elsewhere");
    assert_ne!(moved.code, Some(0), "moving .git away");
    assert_ok(
        &sh(&sandbox, "echo ok > top-level.txt && rm top-level.txt"),
        "top level",
    );
    assert_eq!(
        std::fs::read_to_string(fx.work.join(".git/config")).unwrap(),
        "[core]\n"
    );
    assert!(!fx.work.join(".git/hooks/pre-commit").exists());
}

#[test]
fn read_only_mode_writes_nothing() {
    let fx = Fixture::new();
    let sandbox = fx.sandbox(SandboxPolicy::new_read_only());
    assert_denied(
        &sh(&sandbox, "echo x > inside.txt"),
        "write in read-only mode",
    );
    assert_ok(
        &sh(&sandbox, "cat .git/config > /dev/null"),
        "read in read-only mode",
    );
}

#[test]
fn restricted_reads_are_enforced() {
    let fx = Fixture::new();
    let restricted = ReadOnlyAccess::Restricted {
        include_platform_defaults: true,
        readable_roots: Vec::new(),
    };
    let sandbox = fx.sandbox(workspace_write(false, restricted));
    let outside = fx.outside.display();
    assert_ok(&sh(&sandbox, "cat .git/config"), "read the workspace");
    assert_denied(
        &sh(&sandbox, &format!("cat {outside}/secret.txt")),
        "read outside",
    );
    assert_denied(&sh(&sandbox, "ls /root"), "list /root");

    let granted = ReadOnlyAccess::Restricted {
        include_platform_defaults: true,
        readable_roots: vec![fx.outside.clone()],
    };
    let sandbox = fx.sandbox(workspace_write(false, granted));
    let ran = sh(&sandbox, &format!("cat {outside}/secret.txt"));
    assert_ok(&ran, "read a granted root");
    assert_eq!(ran.stdout, "secret\n");
}

const CONNECT_TCP: &str = "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(('127.0.0.1', PORT))
print('connected')
";

const SEND_UDP: &str = "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'ping', ('127.0.0.1', PORT))
print('sent')
";

#[test]
fn network_is_off_unless_allowed() {
    let fx = Fixture::new();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let connect = CONNECT_TCP.replace("PORT", &tcp.local_addr().unwrap().port().to_string());
    let send = SEND_UDP.replace("PORT", &udp.local_addr().unwrap().port().to_string());

    let off = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    assert_denied(&python(&off, &connect), "TCP connect with network off");
    assert_denied(&python(&off, &send), "UDP send with network off");
    let ran = sh(&off, "echo $WHARF_SANDBOX_NETWORK_DISABLED");
    assert_eq!(ran.stdout, "1\n");
    // Unix sockets keep working.
    assert_ok(
        &python(
            &off,
            "import socket; a, b = socket.socketpair(); a.send(b'x'); print(b.recv(1))",
        ),
        "a Unix socket pair",
    );

    let on = fx.sandbox(workspace_write(true, ReadOnlyAccess::FullAccess));
    let ran = python(&on, &connect);
    assert_ok(&ran, "TCP connect with network on");
    assert_eq!(ran.stdout, "connected\n");
    assert_ok(&python(&on, &send), "UDP send with network on");
    let mut buf = [0u8; 4];
    let (len, _) = udp.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"ping");
    assert_eq!(
        sh(&on, "echo ${WHARF_SANDBOX_NETWORK_DISABLED:-unset}").stdout,
        "unset\n"
    );
}

#[test]
fn ptrace_is_denied() {
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(true, ReadOnlyAccess::FullAccess));
    // PTRACE_ATTACH (16) to the test process, which started the command.
    let attach = "
import ctypes, ctypes.util, os, sys
libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
r = libc.ptrace(16, os.getppid(), 0, 0)
e = ctypes.get_errno()
print(r, os.strerror(e))
sys.exit(0 if r == 0 else 1)
";
    let ran = python(&sandbox, attach);
    assert_eq!(ran.code, Some(1), "{}{}", ran.stdout, ran.stderr);
    assert_eq!(ran.stdout, "-1 Operation not permitted\n");
}

#[test]
fn a_kernel_without_enough_landlock_fails_closed() {
    let fx = Fixture::new();
    let no_landlock = KernelSupport {
        landlock_abi: 0,
        seccomp: true,
        namespaces: Namespaces::Available,
    };
    let old_landlock = KernelSupport {
        landlock_abi: 2,
        seccomp: true,
        namespaces: Namespaces::Available,
    };
    let no_seccomp = KernelSupport {
        landlock_abi: 7,
        seccomp: false,
        namespaces: Namespaces::Available,
    };
    let policy = workspace_write(false, ReadOnlyAccess::FullAccess);
    let cases = [
        (no_landlock, "this kernel has no Landlock"),
        (old_landlock, "Landlock ABI is 2"),
        (no_seccomp, "this kernel has no seccomp"),
    ];
    for (kernel, expected) in cases {
        let sandbox = fx.sandbox(policy.clone()).with_kernel(kernel);
        let err = sandbox
            .spawn(Command::new(["/bin/sh", "-c", "echo ran > ran.txt"]))
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, SpawnError::Unenforceable { .. }), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(
            message.contains("workspace-write sandbox cannot be enforced"),
            "{message}"
        );
    }
    assert!(!fx.work.join("ran.txt").exists());

    // danger-full-access needs nothing from the kernel.
    let sandbox = fx
        .sandbox(SandboxPolicy::DangerFullAccess)
        .with_kernel(no_landlock);
    assert_ok(&sh(&sandbox, "echo ran > ran.txt"), "danger-full-access");
}

#[test]
fn bad_commands_are_errors() {
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    let empty: [&str; 0] = [];
    assert_eq!(
        sandbox.spawn(Command::new(empty)).unwrap_err().to_string(),
        "the command is empty: there is no program to run"
    );
    assert_eq!(
        sandbox
            .spawn(Command::new(["no-such-program-wharf"]))
            .unwrap_err()
            .to_string(),
        "no-such-program-wharf: command not found"
    );
    let mut command = Command::new(["true"]);
    command.cwd(fx.work.join("missing"));
    let message = sandbox.spawn(command).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "cannot run in {}: no such directory",
            fx.work.join("missing").display()
        )
    );
    let mut command = Command::new(["true"]);
    command.cwd(fx.work.join(".git/config"));
    assert!(
        sandbox
            .spawn(command)
            .unwrap_err()
            .to_string()
            .ends_with("not a directory")
    );
}

#[test]
fn a_pty_is_the_controlling_terminal() {
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    let command = Command::new(["/bin/sh", "-c", "tty; stty size; echo done > pty.txt"]);
    let mut pty = sandbox
        .spawn_pty(
            command,
            PtySize {
                rows: 30,
                cols: 100,
            },
        )
        .unwrap();
    let output = read_until_exit(&mut pty.master, &mut pty.child);
    assert!(output.contains("/dev/pts/"), "{output}");
    assert!(output.contains("30 100"), "{output}");
    assert_eq!(
        std::fs::read_to_string(fx.work.join("pty.txt")).unwrap(),
        "done\n"
    );
}

/// The command is not its namespace's PID 1 (which ignores signals it has
/// no handler for): a Ctrl-C typed on its terminal interrupts `sleep`, a
/// `kill` sent to the process wharf holds reaches it, and its status is
/// the command's.
#[test]
fn signals_reach_the_command() {
    use std::io::Write as _;
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    // It says it is ready once SIGINT has its default action again (a
    // shell would exec before the command is there to take the key).
    let wait = "import signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
print('ready', flush=True)
signal.pause()";
    let mut pty = sandbox
        .spawn_pty(
            Command::new(["/usr/bin/python3", "-c", wait]),
            PtySize::default(),
        )
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("ready") {
        let n = pty.master.read(&mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    pty.master.write_all(b"\x03").unwrap();
    let status = pty.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");

    let mut command = Command::new(["/bin/sh", "-c", "exec sleep 60"]);
    command.stdin(Stdio::null());
    let mut child = sandbox.spawn(command).unwrap();
    // SAFETY: kill with integers; the pid is our unreaped child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

/// Reads a terminal's output until the process exits and the terminal
/// reports EOF (EIO once the last writer is gone).
fn read_until_exit(master: &mut std::fs::File, child: &mut crate::Child) -> String {
    let started = Instant::now();
    let mut output = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => output.extend_from_slice(&buf[..n]),
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no EOF");
    }
    child.wait().unwrap();
    String::from_utf8_lossy(&output).into_owned()
}

#[test]
fn a_sandbox_round_trips_through_json() {
    let env = PathEnv {
        cwd: "/absent/work".into(),
        tmpdir: Some("/tmp/x".into()),
        protected: vec!["/home/u/.wharf".into(), "/absent/work/.wharf".into()],
    };
    let policy = SandboxPolicy::WorkspaceWrite {
        writable_roots: vec!["/absent/data".into()],
        read_only_access: ReadOnlyAccess::Restricted {
            include_platform_defaults: true,
            readable_roots: vec!["/opt".into()],
        },
        network_access: true,
        exclude_tmpdir_env_var: false,
        exclude_slash_tmp: true,
    };
    let json = serde_json::to_value(Sandbox::new(&policy, &env)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "policy": {
                "mode": "workspace-write",
                "writable_roots": ["/absent/data"],
                "read_only_access": {
                    "type": "restricted",
                    "include_platform_defaults": true,
                    "readable_roots": ["/opt"]
                },
                "network_access": true,
                "exclude_tmpdir_env_var": false,
                "exclude_slash_tmp": true
            },
            "env": {
                "cwd": "/absent/work",
                "tmpdir": "/tmp/x",
                "protected": ["/home/u/.wharf", "/absent/work/.wharf"]
            },
            // The session's scan for nested repositories, run once and
            // carried along (here: nothing exists to find).
            "nested_git": {
                "roots": [
                    { "root": "/absent/work", "found": [] },
                    { "root": "/absent/data", "found": [] }
                ]
            }
        })
    );
    let back: Sandbox = serde_json::from_value(json).unwrap();
    assert_eq!(back.policy(), &policy);
    assert_eq!(back.cwd(), std::path::Path::new("/absent/work"));
    let danger: Sandbox =
        serde_json::from_value(serde_json::json!({"policy": {"mode": "danger-full-access"}, "env": {"cwd": "/", "tmpdir": null}}))
            .unwrap();
    assert_eq!(danger.policy(), &SandboxPolicy::DangerFullAccess);
}

#[test]
fn run_captures_output_and_times_out() {
    use super::RunLimits;
    let fx = Fixture::new();
    let sandbox = fx.sandbox(workspace_write(false, ReadOnlyAccess::FullAccess));
    let limits = RunLimits {
        timeout: Duration::from_secs(10),
        max_output_bytes: 1000,
    };
    let ran = sandbox
        .run(
            Command::new(["/bin/sh", "-c", "cat; echo err >&2; exit 3"]),
            Some(b"input\n".to_vec()),
            limits,
        )
        .unwrap();
    assert_eq!(
        (
            ran.exit_code,
            ran.stdout.as_slice(),
            ran.stderr.as_slice(),
            ran.timed_out
        ),
        (Some(3), &b"input\n"[..], &b"err\n"[..], false)
    );

    let flood = sandbox
        .run(
            Command::new(["/bin/sh", "-c", "head -c 5000 /dev/zero"]),
            None,
            limits,
        )
        .unwrap();
    assert_eq!((flood.stdout.len(), flood.stdout_dropped), (1000, 4000));

    // A sleeping grandchild dies with its group at the timeout.
    let started = Instant::now();
    let slow = sandbox
        .run(
            Command::new(["/bin/sh", "-c", "sh -c 'sleep 30'; echo never"]),
            None,
            RunLimits {
                timeout: Duration::from_millis(300),
                ..limits
            },
        )
        .unwrap();
    assert!(slow.timed_out);
    assert_eq!(slow.signal, Some(libc::SIGKILL));
    assert!(started.elapsed() < Duration::from_secs(5));
}
