//! Writable roots that would expose the home directory are refused.

use std::path::PathBuf;

use wharf_sandbox::{ReadOnlyAccess, SandboxMode, SandboxPolicy};

use super::Fixture;
use crate::ConfigOptions;

/// What a case expects: the policy (`None`: read-only) and the warnings,
/// as substrings with `{dir}` and `{home}` filled in.
struct Expect {
    workspace_write: Option<(Vec<&'static str>, bool, bool)>,
    warnings: &'static [&'static str],
}

#[test]
fn roots_that_expose_a_home_are_refused() {
    // A home below /tmp (the fixture's is in /var/tmp).
    let below_tmp = tempfile::tempdir().unwrap();
    let home_below_tmp = below_tmp.path().join("home");
    type Edit = Box<dyn Fn(&mut ConfigOptions, &Fixture)>;
    let ww = |roots: Vec<&'static str>, slash_tmp: bool, tmpdir: bool| Expect {
        workspace_write: Some((roots, slash_tmp, tmpdir)),
        warnings: &[],
    };
    // (what the case changes, expected: the configured roots that stay
    // (relative to the temp dir), exclude_slash_tmp, exclude_tmpdir_env_var)
    let cases: Vec<(&str, Edit, Expect)> = vec![
        (
            "a TMPDIR of its own",
            Box::new(|o, f| o.tmpdir = Some(f.dir.path().join("tmp"))),
            ww(vec![], false, false),
        ),
        (
            "TMPDIR=/",
            Box::new(|o, _| o.tmpdir = Some(PathBuf::from("/"))),
            Expect {
                warnings: &["$TMPDIR: / is the root of the file system; it is not writable"],
                ..ww(vec![], false, true)
            },
        ),
        (
            "TMPDIR is the home directory",
            Box::new(|o, f| o.tmpdir = Some(f.home())),
            Expect {
                warnings: &["$TMPDIR: {home} is the home directory {home}"],
                ..ww(vec![], false, true)
            },
        ),
        (
            "TMPDIR holds the home directory",
            Box::new(|o, f| o.tmpdir = Some(f.dir.path().to_path_buf())),
            Expect {
                warnings: &["$TMPDIR: {dir} contains the home directory {home}"],
                ..ww(vec![], false, true)
            },
        ),
        (
            "TMPDIR is a symlink to /",
            Box::new(|o, f| {
                let link = f.dir.path().join("slash");
                std::os::unix::fs::symlink("/", &link).unwrap();
                o.tmpdir = Some(link);
            }),
            Expect {
                warnings: &["$TMPDIR: {dir}/slash (resolved: /) is the root of the file system"],
                ..ww(vec![], false, true)
            },
        ),
        (
            "TMPDIR holds wharf's home, which is not in the home directory",
            Box::new(|o, f| {
                o.wharf_home = f.dir.path().join("state/wharf");
                o.tmpdir = Some(f.dir.path().join("state"));
            }),
            Expect {
                warnings: &["$TMPDIR: {dir}/state contains wharf's home {dir}/state/wharf"],
                ..ww(vec![], false, true)
            },
        ),
        (
            "configured roots",
            Box::new(|o, _| {
                o.overrides = vec![
                    "sandbox_workspace_write.writable_roots=[\"/\", \"~\", \"~/notes\", \
                     \"../../..\", \"~/.wharf\"]"
                        .to_owned(),
                ];
            }),
            Expect {
                warnings: &[
                    "sandbox_workspace_write.writable_roots: / is the root of the file system; \
                     it is left out",
                    "sandbox_workspace_write.writable_roots: {home}/ is the home directory {home}",
                    "sandbox_workspace_write.writable_roots: ../../.. (resolved: {dir}) contains \
                     the home directory {home}",
                    "sandbox_workspace_write.writable_roots: {home}/.wharf is wharf's home",
                ],
                ..ww(vec!["home/notes"], false, false)
            },
        ),
        (
            "/tmp holds the home directory",
            Box::new(move |o, _| o.home_dir = Some(home_below_tmp.clone())),
            Expect {
                warnings: &["writable root /tmp contains the home directory"],
                ..ww(vec![], true, false)
            },
        ),
        (
            "the working directory is the home directory",
            Box::new(|o, f| o.cwd = f.home()),
            Expect {
                workspace_write: None,
                warnings: &[
                    "the working directory {home} is the home directory {home}: workspace-write \
                     would make it writable, so this session is read-only",
                ],
            },
        ),
        (
            "the working directory holds the home directory",
            Box::new(|o, f| o.cwd = f.dir.path().to_path_buf()),
            Expect {
                workspace_write: None,
                warnings: &["the working directory {dir} contains the home directory {home}"],
            },
        ),
    ];
    for (name, edit, expect) in cases {
        let fixture = Fixture::new();
        let config = fixture
            .load_with(|options| {
                options.sandbox_mode = Some(SandboxMode::WorkspaceWrite);
                edit(options, &fixture);
            })
            .unwrap();
        let fill = |text: &str| {
            text.replace("{dir}", &fixture.dir.path().display().to_string())
                .replace("{home}", &fixture.home().display().to_string())
        };
        let expected_policy = match &expect.workspace_write {
            None => SandboxPolicy::ReadOnly {
                access: ReadOnlyAccess::FullAccess,
            },
            Some((roots, slash_tmp, tmpdir)) => SandboxPolicy::WorkspaceWrite {
                writable_roots: roots.iter().map(|r| fixture.dir.path().join(r)).collect(),
                read_only_access: ReadOnlyAccess::FullAccess,
                network_access: false,
                exclude_tmpdir_env_var: *tmpdir,
                exclude_slash_tmp: *slash_tmp,
            },
        };
        assert_eq!(config.sandbox_policy, expected_policy, "{name}");
        assert_eq!(
            config.warnings.len(),
            expect.warnings.len(),
            "{name}: {:?}",
            config.warnings
        );
        for (warning, expected) in config.warnings.iter().zip(expect.warnings) {
            assert!(
                warning.contains(&fill(expected)),
                "{name}:\n{warning}\nwanted: {}",
                fill(expected)
            );
        }
    }
}

#[test]
fn nothing_is_refused_when_nothing_is_writable() {
    for mode in [SandboxMode::ReadOnly, SandboxMode::DangerFullAccess] {
        let fixture = Fixture::new();
        let config = fixture
            .load_with(|options| {
                options.sandbox_mode = Some(mode);
                options.tmpdir = Some(PathBuf::from("/"));
                options.cwd = fixture.home();
            })
            .unwrap();
        assert_eq!(config.sandbox_policy.mode(), mode);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }
}
