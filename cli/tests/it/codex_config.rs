//! A codex user's config.toml through the binary: each codex shape (written
//! from codex's documentation of the key) loads, its value reaches what
//! `wharf config show` and `wharf mcp list` report, and each deliberate
//! difference prints its explaining warning on stderr.

use super::*;

/// One shape per row: (the file, lines `config show` must print, a part
/// of a warning it must print; `{path}` is the file's path).
type Row = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const ROWS: &[Row] = &[
    (
        "[approval_policy.granular]\nsandbox_approval = false\nmcp_elicitations = true\n\
         rules = true\n",
        &["approval_policy.granular.sandbox_approval = false # config ({path}:2:1)"],
        &["{path}:4:1: `approval_policy.granular.rules`: wharf has no execpolicy rules"],
    ),
    (
        "approval_policy = { granular = { sandbox_approval = true, skill_approval = false } }\n",
        &["approval_policy.granular.sandbox_approval = true # config ({path}:1:34)"],
        &["`approval_policy.granular.skill_approval`: wharf has no skills"],
    ),
    (
        "model_provider = \"lmstudio\"\n",
        &["model_provider = \"lmstudio\" # config ({path}:1:1)"],
        &[],
    ),
    (
        "model_provider = \"oss\"\n",
        &["model_provider = \"oss\" # config ({path}:1:1)"],
        &[
            "{path}:1:1: `model_provider`: older codex's `oss` provider was a local Ollama server; \
           wharf uses its built-in `ollama` (http://localhost:11434/v1)",
        ],
    ),
    (
        "[mcp_servers.docs]\ncommand = \"docs-mcp\"\n\
         env_vars = [\"A\", { name = \"B\", source = \"remote\" }]\n\
         default_tools_approval_mode = \"writes\"\n",
        &["mcp_servers.docs.default_tools_approval_mode = \"writes\" # config ({path}:4:1)"],
        &[
            "{path}:3:1: `mcp_servers.docs.env_vars.1`: `B` has source = \"remote\"",
            "{path}:4:1: `mcp_servers.docs.default_tools_approval_mode`: wharf does not read MCP \
             tool annotations",
        ],
    ),
    (
        "[features.hooks]\nenabled = true\nlevel = 2\n",
        &["features.hooks = true # config ({path}:2:1)"],
        &["{path}:3:1: `features.hooks.level`: wharf's features take no settings (ignored)"],
    ),
    (
        "[model_providers.proxy]\nbase_url = \"http://127.0.0.1:9/v1\"\nrequires_openai_auth = true\n\
         supports_websockets = true\n",
        &["model_providers.proxy.supports_websockets = true # config ({path}:4:1)"],
        &["{path}:3:1: `model_providers.proxy.requires_openai_auth`: wharf has no ChatGPT sign-in"],
    ),
    (
        "file_opener = \"cursor\"\nhide_agent_reasoning = true\n[tui]\nnotifications = \
         [\"agent-turn-complete\"]\n[history]\npersistence = \"none\"\n",
        &[
            "file_opener = \"cursor\" # config ({path}:1:1)",
            "history.persistence = \"none\" # config ({path}:6:1)",
        ],
        &[],
    ),
];

#[test]
fn codex_shapes_load_through_the_binary() {
    for (text, shown, warned) in ROWS {
        let env = Env::new();
        let path = display(&env.write_config(text));
        let out = env.wharf(&["config", "show"]).success();
        let squeeze = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
        let lines: Vec<String> = out.stdout.lines().map(squeeze).collect();
        for line in *shown {
            let line = line.replace("{path}", &path);
            assert!(
                lines.contains(&line),
                "{text}\nno line\n  {line}\nin\n{}",
                out.stdout
            );
        }
        for warning in *warned {
            let warning = warning.replace("{path}", &path);
            assert!(
                out.stderr.contains(&warning),
                "{text}\nno warning\n  {warning}\nin\n{}",
                out.stderr
            );
        }
        assert!(
            !out.stderr.contains("unknown key `"),
            "{text}\n{}",
            out.stderr
        );
    }
}

