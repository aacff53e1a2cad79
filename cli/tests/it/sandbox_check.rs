//! Where the kernel refuses namespaces: `wharf` started under a seccomp
//! filter that refuses them as Docker's default profile does (`unshare`,
//! `setns` and `clone` with a `CLONE_NEW*` flag answer EPERM; `clone3`,
//! whose flags seccomp cannot read, answers ENOSYS so that libc falls back
//! to `clone`). Commands then fail closed unless `[sandbox_linux]
//! namespaces = false` says to run them under Landlock and seccomp only;
//! `wharf sandbox --check` says which.
//!
//! As root, and again as `nobody` (where the refusal hits the user
//! namespace instead of the mount namespace).

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt as _;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use wharf_sandbox::{KernelSupport, Namespaces};

use crate::{Env, User, env_for, users};

const WORKSPACE_WRITE: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
];

const OPT_OUT: &[&str] = &["-c", "sandbox_linux.namespaces=false"];

/// The flags that create a namespace; `CLONE_NEWTIME` only for `unshare`
/// (in `clone`'s flags its bit is part of the exit signal).
const CLONE_NEW: &[u64] = &[
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWCGROUP as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
];
const CLONE_NEWTIME: u64 = 0x80;

/// A filter whose matching calls answer `errno`.
fn filter(rules: Vec<(i64, Vec<SeccompRule>)>, errno: i32) -> BpfProgram {
    let arch = std::env::consts::ARCH.try_into().unwrap();
    let rules: BTreeMap<i64, Vec<SeccompRule>> = rules.into_iter().collect();
    SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        arch,
    )
    .unwrap()
    .try_into()
    .unwrap()
}

/// One rule per flag: the call matches when any of `flags` is set.
fn any_flag(flags: &[u64]) -> Vec<SeccompRule> {
    flags
        .iter()
        .map(|&flag| {
            let set = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )
            .unwrap();
            SeccompRule::new(vec![set]).unwrap()
        })
        .collect()
}

/// The two filters of a machine that refuses namespaces.
fn refusing_filters() -> [BpfProgram; 2] {
    let mut unshare_flags = CLONE_NEW.to_vec();
    unshare_flags.push(CLONE_NEWTIME);
    let refused = filter(
        vec![
            (libc::SYS_unshare, any_flag(&unshare_flags)),
            (libc::SYS_clone, any_flag(CLONE_NEW)),
            (libc::SYS_setns, Vec::new()),
        ],
        libc::EPERM,
    );
    let no_clone3 = filter(vec![(libc::SYS_clone3, Vec::new())], libc::ENOSYS);
    [refused, no_clone3]
}

/// Runs wharf with `args` as `user`, under the refusing filters when
/// `refuse`.
fn wharf(env: &Env, user: User, refuse: bool, args: &[&str]) -> crate::Output {
    let mut command = env.wharf_as(user);
    command.args(args);
    if refuse {
        let filters = refusing_filters();
        // SAFETY: the closure only makes system calls (prctl and seccomp,
        // in seccompiler::apply_filter) on programs built before the fork.
        unsafe {
            command.pre_exec(move || {
                for program in &filters {
                    seccompiler::apply_filter(program).map_err(std::io::Error::other)?;
                }
                Ok(())
            });
        }
    }
    let output = command.output().unwrap();
    crate::Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn args<'a>(parts: &[&[&'a str]]) -> Vec<&'a str> {
    parts.concat()
}

const WRITE_F: &[&str] = &["sandbox", "--", "sh", "-c", "echo x > f"];

#[test]
fn a_refusal_fails_closed_and_the_opt_out_runs_with_a_warning() {
    for user in users() {
        let env = env_for(user);
        let f = env.cwd().join("f");

        // Refused: nothing runs, and the message says what to do.
        let failed = wharf(&env, user, true, &args(&[WORKSPACE_WRITE, WRITE_F]));
        assert_eq!(failed.code, 1, "{user:?}: {}", failed.stderr);
        assert!(!f.exists(), "{user:?}");
        for needle in [
            "the workspace-write sandbox cannot be enforced here",
            "refuses the user, mount and PID namespaces",
            "Operation not permitted",
            "`[sandbox_linux] namespaces = false`",
            "the command was not run",
        ] {
            assert!(
                failed.stderr.contains(needle),
                "{user:?}: {}",
                failed.stderr
            );
        }
        let check = wharf(
            &env,
            user,
            true,
            &args(&[WORKSPACE_WRITE, &["sandbox", "--check"]]),
        );
        assert_eq!(check.code, 1, "{user:?}: {}", check.stderr);
        assert!(
            check.stdout.contains(
                "namespaces    missing: refused by this machine (Operation not permitted"
            ),
            "{user:?}: {}",
            check.stdout
        );
        assert!(
            check.stderr.contains("cannot be enforced here"),
            "{user:?}: {}",
            check.stderr
        );

        // Opted out: the command runs, under Landlock and seccomp, and
        // wharf says what that gives up.
        let ran = wharf(
            &env,
            user,
            true,
            &args(&[WORKSPACE_WRITE, OPT_OUT, WRITE_F]),
        );
        assert_eq!(ran.code, 0, "{user:?}: {}", ran.stderr);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "x\n", "{user:?}");
        assert_eq!(
            ran.stderr
                .matches("warning: `[sandbox_linux] namespaces = false`")
                .count(),
            1,
            "{user:?}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr.contains(".git, .wharf"),
            "{user:?}: {}",
            ran.stderr
        );
        // Landlock still holds outside the roots.
        let outside = env.cwd().parent().unwrap().join("outside.txt");
        let script = format!("echo x > {}", outside.display());
        let denied = wharf(
            &env,
            user,
            true,
            &args(&[
                WORKSPACE_WRITE,
                OPT_OUT,
                &["sandbox", "--", "sh", "-c", &script],
            ]),
        );
        assert_ne!(denied.code, 0, "{user:?}");
        assert!(!outside.exists(), "{user:?}");

        let check = wharf(
            &env,
            user,
            true,
            &args(&[WORKSPACE_WRITE, OPT_OUT, &["sandbox", "--check"]]),
        );
        assert_eq!(check.code, 0, "{user:?}: {}", check.stderr);
        assert!(
            check
                .stdout
                .contains("namespaces    off: turned off by `[sandbox_linux] namespaces = false`"),
            "{user:?}: {}",
            check.stdout
        );
        assert!(
            check.stdout.contains("other processes are visible"),
            "{user:?}: {}",
            check.stdout
        );
    }
}

