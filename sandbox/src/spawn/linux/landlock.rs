//! The Landlock ruleset of a sandboxed command: what it may read, write
//! and execute, and (from ABI 6) whom it may signal or reach through an
//! abstract unix socket.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use landlock::{
    ABI, Access as _, AccessFs, BitFlags, CompatLevel, Compatible as _, PathBeneath, PathFd,
    Ruleset, RulesetAttr as _, RulesetCreatedAttr as _, Scope,
};

use crate::{PathRules, ReadOnlyAccess, SandboxPolicy};

/// The newest Landlock ABI whose rights we use; newer kernels enforce it
/// as well.
const NEWEST_USED_ABI: u32 = 6;

/// Device files every program may open for writing (redirections to
/// `/dev/null`, terminals).
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
];

/// Read with restricted reads and platform defaults on: what programs need
/// from the kernel's pseudo files. Other processes' `/proc/PID` entries
/// stay out of reach: Landlock denies ptrace-like access across domains.
const RESTRICTED_EXTRA_READ: &[&str] = &["/proc", "/dev/pts"];
pub(super) fn landlock_ruleset(
    policy: &SandboxPolicy,
    rules: &PathRules,
    kernel_abi: u32,
) -> Result<OwnedFd, String> {
    let abi = ABI::from(i32::try_from(kernel_abi.min(NEWEST_USED_ABI)).unwrap_or(0));
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let file = AccessFs::from_file(abi);

    let mut grants: Vec<(PathBuf, BitFlags<AccessFs>)> = Vec::new();
    match policy.read_access() {
        None | Some(ReadOnlyAccess::FullAccess) => grants.push(("/".into(), read)),
        Some(ReadOnlyAccess::Restricted {
            include_platform_defaults,
            ..
        }) => {
            let roots = rules.readable_roots().unwrap_or_default();
            grants.extend(roots.iter().map(|root| (root.clone(), read)));
            if *include_platform_defaults {
                grants.extend(RESTRICTED_EXTRA_READ.iter().map(|p| (p.into(), read)));
            }
        }
    }
    for root in rules.writable_roots() {
        grants.push((root.root.clone(), all));
    }
    grants.extend(WRITABLE_DEVICES.iter().map(|p| (p.into(), file)));
    grants.push(("/dev/pts".into(), file | AccessFs::ReadDir));

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(|err| err.to_string())?;
    // From ABI 6: no signals to processes outside the command's domain, no
    // connections to abstract unix sockets made outside it.
    let scopes = Scope::from_all(abi);
    if !scopes.is_empty() {
        ruleset = ruleset.scope(scopes).map_err(|err| err.to_string())?;
    }
    let mut ruleset = ruleset.create().map_err(|err| err.to_string())?;
    for (path, access) in grants {
        // A root that does not exist grants nothing.
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        let Ok(fd) = PathFd::new(&path) else {
            continue;
        };
        let access = if metadata.is_dir() {
            access
        } else {
            access & file
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|err| format!("{}: {err}", path.display()))?;
    }
    Option::<OwnedFd>::from(ruleset).ok_or_else(|| "the ruleset was not created".to_owned())
}
