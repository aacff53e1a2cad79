//! Escapes through what the host itself trusts: the compile cache, the
//! approval of a typed call, the terminal that shows a tool's output.

use std::io::Write as _;
use std::process::Stdio;

use sha2::Digest as _;

use super::*;
use crate::unified_exec::tool_call;

const WORKSPACE_WRITE: &[&str] = &["-s", "workspace-write"];

/// The compiled entry of the artifact `wasm` in `env`'s compile cache.
fn cache_entry(env: &Env, wasm: &[u8]) -> PathBuf {
    let prefix = format!("{:x}-", sha2::Sha256::digest(wasm));
    let dir = env.wharf_home().join("cache/wasm");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".cwasm")
        })
        .unwrap_or_else(|| panic!("no cache entry for {prefix} in {}", dir.display()))
}

fn add_file_patch(name: &str) -> serde_json::Value {
    serde_json::json!({
        "input": format!("*** Begin Patch\n*** Add File: {name}\n+hi\n*** End Patch")
    })
}

const UNTRUSTED: &[&str] = &["-a", "untrusted", "-s", "workspace-write"];

fn touch_ran() -> serde_json::Value {
    serde_json::json!({ "cmd": "touch ran.txt", "login": false })
}

/// Replacing a compiled component in the cache with another one (a valid
/// entry of another plugin) used to make the built-in apply_patch run that
/// code: compiled code is native code, deserialized unchecked. Now the
/// entry does not verify, and apply_patch is compiled again from its own
/// bytes.
#[test]
fn a_swapped_compile_cache_entry_is_not_run() {
    let env = Env::new();
    // The first start compiles every plugin into the cache.
    env.wharf(&["tool", "list"]).success();
    let apply_patch = cache_entry(&env, include_bytes!(env!("WHARF_APPLY_PATCH_WASM")));
    let view_image = cache_entry(&env, include_bytes!(env!("WHARF_VIEW_IMAGE_WASM")));
    std::fs::copy(&view_image, &apply_patch).unwrap();

    tool_call(
        &env,
        WORKSPACE_WRITE,
        "apply_patch",
        &add_file_patch("hello.txt"),
    )
    .success();
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("hello.txt")).unwrap(),
        "hi\n"
    );
    // The entry was replaced by one wharf wrote, which the next start uses.
    tool_call(
        &env,
        WORKSPACE_WRITE,
        "apply_patch",
        &add_file_patch("again.txt"),
    )
    .success();
    assert!(env.cwd().join("again.txt").is_file());
}

/// `wharf -a untrusted tool call exec_command …` ran without asking. An
/// explicit `-a` now applies to a typed call: with no terminal to ask on,
/// the call is refused and nothing runs.
#[test]
fn an_explicit_approval_policy_applies_to_tool_call() {
    let env = Env::new();
    let denied = tool_call(&env, UNTRUSTED, "exec_command", &touch_ran()).fails_with(1);
    assert!(
        denied
            .stderr
            .contains("needs approval under approval_policy `untrusted`"),
        "{}",
        denied.stderr
    );
    assert!(!env.cwd().join("ran.txt").exists());

    // Without `-a`, a call the user typed is the user's own decision.
    tool_call(&env, WORKSPACE_WRITE, "exec_command", &touch_ran()).success();
    assert!(env.cwd().join("ran.txt").is_file());
}

/// On a terminal, `-a untrusted` asks y/N: `n` (or anything but y/yes)
/// refuses, `y` runs. The terminal is a real pseudo-terminal made by
/// `script`, with the answer typed into it.
#[test]
fn an_explicit_approval_policy_asks_on_a_terminal() {
    for (answer, runs) in [("n", false), ("", false), ("y", true)] {
        let env = Env::new();
        let args = touch_ran().to_string();
        let mut wharf = vec![env!("CARGO_BIN_EXE_wharf")];
        wharf.extend(UNTRUSTED);
        wharf.extend(["tool", "call", "exec_command", "--args", &args]);
        let line: Vec<String> = wharf.into_iter().map(shell_quote).collect();
        let line = line.join(" ");
        let output = on_a_terminal(&env, &line, &format!("{answer}\n"));
        assert!(output.contains("run it? [y/N]"), "{output}");
        assert_eq!(
            env.cwd().join("ran.txt").exists(),
            runs,
            "answer {answer:?}: {output}"
        );
    }
}

