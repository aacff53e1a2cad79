//! The interactive session end to end: `wharf` in a real terminal (tmux)
//! against the scripted model server, driven with keystrokes and read back
//! from the screen, as a person would use it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use wharf_tests::model_server::{Call, ModelServer, Turn};

use crate::Env;

/// One tmux server of its own (its own socket), running one wharf.
pub(crate) struct Tmux {
    socket: String,
}

/// How long the screen may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(30);

impl Tmux {
    /// Starts `wharf args` in `env` in a `width`×`height` terminal.
    pub(crate) fn start(env: &Env, args: &[String], width: u16, height: u16) -> Tmux {
        let socket = format!("wharf-test-{}-{}", std::process::id(), unique());
        let mut command = vec![
            "env".to_owned(),
            "-i".to_owned(),
            format!("HOME={}", env.home().display()),
            format!("WHARF_HOME={}", env.wharf_home().display()),
            format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
            "TERM=xterm-256color".to_owned(),
            env!("CARGO_BIN_EXE_wharf").to_owned(),
        ];
        command.extend(args.iter().cloned());
        let mut shell = command
            .iter()
            .map(|word| crate::shell_quote(word))
            .collect::<Vec<_>>()
            .join(" ");
        // The exit status, shown once the terminal is the shell's again.
        shell.push_str("; echo \"[wharf exited: $?]\"");
        let tmux = Tmux { socket };
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "wharf",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-c",
            &env.cwd().display().to_string(),
            &shell,
        ]);
        // Keep the pane after wharf exits, to read its status.
        tmux.run(&["set-option", "-t", "wharf", "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub(crate) fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "wharf"])
    }

    /// Waits until the screen shows `text`; returns the screen.
    pub(crate) fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |screen| screen.contains(text))
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` literally.
    pub(crate) fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "wharf", "-l", text]);
    }

    /// Sends keys by tmux's names (`Enter`, `Escape`, `C-c`).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "wharf"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn resize(&self, width: u16, height: u16) {
        self.run(&[
            "resize-window",
            "-t",
            "wharf",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }

    /// Waits for wharf to exit; its exit status.
    fn wait_exit(&self) -> i32 {
        let screen = self.wait_for("[wharf exited: ");
        let status = screen
            .split("[wharf exited: ")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .and_then(|code| code.parse().ok());
        status.unwrap_or_else(|| panic!("no exit status on the screen:\n{screen}"))
    }
}

impl Tmux {
    /// The pid of wharf: the child of the pane's shell.
    fn wharf_pid(&self) -> u32 {
        let shell = self.run(&["list-panes", "-t", "wharf", "-F", "#{pane_pid}"]);
        let shell = shell.trim();
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        children
            .split_whitespace()
            .next()
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no child of the pane's shell {shell}"))
    }

    /// Kills the tmux server: the terminal hangs up under wharf.
    fn kill_server(&self) {
        self.run(&["kill-server"]);
    }
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command's closing parenthesis.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// The flags that point wharf at `server` (its default model is the
/// catalog's, `gpt-5.1-codex`) and trust the working directory (the trust
/// prompt has a test of its own).
pub(crate) fn flags(env: &Env, server: &ModelServer, approval: &str) -> Vec<String> {
    trust(env);
    [
        "-c",
        "model_provider=scripted",
        "-c",
        &format!("model_providers.scripted.base_url={}", server.base_url()),
        "-c",
        "model_providers.scripted.wire_api=responses",
        "-c",
        "model_providers.scripted.request_max_retries=1",
        "-s",
        "workspace-write",
        "-c",
        "sandbox_workspace_write.exclude_slash_tmp=true",
        "-a",
        approval,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn trust(env: &Env) {
    let cwd = std::fs::canonicalize(env.cwd()).unwrap();
    env.write_config(&format!(
        "[projects.{}]\ntrust_level = \"trusted\"\n",
        toml_string(&cwd)
    ));
}

fn toml_string(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).unwrap()
}

/// The output the model was sent for `call_id`, from the recorded requests.
pub(crate) fn output_sent(server: &ModelServer, call_id: &str) -> String {
    for body in server.bodies() {
        for item in body["input"].as_array().into_iter().flatten() {
            if item["call_id"] == call_id
                && item["type"] != "function_call"
                && item["type"] != "custom_tool_call"
            {
                return item["output"].to_string();
            }
        }
    }
    panic!(
        "no output for {call_id} was sent: {:#?}",
        server
            .bodies()
            .iter()
            .map(|b| b["input"].clone())
            .collect::<Vec<_>>()
    )
}

#[test]
fn a_session_with_approvals_a_diff_an_interrupt_and_a_resize() {
    let env = Env::new();
    std::fs::write(env.cwd().join("notes.txt"), "alpha\nbeta\ngamma\n").unwrap();
    let exec = |id: &str, cmd: &str| {
        Call::function("exec_command", json!({"cmd": cmd, "login": false})).with_id(id)
    };
    let server = ModelServer::start([
        // 1: streamed text.
        Turn::text("Hello from **the model**.").with_usage(1000, 20).into(),
        // 2: two commands with the same prefix, approved for the session.
        Turn::calls([exec("c1", "mkdir -p one")]).into(),
        Turn::calls([exec("c2", "mkdir -p two")]).into(),
        Turn::text("Made them.").into(),
        // 3: a command denied with a reason.
        Turn::calls([exec("c3", "rm -rf one")]).into(),
        Turn::text("I will not delete it.").into(),
        // 4: a patch, approved once.
        Turn::custom_call(
            "apply_patch",
            "*** Begin Patch\n*** Update File: notes.txt\n alpha\n-beta\n+BETA\n gamma\n*** End Patch\n",
        )
        .into(),
        Turn::text("Patched.").into(),
        // 5: a response that goes silent: interrupted with Esc.
        Turn::text("this never completes").idle_mid_item(Duration::from_secs(60)),
    ])
    .unwrap();
    let tmux = Tmux::start(&env, &flags(&env, &server, "untrusted"), 100, 30);
    tmux.wait_for("gpt-5.1-codex · workspace-write · approval untrusted");

    tmux.type_text("say hello");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Hello from the model.");

    tmux.type_text("make two directories");
    tmux.keys(&["Enter"]);
    tmux.wait_for("mkdir -p one");
    tmux.keys(&["a"]);
    // `mkdir -p two` is not asked again.
    tmux.wait_for("Made them.");
    assert!(env.cwd().join("one").is_dir() && env.cwd().join("two").is_dir());

    tmux.type_text("clean up");
    tmux.keys(&["Enter"]);
    tmux.wait_for("rm -rf one");
    tmux.keys(&["r"]);
    tmux.type_text("keep it");
    tmux.keys(&["Enter"]);
    tmux.wait_for("I will not delete it.");
    assert!(env.cwd().join("one").is_dir());
    let denied = output_sent(&server, "c3");
    assert!(denied.contains("keep it"), "{denied}");

    tmux.type_text("patch the notes");
    tmux.keys(&["Enter"]);
    tmux.wait_for("BETA");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("Patched.");
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("notes.txt")).unwrap(),
        "alpha\nBETA\ngamma\n"
    );
    // The diff, with the old and new line numbers.
    for line in [
        "@@ -1,3 +1,3 @@",
        "1 1  alpha",
        "2   -beta",
        "  2 +BETA",
        "3 3  gamma",
    ] {
        assert!(screen.contains(line), "{line:?} in:\n{screen}");
    }

    tmux.type_text("talk forever");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Esc");
    tmux.keys(&["Escape"]);
    tmux.wait_for("turn failed: cancelled");

    tmux.resize(60, 20);
    tmux.wait_until("a narrower screen", |screen| {
        screen.lines().all(|line| line.chars().count() <= 60)
    });
    tmux.wait_for("gpt-5.1-codex");

    tmux.type_text("/quit");
    tmux.keys(&["Enter"]);
    assert_eq!(tmux.wait_exit(), 0);

    // The rollout holds the turns.
    let sessions = std::fs::read_dir(env.wharf_home().join("sessions"))
        .unwrap()
        .count();
    assert_eq!(sessions, 1);
    let found = walk(&env.wharf_home().join("sessions"));
    let text = std::fs::read_to_string(&found[0]).unwrap();
    for expected in [
        "say hello",
        "mkdir -p two",
        "keep it",
        "BETA",
        "talk forever",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn trust_prompt_then_resume_picker_then_exec_resume_continue_one_rollout() {
    let env = Env::new();
    let server = ModelServer::start([
        Turn::text("Answer one.").into(),
        Turn::text("Answer two.").into(),
        Turn::text("Answer three.").into(),
    ])
    .unwrap();
    let mut args = flags(&env, &server, "on-request");
    // No decision about the project yet: the prompt asks.
    std::fs::remove_file(env.config_path()).unwrap();
    args.push("first question".to_owned());
    let tmux = Tmux::start(&env, &args, 80, 24);
    tmux.wait_for("Trust this project?");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Answer one.");
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(config.contains("trust_level = \"trusted\""), "{config}");
    // Ctrl-D on an empty composer leaves.
    tmux.keys(&["C-d"]);
    assert_eq!(tmux.wait_exit(), 0);
    drop(tmux);

    // `wharf resume` picks the saved session and continues it.
    let mut args = flags(&env, &server, "on-request");
    args.push("resume".to_owned());
    let tmux = Tmux::start(&env, &args, 80, 24);
    tmux.wait_for("first question");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Answer one.");
    tmux.type_text("second question");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Answer two.");
    // Ctrl-C twice leaves.
    tmux.keys(&["C-c"]);
    tmux.keys(&["C-c"]);
    assert_eq!(tmux.wait_exit(), 0);
    let second = server.bodies()[1]["input"].to_string();
    assert!(
        second.contains("first question") && second.contains("Answer one."),
        "{second}"
    );

    // The same rollout goes on with `wharf exec resume`.
    let mut args = flags(&env, &server, "on-request");
    args.extend(
        [
            "exec",
            "resume",
            "--skip-git-repo-check",
            "--last",
            "third question",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = env.wharf(&args).success();
    assert_eq!(output.stdout, "Answer three.\n");
    let third = server.bodies()[2]["input"].to_string();
    assert!(
        third.contains("second question") && third.contains("Answer two."),
        "{third}"
    );
    let rollouts = walk(&env.wharf_home().join("sessions"));
    assert_eq!(rollouts.len(), 1, "{rollouts:?}");
}

#[test]
fn closing_the_terminal_ends_wharf() {
    let env = Env::new();
    let server = ModelServer::start([]).unwrap();
    let tmux = Tmux::start(&env, &flags(&env, &server, "on-request"), 80, 24);
    tmux.wait_for("Ask wharf to do anything");
    let pid = tmux.wharf_pid();
    tmux.kill_server();
    // Before, the input thread spun on the dead terminal and wharf never
    // exited (nor on SIGTERM).
    let deadline = Instant::now() + WAIT;
    while !ended(pid) {
        if Instant::now() >= deadline {
            // Not left behind spinning.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("wharf ({pid}) still ran after its terminal closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
