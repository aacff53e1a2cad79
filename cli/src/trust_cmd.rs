//! `wharf trust [DIR]` and `wharf trust --revoke [DIR]`: the user's decision
//! about a project, recorded in their own config.toml.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use wharf_config::trust::{TrustTarget, TrustedFile, project_root, root_markers, trust_target};
use wharf_config::{TrustLevel, set_project_trust, trust_project};

use crate::GlobalArgs;

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Mark the project untrusted instead: its .wharf/config.toml is not
    /// read, and sessions there default to read-only.
    #[arg(long)]
    revoke: bool,
    /// A directory of the project (default: the working directory). The
    /// project is its repository root, or the directory itself outside a
    /// repository.
    dir: Option<PathBuf>,
}

pub fn run(args: TrustArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = global.options()?;
    let dir = match &args.dir {
        Some(dir) => options.cwd.join(dir),
        None => options.cwd.clone(),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a directory (name a directory of the project)",
            dir.display()
        );
    }
    let user_path = options.user_config_path();
    if args.revoke {
        let root = project_root(&dir, &root_markers(&user_path));
        set_project_trust(&user_path, &root, TrustLevel::Untrusted, None)?;
        println!(
            "marked {} untrusted in {}: its .wharf/config.toml is not read, and sessions \
             there default to read-only",
            root.display(),
            user_path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let target = trust_target(&dir, &user_path)
        .with_context(|| format!("cannot trust {}", dir.display()))?;
    trust_project(&user_path, &target)?;
    print_trusted(&target, &user_path);
    Ok(ExitCode::SUCCESS)
}

/// What was trusted: the root, and every value its project file sets, so
/// that the user sees what they agreed to.
fn print_trusted(target: &TrustTarget, user_path: &Path) {
    let root = target.root.display();
    println!("trusted {root} (recorded in {})", user_path.display());
    println!(
        "sessions there default to workspace-write and on-request approval, unless your \
         config or flags say otherwise"
    );
    if let Some(codex) = &target.codex_file {
        print_file(codex, ", below .wharf/config.toml");
    }
    let Some(file) = &target.file else {
        println!(
            "it has no .wharf/config.toml; one created later is ignored until you run \
             `wharf trust {root}` again"
        );
        return;
    };
    print_file(file, "");
}

/// A trusted project file and every value it sets.
fn print_file(file: &TrustedFile, layer: &str) {
    for warning in &file.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "wharf now reads {} (sha256 {}) while it stays as it is{layer}; it sets:",
        file.path.display(),
        file.sha256
    );
    if file.entries.is_empty() {
        println!("  (nothing)");
    }
    // TOML's own quoting escapes control characters in keys and values.
    for (key, value) in &file.entries {
        println!("  {key} = {value}");
    }
}
