//! What this machine enforces for a [`Sandbox`], layer by layer: the data
//! `wharf sandbox --check` prints. [`Sandbox::enforceable`] decides whether
//! commands run; a layer is [`LayerState::Missing`] exactly when it is one
//! of the reasons they do not.

use std::io;

use super::{MIN_LANDLOCK_ABI, Namespaces, Sandbox};
use crate::SandboxPolicy;

/// What each Landlock ABI adds to the one before, from ABI 1 on.
pub const LANDLOCK_RIGHTS: &[(u32, &str)] = &[
    (
        1,
        "file access: read, write, execute, create and remove files and directories",
    ),
    (2, "rename and link across directories (refer)"),
    (3, "truncate"),
    (4, "TCP bind and connect"),
    (5, "ioctl on device files"),
    (6, "scopes: signals and abstract unix sockets"),
    (7, "audit logging"),
];

/// The first Landlock ABI with scopes: a sandboxed process can then neither
/// signal processes outside its domain nor connect to their abstract unix
/// sockets.
pub const SCOPES_ABI: u32 = 6;

/// What commands lose when they run without their own namespaces
/// (`[sandbox_linux] namespaces = false`).
pub const WITHOUT_NAMESPACES: &str = "protected paths inside writable roots (.git, .wharf) \
     become writable, metadata outside the roots (modes, owners, times) can change, other \
     processes are visible, and a command's background processes can outlive it";

/// One layer of enforcement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layer {
    /// `landlock`, `seccomp`, `namespaces`, `capabilities` or `scopes`.
    pub name: &'static str,
    pub state: LayerState,
    /// One line: what the layer does here, or why it does not.
    pub summary: String,
    /// More lines (the rights of the Landlock ABI).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerState {
    /// Applied to every command.
    Enforced,
    /// The policy needs it and this machine cannot provide it: commands do
    /// not run.
    Missing,
    /// This kernel lacks it, and commands run without it.
    Unavailable,
    /// Turned off by the configuration.
    Off,
}

impl LayerState {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerState::Enforced => "enforced",
            LayerState::Missing => "missing",
            LayerState::Unavailable => "unavailable",
            LayerState::Off => "off",
        }
    }
}

/// The rights Landlock ABI `abi` has, one line each, oldest first.
pub fn landlock_rights(abi: u32) -> Vec<String> {
    LANDLOCK_RIGHTS
        .iter()
        .filter(|(since, _)| *since <= abi)
        .map(|(since, rights)| format!("ABI {since}: {rights}"))
        .collect()
}

impl Sandbox {
    /// The layers that confine commands on this machine, in the order the
    /// child applies them; empty under danger-full-access, which enforces
    /// nothing.
    pub fn layers(&self) -> Vec<Layer> {
        if *self.policy() == SandboxPolicy::DangerFullAccess {
            return Vec::new();
        }
        let kernel = self.kernel();
        vec![
            namespaces_layer(self.namespaces(), kernel.namespaces),
            capabilities_layer(),
            landlock_layer(kernel.landlock_abi),
            scopes_layer(kernel.landlock_abi),
            seccomp_layer(kernel.seccomp, self.policy().has_network_access()),
        ]
    }
}

fn layer(name: &'static str, state: LayerState, summary: String) -> Layer {
    Layer {
        name,
        state,
        summary,
        details: Vec::new(),
    }
}

fn namespaces_layer(wanted: bool, kernel: Namespaces) -> Layer {
    let name = "namespaces";
    match (wanted, kernel) {
        (false, _) => layer(
            name,
            LayerState::Off,
            format!("turned off by `[sandbox_linux] namespaces = false`: {WITHOUT_NAMESPACES}"),
        ),
        (true, Namespaces::Available) => layer(
            name,
            LayerState::Enforced,
            "user (unless root), mount and PID namespaces: every mount read-only but the \
             writable roots, their protected paths read-only again, a /proc of their own, \
             and nothing outlives the command or wharf"
                .to_owned(),
        ),
        (true, Namespaces::Refused { errno }) => layer(
            name,
            LayerState::Missing,
            format!(
                "refused by this machine ({}): allow user namespaces (containers: a seccomp \
                 profile that permits unshare and clone; AppArmor: \
                 kernel.apparmor_restrict_unprivileged_userns), or set `[sandbox_linux] \
                 namespaces = false` to run under Landlock and seccomp only",
                io::Error::from_raw_os_error(errno)
            ),
        ),
    }
}

fn capabilities_layer() -> Layer {
    layer(
        "capabilities",
        LayerState::Enforced,
        "all dropped (bounding, permitted, effective, inheritable, ambient), and \
         no_new_privs: root keeps none of its powers"
            .to_owned(),
    )
}

fn landlock_layer(abi: u32) -> Layer {
    let name = "landlock";
    if abi == 0 {
        return layer(
            name,
            LayerState::Missing,
            "this kernel has no Landlock (needed to confine file access)".to_owned(),
        );
    }
    let (state, summary) = if abi < MIN_LANDLOCK_ABI {
        (
            LayerState::Missing,
            format!(
                "ABI {abi}: writes can only be confined from ABI {MIN_LANDLOCK_ABI} on (truncate)"
            ),
        )
    } else {
        (
            LayerState::Enforced,
            format!("ABI {abi}: reads and writes confined to the policy's roots"),
        )
    };
    Layer {
        details: landlock_rights(abi),
        ..layer(name, state, summary)
    }
}

