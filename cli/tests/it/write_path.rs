//! The host's write path through the binary: a patch that targets
//! something other than a regular file fails and wharf exits, instead of
//! blocking forever on a FIFO.

use std::io::Read as _;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use super::*;

/// Longer than any honest run, compiling the plugins included; the old
/// write path never returned.
const HANG: Duration = Duration::from_secs(60);

/// `env.wharf(args)`, killed and failed if it has not exited within
/// [`HANG`].
fn wharf_bounded(env: &Env, args: &[&str]) -> Output {
    let mut child = env
        .command(env!("CARGO_BIN_EXE_wharf"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes reach end of file when wharf exits (it starts no process
    // that could keep them open).
    let (done, finished) = mpsc::channel();
    let pipes = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ];
    for (which, mut pipe) in pipes.into_iter().enumerate() {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = done.send((which, text));
        });
    }
    let mut texts = [String::new(), String::new()];
    for _ in 0..2 {
        match finished.recv_timeout(HANG) {
            Ok((which, text)) => texts[which] = text,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("wharf {args:?} did not exit within {HANG:?}");
            }
        }
    }
    let status = child.wait().unwrap();
    let [stdout, stderr] = texts;
    Output {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

#[test]
fn apply_patch_onto_a_fifo_fails_instead_of_hanging() {
    let env = Env::new();
    let fifo = env.cwd().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let args = serde_json::json!({
        "input": "*** Begin Patch\n*** Add File: fifo\n+x\n*** End Patch"
    })
    .to_string();
    let output = wharf_bounded(
        &env,
        &[
            "-s",
            "workspace-write",
            "-c",
            "sandbox_workspace_write.exclude_slash_tmp=true",
            "tool",
            "call",
            "apply_patch",
            "--args",
            &args,
        ],
    )
    .fails_with(1);
    let expected = format!(
        "error: cannot write {}: it is a FIFO, not a regular file\n",
        display(&fifo)
    );
    assert!(output.stderr.ends_with(&expected), "{}", output.stderr);
}
