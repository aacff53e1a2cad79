//! The smoke test of `examples/custom-build`, the end of `cargo xtask
//! test`: build `acme-agent` alone (so that only its cargo features choose
//! the first-party plugins) and check what the recipe promises: its name,
//! its own plugin listed and callable, the first-party set it chose, its
//! baked-in requirements enforced (a `$WHARF_REQUIREMENTS` of the user's
//! that allows everything changes nothing) and its baked-in config applied.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context as _, bail};

/// One run of `acme-agent`: the arguments, the exit code, and text the
/// output must (`+`) or must not (`-`) hold, `out:` on stdout, `err:` on
/// stderr.
struct Check {
    what: &'static str,
    args: &'static [&'static str],
    code: i32,
    expect: &'static [&'static str],
}

const CHECKS: &[Check] = &[
    Check {
        what: "the build's name and version",
        args: &["--version"],
        code: 0,
        expect: &["+out:acme-agent 0.1.0"],
    },
    Check {
        what: "its own tool, and only the first-party plugins its features chose",
        args: &["tool", "list", "--json"],
        code: 0,
        expect: &[
            "+out:\"acme_ticket\"",
            "+out:\"shell\"",
            "+out:\"apply_patch\"",
            "-out:\"exec_command\"",
        ],
    },
    Check {
        what: "its own tool, called through the pipeline",
        args: &[
            "tool",
            "call",
            "acme_ticket",
            "--args",
            r#"{"id": "acme 42"}"#,
        ],
        code: 0,
        expect: &["+out:ACME-42 https://tracker.acme.example/browse/ACME-42"],
    },
    Check {
        what: "a sandbox mode the baked-in requirements forbid falls back",
        args: &["-s", "danger-full-access", "config", "show"],
        code: 0,
        expect: &[
            "+err:blocked by requirements (acme-agent/requirements.toml (built into this wharf): \
             allowed_sandbox_modes)",
            "+out:sandbox_mode = \"read-only\"",
            "+out:# requirements: acme-agent/requirements.toml (built into this wharf)",
        ],
    },
    Check {
        what: "a feature the baked-in requirements pin cannot be turned off",
        args: &["--disable", "acme_tickets", "tool", "list"],
        code: 2,
        expect: &["+err:feature `acme_tickets` is pinned on, so it cannot be turned off"],
    },
    Check {
        what: "the baked-in config is the build's default, a user's file overrides it",
        args: &["config", "show"],
        code: 0,
        expect: &[
            "+out:# build (acme-agent/config.toml (built into this wharf):",
            "+out:approval_policy = \"on-request\"",
            "+out:sandbox_mode = \"workspace-write\"",
            "+out:model = \"user-model\"",
            "-out:gpt-5-codex",
        ],
    },
];

pub fn run() -> anyhow::Result<()> {
    let mut build = super::cargo();
    build.args(["build", "-p", "wharf-example-custom-build"]);
    super::run(build)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| super::workspace_root().join("target"), PathBuf::from);
    let binary = target.join("debug").join("acme-agent");
    let dir = std::env::temp_dir().join(format!("wharf-xtask-{}", std::process::id()));
    let result = checks(&binary, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    println!(
        "custom build (examples/custom-build): ok ({} checks)",
        CHECKS.len()
    );
    Ok(())
}

/// Runs every check in a fresh home and project under `dir`.
fn checks(binary: &Path, dir: &Path) -> anyhow::Result<()> {
    let home = dir.join("home");
    let work = dir.join("work");
    for created in [&home, &work] {
        std::fs::create_dir_all(created)
            .with_context(|| format!("cannot create {}", created.display()))?;
    }
    std::fs::write(home.join("config.toml"), "model = \"user-model\"\n")
        .context("cannot write the user's config.toml")?;
    // A user's own requirements, which would allow everything: the baked-in
    // ones replace them, so every check below holds with this set.
    let permissive = dir.join("permissive-requirements.toml");
    std::fs::write(
        &permissive,
        "allowed_sandbox_modes = [\"danger-full-access\"]\n[features]\nacme_tickets = false\n",
    )
    .context("cannot write the permissive requirements")?;
    let mut failed = Vec::new();
    for check in CHECKS {
        let output = Command::new(binary)
            .args(check.args)
            .current_dir(&work)
            .env_clear()
            .env("WHARF_HOME", &home)
            .env("WHARF_REQUIREMENTS", &permissive)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        if let Some(problem) = mismatch(check, &output) {
            failed.push(format!(
                "{} (acme-agent {}): {problem}\n--- stdout\n{}--- stderr\n{}",
                check.what,
                check.args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    if !failed.is_empty() {
        bail!(
            "the custom build's smoke test failed:\n{}",
            failed.join("\n")
        );
    }
    Ok(())
}

/// What is wrong with `output` for `check`, if anything.
fn mismatch(check: &Check, output: &Output) -> Option<String> {
    if output.status.code() != Some(check.code) {
        return Some(format!(
            "{}, expected exit code {}",
            output.status, check.code
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    check.expect.iter().find_map(|expectation| {
        let (wanted, rest) = expectation.split_at(1);
        let (stream, text) = match rest.split_once(':') {
            Some(("out", text)) => (&stdout, text),
            Some(("err", text)) => (&stderr, text),
            _ => return Some(format!("malformed expectation {expectation:?}")),
        };
        (stream.contains(text) != (wanted == "+")).then(|| {
            let verb = if wanted == "+" { "lacks" } else { "holds" };
            format!("the output {verb} {text:?}")
        })
    })
}
