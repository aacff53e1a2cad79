//! PID 1 of every sandboxed command's PID namespace: `wharf-sandbox-init`
//! (`sandbox/init/main.rs`, compiled by `build.rs`), embedded in wharf and
//! executed from a sealed memory file, so that no file on disk can be
//! swapped for it.
//!
//! Two descriptors connect it to wharf:
//!
//! - the **status** pipe of one spawn: init writes the command's wait
//!   status there when it exits ([`Child`](super::Child) reads it, since
//!   wharf only sees init's own exit);
//! - the **lifeline**, one pipe per wharf process: init holds the read end,
//!   only wharf the write end (close-on-exec, so no command inherits it).
//!   When wharf exits, however it dies, the read end reports a hang-up and
//!   init exits, which ends every process of the namespace.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd, RawFd};
use std::sync::OnceLock;

/// The compiled program (empty for a target `build.rs` has no init for).
static PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wharf-sandbox-init"));

/// `MFD_EXEC` of `<linux/memfd.h>`: asked for explicitly on kernels that
/// default memory files to not executable.
const MFD_EXEC: libc::c_uint = 0x10;

/// The per-process parts: the program and the lifeline.
struct Shared {
    program: OwnedFd,
    lifeline_read: OwnedFd,
    /// Never written: its closing (when wharf exits) is the message.
    _lifeline_write: OwnedFd,
}

fn shared() -> Result<&'static Shared, String> {
    static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let program =
                program().map_err(|err| format!("cannot load the sandbox's init: {err}"))?;
            let (lifeline_read, lifeline_write) =
                super::pipe().map_err(|err| format!("cannot make the lifeline pipe: {err}"))?;
            Ok(Shared {
                program,
                lifeline_read,
                _lifeline_write: lifeline_write,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A sealed memory file holding the program.
fn program() -> io::Result<OwnedFd> {
    if PROGRAM.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "wharf has no init for {} (only x86_64 and aarch64); set `[sandbox_linux] \
                 namespaces = false` to run commands without a PID namespace",
                std::env::consts::ARCH
            ),
        ));
    }
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: memfd_create takes a NUL-terminated name and flags.
    let mut fd = unsafe { libc::memfd_create(c"wharf-sandbox-init".as_ptr(), flags | MFD_EXEC) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Kernels before 6.3 know no MFD_EXEC: their memory files are
        // executable anyway.
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(c"wharf-sandbox-init".as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create succeeded: a fresh descriptor we now own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = File::from(fd);
    file.write_all(PROGRAM)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl with an integer argument on a descriptor we own.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file.into())
}

/// What the child needs to become init, prepared by the parent for one
/// spawn.
pub(super) struct InitExec {
    program: RawFd,
    lifeline: RawFd,
    /// The write end of the status pipe, for init.
    status: OwnedFd,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: [*const libc::c_char; 1],
}

impl InitExec {
    /// Prepares one spawn's init, and returns the read end of its status
    /// pipe for the [`Child`](super::Child).
    pub(super) fn prepare() -> Result<(InitExec, File), String> {
        let shared = shared()?;
        let (status_read, status) =
            super::pipe().map_err(|err| format!("cannot make the status pipe: {err}"))?;
        let lifeline = shared.lifeline_read.as_raw_fd();
        let argv: Vec<CString> = [
            "wharf-sandbox-init".to_owned(),
            status.as_raw_fd().to_string(),
            lifeline.to_string(),
        ]
        .into_iter()
        .map(|arg| CString::new(arg).map_err(|err| err.to_string()))
        .collect::<Result<_, _>>()?;
        let argv_ptrs = argv
            .iter()
            .map(|arg| arg.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        Ok((
            InitExec {
                program: shared.program.as_raw_fd(),
                lifeline,
                status,
                _argv: argv,
                argv_ptrs,
                envp_ptrs: [std::ptr::null()],
            },
            File::from(status_read),
        ))
    }

    /// Becomes init, in the child, once the command has been started:
    /// leaves the command's terminal and pipes to it, hands the two pipes
    /// over (close-on-exec until now, so the command did not get them) and
    /// executes the program. Returns only when that failed.
    pub(super) fn exec(&self) {
        // SAFETY: closing our stdio (init's runtime puts /dev/null there),
        // clearing close-on-exec on descriptors the parent keeps open, and
        // execveat with NULL-terminated arrays and an empty path.
        unsafe {
            for fd in 0..3 {
                libc::close(fd);
            }
            libc::fcntl(self.status.as_raw_fd(), libc::F_SETFD, 0);
            libc::fcntl(self.lifeline, libc::F_SETFD, 0);
            libc::syscall(
                libc::SYS_execveat,
                self.program,
                c"".as_ptr(),
                self.argv_ptrs.as_ptr(),
                self.envp_ptrs.as_ptr(),
                libc::AT_EMPTY_PATH,
            );
        }
    }
}
