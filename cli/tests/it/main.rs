//! End-to-end tests of the `wharf` binary: exit codes, output, files.

// These tests drive the real binary; there is no sandbox to go through here.
#![allow(clippy::disallowed_methods)]
// A failed setup step fails the test, which is what unwrap says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apply_patch;
mod approvals;
mod audit;
mod codex_config;
mod compaction;
mod config_cmd;
mod containment;
mod env_policy;
mod escapes;
mod example_grep;
mod example_secret_guard;
mod exec;
mod exec_live;
mod exec_options;
mod features_cmd;
mod heavy;
mod hooks;
mod import_codex;
mod language_examples;
mod local_models;
mod logging;
mod mcp_cmd;
mod mcp_elicitation;
mod mcp_events;
mod mcp_login;
mod mcp_session;
mod mcp_terminal;
mod native;
mod network;
mod notify;
mod openai_compat;
mod persistence;
mod plan;
mod plugin_add;
mod plugin_escapes;
mod plugin_new;
mod project_doc;
mod requirements;
mod requirements_plugins;
mod sandbox_check;
mod sandbox_cmd;
mod telemetry;
mod trust;
mod tui;
mod tui_codex_keys;
mod unified_exec;
mod view_image;
mod wasm_hooks;
mod wasm_versions;
mod write_path;

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Who runs wharf in a test that matters as root and as an unprivileged
/// user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum User {
    /// Whoever runs the tests.
    Me,
    /// `nobody`, through setpriv: only when the tests run as root.
    Nobody,
}

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The users to try: as root, root and nobody; else the one running.
pub(crate) fn users() -> Vec<User> {
    if is_root() {
        vec![User::Me, User::Nobody]
    } else {
        vec![User::Me]
    }
}

/// A fresh world for `user`: as `nobody`, nobody owns its directories.
pub(crate) fn env_for(user: User) -> Env {
    let env = Env::new();
    if user == User::Nobody {
        for dir in [env.dir.path(), env.home.path()] {
            chown_tree(dir);
        }
    }
    env
}

fn chown_tree(path: &Path) {
    const NOBODY: u32 = 65534;
    std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path());
        }
    }
}

/// `word` quoted for `sh`.
pub(crate) fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The flags that make `server` wharf's provider `scripted`, speaking
/// `wire_api` (`responses` or `chat`), with one retry.
pub(crate) fn provider_flags(
    server: &wharf_tests::model_server::ModelServer,
    wire_api: &str,
) -> Vec<String> {
    vec![
        "-c".to_owned(),
        "model_provider=scripted".to_owned(),
        "-c".to_owned(),
        format!("model_providers.scripted.base_url={}", server.base_url()),
        "-c".to_owned(),
        format!("model_providers.scripted.wire_api={wire_api}"),
        "-c".to_owned(),
        "model_providers.scripted.request_max_retries=1".to_owned(),
    ]
}

/// The text of every input message with `role` in a Responses request
/// body, oldest first.
pub(crate) fn input_messages(body: &serde_json::Value, role: &str) -> Vec<String> {
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["type"] == "message" && item["role"] == role)
        .filter_map(|item| item["content"][0]["text"].as_str().map(str::to_owned))
        .collect()
}

/// A temporary `$HOME` with `$WHARF_HOME` inside it, and a working
/// directory. The home is in `/var/tmp`, apart from the working directory's
/// temp dir in `/tmp`: a home below `/tmp` would make wharf refuse `/tmp` as
/// a writable root.
struct Env {
    dir: TempDir,
    home: TempDir,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::Builder::new().tempdir_in("/var/tmp").unwrap(),
        };
        std::fs::create_dir_all(env.wharf_home()).unwrap();
        std::fs::create_dir_all(env.cwd()).unwrap();
        env
    }

    /// `$HOME`.
    fn home(&self) -> PathBuf {
        self.home.path().join("home")
    }

    fn wharf_home(&self) -> PathBuf {
        self.home().join(".wharf")
    }

    fn cwd(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn config_path(&self) -> PathBuf {
        self.wharf_home().join("config.toml")
    }

    fn write_config(&self, text: &str) -> PathBuf {
        std::fs::write(self.config_path(), text).unwrap();
        self.config_path()
    }

    fn wharf(&self, args: &[&str]) -> Output {
        self.wharf_with_vars(args, &[])
    }

    /// `program` to run in the working directory with a cleared
    /// environment but for `HOME`, `WHARF_HOME` and `PATH`.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.cwd())
            .env_clear()
            .env("HOME", self.home())
            .env("WHARF_HOME", self.wharf_home())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        command
    }

    /// The wharf binary to run as `user` (as `nobody` through setpriv), in
    /// the environment of [`Env::command`].
    fn wharf_as(&self, user: User) -> Command {
        let exe = env!("CARGO_BIN_EXE_wharf");
        match user {
            User::Me => self.command(exe),
            User::Nobody => {
                let mut command = self.command("setpriv");
                command
                    .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
                    .arg(exe);
                command
            }
        }
    }

    /// `wharf(args)` with `vars` added to wharf's otherwise cleared
    /// environment.
    fn wharf_with_vars(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let output = self
            .command(env!("CARGO_BIN_EXE_wharf"))
            .args(args)
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

impl Output {
    #[track_caller]
    fn success(self) -> Output {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn fails_with(self, code: i32) -> Output {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(self.stdout.is_empty(), "stdout:\n{}", self.stdout);
        self
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn version_and_help_work_everywhere() {
    let env = Env::new();
    let version = env.wharf(&["--version"]).success();
    assert_eq!(
        version.stdout,
        format!("wharf {}\n", env!("CARGO_PKG_VERSION"))
    );
    let commands: &[&[&str]] = &[
        &[],
        &["features"],
        &["features", "list"],
        &["features", "enable"],
        &["features", "disable"],
        &["config"],
        &["config", "show"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = env.wharf(&args).success();
        assert!(
            help.stdout.contains("Usage: wharf"),
            "{args:?}:\n{}",
            help.stdout
        );
        assert!(
            help.stdout.contains("--enable <FEATURE>"),
            "{args:?}:\n{}",
            help.stdout
        );
    }
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    let env = Env::new();
    // (arguments, exit code, start of stderr)
    let cases: &[(&[&str], i32, &str)] = &[
        // Without a command: the interactive session, which needs a
        // terminal; a word that is no command is its prompt.
        (&[], 2, "error: the interactive session needs a terminal"),
        (
            &["frobnicate"],
            2,
            "error: the interactive session needs a terminal",
        ),
        (
            &["-s", "open", "config", "show"],
            2,
            "error: invalid value 'open' for '--sandbox <MODE>'",
        ),
        (
            &["-c", "model", "config", "show"],
            2,
            "error: -c model: expected key.path=value",
        ),
        (
            &["--profile", "nope", "config", "show"],
            2,
            "error: config profile `nope` not found (no profiles are defined)",
        ),
        (
            &[
                "--enable",
                "hooks",
                "--disable",
                "hooks",
                "features",
                "list",
            ],
            2,
            "error: feature flag `hooks` is both enabled and disabled on the command line",
        ),
        (
            &["features", "enable", "warp_drive"],
            2,
            "error: unknown feature flag: warp_drive; known: ",
        ),
        (
            &["--cd", "/no/such/dir", "config", "show"],
            1,
            "error: cannot use /no/such/dir as the working directory: ",
        ),
    ];
    for (args, code, stderr) in cases {
        let output = env.wharf(args).fails_with(*code);
        assert!(
            output.stderr.starts_with(stderr),
            "{args:?}:\n{}",
            output.stderr
        );
    }
}
