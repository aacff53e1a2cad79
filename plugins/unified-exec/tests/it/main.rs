//! The tools against real processes: real PTYs, real pipes, the real
//! kernel sandbox (workspace-write, in a temporary directory).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod exec;
mod sessions;
mod shell;
mod tools;

use std::path::PathBuf;

use wharf_plugin_unified_exec::{
    ExecArgs, ExecError, Response, SessionId, UnifiedExec, WriteStdinArgs,
};
use wharf_sandbox::{PathEnv, ReadOnlyAccess, Sandbox, SandboxPolicy};

/// The wharf session the tests' commands belong to.
const SESSION: &str = "test-session";

struct Fixture {
    _dir: tempfile::TempDir,
    work: PathBuf,
    sandbox: Sandbox,
    exec: UnifiedExec,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().canonicalize().unwrap().join("work");
        std::fs::create_dir_all(&work).unwrap();
        let policy = SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: false,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        };
        let env = PathEnv {
            cwd: work.clone(),
            tmpdir: None,
            protected: Vec::new(),
        };
        Fixture {
            _dir: dir,
            sandbox: Sandbox::new(&policy, &env),
            work,
            exec: UnifiedExec::new(),
        }
    }

    fn try_exec(&self, args: ExecArgs) -> Result<Response, ExecError> {
        self.exec.exec_command(&self.sandbox, SESSION, args, &never)
    }

    /// Runs `cmd` with `sh -c` semantics (no login shell: faster).
    fn exec(&self, cmd: &str) -> Response {
        self.try_exec(args(cmd)).unwrap()
    }

    fn try_write(&self, id: SessionId, chars: &str, yield_ms: u64) -> Result<Response, ExecError> {
        let args = WriteStdinArgs {
            session_id: id.0.into(),
            chars: chars.to_owned(),
            yield_time_ms: Some(yield_ms),
            max_output_tokens: None,
        };
        self.exec.write_stdin(SESSION, args, &never)
    }

    fn write(&self, id: SessionId, chars: &str, yield_ms: u64) -> Response {
        self.try_write(id, chars, yield_ms).unwrap()
    }
}

/// `cmd` run by `bash -c`, waiting the shortest yield.
fn args(cmd: &str) -> ExecArgs {
    ExecArgs {
        cmd: cmd.to_owned(),
        login: Some(false),
        yield_time_ms: Some(250),
        ..ExecArgs::default()
    }
}

fn never() -> bool {
    false
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet: dead).
fn is_dead(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    state.is_some_and(|rest| rest.starts_with('Z') || rest.starts_with('X'))
}

/// A `sleep` duration no other process has: commands run in their own PID
/// namespace, so the pids they print (`$$`, `$!`) are not wharf's; tests
/// find their processes by this argument instead.
fn unique_sleep() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}.{}", 100 + n, std::process::id())
}

/// The pid (as wharf sees it) of the process running `sleep DURATION`.
fn pid_of_sleep(duration: &str) -> Option<u32> {
    let wanted = format!("sleep\0{duration}\0");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            (cmdline == wanted.as_bytes() && !is_dead(pid)).then_some(pid)
        })
}

/// Waits (up to 5 s) until `pid` has exited, woken by the exit itself
/// (a pidfd becomes readable then); a kill takes a few ms.
fn assert_dies(pid: u32) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let Ok(fd) = libc::c_int::try_from(fd) else {
        return;
    };
    if fd < 0 {
        // No such process any more: already reaped.
        assert!(is_dead(pid.unsigned_abs()));
        return;
    }
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd; then closing the fd we own.
    let ready = unsafe {
        let ready = libc::poll(&mut poll, 1, 5000);
        libc::close(fd);
        ready
    };
    assert_eq!(ready, 1, "process {pid} is still alive");
}

/// The session id of a response that must still be running.
fn running(response: &Response) -> SessionId {
    response
        .session_id()
        .unwrap_or_else(|| panic!("expected a running session:\n{response}"))
}
