//! codex's interface keys in the interactive session, in a real terminal
//! (tmux): `[history]`, `[tui] status_line`, `hide_agent_reasoning`, and the
//! warnings for what the TUI does not honour.

use std::os::unix::fs::PermissionsExt as _;

use wharf_tests::model_server::{ModelServer, Turn};

use crate::Env;
use crate::tui::{Tmux, flags};

/// `top` (top-level keys and tables) before what `flags` wrote (the trust
/// table), so that the keys are not read as part of it.
fn config_before_trust(env: &Env, top: &str) {
    let trust = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!("{top}\n{trust}"));
}

#[test]
fn prompts_are_recalled_in_the_next_session_and_reasoning_stays_hidden() {
    let env = Env::new();
    let server = ModelServer::start([Turn::text("Answer one.")
        .with_reasoning("Pondering deeply.")
        .into()])
    .unwrap();
    let args = flags(&env, &server, "never");
    config_before_trust(
        &env,
        "hide_agent_reasoning = true\n\
         [history]\nmax_bytes = 100000\n\
         [tui]\nstatus_line = [\"project-name\", \"model\", \"git-branch\"]\n\
         theme = \"dracula\"\n",
    );

    let tmux = Tmux::start(&env, &args, 100, 30);
    tmux.wait_for("work · gpt-5.1-codex");
    tmux.type_text("first question");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Answer one.");
    assert!(!screen.contains("Pondering"), "{screen}");
    tmux.keys(&["C-d"]);
    let screen = tmux.wait_for("[wharf exited: 0]");
    for warning in [
        "warning: `tui.status_line`: wharf's status line has no `git-branch`",
        "warning: `tui.theme = \"dracula\"`: wharf's terminal UI has one set of colours",
    ] {
        assert!(screen.contains(warning), "{warning:?} in:\n{screen}");
    }
    drop(tmux);

    let history = env.wharf_home().join("history.jsonl");
    let text = std::fs::read_to_string(&history).unwrap();
    let entry: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(entry["text"], "first question", "{text}");
    let mode = std::fs::metadata(&history).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // The next session recalls it with ↑.
    let tmux = Tmux::start(&env, &args, 100, 30);
    tmux.wait_for("work · gpt-5.1-codex");
    tmux.keys(&["Up"]);
    tmux.wait_for("first question");
}

#[test]
fn history_persistence_none_keeps_no_file() {
    let env = Env::new();
    let server = ModelServer::start([Turn::text("Fine.").into()]).unwrap();
    let args = flags(&env, &server, "never");
    config_before_trust(&env, "[history]\npersistence = \"none\"\n");
    let tmux = Tmux::start(&env, &args, 100, 30);
    tmux.wait_for("gpt-5.1-codex · workspace-write");
    tmux.type_text("a private prompt");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Fine.");
    tmux.keys(&["C-d"]);
    tmux.wait_for("[wharf exited: 0]");
    assert!(!env.wharf_home().join("history.jsonl").exists());
}

/// `wharf exec` with `settings` (`-c`), against a model that reasons; its
/// stderr.
fn exec_with_reasoning(settings: &[&str]) -> String {
    let env = Env::new();
    let server =
        ModelServer::start([Turn::text("Done.").with_reasoning("Secret musing.").into()]).unwrap();
    let mut args = crate::provider_flags(&server, "responses");
    for setting in settings {
        args.extend(["-c".to_owned(), (*setting).to_owned()]);
    }
    args.extend(
        [
            "exec",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.1-codex",
            "think",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.wharf(&args).success().stderr
}

#[test]
fn exec_hides_reasoning_when_asked() {
    let shown = exec_with_reasoning(&[]);
    assert!(shown.contains("thinking: Secret musing."), "{shown}");
    let hidden = exec_with_reasoning(&["hide_agent_reasoning=true"]);
    assert!(!hidden.contains("Secret musing"), "{hidden}");
    assert!(hidden.contains("agent: Done."), "{hidden}");
}
