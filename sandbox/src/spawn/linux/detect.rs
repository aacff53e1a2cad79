//! What the running kernel can enforce, asked once per process.

use std::io;

use super::namespace::{mount, mount_proc, namespace_flags};
use crate::spawn::{KernelSupport, Namespaces};

/// `LANDLOCK_CREATE_RULESET_VERSION`: ask for the ABI version.
const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;

pub(in crate::spawn) fn detect() -> KernelSupport {
    // SAFETY: with a null attribute, size 0 and the VERSION flag the call
    // reads no memory and only returns the ABI version (or -1).
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    // SAFETY: PR_GET_SECCOMP takes no pointers; -1 means no seccomp.
    let seccomp = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } >= 0;
    KernelSupport {
        landlock_abi: u32::try_from(abi).unwrap_or(0),
        seccomp,
        namespaces: probe_namespaces(),
    }
}

/// Creates the namespaces a command gets (user unless root, mount, PID)
/// in a child that mounts its own `/proc` and exits: what every sandboxed
/// spawn will do.
fn probe_namespaces() -> Namespaces {
    extern "C" fn probe(_: *mut libc::c_void) -> libc::c_int {
        let private = mount(None, c"/", libc::MS_REC | libc::MS_PRIVATE);
        let proc = private.and_then(|()| mount_proc());
        // SAFETY: _exit never returns and runs no handlers.
        unsafe {
            libc::_exit(match proc {
                Ok(()) => 0,
                Err(()) => io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EPERM),
            })
        }
    }
    let flags = namespace_flags();
    let mut stack = vec![0u8; 64 * 1024];
    let top = stack.as_mut_ptr().wrapping_add(stack.len());
    let top = top.wrapping_sub(top as usize % 16);
    // SAFETY: `probe` makes system calls only, on the stack above, and we
    // are suspended until it exits (CLONE_VFORK).
    let pid = unsafe {
        libc::clone(
            probe,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | flags,
            std::ptr::null_mut(),
        )
    };
    if pid < 0 {
        let errno = io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EPERM);
        return Namespaces::Refused { errno };
    }
    let mut status = 0;
    // SAFETY: `status` is a writable int; `pid` is our child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
    drop(stack);
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Namespaces::Available,
        (true, errno) => Namespaces::Refused { errno },
        (false, _) => Namespaces::Refused { errno: libc::EPERM },
    }
}
