//! Dropping every capability in the child, after its mounts (which need
//! `CAP_SYS_ADMIN`) and before `execve`: a command run by root, or in the
//! user namespace the mounts made, keeps none of root's powers.
//!
//! The order matters: the securebits and the bounding set need
//! `CAP_SETPCAP`, which `capset` then takes away with the rest.
//!
//! Where the child lacks `CAP_SETPCAP` (an unprivileged user without a user
//! namespace) the securebits and the bounding set cannot change; that user
//! holds no capability, and `no_new_privs` (set next) keeps `execve` from
//! granting any: neither a setuid-root file nor file capabilities add to
//! the permitted set it had.
//!
//! Only system calls here: this runs in the `CLONE_VM` child.

/// `_LINUX_CAPABILITY_VERSION_3` of `<linux/capability.h>`: 64-bit sets,
/// as two 32-bit halves.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The highest capability number a kernel may know; `PR_CAPBSET_DROP`
/// answers `EINVAL` past the kernel's own last one.
const MAX_CAPABILITY: libc::c_ulong = 63;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Root gets no capability back by being root (`NOROOT`), by changing uid
/// (`NO_SETUID_FIXUP`) or by `PR_SET_KEEPCAPS`, nor an ambient one; all
/// locked so that the command cannot undo them.
const SECUREBITS: libc::c_int = libc::SECBIT_NOROOT
    | libc::SECBIT_NOROOT_LOCKED
    | libc::SECBIT_NO_SETUID_FIXUP
    | libc::SECBIT_NO_SETUID_FIXUP_LOCKED
    | libc::SECBIT_KEEP_CAPS_LOCKED
    | libc::SECBIT_NO_CAP_AMBIENT_RAISE
    | libc::SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

/// Empties the bounding, ambient, effective, permitted and inheritable
/// sets. `Err` carries the errno of the call that failed.
pub(super) fn drop_all() -> Result<(), i32> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) } != 0 {
        // EPERM: no CAP_SETPCAP, see the module's comment.
        let errno = errno();
        if errno != libc::EPERM {
            return Err(errno);
        }
    }
    for capability in 0..=MAX_CAPABILITY {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) } != 0 {
            match errno() {
                // Past the kernel's last capability.
                libc::EINVAL => break,
                // No CAP_SETPCAP, see the module's comment.
                libc::EPERM => break,
                errno => return Err(errno),
            }
        }
    }
    // SAFETY: prctl with integer arguments only.
    let cleared = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    if cleared != 0 {
        return Err(errno());
    }
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads a version 3 header (and may write its version
    // back) and two data structs, all live for the call; pid 0 is the
    // calling thread.
    let set = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
    if set != 0 {
        return Err(errno());
    }
    Ok(())
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
