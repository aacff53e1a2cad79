//! What happens between `clone` and `execve`: the child, running on its
//! own stack in wharf's memory (see [`clone_vfork`]), applies what the
//! parent prepared with system calls only, and reports the step that
//! failed, if one did, through a pipe.
//!
//! With namespaces the child is PID 1 of a new PID namespace. It sets up
//! the namespaces and the confinement, starts the command as PID 2 (a
//! second `clone`, on a second stack) and then becomes init (`init.rs`),
//! which reaps, passes signals on, and ends the namespace with the command.
//! Without namespaces the child becomes the command itself.

use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{AsRawFd as _, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::caps;
use super::failure::{Failure, Stage};
use super::init::InitExec;
use super::{Enforcement, ExecStrings};

/// The stack of each process that runs in our memory before `execve`.
const CHILD_STACK: usize = 256 * 1024;

/// The command's PID in its own PID namespace: the first process init
/// starts.
const COMMAND_PID: libc::pid_t = 2;

/// What the child does between `clone` and `execve`, with everything it
/// needs prepared by the parent.
pub(super) struct ChildSetup<'a> {
    pub(super) enforcement: Option<Enforcement>,
    /// Set with namespaces: the child becomes init after starting the
    /// command.
    pub(super) init: Option<InitExec>,
    pub(super) new_session: bool,
    pub(super) own_group: bool,
    pub(super) report: RawFd,
    pub(super) strings: &'a ExecStrings,
    /// What becomes fds 0, 1 and 2; -1 keeps wharf's.
    pub(super) stdio: [RawFd; 3],
}

/// Starts the child with `clone(CLONE_VM | CLONE_VFORK)` and `flags` (the
/// namespaces to create it in): it runs on its own stack in our memory
/// until `execve`, so nothing of wharf's address space is copied. (`fork`
/// copies every mapping; with wasmtime's instance pool reserved that is
/// thousands of them, over a millisecond per command.) We are suspended
/// until the child execs or exits; with namespaces that is when it has
/// started the command and become init.
pub(super) fn clone_vfork(setup: &ChildSetup<'_>, flags: libc::c_int) -> io::Result<libc::pid_t> {
    // Two stacks: the child's, and below it the command's (PID 2).
    let mut stack = vec![0u8; 2 * CHILD_STACK];
    let base = stack.as_mut_ptr();
    // Stacks grow down: hand over their 16-byte aligned tops.
    let aligned = |top: *mut u8| top.wrapping_sub(top as usize % 16);
    let top = aligned(base.wrapping_add(2 * CHILD_STACK));
    let command_top = aligned(base.wrapping_add(CHILD_STACK));

    // Block every signal so that no handler of wharf's runs in the child
    // before it resets them; the command gets this mask back before execve.
    let mut all = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
    let mut old = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: both sets are writable sigset_t values.
    unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, all.as_ptr(), old.as_mut_ptr());
    }
    let args = CloneArgs {
        setup,
        // SAFETY: pthread_sigmask filled it in.
        old_mask: unsafe { old.assume_init() },
        command_top,
        command_failed: AtomicBool::new(false),
    };
    // SAFETY: `child_main` only makes system calls on data that outlives
    // the call (we are suspended until the child execs or exits), on the
    // stacks we allocated above.
    let pid = unsafe {
        libc::clone(
            child_main,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | flags,
            (&raw const args).cast_mut().cast(),
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: restoring the mask pthread_sigmask returned.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &args.old_mask, std::ptr::null_mut());
    }
    drop(stack);
    if pid < 0 { Err(err) } else { Ok(pid) }
}

struct CloneArgs<'a> {
    setup: &'a ChildSetup<'a>,
    old_mask: libc::sigset_t,
    /// The top of the command's stack, when the child starts it as PID 2.
    command_top: *mut u8,
    /// Set by the command when it could not execute (shared memory: the
    /// child reads it once the command has exec'd or exited).
    command_failed: AtomicBool,
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `CloneArgs` `clone_vfork` passed, alive while
    // the parent is suspended.
    let args = unsafe { &*arg.cast::<CloneArgs<'_>>() };
    let setup = args.setup;
    let failure = setup.run(args);
    // Only reached when a step failed (execve does not return).
    setup.fail(failure);
    // SAFETY: _exit never returns and runs no handlers.
    unsafe { libc::_exit(127) }
}

/// PID 2: the command, started by the child, suspended until it execs.
extern "C" fn command_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `CloneArgs` of `child_main`, alive while both
    // the child and the parent are suspended.
    let args = unsafe { &*arg.cast::<CloneArgs<'_>>() };
    let failure = args.setup.exec_command(&args.old_mask);
    args.command_failed.store(true, Ordering::SeqCst);
    args.setup.fail(failure);
    // SAFETY: _exit never returns and runs no handlers.
    unsafe { libc::_exit(127) }
}

