//! The README's offline demo: `cargo xtask demo` replays
//! `examples/sessions/fix-calculator.jsonl` over a copy of
//! `examples/workspaces/calculator/`, and `cargo xtask record-example`
//! records that session again with `wharf exec --record`.
//!
//! The model's side of the recorded session is [`SCRIPT`], played to wharf
//! as a recording; what wharf writes with `--record` is the real thing:
//! the requests it actually made (tools offered, calls answered) and the
//! responses it was given, checked on every replay.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::{cargo, run, workspace_root};

const RECORDING: &str = "examples/sessions/fix-calculator.jsonl";
const WORKSPACE: &str = "examples/workspaces/calculator";
const PROMPT: &str = "The calculator's tests fail (`sh test.sh`). Find the bug and fix it.";

/// The model's turns: read the code, run the tests, patch `add`, run the
/// tests again, report. One request per line, in the recording format.
const SCRIPT: &str = r#"
{"request":1,"model":"gpt-5.1-codex","prompt":{"input_items":1,"last_item":"user_message","tool_outputs":[],"tools":[]},"events":[{"type":"created"},{"type":"output_item_done","item":{"type":"reasoning","summary":["Read the calculator and its tests before changing anything."]}},{"type":"output_item_done","item":{"type":"function_call","call_id":"call_1","name":"exec_command","arguments":"{\"cmd\":\"cat calc.sh test.sh\"}"}},{"type":"completed","response_id":"resp_1","usage":{"input_tokens":1200,"cached_input_tokens":0,"output_tokens":40,"reasoning_output_tokens":0,"total_tokens":1240}}]}
{"request":2,"model":"gpt-5.1-codex","prompt":{"input_items":4,"last_item":"tool_output","tool_outputs":["call_1"],"tools":[]},"events":[{"type":"output_item_done","item":{"type":"reasoning","summary":["Run the tests to see what fails."]}},{"type":"output_item_done","item":{"type":"function_call","call_id":"call_2","name":"exec_command","arguments":"{\"cmd\":\"sh test.sh\"}"}},{"type":"completed","response_id":"resp_2","usage":{"input_tokens":1650,"cached_input_tokens":0,"output_tokens":30,"reasoning_output_tokens":0,"total_tokens":1680}}]}
{"request":3,"model":"gpt-5.1-codex","prompt":{"input_items":7,"last_item":"tool_output","tool_outputs":["call_2"],"tools":[]},"events":[{"type":"output_item_done","item":{"type":"reasoning","summary":["add() subtracts: it uses - where it needs +."]}},{"type":"output_item_done","item":{"type":"custom_tool_call","call_id":"call_3","name":"apply_patch","input":"*** Begin Patch\n*** Update File: calc.sh\n@@\n-add() { echo $(( $1 - $2 )); }\n+add() { echo $(( $1 + $2 )); }\n*** End Patch\n"}},{"type":"completed","response_id":"resp_3","usage":{"input_tokens":1800,"cached_input_tokens":0,"output_tokens":60,"reasoning_output_tokens":0,"total_tokens":1860}}]}
{"request":4,"model":"gpt-5.1-codex","prompt":{"input_items":10,"last_item":"tool_output","tool_outputs":["call_3"],"tools":[]},"events":[{"type":"output_item_done","item":{"type":"function_call","call_id":"call_4","name":"exec_command","arguments":"{\"cmd\":\"sh test.sh\"}"}},{"type":"completed","response_id":"resp_4","usage":{"input_tokens":1900,"cached_input_tokens":0,"output_tokens":20,"reasoning_output_tokens":0,"total_tokens":1920}}]}
{"request":5,"model":"gpt-5.1-codex","prompt":{"input_items":12,"last_item":"tool_output","tool_outputs":["call_4"],"tools":[]},"events":[{"type":"output_item_done","item":{"type":"message","role":"assistant","text":"Fixed the bug in `calc.sh`: `add` subtracted its arguments (`$1 - $2`); it now adds them. `sh test.sh` passes all three checks."}},{"type":"completed","response_id":"resp_5","usage":{"input_tokens":2000,"cached_input_tokens":0,"output_tokens":50,"reasoning_output_tokens":0,"total_tokens":2050}}]}
"#;

/// Copies the example workspace to a fresh temporary directory, replays the
/// recording there with the real tools, and prints the transcript.
pub fn demo() -> anyhow::Result<()> {
    let root = workspace_root();
    let scratch = scratch_dir("demo")?;
    let work = scratch.join("calculator");
    copy_dir(&root.join(WORKSPACE), &work)?;
    println!("replaying {RECORDING} in {}", work.display());
    let mut command = wharf(&root, &scratch);
    command.args(["exec", "--replay"]).arg(root.join(RECORDING));
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
    let script = scratch.join("script.jsonl");
    std::fs::write(&script, SCRIPT.trim_start())
        .with_context(|| format!("cannot write {}", script.display()))?;
    let recording = root.join(RECORDING);
    let mut command = wharf(&root, &scratch);
    command.arg("exec").arg("--replay").arg(&script);
    command.arg("--record").arg(&recording);
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

/// A fresh, empty directory under the system's temporary directory.
fn scratch_dir(what: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("wharf-{what}-{}", std::process::id()));
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
