//! The calling thread's kernel keyring: wharf keeps MCP tokens there
//! (`wharf-plugin-mcp-client`), and plugins may not make system calls
//! themselves (they `forbid(unsafe_code)`), so the one call they need is
//! here, next to the seccomp filter that denies keyrings to commands.

use std::io;

/// Joins a new, anonymous session keyring (`keyctl(KEYCTL_JOIN_SESSION_KEYRING,
/// NULL)`). It applies to the calling thread and the threads it starts
/// afterwards.
pub fn join_new_session_keyring() -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING takes one pointer argument, a
    // NUL-terminated name or NULL ("a new anonymous keyring"); we pass
    // NULL, so the kernel reads no memory of ours.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if id < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
