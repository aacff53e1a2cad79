//! What one call of a plugin may touch: the manifest's request ∩ the
//! session's sandbox policy, clamped by the host's limits.
//!
//! WASI preopens cannot carve the protected subpaths (`.git`, `.wharf`) out
//! of a writable directory, so a WASM plugin never gets a writable preopen:
//! every read root is preopened read-only, and `fs.write` only means "may
//! return file changes below these roots", which the host applies after
//! checking each path with [`PathRules::check_write`]. Everything asked for
//! and not granted is listed in [`Grant::denied`] with the reason, so that
//! `wharf plugin list` can print it.
//!
//! No read root is, contains or lies under [`NEVER_READ`] (`/proc`, `/sys`,
//! `/dev`): `/proc/self/environ` is wharf's own environment, API keys
//! included. A preopen is one directory, so a request for `/` cannot be
//! "`/` minus `/proc`": it is granted as the other entries of `/`, with a
//! denial line saying so.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// What no plugin may read, whatever it asks and whatever the policy: the
/// kernel's views of processes (wharf's environment and memory), of the
/// machine, and its devices.
pub const NEVER_READ: &[&str] = &["/proc", "/sys", "/dev"];

use wharf_sandbox::{PathRules, SandboxMode, SandboxPolicy};

use super::manifest::{HostPort, Manifest, PathRequest, PluginKind, list_or};

/// The host's bounds on what a call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    /// The longest wall-clock time a call may run.
    pub max_timeout: Duration,
    /// The time a call gets when its plugin states no wish.
    pub default_timeout: Duration,
    pub max_memory_bytes: u64,
    pub default_memory_bytes: u64,
    /// The most output a call may return; not negotiable per plugin.
    pub max_output_bytes: usize,
}

impl Default for HostLimits {
    /// 300 s at most (30 s by default), 1 GiB of memory at most (256 MiB by
    /// default), 1 MiB of output.
    fn default() -> Self {
        HostLimits {
            max_timeout: Duration::from_secs(300),
            default_timeout: Duration::from_secs(30),
            max_memory_bytes: 1 << 30,
            default_memory_bytes: 256 << 20,
            max_output_bytes: 1 << 20,
        }
    }
}

/// The access and limits of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Directories preopened read-only: resolved, readable under the
    /// policy, existing, none inside another.
    pub read_roots: Vec<PathBuf>,
    /// Roots below which the plugin may return file changes: resolved,
    /// writable under the policy, none inside another. Each changed path is
    /// still checked with [`PathRules::check_write`] (protected subpaths).
    pub write_roots: Vec<PathBuf>,
    /// The requested variables that are set, with their values.
    pub env: Vec<(String, String)>,
    /// Whether the plugin may run commands: granted whenever requested.
    /// Commands will run through the sandbox, which enforces the policy on
    /// them; until that exists nothing runs commands.
    pub exec: bool,
    /// The `host:port` patterns a WASM plugin may reach (wasi:http and
    /// wasi:sockets, checked by `wasm::net`): its request when the sandbox
    /// has network, else none.
    pub network: Vec<HostPort>,
    pub timeout: Duration,
    pub memory_bytes: u64,
    pub output_bytes: usize,
    /// What was asked and not granted (or granted only in part), with why.
    pub denied: Vec<String>,
}

impl Grant {
    /// No access at all, with the default limits.
    pub fn none(limits: &HostLimits) -> Grant {
        Grant {
            read_roots: Vec::new(),
            write_roots: Vec::new(),
            env: Vec::new(),
            exec: false,
            network: Vec::new(),
            timeout: limits.default_timeout.min(limits.max_timeout),
            memory_bytes: limits.default_memory_bytes.min(limits.max_memory_bytes),
            output_bytes: limits.max_output_bytes,
            denied: Vec::new(),
        }
    }

    /// One line per kind of access, then one per denial. Variables are
    /// listed by name only: their values may be secrets.
    pub fn describe(&self) -> Vec<String> {
        let paths = |roots: &[PathBuf]| {
            list_or(
                roots.iter().map(|root| root.display().to_string()),
                "nothing",
            )
        };
        let mut lines = vec![
            format!("reads: {}", paths(&self.read_roots)),
            format!(
                "writes (checked file changes): {}",
                paths(&self.write_roots)
            ),
            format!(
                "network: {}",
                list_or(self.network.iter().map(HostPort::to_string), "none")
            ),
            format!(
                "environment: {}",
                list_or(self.env.iter().map(|(name, _)| name.clone()), "none")
            ),
            format!("runs commands: {}", if self.exec { "yes" } else { "no" }),
            format!(
                "limits: {} per call, {} of memory, {} of output",
                show_duration(self.timeout),
                show_bytes(self.memory_bytes),
                show_bytes(u64::try_from(self.output_bytes).unwrap_or(u64::MAX)),
            ),
        ];
        lines.extend(self.denied.iter().map(|denial| format!("denied: {denial}")));
        lines
    }
}