/// The opt-out written in config.toml, and danger-full-access, which
/// enforces nothing and so needs nothing.
#[test]
fn the_opt_out_in_config_toml_and_danger_full_access() {
    let env = Env::new();
    env.write_config("[sandbox_linux]\nnamespaces = false\n");
    let ran = wharf(&env, User::Me, true, &args(&[WORKSPACE_WRITE, WRITE_F]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(env.cwd().join("f").is_file());
    assert!(ran.stderr.contains("namespaces = false"), "{}", ran.stderr);

    env.write_config("[sandbox_linux]\nnamespaces = \"no\"\n");
    let bad = wharf(&env, User::Me, true, &args(&[WORKSPACE_WRITE, WRITE_F])).fails_with(1);
    assert_eq!(
        bad.stderr,
        format!(
            "error: {}:2:14: sandbox_linux.namespaces: invalid type: string \"no\", expected a \
             boolean\n",
            env.config_path().display()
        )
    );

    let env = Env::new();
    let danger = wharf(
        &env,
        User::Me,
        true,
        &["-s", "danger-full-access", "sandbox", "--check"],
    );
    assert_eq!(danger.code, 0, "{}", danger.stderr);
    assert_eq!(
        danger.stdout,
        "policy: danger-full-access\nnothing is enforced: commands run unconfined, as wharf \
         itself\n"
    );
}

/// exec_command runs in unified_exec, a native plugin that gets the
/// session's sandbox serialized: the opt-out must reach it.
#[test]
fn exec_command_follows_the_opt_out() {
    let exec = |env: &Env, flags: &[&str]| {
        let call = serde_json::json!({ "cmd": "echo x > g; cat g", "login": false }).to_string();
        wharf(
            env,
            User::Me,
            true,
            &args(&[
                WORKSPACE_WRITE,
                flags,
                &["tool", "call", "exec_command", "--args", &call],
            ]),
        )
    };
    let env = Env::new();
    let refused = exec(&env, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("refuses the user, mount and PID namespaces")
            && refused
                .stderr
                .contains("`[sandbox_linux] namespaces = false`"),
        "{}",
        refused.stderr
    );
    assert!(!env.cwd().join("g").exists());

    let ran = exec(&env, OPT_OUT);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("Process exited with code 0\n"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.ends_with("x\n"), "{}", ran.stdout);
    assert!(env.cwd().join("g").is_file());
}

/// Without a filter, `--check` reports what the sandbox crate detects in
/// this process: the Landlock ABI this kernel has, and its namespaces.
#[test]
fn check_reports_this_kernel() {
    let kernel = KernelSupport::detect();
    let env = Env::new();
    let human = wharf(
        &env,
        User::Me,
        false,
        &args(&[WORKSPACE_WRITE, &["sandbox", "--check"]]),
    );
    let json = wharf(
        &env,
        User::Me,
        false,
        &args(&[WORKSPACE_WRITE, &["sandbox", "--check", "--json"]]),
    );
    assert_eq!(human.code, json.code);
    let checked: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(checked["mode"], "workspace-write");
    assert_eq!(checked["kernel"]["landlock_abi"], kernel.landlock_abi);
    assert_eq!(checked["policy"]["network"], false);
    let cwd = env.cwd().canonicalize().unwrap();
    assert_eq!(
        checked["policy"]["writable_roots"][0]["root"],
        cwd.display().to_string()
    );
    let layers = checked["layers"].as_array().unwrap();
    let names: Vec<&str> = layers
        .iter()
        .map(|layer| layer["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "namespaces",
            "capabilities",
            "landlock",
            "scopes",
            "seccomp"
        ]
    );
    let landlock = &layers[2];
    assert!(
        landlock["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("ABI {}:", kernel.landlock_abi)),
        "{landlock}"
    );
    assert_eq!(
        landlock["details"].as_array().map_or(0, Vec::len),
        kernel.landlock_abi.min(7) as usize
    );
    // The LSM list, where securityfs is mounted, agrees.
    if let Ok(lsm) = std::fs::read_to_string("/sys/kernel/security/lsm") {
        assert_eq!(
            lsm.split(',').any(|name| name.trim() == "landlock"),
            kernel.landlock_abi > 0,
            "{lsm}"
        );
    }
    match kernel.namespaces {
        Namespaces::Available => {
            let human = human.success();
            assert!(
                human.stdout.contains("namespaces    enforced: "),
                "{}",
                human.stdout
            );
            assert_eq!(layers[0]["state"], "enforced");
            assert_eq!(checked["kernel"]["namespaces"], "available");
        }
        Namespaces::Refused { .. } => {
            assert_eq!(human.code, 1);
            assert_eq!(layers[0]["state"], "missing");
        }
    }
}
