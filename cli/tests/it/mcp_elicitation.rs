//! MCP elicitation through the real binary: server-everything's
//! `trigger-elicitation-request` asks the user for a form while the
//! model's call runs. `wharf exec` has nobody to ask: it declines, says so
//! on stderr (naming the server and what it asked), and the call goes on
//! with the server's answer to a decline. In the TUI the form is shown,
//! filled in with keystrokes and sent; Esc cancels it.

use serde_json::json;
use wharf_tests::mcp_servers::everything;
use wharf_tests::model_server::{Call, ModelServer, Turn};

use crate::Env;
use crate::tui::{Tmux, flags, output_sent};

const TOOL: &str = "mcp__everything__trigger-elicitation-request";

/// Server `everything` over stdio, after what `config` already holds.
fn add_server(env: &Env, config: &str) {
    // node starts in well under a second, but a CI machine busy compiling
    // can take longer than the default 10 s.
    env.write_config(&format!(
        "{config}\n[mcp_servers.everything]\ncommand = \"node\"\nargs = [{:?}, \"stdio\"]\n\
         startup_timeout_sec = 60\n",
        everything().display().to_string()
    ));
}

#[test]
fn exec_declines_a_servers_question_and_says_so() {
    let env = Env::new();
    add_server(&env, "");
    let server = ModelServer::start([
        Turn::calls([Call::function(TOOL, json!({})).with_id("e1")]).into(),
        Turn::text("Declined, fine.").into(),
    ])
    .unwrap();
    let mut args = crate::provider_flags(&server, "responses");
    args.extend(
        [
            "exec",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.1-codex",
            "ask me",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = env.wharf(&args).success();
    assert!(
        output.stderr.contains(
            "mcp server `everything` asked for input during `trigger-elicitation-request` \
             (\"Please provide inputs for the following fields:\", fields: name, check, \
             firstLine, email, homepage, birthdate, integer, number, and 5 more); declined: \
             nobody can answer in this session (`wharf exec` and `wharf tool call` ask no \
             one); the tool goes on without it"
        ),
        "{}",
        output.stderr
    );
    let sent = output_sent(&server, "e1");
    assert!(sent.contains("User declined"), "{sent}");
    assert!(
        output.stdout.contains("Declined, fine."),
        "{}",
        output.stdout
    );
}

#[test]
fn the_tui_shows_the_form_sends_what_was_filled_in_and_cancels_on_esc() {
    let env = Env::new();
    let server = ModelServer::start([
        Turn::calls([Call::function(TOOL, json!({})).with_id("f1")]).into(),
        Turn::text("Thanks, Ada.").into(),
        Turn::calls([Call::function(TOOL, json!({})).with_id("f2")]).into(),
        Turn::text("Cancelled, fine.").into(),
    ])
    .unwrap();
    let flags = flags(&env, &server, "never");
    let trusted = std::fs::read_to_string(env.wharf_home().join("config.toml")).unwrap();
    add_server(&env, &trusted);
    let tmux = Tmux::start(&env, &flags, 100, 40);
    tmux.wait_for("approval never");

    tmux.type_text("ask me");
    tmux.keys(&["Enter"]);
    tmux.wait_for("mcp-everything asks");
    tmux.wait_for("Please provide inputs for the following fields:");
    // The first field (`name`, required) has the cursor.
    tmux.type_text("Ada Lovelace");
    // Then `check`, a yes/no.
    tmux.keys(&["Tab"]);
    tmux.type_text("y");
    tmux.wait_for("[x] yes");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Thanks, Ada.");
    let sent = output_sent(&server, "f1");
    for line in [
        "- Name: Ada Lovelace",
        "- Agreed to terms: true",
        "- Favorite Integer: 42",
    ] {
        assert!(sent.contains(line), "{line} not in {sent}");
    }

    tmux.type_text("ask again");
    tmux.keys(&["Enter"]);
    tmux.wait_for("mcp-everything asks");
    tmux.keys(&["Escape"]);
    tmux.wait_for("Cancelled, fine.");
    let sent = output_sent(&server, "f2");
    assert!(sent.contains("User cancelled"), "{sent}");
}
