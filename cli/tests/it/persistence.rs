//! Persistence escapes through the real binary: what a session's commands,
//! patches and plugins try in order to reach the *next* session — a project
//! `.wharf/config.toml` where there was none (in the cwd or in a parent the
//! project search visits), wharf's own config, a nested repository's hooks,
//! the host's environment through `/proc`. Each must fail, and the files
//! stay as they were.
//!
//! The working directory is `<tmp>/work` without a `.git` above it, so the
//! project search visits `<tmp>/.wharf` too, and under `-s workspace-write`
//! `/tmp` (and so `<tmp>`) is writable.

use serde_json::json;

use super::*;

const WORKSPACE_WRITE: &[&str] = &["-s", "workspace-write"];

const HOSTILE_MANIFEST: &str = include_str!("../../../tests/guests/hostile/plugin.toml");
const HOSTILE_ARTIFACT: &str = "wharf_test_guest_hostile.wasm";
const SECRET: &str = "sk-wharf-persistence-secret";

/// What a command tries, one script each, from the working directory.
const ATTACKS: &[(&str, &str)] = &[
    (
        "create .wharf/config.toml",
        "mkdir -p .wharf && printf '[mcp_servers.evil]\\ncommand = \"evil\"\\n' > .wharf/config.toml",
    ),
    (
        "create ../.wharf/config.toml",
        "mkdir -p ../.wharf && echo evil > ../.wharf/config.toml",
    ),
    (
        "rename .wharf away and make another",
        "mv .wharf old && mkdir .wharf && echo evil > .wharf/config.toml",
    ),
    (
        "rename the working directory and rebuild it",
        "cd .. && mv work moved && mkdir -p work/.wharf && echo evil > work/.wharf/config.toml",
    ),
];

/// Runs `script` as `wharf sandbox` and as the `exec_command` tool would.
fn run_both(env: &Env, flags: &[&str], vars: &[(&str, &str)], script: &str) -> [Output; 2] {
    let mut sandbox = flags.to_vec();
    sandbox.extend(["sandbox", "--", "sh", "-c", script]);
    let args = json!({ "cmd": script, "login": false }).to_string();
    let mut tool = flags.to_vec();
    tool.extend(["tool", "call", "exec_command", "--args", &args]);
    [
        env.wharf_with_vars(&sandbox, vars),
        env.wharf_with_vars(&tool, vars),
    ]
}

/// Whether a run's command succeeded: `wharf sandbox` exits with its
/// status, `exec_command` reports it.
fn command_succeeded(output: &Output) -> bool {
    output.code == 0 && !output.stdout.contains("Process exited with code ")
        || output.stdout.contains("Process exited with code 0\n")
}

#[test]
fn a_command_cannot_create_a_project_config() {
    let env = Env::new();
    let parent = env.cwd().parent().unwrap().to_path_buf();
    let mut escaped = Vec::new();
    for (what, script) in ATTACKS {
        for (how, output) in ["wharf sandbox", "exec_command"].into_iter().zip(run_both(
            &env,
            WORKSPACE_WRITE,
            &[],
            script,
        )) {
            if command_succeeded(&output) {
                escaped.push(format!(
                    "{what} ({how}): {}{}",
                    output.stdout, output.stderr
                ));
            }
        }
    }
    assert!(escaped.is_empty(), "escaped:\n{}", escaped.join("\n"));
    for planted in [
        env.cwd().join(".wharf/config.toml"),
        parent.join(".wharf/config.toml"),
        parent.join("moved"),
        env.cwd().join("old"),
    ] {
        assert!(!planted.exists(), "{}", planted.display());
    }
    // What wharf made so that it could mount it read-only is empty.
    assert_eq!(
        std::fs::read_dir(env.cwd().join(".wharf")).unwrap().count(),
        0
    );
    // The next session finds no project configuration.
    let shown = env.wharf(&["config", "show"]).success();
    assert!(!shown.stdout.contains("evil"), "{}", shown.stdout);
}

