//! wharf's automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask test`: the whole test suite (the README's test command).
//! - `cargo xtask schema`: regenerate `host/config/config.schema.json`.
//! - `cargo xtask custom-build`: build and smoke-test `examples/custom-build`.
//! - `cargo xtask language-examples`: build the Python and JS example plugins.
//! - `cargo xtask bench`: the performance benchmarks (release build).
//! - `cargo xtask demo`: replay the example session offline (the README's).
//! - `cargo xtask record-example`: record the example session again.

// xtask drives cargo and rustup; it is a developer tool, not part of wharf,
// so the rule that only `wharf-sandbox` spawns processes does not apply.
#![allow(clippy::disallowed_methods)]

mod custom_build;
mod example;
mod language_examples;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test     run the whole test suite (with cargo-nextest when installed)
  schema   regenerate host/config/config.schema.json from the config types
  custom-build
           build examples/custom-build (acme-agent) and smoke-test it (the end of `test`)
  language-examples
           build examples/python-word-count and examples/js-word-count into
           target/language-examples (their tools from PyPI and npm; part of `test`)
  bench    run the benchmarks (plugin calls, apply_patch, tool list, sandboxed spawns,
           unified_exec, project instructions, the TUI's frames) in release mode
  demo     replay examples/sessions/fix-calculator.jsonl over a copy of
           examples/workspaces/calculator, offline, with the real tools
  record-example
           record examples/sessions/fix-calculator.jsonl again";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(args.get(1..).unwrap_or_default()),
        Some("schema") => schema(),
        Some("custom-build") => custom_build::run(),
        Some("language-examples") => language_examples::build(),
        Some("bench") => bench(),
        Some("demo") => example::demo(),
        Some("record-example") => example::record_example(),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn run(mut command: Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// The whole suite: the doc tests (which nextest does not run), then every
/// crate's unit and integration tests. Extra arguments go to the runner.
fn test(extra: &[String]) -> anyhow::Result<()> {
    mcp_test_servers()?;
    // The Python and JavaScript example plugins the tests install and call.
    language_examples::build()?;
    let has_nextest = cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if has_nextest {
        // Doc tests first, so that the run closes with nextest's summary of
        // every test rather than with the last crate's (often empty) doc tests.
        let mut doc = cargo();
        doc.args(["test", "--workspace", "--doc"]);
        run(doc)?;
        let mut nextest = cargo();
        nextest.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        nextest.args(extra);
        run(nextest)?;
    } else {
        let mut test = cargo();
        test.args(["test", "--workspace", "--no-fail-fast"]);
        test.args(extra);
        run(test)?;
    }
    custom_build::run()
}

/// The real MCP servers the tests drive (`tests/mcp`, pinned by its
/// lockfile): installed with `npm ci` when missing or older than the lockfile.
fn mcp_test_servers() -> anyhow::Result<()> {
    let dir = workspace_root().join("tests").join("mcp");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    if let (Some(installed), Some(lock)) = (
        modified(&installed),
        modified(&dir.join("package-lock.json")),
    ) && installed >= lock
    {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir);
    run(npm).context(
        "the MCP tests need Node.js and npm to install their servers (Debian: apt-get install nodejs npm)",
    )
}

/// The benchmarks print their figures; they assert no time.
fn bench() -> anyhow::Result<()> {
    mcp_test_servers()?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-cli", "--bench", "pipeline"]);
    run(command)?;
    // MCP: the light server the start-up figure needs, then the MCP part of
    // the pipeline bench and the client's own.
    let mut command = cargo();
    command.args([
        "build",
        "--release",
        "-p",
        "wharf-tests",
        "--bin",
        "wharf-test-mcp-echo",
    ]);
    run(command)?;
    let mut command = cargo();
    command
        .args(["bench", "-p", "wharf-cli", "--bench", "pipeline"])
        .env("WHARF_BENCH", "mcp");
    run(command)?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-plugin-mcp-client", "--bench", "echo"]);
    run(command)?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-sandbox", "--bench", "spawn"]);
    run(command)?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-sandbox", "--bench", "nested_git"]);
    run(command)?;
    let mut command = cargo();
    command.args([
        "bench",
        "-p",
        "wharf-plugin-unified-exec",
        "--bench",
        "exec",
    ]);
    run(command)?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-host", "--bench", "project_doc"]);
    run(command)?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-plugin-telemetry", "--bench", "export"]);
    run(command)?;
    let mut command = cargo();
    command.args(["bench", "-p", "wharf-tui", "--bench", "render"]);
    run(command)
}

/// Regenerates the config schema by running its staleness test in write mode.
fn schema() -> anyhow::Result<()> {
    let mut command = cargo();
    command
        .args([
            "test",
            "--quiet",
            "-p",
            "wharf-config",
            "--lib",
            "checked_in_schema_is_current",
        ])
        .env("WHARF_UPDATE_SCHEMA", "1");
    run(command)?;
    println!("wrote host/config/config.schema.json");
    Ok(())
}
