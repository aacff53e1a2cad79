//! Project instructions (`AGENTS.md`) through the binary: what the first
//! request of a session carries, in a trusted and an untrusted project,
//! what a resumed session sends, and what `config show` lists.

use serde_json::Value;
use wharf_tests::model_server::{ModelServer, Turn};

use crate::{Env, input_messages, provider_flags};

/// A repository at the working directory's parent, the session one level
/// below it, with instructions at both levels and in the wharf home.
fn repository(env: &Env) -> std::path::PathBuf {
    let root = env.dir.path().join("repo");
    let cwd = root.join("service");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(
        env.wharf_home().join("AGENTS.md"),
        "Global: answer briefly.\n",
    )
    .unwrap();
    std::fs::write(root.join("AGENTS.md"), "Repo: run the tests first.\n").unwrap();
    std::fs::write(cwd.join("AGENTS.md"), "Service: never touch schema.sql.\n").unwrap();
    cwd
}

fn exec_in(env: &Env, cwd: &std::path::Path, server: &ModelServer, args: &[&str]) -> crate::Output {
    let mut all: Vec<String> = vec!["-C".to_owned(), cwd.display().to_string()];
    all.extend(provider_flags(server, "responses"));
    all.push("exec".to_owned());
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    all.extend(["-m", "gpt-5.1-codex", "--skip-git-repo-check"].map(str::to_owned));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    env.wharf(&all)
}

#[test]
fn a_trusted_project_sends_its_instructions_root_first() {
    let env = Env::new();
    let cwd = repository(&env);
    let trusted = env
        .command(env!("CARGO_BIN_EXE_wharf"))
        .args(["-C", &cwd.display().to_string(), "trust"])
        .output()
        .unwrap();
    assert!(trusted.status.success(), "{trusted:?}");
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    exec_in(&env, &cwd, &server, &["hello"]).success();
    let body = &server.bodies()[0];
    let user = input_messages(body, "user");
    assert_eq!(user.len(), 2, "{user:?}");
    let instructions = &user[0];
    let canonical = cwd.canonicalize().unwrap();
    assert!(
        instructions.starts_with(&format!("# AGENTS.md instructions for {}", cwd.display()))
            || instructions.starts_with(&format!(
                "# AGENTS.md instructions for {}",
                canonical.display()
            )),
        "{instructions}"
    );
    let order: Vec<usize> = [
        "Global: answer briefly.",
        "Repo: run the tests first.",
        "Service: never touch schema.sql.",
    ]
    .iter()
    .map(|part| {
        instructions
            .find(part)
            .unwrap_or_else(|| panic!("{part}: {instructions}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|pair| pair[0] < pair[1]),
        "{instructions}"
    );
    // Each file is named by its path.
    let root_file = canonical.parent().unwrap().join("AGENTS.md");
    assert!(
        instructions.contains(&format!("--- {} ---", root_file.display())),
        "{instructions}"
    );
    assert_eq!(user[1], "hello");
    // Not the system's instructions: the repository wrote them.
    assert!(!body["instructions"].as_str().unwrap().contains("Repo: run"));

    // config show lists the same files.
    let shown = env
        .command(env!("CARGO_BIN_EXE_wharf"))
        .args(["-C", &cwd.display().to_string(), "config", "show"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(shown.stdout).unwrap();
    let listed: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("# instructions: "))
        .collect();
    assert_eq!(listed.len(), 3, "{stdout}");
    assert!(
        listed[1].contains(&root_file.display().to_string()),
        "{stdout}"
    );
}

#[test]
fn an_untrusted_project_sends_only_the_users_own_file() {
    let env = Env::new();
    let cwd = repository(&env);
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    exec_in(&env, &cwd, &server, &["hello"]).success();
    let user = input_messages(&server.bodies()[0], "user");
    assert_eq!(user.len(), 2, "{user:?}");
    assert!(user[0].contains("Global: answer briefly."), "{}", user[0]);
    assert!(
        !user[0].contains("Repo:") && !user[0].contains("Service:"),
        "{}",
        user[0]
    );
}

#[test]
fn no_instructions_no_message() {
    let env = Env::new();
    std::fs::create_dir_all(env.cwd().join(".git")).unwrap();
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    let cwd = env.cwd();
    exec_in(&env, &cwd, &server, &["hello"]).success();
    assert_eq!(input_messages(&server.bodies()[0], "user"), ["hello"]);
}

/// A resumed session already holds the instructions it started with: they
/// are not sent twice, and an edit of AGENTS.md since does not rewrite
/// the past.
#[test]
fn a_resumed_session_sends_them_once() {
    let env = Env::new();
    let cwd = repository(&env);
    let server = ModelServer::start([Turn::text("one").into(), Turn::text("two").into()]).unwrap();
    let first = exec_in(&env, &cwd, &server, &["--json", "first"]).success();
    let thread: Value = serde_json::from_str(first.stdout.lines().next().unwrap()).unwrap();
    let id = thread["thread_id"].as_str().unwrap().to_owned();
    std::fs::write(env.wharf_home().join("AGENTS.md"), "Global: changed.\n").unwrap();
    exec_in(&env, &cwd, &server, &["resume", &id, "second"]).success();
    let user = input_messages(&server.bodies()[1], "user");
    assert_eq!(user.len(), 3, "{user:?}");
    assert!(user[0].contains("Global: answer briefly."), "{}", user[0]);
    assert_eq!(&user[1..], ["first", "second"]);
}
