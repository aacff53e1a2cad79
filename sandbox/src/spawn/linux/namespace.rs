//! The namespaces a sandboxed command runs in, and the mounts in them.
//!
//! The child is created in a new user namespace (unless wharf runs as
//! root, who needs none to mount), mount namespace and PID namespace. In
//! there, before anything of the command runs:
//!
//! 1. a new `/proc`, showing the namespace's own processes only (wharf's,
//!    with its environment, is not there to read);
//! 2. the writable roots are cloned as they are (with the mounts beneath
//!    them);
//! 3. every mount is made read-only, so that what Landlock does not cover
//!    (modes, owners, times, extended attributes) fails with `EROFS`
//!    outside the writable roots too;
//! 4. the clones of the writable roots are mounted back on top, writable;
//! 5. the protected paths inside them are mounted read-only again, with the
//!    directories above them pinned (see `protect.rs`).

use std::ffi::CStr;

use super::failure::{Failure, Stage};
use super::protect::{self, MountFailure, ProtectedMount};
use crate::spawn::SpawnError;
use crate::{PathRules, Sandbox};

/// Writable roots a command can have: the child keeps their clones on its
/// stack while the tree goes read-only.
const MAX_ROOTS: usize = 32;

/// What the child sets up in its namespaces, prepared by the parent.
pub(super) struct Namespace {
    /// `Some` when not root: a user namespace is needed to mount.
    user_maps: Option<UserMaps>,
    /// The outermost writable roots.
    roots: Vec<ProtectedMount>,
    /// The protected paths and their pins, outermost first.
    protected: Vec<ProtectedMount>,
}

struct UserMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

impl Namespace {
    /// Plans the mounts for `rules`, creating missing protected directories
    /// (see `protect::plan`).
    pub(super) fn plan(rules: &PathRules, sandbox: &Sandbox) -> Result<Namespace, SpawnError> {
        let roots = protect::plan_roots(rules)?;
        let protected = protect::plan(rules, &sandbox.env.protected, &sandbox.env.cwd)?;
        let too_many = |what: String| SpawnError::Unenforceable {
            mode: rules.mode(),
            what,
        };
        if roots.len() > MAX_ROOTS {
            return Err(too_many(format!(
                "{} separate writable roots are more than the {MAX_ROOTS} it can mount",
                roots.len()
            )));
        }
        if roots.len() + protected.len() >= usize::from(Failure::NO_MOUNT) {
            return Err(too_many(format!(
                "{} protected paths are more than it can mount",
                protected.len()
            )));
        }
        // SAFETY: geteuid and getegid cannot fail and take no arguments.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let user_maps = (uid != 0).then(|| UserMaps {
            uid_map: format!("{uid} {uid} 1\n").into_bytes(),
            gid_map: format!("{gid} {gid} 1\n").into_bytes(),
        });
        Ok(Namespace {
            user_maps,
            roots,
            protected,
        })
    }

    /// The mount a failure report's index names: the roots, then the
    /// protected paths.
    pub(super) fn mount(&self, index: u16) -> Option<&ProtectedMount> {
        self.roots
            .iter()
            .chain(&self.protected)
            .nth(usize::from(index))
    }

    /// Sets up the namespaces the child was created in (see the module
    /// documentation). Runs in the child: system calls on prepared data
    /// only.
    pub(super) fn enter(&self) -> Result<(), Failure> {
        let failed = |stage: Stage| move |()| Failure::from(stage);
        if let Some(maps) = &self.user_maps {
            let failed = failed(Stage::UserNamespace);
            write_proc(c"/proc/self/setgroups", b"deny").map_err(failed)?;
            write_proc(c"/proc/self/uid_map", &maps.uid_map).map_err(failed)?;
            write_proc(c"/proc/self/gid_map", &maps.gid_map).map_err(failed)?;
        }
        // Keep our mounts from propagating back to the parent namespace.
        mount(None, c"/", libc::MS_REC | libc::MS_PRIVATE).map_err(failed(Stage::Mounts))?;
        mount_proc().map_err(failed(Stage::Proc))?;

        let on_mount = |index: usize| {
            let index = u16::try_from(index).unwrap_or(Failure::NO_MOUNT);
            move |failure| match failure {
                MountFailure::Failed(errno) => Failure {
                    stage: Stage::Mounts,
                    errno,
                    mount: index,
                },
                MountFailure::Replaced => Failure {
                    stage: Stage::Replaced,
                    errno: 0,
                    mount: index,
                },
            }
        };
        let mut held: [Option<(protect::Fd, protect::Fd)>; MAX_ROOTS] = [const { None }; MAX_ROOTS];
        for (index, (root, slot)) in self.roots.iter().zip(&mut held).enumerate() {
            let target = protect::open_checked(root).map_err(on_mount(index))?;
            let tree = protect::clone_tree(&target).map_err(on_mount(index))?;
            *slot = Some((target, tree));
        }
        protect::set_everything_read_only().map_err(|failure| match failure {
            MountFailure::Failed(errno) => Failure {
                stage: Stage::ReadOnlyTree,
                errno,
                mount: Failure::NO_MOUNT,
            },
            MountFailure::Replaced => Failure::from(Stage::ReadOnlyTree),
        })?;
        for (index, slot) in held.iter().enumerate() {
            if let Some((target, tree)) = slot {
                protect::attach(tree, target).map_err(on_mount(index))?;
            }
        }
        for (index, protected) in self.protected.iter().enumerate() {
            protect::mount_in_child(protected).map_err(on_mount(self.roots.len() + index))?;
        }
        Ok(())
    }
}

/// The namespaces a sandboxed command is created in: root needs no user
/// namespace to mount.
pub(super) fn namespace_flags() -> libc::c_int {
    // SAFETY: geteuid takes no arguments and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let user = if root { 0 } else { libc::CLONE_NEWUSER };
    user | libc::CLONE_NEWNS | libc::CLONE_NEWPID
}

/// Mounts a new `/proc` for the PID namespace the caller is the first
/// process of: it shows that namespace's processes only.
pub(super) fn mount_proc() -> Result<(), ()> {
    // SAFETY: NUL-terminated strings; no data.
    let mounted = unsafe {
        libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        )
    };
    if mounted == 0 { Ok(()) } else { Err(()) }
}

/// `mount(2)` without a filesystem type or data.
pub(super) fn mount(source: Option<&CStr>, target: &CStr, flags: libc::c_ulong) -> Result<(), ()> {
    let source = source.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: the strings are NUL-terminated and outlive the call; the type
    // and data pointers are null, which mount accepts for these flags.
    let mounted = unsafe {
        libc::mount(
            source,
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if mounted == 0 { Ok(()) } else { Err(()) }
}

fn write_proc(path: &CStr, contents: &[u8]) -> Result<(), ()> {
    // SAFETY: open/write/close on a NUL-terminated path and a live buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(());
        }
        let written = libc::write(fd, contents.as_ptr().cast(), contents.len());
        libc::close(fd);
        if written != contents.len() as isize {
            return Err(());
        }
    }
    Ok(())
}
