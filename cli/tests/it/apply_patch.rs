//! apply_patch through `wharf tool call`: the codex conformance scenarios,
//! run exactly as their README specifies, and the sandbox around the edits.

use std::collections::BTreeMap;

use super::*;

/// `../shared/conformance/apply-patch-codex`, beside the repository.
fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/apply-patch-codex")
}

/// Every file below `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (relative, bytes) in tree(from) {
        let path = to.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Each scenario: copy `input/` to an empty directory, apply `patch.txt`
/// there (whatever the exit status), compare the whole tree with
/// `expected/` byte for byte.
#[test]
fn codex_conformance_scenarios() {
    let dir = scenarios_dir();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("patch.txt").is_file())
        .collect();
    scenarios.sort();
    assert_eq!(
        scenarios.len(),
        23,
        "expected all 23 scenarios in {}",
        dir.display()
    );

    let env = Env::new();
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let name = scenario.file_name().unwrap().to_string_lossy().into_owned();
        let work = env.cwd().join(&name);
        std::fs::create_dir_all(&work).unwrap();
        copy_tree(&scenario.join("input"), &work);
        let patch = std::fs::read_to_string(scenario.join("patch.txt")).unwrap();
        let args = serde_json::json!({ "input": patch }).to_string();
        let work_arg = work.to_string_lossy().into_owned();
        let output = env.wharf(&[
            "--cd",
            &work_arg,
            "-s",
            "workspace-write",
            "tool",
            "call",
            "apply_patch",
            "--args",
            &args,
        ]);
        assert!(
            output.code == 0 || output.code == 1,
            "{name}: {}",
            output.stderr
        );
        let expected = tree(&scenario.join("expected"));
        let actual = tree(&work);
        if actual != expected {
            let show = |t: &BTreeMap<String, Vec<u8>>| {
                t.iter()
                    .map(|(k, v)| format!("  {k}: {:?}", String::from_utf8_lossy(v)))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            failures.push(format!(
                "{name}\n expected:\n{}\n actual:\n{}\n stdout: {}\n stderr: {}",
                show(&expected),
                show(&actual),
                output.stdout,
                output.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 23 scenarios failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn patch_args(patch: &str) -> String {
    serde_json::json!({ "input": patch }).to_string()
}

#[test]
fn edits_follow_the_sandbox() {
    let env = Env::new();
    std::fs::write(env.cwd().join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::create_dir_all(env.cwd().join(".git")).unwrap();
    let update =
        patch_args("*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n+2\n*** End Patch\n");

    // Read-only (the default): denied, nothing changes.
    let out = env
        .wharf(&["tool", "call", "apply_patch", "--args", &update])
        .fails_with(1);
    let path = display(&env.cwd().join("a.txt"));
    assert_eq!(
        out.stderr,
        format!("error: denied: writes are not allowed in read-only mode: {path}\n")
    );
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("a.txt")).unwrap(),
        "one\ntwo\n"
    );

    // Workspace-write: applied, with codex's summary.
    let out = env
        .wharf(&[
            "-s",
            "workspace-write",
            "tool",
            "call",
            "apply_patch",
            "--args",
            &update,
        ])
        .success();
    assert_eq!(
        out.stdout,
        "Success. Updated the following files:\nM a.txt\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("a.txt")).unwrap(),
        "one\n2\n"
    );

    // The protected .git and paths outside the writable roots: denied as a
    // whole, so the allowed first hunk is not applied either.
    let escape = patch_args(
        "*** Begin Patch\n*** Add File: fine.txt\n+ok\n*** Add File: .git/hooks/pre-commit\n+evil\n*** End Patch\n",
    );
    let out = env
        .wharf(&[
            "-s",
            "workspace-write",
            "tool",
            "call",
            "apply_patch",
            "--args",
            &escape,
        ])
        .fails_with(1);
    assert!(
        out.stderr.contains("is inside the protected path"),
        "{}",
        out.stderr
    );
    assert!(!env.cwd().join("fine.txt").exists());
    assert!(!env.cwd().join(".git/hooks/pre-commit").exists());

    let outside = patch_args("*** Begin Patch\n*** Add File: ../outside.txt\n+x\n*** End Patch\n");
    let out = env
        .wharf(&[
            "-s",
            "workspace-write",
            "-c",
            "sandbox_workspace_write.exclude_slash_tmp=true",
            "tool",
            "call",
            "apply_patch",
            "--args",
            &outside,
        ])
        .fails_with(1);
    assert!(
        out.stderr.contains("is outside the writable roots"),
        "{}",
        out.stderr
    );
    assert!(!env.cwd().join("../outside.txt").exists());
}

#[test]
fn bad_patches_and_arguments_are_reported() {
    let env = Env::new();
    // The tool ran and reported the error: its output goes to stdout.
    let out = env.wharf(&[
        "-s",
        "workspace-write",
        "tool",
        "call",
        "apply_patch",
        "--args",
        &patch_args("hello"),
    ]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        "invalid patch, line 1: the first line must be `*** Begin Patch`, found `hello`\n"
    );

    let out = env
        .wharf(&["tool", "call", "apply_patch", "--args", "{\"patch\": 1}"])
        .fails_with(2);
    assert!(
        out.stderr
            .starts_with("error: invalid arguments for `apply_patch`: "),
        "{}",
        out.stderr
    );
    let out = env
        .wharf(&["tool", "call", "apply_patch", "--args", "not json"])
        .fails_with(2);
    assert!(
        out.stderr.contains("the arguments are not JSON"),
        "{}",
        out.stderr
    );
}

#[test]
fn tool_list_and_json_outcome() {
    let env = Env::new();
    // The first start compiles (apply_patch, view_image and update_plan)
    // and says so; the next loads from the cache.
    let cold = env.wharf(&["tool", "list"]).success();
    assert!(
        cold.stdout.contains("\ncompiled 3 plugin(s) in "),
        "{}",
        cold.stdout
    );
    let warm = env.wharf(&["tool", "list"]).success();
    assert!(!warm.stdout.contains("compiled"), "{}", warm.stdout);

    let out = env.wharf(&["tool", "list", "--json"]).success();
    let tools: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let apply_patch = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|tool| tool["name"] == "apply_patch")
        .unwrap();
    assert_eq!(apply_patch["plugin"], "apply-patch");
    assert_eq!(apply_patch["feature"], "apply_patch");
    assert_eq!(apply_patch["enabled"], true);
    assert_eq!(apply_patch["input_schema"]["required"][0], "input");

    let out = env
        .wharf(&["--disable", "apply_patch", "tool", "list"])
        .success();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("apply_patch") && l.contains(" off ")),
        "{}",
        out.stdout
    );
    let add = patch_args("*** Begin Patch\n*** Add File: n.txt\n+x\n*** End Patch\n");
    let out = env
        .wharf(&[
            "--disable",
            "apply_patch",
            "-s",
            "workspace-write",
            "tool",
            "call",
            "apply_patch",
            "--args",
            &add,
        ])
        .fails_with(1);
    assert_eq!(
        out.stderr,
        "error: tool `apply_patch` is not available: feature `apply_patch` is disabled (turn it on with `--enable apply_patch`)\n"
    );

    let out = env
        .wharf(&[
            "-s",
            "workspace-write",
            "tool",
            "call",
            "apply_patch",
            "--json",
            "--args",
            &add,
        ])
        .success();
    let outcome: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(outcome["ok"], true);
    assert_eq!(outcome["plugin"], "apply-patch");
    assert_eq!(
        outcome["applied"][0],
        format!("A {}", display(&env.cwd().join("n.txt")))
    );
    assert!(outcome["timings"]["total_us"].as_u64().unwrap() > 0);
}
