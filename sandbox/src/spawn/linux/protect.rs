//! Keeping the protected paths read-only for a command: which mounts the
//! child makes (planned in the parent, where allocating is allowed) and how
//! it makes them (in the child, system calls only).
//!
//! Landlock rules only add access, so "a writable root except `.git`" is a
//! read-only bind mount of `.git` in the child's mount namespace. What needs
//! a mount:
//!
//! - every protected subpath of a writable root that exists (`.git`, the git
//!   directory a `.git` file names, `.wharf`), and
//! - every path of [`PathEnv::protected`](crate::PathEnv::protected) inside a
//!   writable root, **created** (an empty directory) when missing so that it
//!   can be mounted over: otherwise a command could create
//!   `.wharf/config.toml` for the next session to read. One that contains a
//!   writable root is mounted too (a cwd inside wharf's home stays
//!   read-only).
//!
//! A read-only mount alone does not hold: a command could rename the mount
//! point's parent away and create a fresh `.wharf` where the old one was.
//! So every directory between a mounted path and the outermost writable
//! root holding it is bind-mounted onto itself ("pinned"): a mount point
//! cannot be renamed or removed (`EBUSY`). Above the outermost root the
//! parent is not writable, and Landlock refuses the rename.
//!
//! Symlinks: a protected path is followed to its target, which is what gets
//! mounted. A symlink on the way that lies inside a writable root could be
//! pointed elsewhere by a command, so the spawn is refused instead.
//!
//! Races: the parent records each path's device and inode; the child opens
//! the path without following any symlink (`openat2` with
//! `RESOLVE_NO_SYMLINKS`), checks it is still that file, and mounts through
//! the descriptor (`open_tree`, `mount_setattr`, `move_mount`), so what is
//! mounted is what was checked. A swap in between fails the spawn.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use crate::paths::resolve_noting_links;
use crate::{PathRules, SpawnError};

/// Mode of a protected directory wharf creates (before the umask).
const CREATED_DIR_MODE: libc::mode_t = 0o755;

// From <linux/mount.h>; the libc crate has the system call numbers only.
const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const MOUNT_ATTR_RDONLY: u64 = 0x01;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A file or directory the child mounts onto itself.
#[derive(Debug)]
pub(super) struct ProtectedMount {
    /// The resolved path, for the child.
    path: CString,
    /// The same, for error messages.
    shown: PathBuf,
    /// What the parent found there (device, inode, file type); the child
    /// mounts only that. The type matters most: an inode number freed by
    /// `rmdir` is reused at once, by a symlink too.
    dev: u64,
    ino: u64,
    kind: libc::mode_t,
    role: Role,
}

/// What a mount of a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A writable root, mounted writable again over the read-only tree.
    Writable,
    /// A protected path inside a writable root, read-only.
    ReadOnly,
    /// A directory above a protected path, pinned in place (still
    /// writable) so that it cannot be renamed away.
    Pin,
}

impl ProtectedMount {
    /// The error of a spawn whose child could not make this mount.
    pub(super) fn failed(&self, source: &io::Error) -> SpawnError {
        let what = match self.role {
            Role::Writable => {
                return SpawnError::Root {
                    path: self.shown.clone(),
                    reason: format!("the writable mount failed: {source}"),
                };
            }
            Role::ReadOnly => "the read-only mount",
            Role::Pin => "the mount that keeps it from being renamed",
        };
        SpawnError::Protected {
            path: self.shown.clone(),
            reason: format!("{what} failed: {source}"),
        }
    }

    /// The error of a spawn whose child found something else at the path.
    pub(super) fn replaced(&self) -> SpawnError {
        let reason = "it was replaced while the sandbox was being set up".to_owned();
        match self.role {
            Role::Writable => SpawnError::Root {
                path: self.shown.clone(),
                reason,
            },
            Role::ReadOnly | Role::Pin => SpawnError::Protected {
                path: self.shown.clone(),
                reason,
            },
        }
    }
}

/// The writable roots that are not inside another one (an inner root is
/// part of its outer root's mount), each to be mounted writable again over
/// the read-only tree. A root that does not exist grants nothing, as in
/// Landlock.
pub(super) fn plan_roots(rules: &PathRules) -> Result<Vec<ProtectedMount>, SpawnError> {
    let roots: Vec<&Path> = rules
        .writable_roots()
        .iter()
        .map(|root| root.root.as_path())
        .collect();
    let mut mounts = Vec::new();
    for root in &roots {
        let inner = roots
            .iter()
            .any(|other| other != root && root.starts_with(other));
        let Ok(metadata) = std::fs::symlink_metadata(root) else {
            continue;
        };
        if !inner {
            add(&mut mounts, root, &metadata, Role::Writable)?;
        }
    }
    Ok(mounts)
}

