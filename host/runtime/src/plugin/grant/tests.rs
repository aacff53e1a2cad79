use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;
use wharf_sandbox::{PathEnv, PathRules, ReadOnlyAccess, SandboxPolicy};

use super::*;

/// A temp dir `$T` holding:
///
/// ```text
/// repo/            the cwd, a git checkout (.git/), with src/ and file.txt
/// repo/escape   -> $T/outside
/// repo/proc     -> /proc
/// extra/           a configured writable root
/// readable/        a configured readable root
/// outside/         none of the above
/// home/notes/      the home directory
/// ```
struct Fixture {
    _dir: TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for sub in [
            "repo/.git",
            "repo/src",
            "extra",
            "readable",
            "outside",
            "home/notes",
        ] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        fs::write(root.join("repo/file.txt"), "text").unwrap();
        std::os::unix::fs::symlink(root.join("outside"), root.join("repo/escape")).unwrap();
        std::os::unix::fs::symlink("/proc", root.join("repo/proc")).unwrap();
        Fixture { _dir: dir, root }
    }

    fn rules(&self, policy: &str) -> PathRules {
        let env = PathEnv {
            cwd: self.root.join("repo"),
            tmpdir: None,
            protected: Vec::new(),
        };
        PathRules::new(&self.policy(policy), &env)
    }

    fn policy(&self, policy: &str) -> SandboxPolicy {
        let restricted = || ReadOnlyAccess::Restricted {
            include_platform_defaults: false,
            readable_roots: vec![self.root.join("readable")],
        };
        let workspace_write = |read_only_access, network_access| SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![self.root.join("extra")],
            read_only_access,
            network_access,
            // `$T` lives in /tmp: keep it from being writable as a whole.
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        };
        match policy {
            "read-only" => SandboxPolicy::new_read_only(),
            "read-only restricted" => SandboxPolicy::ReadOnly {
                access: restricted(),
            },
            "workspace-write" => workspace_write(ReadOnlyAccess::FullAccess, false),
            "workspace-write restricted" => workspace_write(restricted(), false),
            "workspace-write network" => workspace_write(ReadOnlyAccess::FullAccess, true),
            "danger-full-access" => SandboxPolicy::DangerFullAccess,
            other => panic!("unknown policy {other}"),
        }
    }

    /// A manifest with `request` (TOML, `$T` standing for the temp dir)
    /// after the required keys.
    fn manifest(&self, request: &str) -> Manifest {
        let text = format!(
            "name = \"p\"\nversion = \"1\"\napi = \"0.2.0\"\nkind = \"wasm\"\nartifact = \"p.wasm\"\n{}\n",
            request.replace("$T", &self.root.display().to_string())
        );
        let (manifest, warnings) =
            Manifest::parse(&self.root.join("plugins/p/plugin.toml"), &text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        manifest
    }

    fn grant(&self, policy: &str, request: &str, home: Option<&Path>) -> Grant {
        let env: BTreeMap<&str, &str> = [("LANG", "C.UTF-8"), ("TZ", "UTC"), ("SECRET", "x")]
            .into_iter()
            .collect();
        let lookup = |name: &str| env.get(name).map(|value| (*value).to_owned());
        grant(
            &self.manifest(request),
            &self.rules(policy),
            NetworkPolicy::of(&self.policy(policy)),
            home,
            &lookup,
            &HostLimits::default(),
        )
    }

    /// [`Grant::describe`] with `$T` for the temp dir and without the lines
    /// that say "nothing beyond the defaults".
    fn describe(&self, grant: &Grant) -> Vec<String> {
        let defaults = describe_none();
        grant
            .describe()
            .into_iter()
            .filter(|line| !defaults.contains(line))
            .map(|line| line.replace(&self.root.display().to_string(), "$T"))
            .collect()
    }
}

fn describe_none() -> Vec<String> {
    Grant::none(&HostLimits::default()).describe()
}

