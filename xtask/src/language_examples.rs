//! The plugins written in other languages (`examples/python-word-count`,
//! `examples/js-word-count`): their build tools installed at the versions
//! the examples pin, and their components built, into
//! `target/language-examples/`, where the tests of `wharf` find them.
//!
//! Each example ends up as a directory `wharf plugin add` takes as it is:
//! `target/language-examples/<example>/` with the example's `plugin.toml`
//! and the component it names. Nothing is installed or built again while
//! the outputs are newer than their inputs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::Context as _;

use crate::{run, workspace_root};

/// The component's file name, as both manifests' `artifact` says.
const ARTIFACT: &str = "word_count.wasm";

/// Installs componentize-py and componentize-js and builds both examples.
pub(crate) fn build() -> anyhow::Result<()> {
    let out = output_dir();
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    python(&out)?;
    javascript(&out)
}

/// `target/language-examples`, below `$CARGO_TARGET_DIR` when it is set, as
/// `cli/build.rs` places the WASM guests.
fn output_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
        .join("language-examples")
}

/// componentize-py from PyPI, at the version of the example's
/// requirements.txt, in a venv of its own (`python3 -m venv`).
fn python(out: &Path) -> anyhow::Result<()> {
    let example = workspace_root().join("examples").join("python-word-count");
    let requirements = example.join("requirements.txt");
    let venv = out.join("venv");
    let tool = venv.join("bin").join("componentize-py");
    // The venv is made again when requirements.txt changes.
    let installed = venv.join("installed-requirements.txt");
    if !same_contents(&installed, &requirements) {
        let mut python = Command::new("python3");
        python.args(["-m", "venv", "--clear"]).arg(&venv);
        run(python).context(
            "the Python example needs python3 with venv (Debian: apt-get install python3 python3-venv)",
        )?;
        let mut pip = Command::new(venv.join("bin").join("pip"));
        pip.args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements);
        run(pip).context("cannot install componentize-py from PyPI")?;
        copy(&requirements, &installed)?;
    }
    let dest = out.join("python-word-count");
    let inputs = [
        example.join("app.py"),
        installed,
        wit_file(),
        example.join("plugin.toml"),
    ];
    if up_to_date(&dest.join(ARTIFACT), &inputs) {
        return Ok(());
    }
    std::fs::create_dir_all(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut build = Command::new(tool);
    build
        .arg("--wit-path")
        .arg(wit_dir())
        .args(["--world", "plugin", "componentize", "--python-path"])
        .arg(&example)
        .arg("app")
        .arg("--output")
        .arg(dest.join(ARTIFACT));
    timed(build, "examples/python-word-count", &dest.join(ARTIFACT))?;
    copy(&example.join("plugin.toml"), &dest.join("plugin.toml"))
}

/// componentize-js from npm, at the version of the example's
/// package-lock.json (`npm ci`).
fn javascript(out: &Path) -> anyhow::Result<()> {
    let example = workspace_root().join("examples").join("js-word-count");
    let lock = example.join("package-lock.json");
    // A copy of the lockfile `npm ci` installed, to install again when the
    // lockfile changes (npm's own node_modules/.package-lock.json is not a
    // copy, and `npm install` rewrites it).
    let installed = example
        .join("node_modules")
        .join(".wharf-installed-lock.json");
    if !same_contents(&installed, &lock) {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&example);
        run(npm).context(
            "the JavaScript example needs Node.js and npm (Debian: apt-get install nodejs npm)",
        )?;
        copy(&lock, &installed)?;
    }
    let dest = out.join("js-word-count");
    let inputs = [
        example.join("word-count.js"),
        installed,
        wit_file(),
        example.join("plugin.toml"),
    ];
    if up_to_date(&dest.join(ARTIFACT), &inputs) {
        return Ok(());
    }
    std::fs::create_dir_all(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut build = Command::new(
        example
            .join("node_modules")
            .join(".bin")
            .join("componentize-js"),
    );
    // `-d http fetch-event`: without them the component imports
    // `wasi:http`, which wharf does not provide (see the example's README).
    build
        .arg(example.join("word-count.js"))
        .arg("--wit")
        .arg(wit_dir())
        .args(["--world-name", "plugin", "--disable", "http", "fetch-event"])
        .arg("--out")
        .arg(dest.join(ARTIFACT));
    timed(build, "examples/js-word-count", &dest.join(ARTIFACT))?;
    copy(&example.join("plugin.toml"), &dest.join("plugin.toml"))
}

fn wit_dir() -> PathBuf {
    workspace_root().join("wit").join("0.1.0")
}

fn wit_file() -> PathBuf {
    wit_dir().join("plugin.wit")
}

/// Whether both files exist with the same bytes.
fn same_contents(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether `output` exists and is at least as new as every input.
fn up_to_date(output: &Path, inputs: &[PathBuf]) -> bool {
    let modified = |path: &Path| -> Option<SystemTime> {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    let Some(built) = modified(output) else {
        return false;
    };
    inputs
        .iter()
        .all(|input| modified(input).is_some_and(|time| time <= built))
}

/// Runs a build, then says how long it took and how large the component is.
fn timed(command: Command, what: &str, component: &Path) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    run(command)?;
    let seconds = start.elapsed().as_secs_f64();
    let size = std::fs::metadata(component)
        .with_context(|| format!("{what}: the build wrote no {}", component.display()))?
        .len();
    println!(
        "built {what} in {seconds:.1} s: {} ({size} bytes)",
        component.display()
    );
    Ok(())
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(())
}