/// The mounts that keep `rules`' protected paths read-only, outermost first;
/// creates missing protected directories of `protected` (as the embedder
/// listed them, unresolved) that lie inside a writable root.
pub(super) fn plan(
    rules: &PathRules,
    protected: &[PathBuf],
    cwd: &Path,
) -> Result<Vec<ProtectedMount>, SpawnError> {
    let roots: Vec<&Path> = rules
        .writable_roots()
        .iter()
        .map(|root| root.root.as_path())
        .collect();
    let writable = |path: &Path| roots.iter().any(|root| path.starts_with(root));
    let refuse = |path: &Path, reason: String| SpawnError::Protected {
        path: path.to_path_buf(),
        reason,
    };

    // (resolved path, may wharf create it)
    let mut wanted: Vec<(PathBuf, bool)> = Vec::new();
    for root in rules.writable_roots() {
        for sub in &root.read_only_subpaths {
            if writable(sub) {
                wanted.push((sub.clone(), false));
            }
        }
    }
    for path in protected {
        let (resolved, links) = resolve_noting_links(path, cwd)
            .map_err(|err| refuse(path, format!("cannot resolve it: {err}")))?;
        if let Some(link) = links.iter().find(|link| writable(link)) {
            return Err(refuse(
                path,
                format!(
                    "{} is a symbolic link inside a writable root, which a command could \
                     point elsewhere (replace the link with what it points to, or start \
                     wharf from a path without it)",
                    link.display()
                ),
            ));
        }
        if writable(&resolved) {
            wanted.push((resolved, true));
        } else if roots.iter().any(|root| root.starts_with(&resolved)) {
            wanted.push((resolved, false));
        }
    }

    let mut mounts: Vec<ProtectedMount> = Vec::new();
    for (path, create) in wanted {
        let metadata = if create {
            Some(ensure_dir(&path, &writable).map_err(|reason| refuse(&path, reason))?)
        } else {
            std::fs::symlink_metadata(&path).ok()
        };
        // A `.git` that does not exist needs nothing: `git init` may make one.
        let Some(metadata) = metadata else { continue };
        let mut pins = Vec::new();
        let mut dir = path.parent();
        while let Some(pinned) = dir {
            match pinned.parent() {
                Some(parent) if writable(parent) => pins.push(pinned.to_path_buf()),
                _ => break,
            }
            dir = pinned.parent();
        }
        add(&mut mounts, &path, &metadata, Role::ReadOnly)?;
        for pin in pins {
            let metadata = std::fs::symlink_metadata(&pin)
                .map_err(|err| refuse(&pin, format!("cannot inspect it: {err}")))?;
            add(&mut mounts, &pin, &metadata, Role::Pin)?;
        }
    }
    mounts.sort_by_key(|mount| mount.shown.components().count());
    Ok(mounts)
}

/// Adds a mount of `path`, or makes an existing one read-only if asked.
fn add(
    mounts: &mut Vec<ProtectedMount>,
    path: &Path,
    metadata: &std::fs::Metadata,
    role: Role,
) -> Result<(), SpawnError> {
    if let Some(existing) = mounts.iter_mut().find(|mount| mount.shown == path) {
        if role == Role::ReadOnly {
            existing.role = role;
        }
        return Ok(());
    }
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| SpawnError::Protected {
        path: path.to_path_buf(),
        reason: "the path contains a NUL byte".to_owned(),
    })?;
    mounts.push(ProtectedMount {
        path: c_path,
        shown: path.to_path_buf(),
        dev: metadata.dev(),
        ino: metadata.ino(),
        kind: metadata.mode() & libc::S_IFMT,
        role,
    });
    Ok(())
}

/// Makes sure the resolved `path` is a directory, creating it and its
/// missing parents inside the writable roots without following symlinks
/// (`mkdirat` + `O_NOFOLLOW` from `/`, one component at a time), and returns
/// what is there. Something that is not a directory is an error: it cannot
/// be kept read-only the way the next session would read it.
fn ensure_dir(path: &Path, writable: &dyn Fn(&Path) -> bool) -> Result<std::fs::Metadata, String> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => return Ok(metadata),
        Ok(_) => {
            return Err(
                "something that is not a directory is there (remove it: wharf keeps \
                 an empty directory there, mounted read-only)"
                    .to_owned(),
            );
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(format!("cannot inspect it: {err}")),
    }
    let not_a_dir = |at: &Path| {
        format!(
            "{} is not a directory (or became a symbolic link) while wharf created the \
             protected directory",
            at.display()
        )
    };
    let mut dir = open_dir(None, c"/").map_err(|err| format!("cannot open /: {err}"))?;
    let mut at = PathBuf::from("/");
    for component in path.components().skip(1) {
        let name = CString::new(component.as_os_str().as_bytes())
            .map_err(|_| "the path contains a NUL byte".to_owned())?;
        if writable(&at) {
            // SAFETY: a directory descriptor we own, a NUL-terminated name.
            let made = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), CREATED_DIR_MODE) };
            let err = io::Error::last_os_error();
            if made != 0 && err.kind() != io::ErrorKind::AlreadyExists {
                return Err(format!(
                    "cannot create {}: {err}",
                    at.join(component).display()
                ));
            }
        }
        at.push(component);
        dir = open_dir(Some(&dir), &name).map_err(|err| match err.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => not_a_dir(&at),
            _ => format!("cannot open {}: {err}", at.display()),
        })?;
    }
    std::fs::File::from(dir)
        .metadata()
        .map_err(|err| format!("cannot inspect it: {err}"))
}

