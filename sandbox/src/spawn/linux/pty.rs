//! The pseudo-terminal a command can run on: opened close-on-exec, sized,
//! resized.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd, RawFd};

use crate::spawn::PtySize;

/// Opens a new pseudo-terminal, both sides close-on-exec from the start
/// (another thread's spawn must not inherit them), sized `size`.
pub(super) fn open_pty(size: PtySize) -> io::Result<(OwnedFd, OwnedFd)> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: posix_openpt takes flags and returns a new descriptor or -1.
    let master = unsafe { libc::posix_openpt(flags) };
    if master < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: posix_openpt succeeded: a fresh descriptor we now own.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: grantpt/unlockpt take the master descriptor; ptsname_r writes
    // at most `name.len()` bytes into `name`.
    let ready = unsafe {
        libc::grantpt(master.as_raw_fd()) == 0
            && libc::unlockpt(master.as_raw_fd()) == 0
            && libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) == 0
    };
    if !ready {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated path.
    let slave = unsafe { libc::open(name.as_ptr(), flags) };
    if slave < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: open succeeded: a fresh descriptor we now own.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    resize_fd(slave.as_raw_fd(), size)?;
    Ok((master, slave))
}

pub(in crate::spawn) fn resize(master: &File, size: PtySize) -> io::Result<()> {
    resize_fd(master.as_raw_fd(), size)
}

fn resize_fd(fd: RawFd, size: PtySize) -> io::Result<()> {
    let winsize = libc::winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a live value.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &winsize) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