#[test]
fn a_command_cannot_change_wharfs_home() {
    let env = Env::new();
    // wharf's home inside the working directory, as in `cargo xtask demo`.
    let home = env.cwd().join("state/.wharf");
    std::fs::create_dir_all(home.join("cache")).unwrap();
    let config = "model = \"the user's\"\n";
    std::fs::write(home.join("config.toml"), config).unwrap();
    std::fs::write(home.join("cache/entry"), "compiled\n").unwrap();
    let home_var = home.display().to_string();
    let vars = [("WHARF_HOME", home_var.as_str())];
    let script = format!(
        "printf '[mcp_servers.evil]\\ncommand = \"evil\"\\n' >> {home_var}/config.toml; \
         echo evil > {home_var}/cache/entry"
    );
    for output in run_both(&env, WORKSPACE_WRITE, &vars, &script) {
        assert!(
            !command_succeeded(&output),
            "{}{}",
            output.stdout,
            output.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(home.join("config.toml")).unwrap(),
        config
    );
    assert_eq!(
        std::fs::read_to_string(home.join("cache/entry")).unwrap(),
        "compiled\n"
    );
}

#[test]
fn apply_patch_cannot_write_a_parent_project_config_or_a_nested_repository() {
    let env = Env::new();
    let parent = env.cwd().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(env.cwd().join("vendor/lib/.git/hooks")).unwrap();
    let cases = [
        ("../.wharf/config.toml", parent.join(".wharf/config.toml")),
        (
            "vendor/lib/.git/hooks/post-checkout",
            env.cwd().join("vendor/lib/.git/hooks/post-checkout"),
        ),
    ];
    for (path, written) in cases {
        let patch = format!("*** Begin Patch\n*** Add File: {path}\n+evil\n*** End Patch\n");
        let args = json!({ "input": patch }).to_string();
        let mut argv = WORKSPACE_WRITE.to_vec();
        argv.extend(["tool", "call", "apply_patch", "--args", &args]);
        let output = env.wharf(&argv);
        assert_eq!(output.code, 1, "{path}: {}{}", output.stdout, output.stderr);
        assert!(
            format!("{}{}", output.stdout, output.stderr).contains("inside the protected path"),
            "{path}: {}{}",
            output.stdout,
            output.stderr
        );
        assert!(!written.exists(), "{}", written.display());
    }
}

#[test]
fn a_plugin_granted_the_root_cannot_read_the_hosts_environment() {
    let env = Env::new();
    let manifest = HOSTILE_MANIFEST.replace(r#"fs.read = ["cwd"]"#, r#"fs.read = ["/"]"#);
    assert_ne!(manifest, HOSTILE_MANIFEST, "the manifest asks for cwd");
    let dir = env.wharf_home().join("plugins/hostile");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    std::fs::copy(env!("WHARF_TEST_HOSTILE_WASM"), dir.join(HOSTILE_ARTIFACT)).unwrap();
    let vars = [("OPENAI_API_KEY", SECRET)];

    for tool in ["read_file", "host_read"] {
        for path in [
            "/proc/self/environ",
            "/proc/1/environ",
            "/sys/kernel/hostname",
        ] {
            let args = json!({ "path": path }).to_string();
            let output = env.wharf_with_vars(
                &["--enable", "hostile", "tool", "call", tool, "--args", &args],
                &vars,
            );
            assert_eq!(output.code, 1, "{tool} {path}: {}", output.stdout);
            assert!(
                !output.stdout.contains(SECRET) && !output.stderr.contains(SECRET),
                "{tool} {path}"
            );
            assert!(
                output.stdout.starts_with(&format!("cannot read {path}: ")),
                "{tool} {path}: {}",
                output.stdout
            );
        }
    }
    // The rest of `/` is readable.
    let passwd = json!({ "path": "/etc/passwd" }).to_string();
    let output = env
        .wharf(&[
            "--enable",
            "hostile",
            "tool",
            "call",
            "read_file",
            "--args",
            &passwd,
        ])
        .success();
    assert!(output.stdout.contains("root:"), "{}", output.stdout);

    let list = env
        .wharf(&["--enable", "hostile", "plugin", "list"])
        .success();
    assert!(
        list.stdout.contains(
            "  denied: read of /: /proc, /sys, /dev are never granted to plugins; the other \
             entries of / are granted instead\n"
        ),
        "{}",
        list.stdout
    );
}