fn scopes_layer(abi: u32) -> Layer {
    if abi >= SCOPES_ABI {
        layer(
            "scopes",
            LayerState::Enforced,
            "signals and abstract unix sockets reach only the command's own processes".to_owned(),
        )
    } else {
        layer(
            "scopes",
            LayerState::Unavailable,
            format!("need Landlock ABI {SCOPES_ABI}; this kernel has {abi}"),
        )
    }
}

fn seccomp_layer(available: bool, network: bool) -> Layer {
    if !available {
        return layer(
            "seccomp",
            LayerState::Missing,
            "this kernel has no seccomp (needed to turn the network off and block ptrace)"
                .to_owned(),
        );
    }
    let sockets = if network {
        "network on"
    } else {
        "network off: no sockets but unix ones"
    };
    layer(
        "seccomp",
        LayerState::Enforced,
        format!(
            "{sockets}; no ptrace, process_vm_*, mount or the new mount API, io_uring, \
             device nodes, reboot, modules, keyrings, bpf, TIOCSTI"
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::spawn::KernelSupport;
    use crate::{PathEnv, SandboxPolicy};

    const FULL: KernelSupport = KernelSupport {
        landlock_abi: 7,
        seccomp: true,
        namespaces: Namespaces::Available,
    };

    fn states(sandbox: &Sandbox) -> Vec<(&'static str, LayerState)> {
        sandbox
            .layers()
            .iter()
            .map(|layer| (layer.name, layer.state))
            .collect()
    }

    /// A layer is missing exactly when `enforceable` refuses, whatever the
    /// kernel lacks.
    #[test]
    fn missing_layers_are_what_enforceable_refuses() {
        use LayerState::{Enforced, Missing, Off, Unavailable};
        let refused = Namespaces::Refused { errno: libc::EPERM };
        // (kernel, namespaces wanted, the states of namespaces, landlock,
        // scopes, seccomp)
        let cases = [
            (FULL, true, [Enforced, Enforced, Enforced, Enforced]),
            (FULL, false, [Off, Enforced, Enforced, Enforced]),
            (
                KernelSupport {
                    namespaces: refused,
                    ..FULL
                },
                true,
                [Missing, Enforced, Enforced, Enforced],
            ),
            (
                KernelSupport {
                    namespaces: refused,
                    ..FULL
                },
                false,
                [Off, Enforced, Enforced, Enforced],
            ),
            (
                KernelSupport {
                    landlock_abi: 5,
                    ..FULL
                },
                true,
                [Enforced, Enforced, Unavailable, Enforced],
            ),
            (
                KernelSupport {
                    landlock_abi: 2,
                    ..FULL
                },
                true,
                [Enforced, Missing, Unavailable, Enforced],
            ),
            (
                KernelSupport {
                    landlock_abi: 0,
                    ..FULL
                },
                true,
                [Enforced, Missing, Unavailable, Enforced],
            ),
            (
                KernelSupport {
                    seccomp: false,
                    ..FULL
                },
                true,
                [Enforced, Enforced, Enforced, Missing],
            ),
        ];
        let env = PathEnv::from_process(std::env::temp_dir());
        for (kernel, namespaces, [ns, landlock, scopes, seccomp]) in cases {
            let sandbox = Sandbox::new(&SandboxPolicy::new_workspace_write(), &env)
                .with_kernel(kernel)
                .with_namespaces(namespaces);
            let expected = vec![
                ("namespaces", ns),
                ("capabilities", Enforced),
                ("landlock", landlock),
                ("scopes", scopes),
                ("seccomp", seccomp),
            ];
            let what = format!("{kernel:?}, namespaces {namespaces}");
            assert_eq!(states(&sandbox), expected, "{what}");
            let missing = expected.iter().any(|(_, state)| *state == Missing);
            assert_eq!(sandbox.enforceable().is_err(), missing, "{what}");
        }
    }

    #[test]
    fn danger_full_access_has_no_layers() {
        let env = PathEnv::from_process(std::env::temp_dir());
        let sandbox =
            Sandbox::new(&SandboxPolicy::DangerFullAccess, &env).with_kernel(KernelSupport {
                landlock_abi: 0,
                seccomp: false,
                namespaces: Namespaces::Refused { errno: libc::EPERM },
            });
        assert!(sandbox.layers().is_empty());
        assert!(sandbox.enforceable().is_ok());
    }

    #[test]
    fn each_abi_lists_its_rights_and_the_older_ones() {
        // (ABI, the last right it lists)
        let cases = [
            (0, None),
            (1, Some("ABI 1: file access")),
            (3, Some("ABI 3: truncate")),
            (6, Some("ABI 6: scopes")),
            (7, Some("ABI 7: audit logging")),
            (9, Some("ABI 7: audit logging")),
        ];
        for (abi, last) in cases {
            let rights = landlock_rights(abi);
            assert_eq!(rights.len(), abi.min(7) as usize, "ABI {abi}");
            match last {
                None => assert!(rights.is_empty()),
                Some(start) => assert!(
                    rights.last().unwrap().starts_with(start),
                    "ABI {abi}: {rights:?}"
                ),
            }
        }
    }
}
