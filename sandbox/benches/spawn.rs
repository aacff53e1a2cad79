//! The cost of the sandbox on a process start (run with `cargo xtask
//! bench`): `true` spawned and waited for bare and under each policy,
//! interleaved in one run so that machine noise hits both alike.

#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use wharf_sandbox::Stdio;

use wharf_sandbox::{Command, PathEnv, ReadOnlyAccess, Sandbox, SandboxPolicy};

const ROUNDS: usize = 300;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(work.join(".git")).unwrap();
    let env = PathEnv {
        cwd: work.clone(),
        tmpdir: None,
        protected: Vec::new(),
    };
    let true_path = which("true");
    let policies = [
        ("read-only", SandboxPolicy::new_read_only()),
        (
            "workspace-write (a .git to protect)",
            SandboxPolicy::new_workspace_write(),
        ),
        (
            "workspace-write, restricted reads",
            SandboxPolicy::WorkspaceWrite {
                writable_roots: Vec::new(),
                read_only_access: ReadOnlyAccess::Restricted {
                    include_platform_defaults: true,
                    readable_roots: Vec::new(),
                },
                network_access: false,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false,
            },
        ),
    ];
    for (name, policy) in policies {
        let sandbox = Sandbox::new(&policy, &env);
        let mut bare = Vec::with_capacity(ROUNDS);
        let mut sandboxed = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS + 20 {
            let started = Instant::now();
            let status = std::process::Command::new(&true_path)
                .stdin(std::process::Stdio::null())
                .status()
                .unwrap();
            let plain = started.elapsed();
            assert!(status.success());

            let started = Instant::now();
            let mut command = Command::new([&true_path]);
            command.stdin(Stdio::null());
            let status = sandbox.spawn(command).unwrap().wait().unwrap();
            let confined = started.elapsed();
            assert!(status.success());
            if round >= 20 {
                bare.push(plain);
                sandboxed.push(confined);
            }
        }
        let (bare, sandboxed) = (p50(&mut bare), p50(&mut sandboxed));
        println!(
            "spawn+wait of `true` under {name}: p50 {:.0} µs vs bare {:.0} µs: overhead {:.0} µs",
            micros(sandboxed),
            micros(bare),
            micros(sandboxed) - micros(bare)
        );
    }
}

fn which(program: &str) -> String {
    for dir in ["/usr/bin", "/bin"] {
        let path = format!("{dir}/{program}");
        if std::path::Path::new(&path).exists() {
            return path;
        }
    }
    program.to_owned()
}

fn p50(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