/// Runs the shell command `line` on a pseudo-terminal (`script`), typing
/// `input` into it; returns everything the terminal showed.
pub(crate) fn on_a_terminal(env: &Env, line: &str, input: &str) -> String {
    let mut child = env
        .command("script")
        .args(["-q", "-e", "-c", line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A tool's output that tries to act on the terminal (retitle the window,
/// write the clipboard, clear the screen, erase a line to forge the next
/// one, reverse the text) is shown escaped; `--json` keeps it as it was.
#[test]
fn tool_output_cannot_drive_the_terminal() {
    let env = Env::new();
    let hostile =
        r"\033]0;pwned\007\033]52;c;ZXZpbA==\007\033[2Jok\r\033[Kerror: forged\342\200\256txt";
    let args =
        serde_json::json!({ "cmd": format!("printf '{hostile}'"), "login": false }).to_string();
    let call = |json: bool| {
        let mut command = vec![
            "-s",
            "workspace-write",
            "tool",
            "call",
            "exec_command",
            "--args",
            &args,
        ];
        if json {
            command.push("--json");
        }
        env.wharf(&command).success()
    };
    let human = call(false);
    assert!(!human.stdout.contains('\u{1b}'), "{:?}", human.stdout);
    assert!(!human.stdout.contains('\r'), "{:?}", human.stdout);
    assert!(!human.stdout.contains('\u{202e}'), "{:?}", human.stdout);
    assert!(
        human.stdout.contains(
            r"\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2Jok\x0d\x1b[Kerror: forged<U+202E>txt"
        ),
        "{:?}",
        human.stdout
    );
    let json: serde_json::Value = serde_json::from_str(&call(true).stdout).unwrap();
    let text = json["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2Jok\r\u{1b}[Kerror: forged\u{202e}txt"),
        "{text:?}"
    );
}

/// The transcript of `wharf exec` on stderr: a command's output and the
/// model's text that try to act on the terminal are shown escaped, while
/// `--json` events and the rollout keep them as they were.
#[test]
fn the_exec_transcript_cannot_drive_the_terminal() {
    use crate::exec::{done, exec, recording, say};
    let env = Env::new();
    let recording = recording(&[
        (
            1,
            "user_message",
            &[],
            vec![
                exec("call_1", r"printf '\033]0;pwned\007ok\r\033[Kforged'"),
                done(10),
            ],
        ),
        (
            3,
            "tool_output",
            &["call_1"],
            vec![say("done\u{1b}]52;c;ZXZpbA==\u{7}"), done(20)],
        ),
    ]);
    let path = env.cwd().join("session.jsonl");
    std::fs::write(&path, recording).unwrap();
    let replay = display(&path);
    let human = env
        .wharf(&[
            "-s",
            "workspace-write",
            "exec",
            "--skip-git-repo-check",
            "--replay",
            &replay,
            "go",
        ])
        .success();
    assert!(!human.stderr.contains('\u{1b}'), "{:?}", human.stderr);
    assert!(!human.stderr.contains('\r'), "{:?}", human.stderr);
    assert!(
        human.stderr.contains(r"\x1b]0;pwned\x07ok\x0d\x1b[Kforged"),
        "{:?}",
        human.stderr
    );
    assert!(
        human.stderr.contains(r"agent: done\x1b]52;c;ZXZpbA==\x07"),
        "{:?}",
        human.stderr
    );

    let json = env
        .wharf(&[
            "-s",
            "workspace-write",
            "exec",
            "--skip-git-repo-check",
            "--json",
            "--replay",
            &replay,
            "go",
        ])
        .success();
    assert!(
        json.stdout
            .contains(r"\u001b]0;pwned\u0007ok\r\u001b[Kforged"),
        "{}",
        json.stdout
    );
}
