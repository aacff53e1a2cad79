//! The README's offline demo: `cargo xtask demo` replays
//! `examples/sessions/fix-calculator.jsonl` over a copy of
//! `examples/workspaces/calculator/`, and `cargo xtask record-example`
//! records that session again with `wharf exec --record`.
//!
//! The model's side comes from [`script`], served over HTTP by the
//! scripted model server of `wharf-tests` (the one the end-to-end tests
//! use); wharf talks to it as to any provider, and what it writes with
//! `--record` is the real thing: the requests it made (tools offered,
//! calls answered) and the responses it streamed back, checked on every
//! replay.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use serde_json::json;
use wharf_tests::model_server::{Call, ModelServer, Reply, Turn};

use crate::{cargo, run, workspace_root};

const RECORDING: &str = "examples/sessions/fix-calculator.jsonl";
const WORKSPACE: &str = "examples/workspaces/calculator";
const PROMPT: &str = "The calculator's tests fail (`sh test.sh`). Find the bug and fix it.";

/// The fix `apply_patch` makes.
const PATCH: &str = "*** Begin Patch\n*** Update File: calc.sh\n@@\n-add() { echo $(( $1 - $2 )); }\n+add() { echo $(( $1 + $2 )); }\n*** End Patch\n";

/// The model's turns, served by the scripted model server: read the code,
/// run the tests, patch `add`, run the tests again, report.
fn script() -> Vec<Reply> {
    let exec = |cmd: &str| Call::function("exec_command", json!({ "cmd": cmd, "login": false }));
    vec![
        Turn::new()
            .with_reasoning("Read the calculator and its tests before changing anything.")
            .with_call(exec("cat calc.sh test.sh"))
            .with_usage(1200, 40)
            .into(),
        Turn::new()
            .with_reasoning("Run the tests to see what fails.")
            .with_call(exec("sh test.sh"))
            .with_usage(1650, 30)
            .into(),
        Turn::new()
            .with_reasoning("add() subtracts: it uses - where it needs +.")
            .with_call(Call::custom("apply_patch", PATCH))
            .with_usage(1800, 60)
            .into(),
        Turn::new()
            .with_call(exec("sh test.sh"))
            .with_usage(1900, 20)
            .into(),
        Turn::text(
            "Fixed the bug in `calc.sh`: `add` subtracted its arguments (`$1 - $2`); it now \
             adds them. `sh test.sh` passes all three checks.",
        )
        .with_usage(2000, 50)
        .into(),
    ]
}

/// Copies the example workspace to a fresh temporary directory, replays the
/// recording there with the real tools, and prints the transcript.
pub fn demo() -> anyhow::Result<()> {
    let root = workspace_root();
    let scratch = scratch_dir("demo")?;
    let work = scratch.join("calculator");
    copy_dir(&root.join(WORKSPACE), &work)?;
    println!("replaying {RECORDING} in {}", work.display());
    let mut command = wharf(&root, &scratch);
    command
        .args(["exec", "--skip-git-repo-check", "--replay"])
        .arg(root.join(RECORDING));
    command.arg("-C").arg(&work).arg(PROMPT);
    run(command)?;
    let mut check = Command::new("sh");
    check.arg("test.sh").current_dir(&work);
    println!("\n$ sh test.sh   # in {}", work.display());
    run(check)
}

/// Records the example session again into `examples/sessions/`.
pub fn record_example() -> anyhow::Result<()> {
    let root = workspace_root();
    let scratch = scratch_dir("record")?;
    let work = scratch.join("calculator");
    copy_dir(&root.join(WORKSPACE), &work)?;
    let server = ModelServer::start(script()).context("cannot start the scripted model server")?;
    let recording = root.join(RECORDING);
    let mut command = wharf(&root, &scratch);
    for setting in [
        "model_provider=scripted".to_owned(),
        format!("model_providers.scripted.base_url={}", server.base_url()),
        "model_providers.scripted.wire_api=responses".to_owned(),
    ] {
        command.arg("-c").arg(setting);
    }
    command.args([
        "exec",
        "--skip-git-repo-check",
        "-m",
        "gpt-5.1-codex",
        "--record",
    ]);
    command.arg(&recording);
    command.arg("-C").arg(&work).arg(PROMPT);
    run(command)?;
    let fixed = std::fs::read_to_string(work.join("calc.sh"))
        .with_context(|| format!("cannot read {}", work.join("calc.sh").display()))?;
    if !fixed.contains("$(( $1 + $2 ))") {
        bail!("the recorded session did not fix calc.sh:\n{fixed}");
    }
    println!("recorded {}", recording.display());
    Ok(())
}

/// `wharf` built and run by cargo, with a wharf home of its own (so the
/// user's configuration and sessions are left alone) and the workspace-write
/// sandbox.
fn wharf(root: &Path, scratch: &Path) -> Command {
    let mut command = cargo();
    command
        .current_dir(root)
        .args(["run", "--quiet", "--bin", "wharf", "--"])
        .args(["-s", "workspace-write"])
        .env("WHARF_HOME", scratch.join("wharf-home"));
    command
}

/// A fresh, empty directory for the workspace and the wharf home, in
/// `/var/tmp` where there is one: under `/tmp` the wharf home would lie in
/// a writable root of the sandbox, which wharf refuses with a warning (it
/// then runs without `/tmp` writable).
fn scratch_dir(what: &str) -> anyhow::Result<PathBuf> {
    let var_tmp = Path::new("/var/tmp");
    let base = if var_tmp.is_dir() {
        var_tmp.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("wharf-{what}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            copy_dir(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).with_context(|| {
                format!("cannot copy {} to {}", source.display(), target.display())
            })?;
        }
    }
    Ok(())
}
