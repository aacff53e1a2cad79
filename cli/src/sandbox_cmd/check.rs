//! `wharf sandbox --check`: the configured policy and, layer by layer, what
//! this machine enforces of it. The exit status is
//! [`Sandbox::enforceable`]'s: what a spawn checks first.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use wharf_sandbox::{Layer, Namespaces, Sandbox, SandboxPolicy};

use crate::config_cmd::{ShownRoot, shown_roots};
use crate::terminal::safe;

#[derive(Serialize)]
struct Checked<'a> {
    mode: &'static str,
    /// Whether commands run: `false` with `error` saying why.
    enforceable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// `null` under danger-full-access.
    policy: Option<ShownPolicy<'a>>,
    kernel: ShownKernel,
    /// Empty under danger-full-access: nothing is enforced.
    layers: Vec<Layer>,
}

#[derive(Serialize)]
struct ShownPolicy<'a> {
    writable_roots: Vec<ShownRoot<'a>>,
    /// `null`: everything is readable.
    readable_roots: Option<&'a [PathBuf]>,
    network: bool,
    /// Why the walk for nested repositories stopped early, if it did:
    /// deeper ones are not read-only for commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    nested_git_stopped: Option<String>,
}

#[derive(Serialize)]
struct ShownKernel {
    landlock_abi: u32,
    seccomp: bool,
    /// `available`, or `refused (ERRNO)`.
    namespaces: String,
    /// `[sandbox_linux] namespaces`.
    namespaces_configured: bool,
}

pub fn run(sandbox: &Sandbox, json: bool) -> anyhow::Result<ExitCode> {
    let policy = sandbox.policy();
    // What commands run under: nested repositories included.
    let rules = sandbox.path_rules();
    let enforceable = sandbox.enforceable();
    let kernel = sandbox.kernel();
    let confined = *policy != SandboxPolicy::DangerFullAccess;
    let checked = Checked {
        mode: policy.mode().as_str(),
        enforceable: enforceable.is_ok(),
        error: enforceable.as_ref().err().map(ToString::to_string),
        policy: confined.then(|| ShownPolicy {
            writable_roots: shown_roots(&rules),
            readable_roots: rules.readable_roots(),
            network: policy.has_network_access(),
            nested_git_stopped: sandbox
                .nested_git()
                .stopped
                .as_ref()
                .map(ToString::to_string),
        }),
        kernel: ShownKernel {
            landlock_abi: kernel.landlock_abi,
            seccomp: kernel.seccomp,
            namespaces: match kernel.namespaces {
                Namespaces::Available => "available".to_owned(),
                Namespaces::Refused { errno } => {
                    format!("refused ({})", std::io::Error::from_raw_os_error(errno))
                }
            },
            namespaces_configured: sandbox.namespaces(),
        },
        layers: sandbox.layers(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&checked)?);
    } else {
        print_text(&checked);
    }
    enforceable?;
    Ok(ExitCode::SUCCESS)
}

fn print_text(checked: &Checked<'_>) {
    println!("policy: {}", checked.mode);
    let Some(policy) = &checked.policy else {
        println!("nothing is enforced: commands run unconfined, as wharf itself");
        return;
    };
    if policy.writable_roots.is_empty() {
        println!("  writable roots: none");
    } else {
        println!("  writable roots:");
        for root in &policy.writable_roots {
            println!("    {}", shown_root(root));
        }
    }
    match policy.readable_roots {
        None => println!("  readable: everything"),
        Some(roots) => {
            println!("  readable roots:");
            for root in roots {
                println!("    {}", shown_path(root));
            }
        }
    }
    println!("  network: {}", if policy.network { "on" } else { "off" });
    if let Some(stopped) = &policy.nested_git_stopped {
        println!(
            "  nested git repositories: the walk stopped {stopped}; those found are \
             read-only for commands, deeper ones are not"
        );
    }
    println!("layers:");
    let width = checked
        .layers
        .iter()
        .map(|layer| layer.name.len())
        .max()
        .unwrap_or(0);
    for layer in &checked.layers {
        println!(
            "  {:width$}  {}: {}",
            layer.name,
            layer.state.as_str(),
            layer.summary
        );
        for detail in &layer.details {
            println!("  {:width$}    {detail}", "");
        }
    }
    if checked.enforceable {
        println!("this machine enforces the {} policy", checked.mode);
    }
}

fn shown_path(path: &Path) -> String {
    safe(&path.display().to_string()).into_owned()
}

/// `/work (read-only inside: /work/.git, /work/.wharf)`.
fn shown_root(root: &ShownRoot<'_>) -> String {
    if root.read_only_subpaths.is_empty() {
        return shown_path(root.root);
    }
    let inside: Vec<String> = root
        .read_only_subpaths
        .iter()
        .map(|path| shown_path(path))
        .collect();
    format!(
        "{} (read-only inside: {})",
        shown_path(root.root),
        inside.join(", ")
    )
}