/// Opens the directory `name` beneath `dir` (or the absolute `name`) as an
/// `O_PATH` descriptor, refusing a symlink.
fn open_dir(dir: Option<&OwnedFd>, name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let at = dir.map_or(libc::AT_FDCWD, |dir| dir.as_raw_fd());
    // SAFETY: a NUL-terminated name and a descriptor we own (or AT_FDCWD).
    let fd = unsafe { libc::openat(at, name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat succeeded: a fresh descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Why the child could not make a mount.
pub(super) enum MountFailure {
    /// A system call failed with this errno.
    Failed(i32),
    /// The path now holds something other than what the parent checked.
    Replaced,
}

impl MountFailure {
    /// The failure of the system call that just returned an error.
    fn last() -> MountFailure {
        MountFailure::Failed(io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// Makes `mount` in the child's new mount namespace: opens the path without
/// following symlinks (a symlink at the end is opened itself, and then is
/// not the directory the parent saw), checks it is what the parent saw, and
/// mounts a clone of it onto itself (read-only if asked) through
/// descriptors only.
///
/// Runs between `clone` and `execve`: system calls on prepared data only.
pub(super) fn mount_in_child(mount: &ProtectedMount) -> Result<(), MountFailure> {
    let target = open_checked(mount)?;
    let tree = clone_tree(&target)?;
    if mount.role == Role::ReadOnly {
        set_read_only(&tree)?;
    }
    attach(&tree, &target)
}

/// Opens `mount`'s path as an `O_PATH` descriptor without following any
/// symlink, and checks it is the file the parent saw.
pub(super) fn open_checked(mount: &ProtectedMount) -> Result<Fd, MountFailure> {
    // SAFETY: open_how is three integers, for which zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 reads `how` (size given) and a NUL-terminated path.
    let target = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            mount.path.as_ptr(),
            &raw const how,
            size_of::<libc::open_how>(),
        )
    };
    let target = Fd::new(target)?;
    let mut stat = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: fstat writes a stat into live, writable memory.
    if unsafe { libc::fstat(target.0, stat.as_mut_ptr()) } != 0 {
        return Err(MountFailure::last());
    }
    // SAFETY: fstat succeeded, so it filled the struct (zeroed anyway).
    let stat = unsafe { stat.assume_init() };
    if stat.st_dev != mount.dev
        || stat.st_ino != mount.ino
        || stat.st_mode & libc::S_IFMT != mount.kind
    {
        return Err(MountFailure::Replaced);
    }
    Ok(target)
}

/// A detached copy of the mounts at and beneath `target`, with their flags
/// as they are now.
pub(super) fn clone_tree(target: &Fd) -> Result<Fd, MountFailure> {
    let clone_flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | libc::AT_EMPTY_PATH as libc::c_uint
        | libc::AT_RECURSIVE as libc::c_uint;
    // SAFETY: open_tree on a descriptor we own with an empty path.
    let tree = unsafe { libc::syscall(libc::SYS_open_tree, target.0, c"".as_ptr(), clone_flags) };
    Fd::new(tree)
}

/// Makes every mount of the detached `tree` read-only.
pub(super) fn set_read_only(tree: &Fd) -> Result<(), MountFailure> {
    read_only_beneath(tree.0, c"", libc::AT_EMPTY_PATH)
}

/// Makes every mount of the namespace read-only: what is writable again
/// is mounted on top afterwards.
pub(super) fn set_everything_read_only() -> Result<(), MountFailure> {
    read_only_beneath(libc::AT_FDCWD, c"/", 0)
}

fn read_only_beneath(
    dir: libc::c_int,
    path: &std::ffi::CStr,
    flags: libc::c_int,
) -> Result<(), MountFailure> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: mount_setattr reads `attr` (size given) and a NUL-terminated
    // path relative to a descriptor we own (or AT_FDCWD).
    let set = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dir,
            path.as_ptr(),
            flags | libc::AT_RECURSIVE,
            &raw const attr,
            size_of::<MountAttr>(),
        )
    };
    if set != 0 {
        return Err(MountFailure::last());
    }
    Ok(())
}

/// Mounts the detached `tree` on `target`.
pub(super) fn attach(tree: &Fd, target: &Fd) -> Result<(), MountFailure> {
    // SAFETY: move_mount between two descriptors we own, empty paths.
    let moved = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.0,
            c"".as_ptr(),
            target.0,
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if moved != 0 {
        return Err(MountFailure::last());
    }
    Ok(())
}

/// A descriptor the child closes without allocating.
pub(super) struct Fd(libc::c_int);

impl Fd {
    fn new(result: libc::c_long) -> Result<Fd, MountFailure> {
        match libc::c_int::try_from(result) {
            Ok(fd) if fd >= 0 => Ok(Fd(fd)),
            _ => Err(MountFailure::last()),
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: closing a descriptor this value owns (a failure's errno
        // was taken before: see `MountFailure::last`).
        unsafe { libc::close(self.0) };
    }
}
