//! What the child reports when a step of its setup fails: the step and
//! the errno, read by the parent to build the spawn error.

use std::io;

/// The steps of the child's setup (`ChildSetup::run`), as the child
/// reports a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Stdio,
    Group,
    UserNamespace,
    Proc,
    Mounts,
    /// A protected path was not what the parent checked.
    Replaced,
    ReadOnlyTree,
    Workdir,
    Capabilities,
    NoNewPrivs,
    Landlock,
    Seccomp,
    /// Starting the command as PID 2.
    Command,
    Exec,
    Init,
}

impl Stage {
    pub(super) const ALL: [Stage; 15] = [
        Stage::Stdio,
        Stage::Group,
        Stage::UserNamespace,
        Stage::Proc,
        Stage::Mounts,
        Stage::Replaced,
        Stage::ReadOnlyTree,
        Stage::Workdir,
        Stage::Capabilities,
        Stage::NoNewPrivs,
        Stage::Landlock,
        Stage::Seccomp,
        Stage::Command,
        Stage::Exec,
        Stage::Init,
    ];

    pub(super) fn describe(self) -> &'static str {
        match self {
            Stage::Stdio => "setting up stdin, stdout and stderr",
            Stage::Group => "a new process group",
            Stage::UserNamespace => "mapping wharf's user into the user namespace",
            Stage::Proc => "mounting the PID namespace's own /proc",
            Stage::Mounts => "read-only mounts of the protected paths",
            Stage::Replaced => "a protected path changed while it was being mounted",
            Stage::ReadOnlyTree => "making every mount read-only",
            Stage::Workdir => "entering the working directory",
            Stage::Capabilities => "dropping every capability",
            Stage::NoNewPrivs => "no_new_privs",
            Stage::Landlock => "Landlock",
            Stage::Seccomp => "seccomp",
            Stage::Command => "starting the command in its PID namespace",
            Stage::Exec => "execve",
            Stage::Init => "starting the PID namespace's init",
        }
    }
}

/// A step that failed in the child, with its errno and, for a mount, which
/// one ([`Failure::NO_MOUNT`] otherwise).
pub(super) struct Failure {
    pub(super) stage: Stage,
    pub(super) errno: i32,
    pub(super) mount: u16,
}

impl Failure {
    /// [`Failure::mount`] of a failure that concerns no single mount.
    pub(super) const NO_MOUNT: u16 = u16::MAX;
}

impl From<Stage> for Failure {
    /// `stage` failed with the errno of the system call that just failed.
    fn from(stage: Stage) -> Failure {
        Failure {
            stage,
            errno: io::Error::last_os_error().raw_os_error().unwrap_or(0),
            mount: Failure::NO_MOUNT,
        }
    }
}