/// Whether the session's sandbox lets anything reach the network, and if
/// not why: what a plugin's `network` request is intersected with. The
/// words are the process sandbox's (`SandboxPolicy::has_network_access`),
/// so a plugin never gets more network than a command would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkPolicy {
    On,
    /// Off, with why and what to change.
    Off(&'static str),
}

impl NetworkPolicy {
    pub fn of(policy: &SandboxPolicy) -> NetworkPolicy {
        match policy {
            SandboxPolicy::ReadOnly { .. } => NetworkPolicy::Off(
                "the sandbox is read-only, which has no network (use `--sandbox \
                 workspace-write` with `sandbox_workspace_write.network_access = true`)",
            ),
            SandboxPolicy::WorkspaceWrite { .. } if !policy.has_network_access() => {
                NetworkPolicy::Off(
                    "the sandbox's network is off (set \
                     `sandbox_workspace_write.network_access = true` to allow it)",
                )
            }
            SandboxPolicy::WorkspaceWrite { .. } | SandboxPolicy::DangerFullAccess => {
                NetworkPolicy::On
            }
        }
    }
}

/// What `manifest`'s network request gets under `network`, in one line for
/// `wharf plugin add`: `network granted: …`, or why nothing is. `None`
/// when it asks for no network.
pub fn describe_network(manifest: &Manifest, network: NetworkPolicy) -> Option<String> {
    let requested = &manifest.capabilities.network;
    if requested.is_empty() {
        return None;
    }
    let hosts = list_or(requested.iter().map(HostPort::to_string), "none");
    Some(match (manifest.kind, network) {
        (PluginKind::Wasm, NetworkPolicy::On) => format!("network granted: {hosts}"),
        (PluginKind::Wasm, NetworkPolicy::Off(why)) => {
            format!("network granted: none ({why})")
        }
        (PluginKind::Native | PluginKind::Mcp, _) => {
            "network granted: none (network grants are enforced for WASM plugins only)".to_owned()
        }
    })
}

/// What `manifest` may touch in one call under `rules` and `network`.
///
/// `home_dir` expands `~/` entries (none: such entries are denied); `env`
/// looks up a variable, so that tests need not touch the process
/// environment.
///
/// The words mean, per mode:
///
/// | request     | read-only        | workspace-write               | danger-full-access |
/// |-------------|------------------|-------------------------------|--------------------|
/// | read `cwd`  | the cwd          | the cwd                       | the cwd            |
/// | read `workspace` | the cwd     | the cwd and the writable roots | the cwd           |
/// | write `cwd` | denied           | the cwd                       | the cwd            |
/// | write `workspace` | denied     | the writable roots            | the cwd            |
///
/// A path is granted if the rules allow it ([`PathRules::check_read`] /
/// [`PathRules::check_write`], which resolve it first), and denied with the
/// sandbox's reason otherwise.
pub fn grant(
    manifest: &Manifest,
    rules: &PathRules,
    network: NetworkPolicy,
    home_dir: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    limits: &HostLimits,
) -> Grant {
    let caps = &manifest.capabilities;
    let mut grant = Grant::none(limits);

    let mut reads = Vec::new();
    for request in &caps.fs_read {
        for path in candidates(request, rules, home_dir, Access::Read, &mut grant.denied) {
            match rules.check_read(&path) {
                Ok(resolved) if never_read(&resolved) => grant.denied.push(format!(
                    "read of {}: {} are never granted to plugins",
                    shown(&path, &resolved),
                    never_read_list()
                )),
                Ok(resolved) if resolved.is_dir() && holds_never_read(&resolved) => {
                    reads.extend(entries_but_never_read(&resolved, rules));
                    grant.denied.push(format!(
                        "read of {}: {} are never granted to plugins; the other entries of {} \
                         are granted instead",
                        shown(&path, &resolved),
                        never_read_list(),
                        resolved.display()
                    ));
                }
                Ok(resolved) if resolved.is_dir() => reads.push(resolved),
                Ok(resolved) => grant.denied.push(format!(
                    "read of {}: not an existing directory (only directories can be opened for reading)",
                    resolved.display()
                )),
                Err(denial) => grant.denied.push(denial.to_string()),
            }
        }
    }
    grant.read_roots = outermost(reads);

    let mut writes = Vec::new();
    for request in &caps.fs_write {
        for path in candidates(request, rules, home_dir, Access::Write, &mut grant.denied) {
            match rules.check_write(&path) {
                Ok(resolved) => writes.push(resolved),
                Err(denial) => grant.denied.push(denial.to_string()),
            }
        }
    }
    grant.write_roots = outermost(writes);

    for name in &caps.env {
        if let Some(value) = env(name)
            && !grant.env.iter().any(|(granted, _)| granted == name)
        {
            grant.env.push((name.clone(), value));
        }
    }
    grant.exec = caps.exec;

    let kind = match manifest.kind {
        PluginKind::Wasm => "WASM",
        PluginKind::Native => "native",
        PluginKind::Mcp => "MCP",
    };
    for entry in &caps.network {
        match (manifest.kind, network) {
            (PluginKind::Wasm, NetworkPolicy::On) => {
                if !grant.network.contains(entry) {
                    grant.network.push(entry.clone());
                }
            }
            (PluginKind::Wasm, NetworkPolicy::Off(why)) => {
                grant.denied.push(format!("network {entry}: {why}"));
            }
            (PluginKind::Native | PluginKind::Mcp, _) => grant.denied.push(format!(
                "network {entry}: network grants are enforced for WASM plugins only, not \
                 {kind} plugins"
            )),
        }
    }

    if let Some(ms) = manifest.limits.timeout_ms {
        let wish = Duration::from_millis(ms);
        grant.timeout = wish.min(limits.max_timeout);
        if wish > limits.max_timeout {
            grant.denied.push(format!(
                "timeout of {}: more than the host allows, lowered to {}",
                show_duration(wish),
                show_duration(limits.max_timeout)
            ));
        }
    }
    if let Some(mb) = manifest.limits.memory_mb {
        let wish = mb.saturating_mul(1 << 20);
        grant.memory_bytes = wish.min(limits.max_memory_bytes);
        if wish > limits.max_memory_bytes {
            grant.denied.push(format!(
                "memory of {}: more than the host allows, lowered to {}",
                show_bytes(wish),
                show_bytes(limits.max_memory_bytes)
            ));
        }
    }
    grant
}

