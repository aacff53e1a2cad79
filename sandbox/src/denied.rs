//! Whether a command failed because the sandbox denied it something: what
//! wharf looks for before it offers to run a failed command again without
//! the sandbox (`approval_policy = "on-failure"`).
//!
//! The sandbox's denials reach a command as errors of its system calls: a
//! write outside the writable roots is `EROFS` (the read-only mounts) or
//! `EACCES` (Landlock), a blocked system call or socket is `EPERM`
//! (seccomp, Landlock's network rules), and a command killed by seccomp
//! dies of `SIGSYS`. Programs print these in their own words, so the test
//! is on the text: a line that says one of them, in any case (node prints
//! `EACCES: permission denied`, Python `PermissionError: [Errno 1]
//! Operation not permitted`). With the network off, what a failed
//! connection or name lookup prints counts too: DNS fails without a
//! socket, and curl reports a refused socket as a failed connection.
//!
//! A guess on text can be wrong both ways: a command that prints
//! "permission denied" of its own and fails for another reason is offered
//! a re-run it does not need (the user says no), and a denial reported in
//! other words is not offered one (the model reads the failure as usual).

use crate::SandboxPolicy;

/// What commands print when the kernel denied them a file or a system call.
const DENIALS: &[&str] = &[
    "read-only file system",
    "permission denied",
    "operation not permitted",
    "bad system call",
];

/// What commands print when they cannot reach the network.
const NETWORK_FAILURES: &[&str] = &[
    "couldn't connect to server",
    "could not resolve host",
    "temporary failure in name resolution",
    "name or service not known",
    "network is unreachable",
    "failed to lookup address",
    "could not connect to",
    "failed to establish a new connection",
];

/// The line of `output` that shows that a command run under `policy`, which
/// exited with `exit_code`, failed because the policy denied it something;
/// `None` when nothing says so, when the command succeeded or still runs
/// (no exit code), or when the policy denies nothing (danger-full-access).
pub fn denial_line<'a>(
    policy: &SandboxPolicy,
    exit_code: Option<i32>,
    output: &'a str,
) -> Option<&'a str> {
    if *policy == SandboxPolicy::DangerFullAccess || matches!(exit_code, None | Some(0)) {
        return None;
    }
    let network_off = !policy.has_network_access();
    output.lines().map(str::trim).find(|line| {
        let line = line.to_ascii_lowercase();
        let says = |signatures: &[&str]| signatures.iter().any(|s| line.contains(s));
        says(DENIALS) || (network_off && says(NETWORK_FAILURES))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_are_recognized_by_their_words() {
        let read_only = SandboxPolicy::new_read_only();
        let workspace = SandboxPolicy::new_workspace_write();
        let networked = SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: crate::ReadOnlyAccess::FullAccess,
            network_access: true,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: false,
        };
        let full = SandboxPolicy::DangerFullAccess;
        // (what, policy, exit code, output, the telling line)
        type Row<'a> = (
            &'a str,
            &'a SandboxPolicy,
            Option<i32>,
            &'a str,
            Option<&'a str>,
        );
        let rows: &[Row] = &[
            (
                "a write in a read-only mount",
                &read_only,
                Some(1),
                "touch: cannot touch 'x': Read-only file system",
                Some("touch: cannot touch 'x': Read-only file system"),
            ),
            (
                "the telling line among others",
                &workspace,
                Some(1),
                "building…\n  /bin/bash: line 1: /etc/x: Permission denied  \ndone",
                Some("/bin/bash: line 1: /etc/x: Permission denied"),
            ),
            (
                "node's error codes, in lower case",
                &workspace,
                Some(1),
                "Error: EACCES: permission denied, open '/usr/lib/x'",
                Some("Error: EACCES: permission denied, open '/usr/lib/x'"),
            ),
            (
                "a socket seccomp refused",
                &read_only,
                Some(1),
                "PermissionError: [Errno 1] Operation not permitted",
                Some("PermissionError: [Errno 1] Operation not permitted"),
            ),
            (
                "killed by seccomp",
                &workspace,
                Some(159),
                "Bad system call (core dumped)",
                Some("Bad system call (core dumped)"),
            ),
            (
                "curl with the network off",
                &workspace,
                Some(7),
                "curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server",
                Some(
                    "curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server",
                ),
            ),
            (
                "a name lookup with the network off",
                &read_only,
                Some(6),
                "curl: (6) Could not resolve host: example.com",
                Some("curl: (6) Could not resolve host: example.com"),
            ),
            (
                "cargo with the network off",
                &workspace,
                Some(101),
                "error: failed to lookup address information: Temporary failure in name resolution",
                Some(
                    "error: failed to lookup address information: Temporary failure in name resolution",
                ),
            ),
            (
                "a network failure with the network on is the network's",
                &networked,
                Some(6),
                "curl: (6) Could not resolve host: example.com",
                None,
            ),
            (
                "a write denied with the network on is still a denial",
                &networked,
                Some(1),
                "touch: cannot touch '/x': Permission denied",
                Some("touch: cannot touch '/x': Permission denied"),
            ),
            (
                "no sandbox denies nothing",
                &full,
                Some(1),
                "touch: cannot touch '/x': Permission denied",
                None,
            ),
            (
                "a success that prints the words",
                &workspace,
                Some(0),
                "grep found: Permission denied",
                None,
            ),
            (
                "a command that still runs",
                &workspace,
                None,
                "Permission denied",
                None,
            ),
            (
                "a failure of another kind",
                &workspace,
                Some(2),
                "error[E0308]: mismatched types",
                None,
            ),
            (
                "a command that was not found",
                &workspace,
                Some(127),
                "/bin/bash: line 1: ping: command not found",
                None,
            ),
            ("no output", &read_only, Some(1), "", None),
        ];
        for (what, policy, exit_code, output, line) in rows {
            assert_eq!(
                denial_line(policy, *exit_code, output),
                *line,
                "{what}: {output:?}"
            );
        }
    }

    /// The re-run's sandbox lifts the restrictions and nothing else: same
    /// cwd, same variables.
    #[test]
    fn unrestricted_keeps_the_environment() {
        let env = crate::PathEnv {
            cwd: "/work".into(),
            tmpdir: None,
            protected: Vec::new(),
        };
        let sandbox = crate::Sandbox::new(&SandboxPolicy::new_read_only(), &env)
            .with_environment(vec![("A".to_owned(), "1".to_owned())]);
        let unrestricted = sandbox.unrestricted();
        assert_eq!(*unrestricted.policy(), SandboxPolicy::DangerFullAccess);
        assert_eq!(unrestricted.cwd(), sandbox.cwd());
        let form = serde_json::to_value(&unrestricted).unwrap();
        assert_eq!(form["environment"], serde_json::json!([["A", "1"]]));
        assert_eq!(form["policy"]["mode"], "danger-full-access");
    }
}