impl ChildSetup<'_> {
    /// Runs in the child: returns only when a step failed, naming it.
    fn run(&self, args: &CloneArgs<'_>) -> Failure {
        // wharf's handlers are not the command's: back to the defaults.
        // SAFETY: a zeroed sigaction is valid (no handler, empty mask); the
        // calls take it by pointer for their duration.
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            for signal in 1..65 {
                if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                    libc::sigaction(signal, &default, std::ptr::null_mut());
                }
            }
        }
        for (target, fd) in (0..).zip(self.stdio) {
            if fd < 0 {
                continue;
            }
            // SAFETY: as above. dup2 onto the target clears close-on-exec;
            // an fd that already is the target needs it cleared by hand.
            let moved = unsafe {
                if fd == target {
                    libc::fcntl(fd, libc::F_SETFD, 0)
                } else {
                    libc::dup2(fd, target)
                }
            };
            if moved < 0 {
                return Stage::Stdio.into();
            }
        }
        let grouped = if self.new_session {
            // SAFETY: setsid takes no arguments; TIOCSCTTY on fd 0 (the
            // terminal just installed) takes an integer.
            unsafe { libc::setsid() >= 0 && libc::ioctl(0, libc::TIOCSCTTY, 0) >= 0 }
        } else if self.own_group {
            // A new session, not only a process group: it has no
            // controlling terminal, so the command cannot open wharf's
            // (`/dev/tty`) to read the user's keys or write to the screen.
            // SAFETY: setsid takes no arguments.
            unsafe { libc::setsid() >= 0 }
        } else {
            true
        };
        if !grouped {
            return Stage::Group.into();
        }
        let namespace = self
            .enforcement
            .as_ref()
            .and_then(|enforcement| enforcement.namespace.as_ref());
        if let Some(Err(failure)) = namespace.map(super::namespace::Namespace::enter) {
            return failure;
        }
        // After the mounts, so that the working directory is on them: a
        // directory entered before would still show what is beneath them.
        // SAFETY: a NUL-terminated path.
        if unsafe { libc::chdir(self.strings.cwd.as_ptr()) } != 0 {
            return Stage::Workdir.into();
        }
        if let Some(enforcement) = &self.enforcement
            && let Err(failure) = confine(enforcement)
        {
            return failure;
        }
        match &self.init {
            None => self.exec_command(&args.old_mask),
            Some(init) => self.start_command_then_init(args, init),
        }
    }

    /// As PID 1: starts the command as PID 2 (confined as we are now), and
    /// once it has exec'd, becomes init. Returns only on a failure.
    fn start_command_then_init(&self, args: &CloneArgs<'_>, init: &InitExec) -> Failure {
        // SAFETY: `command_main` runs on its own stack (the lower half the
        // parent allocated) and only makes system calls; we are suspended
        // until it execs or exits.
        let pid = unsafe {
            libc::clone(
                command_main,
                args.command_top.cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                std::ptr::from_ref(args).cast_mut().cast(),
            )
        };
        if pid != COMMAND_PID {
            return Stage::Command.into();
        }
        if args.command_failed.load(Ordering::SeqCst) {
            // It failed at execve and reported why: end here (a second
            // report would not be read).
            // SAFETY: _exit never returns and runs no handlers.
            unsafe { libc::_exit(127) }
        }
        init.exec();
        let failure = Failure::from(Stage::Init);
        // Without init the command must not run on.
        // SAFETY: kill with integers.
        unsafe { libc::kill(COMMAND_PID, libc::SIGKILL) };
        failure
    }

    /// Restores the signal mask and executes the command. Returns only on
    /// a failure.
    fn exec_command(&self, old_mask: &libc::sigset_t) -> Failure {
        // SAFETY: restoring the mask the parent had; then execve with
        // NUL-terminated strings and NULL-terminated pointer arrays.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, old_mask, std::ptr::null_mut());
            libc::execve(
                self.strings.program.as_ptr(),
                self.strings.argv_ptrs.as_ptr(),
                self.strings.envp_ptrs.as_ptr(),
            );
        }
        Stage::Exec.into()
    }

    /// Tells the parent which step failed, with which errno, on which mount.
    fn fail(&self, failure: Failure) {
        let index = Stage::ALL
            .iter()
            .position(|s| *s == failure.stage)
            .unwrap_or(0);
        let mut report = [0u8; REPORT_LEN];
        report[0] = u8::try_from(index).unwrap_or(0);
        report[1..5].copy_from_slice(&failure.errno.to_ne_bytes());
        report[5..].copy_from_slice(&failure.mount.to_ne_bytes());
        // SAFETY: a write from a live buffer to a pipe the parent keeps
        // open.
        unsafe { libc::write(self.report, report.as_ptr().cast(), report.len()) };
    }
}

/// Drops every capability, then `no_new_privs`, Landlock and seccomp:
/// after the mounts, which need `CAP_SYS_ADMIN`.
fn confine(enforcement: &Enforcement) -> Result<(), Failure> {
    caps::drop_all().map_err(|errno| Failure {
        stage: Stage::Capabilities,
        errno,
        mount: Failure::NO_MOUNT,
    })?;
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(Stage::NoNewPrivs.into());
    }
    // SAFETY: landlock_restrict_self takes a ruleset descriptor that
    // `enforcement` keeps open, and flags.
    let restricted = unsafe {
        libc::syscall(
            libc::SYS_landlock_restrict_self,
            enforcement.ruleset.as_raw_fd(),
            0,
        )
    };
    if restricted != 0 {
        return Err(Stage::Landlock.into());
    }
    if enforcement.filter.apply().is_err() {
        return Err(Stage::Seccomp.into());
    }
    Ok(())
}

/// The bytes of a failure report: the stage's index, the errno, the mount.
const REPORT_LEN: usize = 7;

/// What the child reported, if it failed.
pub(super) fn failed_stage(report: OwnedFd) -> Option<Failure> {
    let mut bytes = [0u8; REPORT_LEN];
    let mut file = File::from(report);
    file.read_exact(&mut bytes).ok()?;
    let stage = *Stage::ALL.get(usize::from(bytes[0]))?;
    let errno = i32::from_ne_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let mount = u16::from_ne_bytes([bytes[5], bytes[6]]);
    Some(Failure {
        stage,
        errno,
        mount,
    })
}

/// Reaps a child that failed before `execve`.
pub(super) fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: `status` is a writable int; `pid` is our child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}