#[test]
fn a_server_named_like_a_host_is_skipped_and_mcp_list_says_why() {
    let env = Env::new();
    let path = display(&env.write_config(
        "[mcp_servers.\"github.com\"]\ncommand = \"gh-mcp\"\n[mcp_servers.docs]\ncommand = \"docs-mcp\"\n",
    ));
    let out = env.wharf(&["mcp", "list"]).success();
    let skipped = out
        .stdout
        .lines()
        .find(|line| line.starts_with("github.com"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(
        skipped.split_whitespace().collect::<Vec<_>>(),
        ["github.com", "-", "skipped", "-"]
    );
    assert!(
        out.stdout.lines().any(|line| line.starts_with("docs ")),
        "{}",
        out.stdout
    );
    let why = format!(
        "github.com: skipped: {path}:2:1: mcp_servers.\"github.com\": invalid server name: use \
         only ASCII letters, digits, `-` and `_` (the server is skipped)"
    );
    assert!(out.stdout.contains(&why), "{}", out.stdout);
    assert!(
        out.stderr.contains("(the server is skipped)"),
        "{}",
        out.stderr
    );

    let out = env.wharf(&["mcp", "list", "--json"]).success();
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let skipped: Vec<&serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row.get("skipped").is_some())
        .collect();
    assert_eq!(skipped.len(), 1, "{rows}");
    assert_eq!(skipped[0]["name"], "github.com");
}

/// A project set up for codex: its `.codex/config.toml` is read below
/// `.wharf/config.toml` once the project is trusted, with a note; not
/// before; and not once it changed.
#[test]
fn a_trusted_projects_codex_file_is_a_layer_below_its_wharf_file() {
    let env = Env::new();
    std::fs::create_dir_all(env.cwd().join(".git")).unwrap();
    let codex = env.cwd().join(".codex/config.toml");
    std::fs::create_dir_all(codex.parent().unwrap()).unwrap();
    std::fs::write(
        &codex,
        "model = \"from-codex\"\npersonality = \"friendly\"\nnotify = [\"touch\", \"/tmp/x\"]\n",
    )
    .unwrap();
    let wharf = env.cwd().join(".wharf/config.toml");
    std::fs::create_dir_all(wharf.parent().unwrap()).unwrap();
    std::fs::write(&wharf, "model = \"from-wharf\"\n").unwrap();
    let (codex_path, wharf_path) = (display(&codex), display(&wharf));

    // Not trusted: neither file is read.
    let out = env.wharf(&["config", "show"]).success();
    assert!(!out.stdout.contains("from-"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains(&format!("ignoring {codex_path}: the project")),
        "{}",
        out.stderr
    );

    env.wharf(&["trust"]).success();
    let out = env.wharf(&["config", "show"]).success();
    let squeeze = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines: Vec<String> = out.stdout.lines().map(squeeze).collect();
    assert!(
        lines.contains(&format!(
            "model = \"from-wharf\" # project ({wharf_path}:1:1)"
        )),
        "{}",
        out.stdout
    );
    assert!(
        lines.contains(&format!(
            "personality = \"friendly\" # project ({codex_path}:2:1)"
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("notify"), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "note: reading {codex_path}, the project's codex configuration (below {wharf_path})"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "{codex_path}:3:1: `notify`: codex ignores it in a project's .codex/config.toml too"
        )),
        "{}",
        out.stderr
    );

    // Changed since it was trusted: ignored until trusted again.
    std::fs::write(&codex, "personality = \"pragmatic\"\n").unwrap();
    let out = env.wharf(&["config", "show"]).success();
    assert!(!out.stdout.contains("pragmatic"), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "ignoring {codex_path}: it changed since the project"
        )),
        "{}",
        out.stderr
    );
}

/// `project_root_markers` decides the root that trust is recorded for.
#[test]
fn project_root_markers_move_the_project_root() {
    let env = Env::new();
    let top = env.cwd();
    std::fs::write(top.join("package.json"), "{}").unwrap();
    let sub = top.join("sub");
    std::fs::create_dir_all(sub.join(".git")).unwrap();
    env.write_config("project_root_markers = [\"package.json\"]\n");
    let out = env
        .wharf(&["--cd", sub.to_str().unwrap(), "trust"])
        .success();
    let root = display(&top.canonicalize().unwrap());
    assert!(
        out.stdout.starts_with(&format!("trusted {root} ")),
        "{}",
        out.stdout
    );
}
