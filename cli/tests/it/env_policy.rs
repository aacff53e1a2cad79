//! `[shell_environment_policy]` through the real binary: what `env` sees
//! when a tool (`exec_command`, `shell`) or `wharf sandbox` starts it, with
//! credentials in wharf's own environment.

use crate::Env;

/// Workspace-write without `/tmp`, where the test's directories live.
const WORKSPACE_WRITE: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
];

/// wharf's environment besides the `Env` helper's `HOME`, `WHARF_HOME` and
/// `PATH`: two credentials and one ordinary variable.
const VARS: &[(&str, &str)] = &[
    ("OPENAI_API_KEY", "sk-test"),
    ("MY_SECRET", "x"),
    ("KEEP_ME", "1"),
];

/// Runs `env` under a policy (`-c` settings) and returns its output.
type Runner = fn(&Env, &[&str]) -> crate::Output;

/// The ways a process gets started.
const RUNNERS: &[(&str, Runner)] = &[
    ("exec_command", exec_command),
    ("shell", shell),
    ("wharf sandbox", sandbox),
];

fn flags<'a>(policy: &[&'a str]) -> Vec<&'a str> {
    let mut flags = WORKSPACE_WRITE.to_vec();
    for setting in policy {
        flags.extend(["-c", setting]);
    }
    flags
}

fn exec_command(env: &Env, policy: &[&str]) -> crate::Output {
    let mut argv = flags(policy);
    argv.extend([
        "tool",
        "call",
        "exec_command",
        "--args",
        r#"{"cmd":"env","login":false}"#,
    ]);
    env.wharf_with_vars(&argv, VARS)
}

fn shell(env: &Env, policy: &[&str]) -> crate::Output {
    let mut argv = flags(policy);
    argv.extend([
        "--disable",
        "unified_exec",
        "tool",
        "call",
        "shell",
        "--args",
        r#"{"command":["env"]}"#,
    ]);
    env.wharf_with_vars(&argv, VARS)
}

fn sandbox(env: &Env, policy: &[&str]) -> crate::Output {
    let mut argv = flags(policy);
    argv.extend(["sandbox", "--", "env"]);
    env.wharf_with_vars(&argv, VARS)
}

#[test]
fn every_started_process_gets_the_policy_environment() {
    // (policy, variables that must be there as `NAME=value` or `NAME`,
    // names that must not)
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &[],
            &["KEEP_ME=1", "HOME", "PATH"],
            &["OPENAI_API_KEY", "MY_SECRET"],
        ),
        (
            &[
                "shell_environment_policy.inherit=none",
                r#"shell_environment_policy.set={PATH="/usr/bin:/bin",FROM_SET="yes"}"#,
            ],
            &["FROM_SET=yes", "PATH=/usr/bin:/bin"],
            &[
                "HOME",
                "WHARF_HOME",
                "KEEP_ME",
                "OPENAI_API_KEY",
                "MY_SECRET",
            ],
        ),
        (
            &[r#"shell_environment_policy.inherit="core""#],
            &["HOME", "PATH"],
            &["WHARF_HOME", "KEEP_ME", "OPENAI_API_KEY"],
        ),
        (
            &[r#"shell_environment_policy.include_only=["PATH","keep*"]"#],
            &["KEEP_ME=1", "PATH"],
            &["HOME", "WHARF_HOME", "OPENAI_API_KEY"],
        ),
        (
            &[
                r#"shell_environment_policy.exclude=["KEEP_?E","wharf_*"]"#,
                r#"shell_environment_policy.set={FROM_SET="yes"}"#,
            ],
            &["FROM_SET=yes", "HOME"],
            &["KEEP_ME", "WHARF_HOME", "MY_SECRET"],
        ),
        (
            &["shell_environment_policy.ignore_default_excludes=true"],
            &["OPENAI_API_KEY=sk-test", "MY_SECRET=x", "KEEP_ME=1"],
            &[],
        ),
    ];
    let env = Env::new();
    for (runner, run) in RUNNERS {
        for (policy, present, absent) in cases {
            let out = run(&env, policy).success();
            let names: Vec<&str> = out
                .stdout
                .lines()
                .filter_map(|line| line.split_once('=').map(|(name, _)| name))
                .collect();
            for var in *present {
                let found = if var.contains('=') {
                    out.stdout.lines().any(|line| line == *var)
                } else {
                    names.contains(var)
                };
                assert!(found, "{runner} {policy:?}: no {var} in\n{}", out.stdout);
            }
            for name in *absent {
                assert!(
                    !names.contains(name),
                    "{runner} {policy:?}: {name} leaked into\n{}",
                    out.stdout
                );
            }
        }
    }
}

#[test]
fn a_bad_pattern_names_its_key() {
    let env = Env::new();
    let out = sandbox(&env, &[r#"shell_environment_policy.exclude=["A=B"]"#]);
    // A configuration error (exit 2) that names the key and the pattern.
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("shell_environment_policy.exclude") && out.stderr.contains("`A=B`"),
        "{}",
        out.stderr
    );
}