#[test]
fn grants_are_the_request_intersected_with_the_policy() {
    // (policy, request, what is granted and denied beyond the defaults)
    let cases: &[(&str, &str, &[&str])] = &[
        // The words.
        (
            "read-only",
            r#"capabilities.fs.read = ["workspace", "cwd"]"#,
            &["reads: $T/repo"],
        ),
        (
            "read-only",
            r#"capabilities.fs.write = ["workspace"]"#,
            &["denied: write to the workspace: writes are not allowed in read-only mode"],
        ),
        (
            "read-only",
            r#"capabilities.fs.write = ["cwd"]"#,
            &["denied: writes are not allowed in read-only mode: $T/repo"],
        ),
        (
            "workspace-write",
            r#"capabilities.fs.read = ["workspace"]"#,
            &["reads: $T/repo, $T/extra"],
        ),
        (
            "workspace-write",
            r#"capabilities.fs.write = ["workspace"]"#,
            &["writes (checked file changes): $T/repo, $T/extra"],
        ),
        (
            "workspace-write",
            r#"capabilities.fs.write = ["cwd"]"#,
            &["writes (checked file changes): $T/repo"],
        ),
        (
            "danger-full-access",
            r#"capabilities.fs = { read = ["workspace"], write = ["workspace"] }"#,
            &["reads: $T/repo", "writes (checked file changes): $T/repo"],
        ),
        // Paths.
        (
            "read-only",
            r#"capabilities.fs.read = ["$T/outside"]"#,
            &["reads: $T/outside"],
        ),
        (
            "read-only restricted",
            r#"capabilities.fs.read = ["$T/outside", "$T/readable", "workspace"]"#,
            &[
                "reads: $T/readable, $T/repo",
                "denied: read of $T/outside is outside the readable roots",
            ],
        ),
        (
            "workspace-write restricted",
            r#"capabilities.fs.read = ["workspace", "$T/outside"]"#,
            &[
                "reads: $T/repo, $T/extra",
                "denied: read of $T/outside is outside the readable roots",
            ],
        ),
        (
            "workspace-write",
            r#"capabilities.fs.write = ["$T/outside", "$T/extra"]"#,
            &[
                "writes (checked file changes): $T/extra",
                "denied: write to $T/outside is outside the writable roots",
            ],
        ),
        (
            "danger-full-access",
            r#"capabilities.fs.write = ["$T/outside"]"#,
            &["writes (checked file changes): $T/outside"],
        ),
        (
            "read-only",
            r#"capabilities.fs.read = ["$T/repo/file.txt", "$T/missing"]"#,
            &[
                "denied: read of $T/repo/file.txt: not an existing directory (only directories can be opened for reading)",
                "denied: read of $T/missing: not an existing directory (only directories can be opened for reading)",
            ],
        ),
        // Roots inside others and repeats collapse into the outer one.
        (
            "workspace-write",
            r#"capabilities.fs = { read = ["$T/repo/src", "cwd", "$T/repo/"], write = ["$T/repo/src", "workspace", "cwd"] }"#,
            &[
                "reads: $T/repo",
                "writes (checked file changes): $T/repo, $T/extra",
            ],
        ),
        // Escapes: symlinks and `..` are resolved before deciding.
        (
            "read-only restricted",
            r#"capabilities.fs.read = ["$T/repo/escape"]"#,
            &[
                "denied: read of $T/repo/escape (resolves to $T/outside) is outside the readable roots",
            ],
        ),
        (
            "workspace-write",
            r#"capabilities.fs.write = ["$T/repo/escape", "$T/repo/../outside"]"#,
            &[
                "denied: write to $T/repo/escape (resolves to $T/outside) is outside the writable roots",
                "denied: write to $T/repo/../outside (resolves to $T/outside) is outside the writable roots",
            ],
        ),
        (
            "workspace-write",
            r#"capabilities.fs.write = ["$T/repo/.git", "$T/repo/.wharf/x"]"#,
            &[
                "denied: write to $T/repo/.git is inside the protected path $T/repo/.git",
                "denied: write to $T/repo/.wharf/x is inside the protected path $T/repo/.wharf",
            ],
        ),
        // The kernel's views are never granted, however they are named.
        (
            "danger-full-access",
            r#"capabilities.fs.read = ["/proc", "/sys/kernel", "/dev", "$T/repo/proc", "/proc/../dev/"]"#,
            &[
                "denied: read of /proc: /proc, /sys, /dev are never granted to plugins",
                "denied: read of /sys/kernel: /proc, /sys, /dev are never granted to plugins",
                "denied: read of /dev: /proc, /sys, /dev are never granted to plugins",
                "denied: read of $T/repo/proc (resolves to /proc): /proc, /sys, /dev are never granted to plugins",
                "denied: read of /proc/../dev/ (resolves to /dev): /proc, /sys, /dev are never granted to plugins",
            ],
        ),
        // `~/` is the home directory.
        (
            "workspace-write",
            r#"capabilities.fs = { read = ["~/notes"], write = ["~/notes"] }"#,
            &[
                "reads: $T/home/notes",
                "denied: write to $T/home/notes is outside the writable roots",
            ],
        ),
        // Environment, commands, network.
        (
            "read-only",
            r#"capabilities.env = ["LANG", "UNSET", "TZ", "LANG"]"#,
            &["environment: LANG, TZ"],
        ),
        (
            "read-only",
            "capabilities.exec = true",
            &["runs commands: yes"],
        ),
        (
            "danger-full-access",
            r#"capabilities.network = ["api.example.com:443", "[::1]:80"]"#,
            &["network: api.example.com:443, [::1]:80"],
        ),
        (
            "workspace-write network",
            r#"capabilities.network = ["*.docs.example.com:443", "127.0.0.1:8080", "127.0.0.1:8080"]"#,
            &["network: *.docs.example.com:443, 127.0.0.1:8080"],
        ),
        (
            "workspace-write",
            r#"capabilities.network = ["api.example.com:443"]"#,
            &[
                "denied: network api.example.com:443: the sandbox's network is off (set `sandbox_workspace_write.network_access = true` to allow it)",
            ],
        ),
        (
            "read-only",
            r#"capabilities.network = ["api.example.com:443"]"#,
            &[
                "denied: network api.example.com:443: the sandbox is read-only, which has no network (use `--sandbox workspace-write` with `sandbox_workspace_write.network_access = true`)",
            ],
        ),
        (
            "danger-full-access",
            "kind = \"native\"\ncapabilities.network = [\"h:1\"]",
            &[
                "denied: network h:1: network grants are enforced for WASM plugins only, not native plugins",
            ],
        ),
        // Limits: wishes within the maximums are granted, others lowered.
        (
            "read-only",
            "limits = { timeout_ms = 5500, memory_mb = 64 }",
            &["limits: 5500 ms per call, 64 MiB of memory, 1 MiB of output"],
        ),
        (
            "read-only",
            "limits = { timeout_ms = 600000, memory_mb = 4096 }",
            &[
                "limits: 300 s per call, 1 GiB of memory, 1 MiB of output",
                "denied: timeout of 600 s: more than the host allows, lowered to 300 s",
                "denied: memory of 4 GiB: more than the host allows, lowered to 1 GiB",
            ],
        ),
        ("workspace-write", "", &[]),
    ];
    let fixture = Fixture::new();
    let home = fixture.root.join("home");
    let mut failures = Vec::new();
    for (policy, request, expected) in cases {
        // `kind` can only be set once: the row's line replaces the default.
        let request = request.to_string();
        let grant = if let Some(rest) = request.strip_prefix("kind = \"native\"\n") {
            let mut manifest = fixture.manifest(rest);
            manifest.kind = PluginKind::Native;
            let rules = fixture.rules(policy);
            grant(
                &manifest,
                &rules,
                NetworkPolicy::of(&fixture.policy(policy)),
                Some(&home),
                &|_| None,
                &HostLimits::default(),
            )
        } else {
            fixture.grant(policy, &request, Some(&home))
        };
        let actual = fixture.describe(&grant);
        if actual != *expected {
            failures.push(format!(
                "{policy} + {request}\n  expected: {expected:#?}\n  actual:   {actual:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_grant_holds_values_resolved_paths_and_limits() {
    let fixture = Fixture::new();
    let grant = fixture.grant(
        "workspace-write",
        r#"capabilities = { fs = { read = ["cwd"], write = ["$T/extra/"] }, env = ["TZ"], exec = true }
limits.timeout_ms = 1500"#,
        None,
    );
    assert_eq!(
        grant,
        Grant {
            read_roots: vec![fixture.root.join("repo")],
            write_roots: vec![fixture.root.join("extra")],
            env: vec![("TZ".to_owned(), "UTC".to_owned())],
            exec: true,
            network: Vec::new(),
            timeout: Duration::from_millis(1500),
            memory_bytes: 256 << 20,
            output_bytes: 1 << 20,
            denied: Vec::new(),
        }
    );
}

#[test]
fn home_paths_are_denied_when_the_home_directory_is_unknown() {
    let fixture = Fixture::new();
    let grant = fixture.grant(
        "danger-full-access",
        r#"capabilities.fs = { read = ["~/notes"], write = ["~"] }"#,
        None,
    );
    assert_eq!(
        fixture.describe(&grant),
        [
            "denied: read of ~/notes: the home directory is unknown",
            "denied: write to ~: the home directory is unknown",
        ]
    );
}

#[test]
fn no_grant_gives_nothing_but_the_default_limits() {
    let limits = HostLimits::default();
    assert_eq!(
        limits,
        HostLimits {
            max_timeout: Duration::from_secs(300),
            default_timeout: Duration::from_secs(30),
            max_memory_bytes: 1 << 30,
            default_memory_bytes: 256 << 20,
            max_output_bytes: 1 << 20,
        }
    );
    assert_eq!(
        describe_none(),
        [
            "reads: nothing",
            "writes (checked file changes): nothing",
            "network: none",
            "environment: none",
            "runs commands: no",
            "limits: 30 s per call, 256 MiB of memory, 1 MiB of output",
        ]
    );
    // A default above the maximum is lowered to it.
    let tight = HostLimits {
        max_timeout: Duration::from_secs(1),
        max_memory_bytes: 1 << 20,
        ..limits
    };
    let none = Grant::none(&tight);
    assert_eq!(none.timeout, Duration::from_secs(1));
    assert_eq!(none.memory_bytes, 1 << 20);
}

#[test]
fn a_read_of_the_root_is_granted_without_the_kernel_views() {
    let fixture = Fixture::new();
    for policy in ["read-only", "workspace-write", "danger-full-access"] {
        let grant = fixture.grant(policy, r#"capabilities.fs.read = ["/", "cwd"]"#, None);
        assert_eq!(
            grant.denied,
            [
                "read of /: /proc, /sys, /dev are never granted to plugins; the other entries \
              of / are granted instead"
            ],
            "{policy}"
        );
        for root in &grant.read_roots {
            for never in NEVER_READ {
                let never = Path::new(never);
                assert!(
                    !root.starts_with(never) && !never.starts_with(root),
                    "{policy}: {}",
                    root.display()
                );
            }
        }
        // What is left of `/` is still there, and the cwd lies inside it.
        let usr = Path::new("/usr").canonicalize().unwrap();
        assert!(
            grant.read_roots.contains(&usr),
            "{policy}: {:?}",
            grant.read_roots
        );
        assert!(
            grant
                .read_roots
                .iter()
                .any(|root| fixture.root.starts_with(root)),
            "{policy}: {:?}",
            grant.read_roots
        );
    }
    // Restricted reads keep refusing `/` as before.
    let grant = fixture.grant(
        "read-only restricted",
        r#"capabilities.fs.read = ["/"]"#,
        None,
    );
    assert_eq!(grant.denied, ["read of / is outside the readable roots"]);
}