#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

/// The paths `request` stands for under `rules`, before checking them;
/// requests that stand for nothing in this mode are denied here.
fn candidates(
    request: &PathRequest,
    rules: &PathRules,
    home_dir: Option<&Path>,
    access: Access,
    denied: &mut Vec<String>,
) -> Vec<PathBuf> {
    let cwd = rules.cwd().to_path_buf();
    match request {
        PathRequest::Cwd => vec![cwd],
        PathRequest::Workspace => match (rules.mode(), access) {
            (SandboxMode::ReadOnly | SandboxMode::DangerFullAccess, Access::Read) => vec![cwd],
            (SandboxMode::DangerFullAccess, Access::Write) => vec![cwd],
            (SandboxMode::WorkspaceWrite, _) => {
                let roots = rules.writable_roots().iter().map(|root| root.root.clone());
                let mut paths = match access {
                    Access::Read => vec![cwd],
                    Access::Write => Vec::new(),
                };
                paths.extend(roots);
                paths
            }
            (SandboxMode::ReadOnly, Access::Write) => {
                denied.push(
                    "write to the workspace: writes are not allowed in read-only mode".to_owned(),
                );
                Vec::new()
            }
        },
        PathRequest::Path(path) => match path.strip_prefix("~") {
            Err(_) => vec![path.clone()],
            Ok(rest) => match home_dir {
                Some(home) => vec![home.join(rest)],
                None => {
                    let verb = match access {
                        Access::Read => "read of",
                        Access::Write => "write to",
                    };
                    denied.push(format!(
                        "{verb} {}: the home directory is unknown",
                        path.display()
                    ));
                    Vec::new()
                }
            },
        },
    }
}

/// Whether `resolved` is or lies under one of [`NEVER_READ`].
fn never_read(resolved: &Path) -> bool {
    NEVER_READ.iter().any(|never| resolved.starts_with(never))
}

/// Whether one of [`NEVER_READ`] lies under `resolved` (it is `/`).
fn holds_never_read(resolved: &Path) -> bool {
    NEVER_READ
        .iter()
        .any(|never| Path::new(never).starts_with(resolved))
}

fn never_read_list() -> String {
    list_or(NEVER_READ.iter().map(|path| (*path).to_owned()), "nothing")
}

/// The directories in `dir` that `rules` let a plugin read, resolved, minus
/// [`NEVER_READ`] and anything that leads back to a directory holding them.
fn entries_but_never_read(dir: &Path, rules: &PathRules) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(|entry| Some(entry.ok()?.file_name()))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| rules.check_read(&dir.join(name)).ok())
        .filter(|entry| entry.is_dir() && !never_read(entry) && !holds_never_read(entry))
        .collect()
}

/// A requested path, with what it resolves to when that differs.
fn shown(requested: &Path, resolved: &Path) -> String {
    if requested == resolved {
        requested.display().to_string()
    } else {
        format!(
            "{} (resolves to {})",
            requested.display(),
            resolved.display()
        )
    }
}

/// `paths` without repeats and without paths inside another one, in order.
fn outermost(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut kept: Vec<PathBuf> = Vec::new();
    for path in paths {
        if kept.iter().any(|outer| path.starts_with(outer)) {
            continue;
        }
        kept.retain(|inner| !inner.starts_with(&path));
        kept.push(path);
    }
    kept
}

fn show_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn show_bytes(bytes: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    match bytes {
        0 => "0 bytes".to_owned(),
        _ if bytes.is_multiple_of(GIB) => format!("{} GiB", bytes / GIB),
        _ if bytes.is_multiple_of(MIB) => format!("{} MiB", bytes / MIB),
        _ if bytes.is_multiple_of(KIB) => format!("{} KiB", bytes / KIB),
        _ => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests;
