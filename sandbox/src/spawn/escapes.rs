//! Persistence escapes tried against the real kernel: a command that leaves
//! something for the *next* session to read — a project `.wharf/config.toml`
//! where there was none, an entry in wharf's home (config, compile cache) —
//! by writing, renaming or symlinking its way around the read-only mounts.
//!
//! Then the powers root would keep inside (capabilities, the new mount
//! API, device nodes, the host's name, reboot) and terminal injection.
//!
//! Each test runs as whoever runs the suite; as root (CI), the last test runs
//! the module again as `nobody`, where the mounts need a user namespace.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use std::io::Read as _;
use std::time::{Duration, Instant};

mod lifetime;
mod metadata;
mod neighbours;
mod terminal;

use super::tests::{Ran, assert_ok, run, sh};
use super::{Command, PtySize, Sandbox};
use crate::{PathEnv, ReadOnlyAccess, SandboxPolicy};

/// A session's world, in a temporary directory `$T`:
///
/// ```text
/// $T/                    a configured writable root (so the cwd's parent is writable)
/// $T/work/               the cwd, no `.git` anywhere above it
/// $T/home/.wharf/        `$WHARF_HOME`: config.toml, cache/apply_patch.cwasm
/// ```
///
/// The protected paths are those the host lists: wharf's home and every
/// `.wharf` from the cwd up to `/` (none of them exists yet).
struct World {
    _dir: Option<tempfile::TempDir>,
    root: PathBuf,
    work: PathBuf,
    home: PathBuf,
}

const CONFIG: &str = "model = \"the user's\"\n";
const COMPILED: &str = "compiled by wharf\n";

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut world = World::at(dir.path().canonicalize().unwrap());
        world._dir = Some(dir);
        world
    }

    /// The world in `root`, made there unless it exists (another process
    /// of the test owns the directory).
    fn at(root: PathBuf) -> World {
        let work = root.join("work");
        let home = root.join("home/.wharf");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(home.join("cache")).unwrap();
        std::fs::write(home.join("config.toml"), CONFIG).unwrap();
        std::fs::write(home.join("cache/apply_patch.cwasm"), COMPILED).unwrap();
        World {
            _dir: None,
            root,
            work,
            home,
        }
    }

    fn protected(&self) -> Vec<PathBuf> {
        let mut protected = vec![self.home.clone()];
        protected.extend(self.work.ancestors().map(|dir| dir.join(".wharf")));
        protected
    }

    fn sandbox(&self, policy: &SandboxPolicy) -> Sandbox {
        let env = PathEnv {
            cwd: self.work.clone(),
            tmpdir: None,
            protected: self.protected(),
        };
        Sandbox::new(policy, &env)
    }

    /// Workspace-write with `$T` writable, `/tmp` and `$TMPDIR` not.
    fn workspace_write(&self) -> SandboxPolicy {
        SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![self.root.clone()],
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: false,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        }
    }

    /// The policies that confine commands: workspace-write (see
    /// [`World::workspace_write`]) and read-only.
    fn confining_policies(&self) -> [(&'static str, SandboxPolicy); 2] {
        [
            ("workspace-write", self.workspace_write()),
            ("read-only", SandboxPolicy::new_read_only()),
        ]
    }

    /// Expands `$T` (the root), `$HOME` (wharf's home) in a script.
    fn expand(&self, script: &str) -> String {
        script
            .replace("$HOME", &self.home.display().to_string())
            .replace("$T", &self.root.display().to_string())
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The error of a spawn under workspace-write that must not start.
    fn refused(&self) -> String {
        let marker = self.path("ran.txt");
        let command = Command::new(["/bin/sh", "-c", "echo ran > $0", marker.to_str().unwrap()]);
        let err = self
            .sandbox(&self.workspace_write())
            .spawn(command)
            .map(|mut child| child.wait())
            .expect_err("the command started");
        assert!(!marker.exists(), "the command ran");
        err.to_string()
    }
}

fn is_empty_dir(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|meta| meta.is_dir())
        && std::fs::read_dir(path).unwrap().next().is_none()
}

/// (what the command tries, the script, `$T` and `$HOME` expanded)
const ATTACKS: &[(&str, &str)] = &[
    (
        "create .wharf/config.toml",
        "mkdir -p .wharf && echo evil > .wharf/config.toml",
    ),
    ("create .wharf/ itself", "rmdir .wharf; mkdir .wharf/x"),
    (
        "create ../.wharf/config.toml in the writable parent",
        "mkdir -p ../.wharf && echo evil > ../.wharf/config.toml",
    ),
    (
        "rename .wharf away and make a new one",
        "mv .wharf old && mkdir .wharf && echo evil > .wharf/config.toml",
    ),
    (
        "rename a prepared directory over .wharf",
        "mkdir -p prepared && echo evil > prepared/config.toml && mv -T prepared .wharf",
    ),
    (
        "swap .wharf for a symlink",
        "mkdir -p prepared && ln -s prepared link && mv -T link .wharf",
    ),
    (
        "rename the workspace and rebuild it",
        "cd .. && mv work moved && mkdir -p work/.wharf && echo evil > work/.wharf/config.toml",
    ),
    (
        "rename the parent's .wharf away",
        "mv ../.wharf ../old && mkdir ../.wharf && echo evil > ../.wharf/config.toml",
    ),
    (
        "append an MCP server to wharf's config",
        "printf '[mcp_servers.x]\\ncommand = \"evil\"\\n' >> $HOME/config.toml",
    ),
    (
        "replace a compiled component in the cache",
        "echo evil > $T/evil.cwasm && mv -f $T/evil.cwasm $HOME/cache/apply_patch.cwasm",
    ),
    (
        "delete a cache entry and write another",
        "rm -f $HOME/cache/apply_patch.cwasm; echo evil > $HOME/cache/apply_patch.cwasm",
    ),
    (
        "hard-link wharf's config and write through the link",
        "ln $HOME/config.toml $T/linked && echo evil >> $T/linked",
    ),
    (
        "rename wharf's home away and make a new one",
        "mv $HOME $T/home/old && mkdir $HOME && echo evil > $HOME/config.toml",
    ),
    (
        "rename the directory above wharf's home",
        "mv $T/home $T/moved-home && mkdir -p $HOME && echo evil > $HOME/config.toml",
    ),
];

#[test]
fn commands_leave_nothing_for_the_next_session() {
    let world = World::new();
    let sandbox = world.sandbox(&world.workspace_write());
    let mut escaped = Vec::new();
    for (what, script) in ATTACKS {
        let ran = sh(&sandbox, &world.expand(script));
        if ran.code == Some(0) {
            escaped.push(format!("{what}: {}{}", ran.stdout, ran.stderr));
        }
    }
    assert!(escaped.is_empty(), "escaped:\n{}", escaped.join("\n"));

    // wharf made the missing directories so that it could mount them: empty.
    for created in ["work/.wharf", ".wharf"] {
        assert!(is_empty_dir(&world.path(created)), "{created}");
    }
    assert_eq!(
        std::fs::read_to_string(world.home.join("config.toml")).unwrap(),
        CONFIG
    );
    assert_eq!(
        std::fs::read_to_string(world.home.join("cache/apply_patch.cwasm")).unwrap(),
        COMPILED
    );
    for moved in ["moved", "old", "home/old", "moved-home", "linked"] {
        assert!(!world.path(moved).exists(), "{moved} exists");
    }

    // The rest of the workspace and its parent stay writable, and a new
    // repository can be made.
    assert_ok(
        &sh(
            &sandbox,
            "echo ok > file && mkdir -p sub && mv sub sub2 && echo ok > ../beside \
             && git init -q fresh && echo x > fresh/.git/description",
        ),
        "ordinary work",
    );
    assert!(world.path("work/fresh/.git/HEAD").exists());
}

#[test]
fn a_symlink_or_a_file_at_a_protected_path_fails_closed() {
    let world = World::new();
    let dot_wharf = world.work.join(".wharf");
    std::fs::create_dir(world.path("elsewhere")).unwrap();
    // (what is planted at `work/.wharf` before the session, expected words)
    type Plant = dyn Fn(&Path);
    let cases: &[(&str, &Plant, &str)] = &[
        (
            "a symlink into the writable root",
            &|at| std::os::unix::fs::symlink("../elsewhere", at).unwrap(),
            "is a symbolic link inside a writable root",
        ),
        (
            "a dangling symlink out of the roots",
            &|at| std::os::unix::fs::symlink("/nonexistent/wharf-evil", at).unwrap(),
            "is a symbolic link inside a writable root",
        ),
        (
            "a file",
            &|at| std::fs::write(at, "evil").unwrap(),
            "something that is not a directory is there",
        ),
    ];
    for (what, plant, expected) in cases {
        plant(&dot_wharf);
        let message = world.refused();
        let shown = dot_wharf.display().to_string();
        assert!(
            message.starts_with(&format!("cannot keep {shown} read-only: ")),
            "{what}: {message}"
        );
        assert!(message.contains(expected), "{what}: {message}");
        assert!(
            message.ends_with("the command was not run"),
            "{what}: {message}"
        );
        std::fs::remove_file(&dot_wharf).unwrap();
    }
    assert!(is_empty_dir(&world.path("elsewhere")));
}

#[test]
fn a_home_reached_through_an_outside_symlink_is_kept_read_only() {
    // `$WHARF_HOME` is a link that lies outside every writable root (the
    // command cannot redirect it) to a directory inside one.
    let world = World::new();
    let outside = tempfile::tempdir().unwrap();
    let link = outside.path().join("wharf-home");
    std::os::unix::fs::symlink(&world.home, &link).unwrap();
    let env = PathEnv {
        cwd: world.work.clone(),
        tmpdir: None,
        protected: vec![link],
    };
    let sandbox = Sandbox::new(&world.workspace_write(), &env);
    let ran = sh(&sandbox, &world.expand("echo evil >> $HOME/config.toml"));
    assert_ne!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        std::fs::read_to_string(world.home.join("config.toml")).unwrap(),
        CONFIG
    );
}

#[test]
fn protected_directories_are_created_only_where_a_command_could() {
    let world = World::new();
    let not_writable = tempfile::tempdir().unwrap();
    let outside = not_writable.path().join(".wharf");
    let env = PathEnv {
        cwd: world.work.clone(),
        tmpdir: None,
        protected: vec![outside.clone(), world.work.join(".wharf")],
    };
    let policies = [
        ("read-only", SandboxPolicy::new_read_only(), false),
        ("danger-full-access", SandboxPolicy::DangerFullAccess, false),
        ("workspace-write", world.workspace_write(), true),
    ];
    for (name, policy, creates) in policies {
        let ran = sh(&Sandbox::new(&policy, &env), "true");
        assert_ok(&ran, name);
        assert_eq!(world.work.join(".wharf").exists(), creates, "{name}");
        // Outside the writable roots Landlock keeps it from being created.
        assert!(!outside.exists(), "{name}");
    }
    let ran = sh(
        &Sandbox::new(&world.workspace_write(), &env),
        &format!("mkdir {}", outside.display()),
    );
    assert_ne!(ran.code, Some(0));
    assert!(!outside.exists());
}

/// Python run by every power attack: `call(number, *args)` makes a raw
/// system call, `done(result, errno)` prints `ok` or the errno's name and
/// exits 0 only when the call succeeded.
const PRELUDE: &str = "\
import ctypes, errno, os, socket, stat, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(n, *args):
    args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    r = libc.syscall(ctypes.c_long(n), *args)
    return r, ctypes.get_errno()
def done(r, e):
    print('ok' if r >= 0 else errno.errorcode.get(e, str(e)))
    sys.exit(0 if r >= 0 else 1)
def oserror(f):
    try:
        f()
    except OSError as err:
        done(-1, err.errno)
    done(0, 0)
";

/// (what root tries, the Python after [`PRELUDE`] with `$HOME` expanded,
/// also under read-only). Each exits 0 when it got through and must print
/// `EPERM`. The mount API's numbers are the same on every architecture.
/// The bounding set must be empty too: commands run in their own user
/// namespace when wharf is not root, where it can be dropped.
const POWERS: &[(&str, &str, bool)] = &[
    (
        "mount_setattr clears the read-only flag of wharf's home, then writes",
        "class A(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ('set', 'clr', 'prop', 'userns')]
attr = A(0, 1, 0, 0)
r, e = call(442, -100, b'$HOME', 0, ctypes.byref(attr), 32)
if r >= 0:
    open('$HOME/config.toml', 'a').write('evil')
done(r, e)",
        true,
    ),
    (
        "open_tree clones wharf's home",
        "done(*call(428, -100, b'$HOME', 1 | os.O_CLOEXEC))",
        true,
    ),
    (
        "fsopen starts a new tmpfs",
        "done(*call(430, b'tmpfs', 0))",
        true,
    ),
    (
        "mknod a character device (/dev/null's numbers)",
        "oserror(lambda: os.mknod('node', 0o600 | stat.S_IFCHR, os.makedev(1, 3)))",
        false,
    ),
    (
        "mknod a block device",
        "oserror(lambda: os.mknod('block', 0o600 | stat.S_IFBLK, os.makedev(7, 0)))",
        false,
    ),
    (
        "sethostname (to the name it has)",
        "oserror(lambda: socket.sethostname(socket.gethostname()))",
        true,
    ),
    (
        "reboot(CAD_OFF)",
        "r = libc.reboot(0)
done(r, ctypes.get_errno())",
        true,
    ),
    (
        "keep a capability (CapInh, CapPrm, CapEff, CapBnd, CapAmb), or no no_new_privs",
        "status = open('/proc/self/status').read().splitlines()
caps = [l for l in status if l.startswith('Cap')]
kept = [l for l in caps if int(l.split()[1], 16) != 0]
if 'NoNewPrivs:\t1' not in status:
    kept.append('NoNewPrivs is not set')
print(kept if kept else 'EPERM')
sys.exit(0 if kept or len(caps) != 5 else 1)",
        true,
    ),
];

/// Python from `/usr/bin` (`nobody` cannot reach a per-user install).
fn python(sandbox: &Sandbox, code: &str) -> Ran {
    let script = format!("{PRELUDE}{code}\n");
    run(sandbox, &["/usr/bin/python3", "-c", &script])
}

#[test]
fn root_keeps_no_powers_inside() {
    let world = World::new();
    let mut escaped = Vec::new();
    for (name, policy) in &world.confining_policies() {
        let sandbox = world.sandbox(policy);
        for (what, code, under_read_only) in POWERS {
            if *name == "read-only" && !under_read_only {
                continue;
            }
            let code = world.expand(code);
            let ran = python(&sandbox, &code);
            if ran.code != Some(1) || ran.stdout.trim() != "EPERM" {
                escaped.push(format!("{name}: {what}: {}{}", ran.stdout, ran.stderr));
            }
        }
    }
    assert!(escaped.is_empty(), "got through:\n{}", escaped.join("\n"));
    assert_eq!(
        std::fs::read_to_string(world.home.join("config.toml")).unwrap(),
        CONFIG
    );
    assert!(!world.path("work/node").exists());

    // Pipes and plain files are still made with mknod.
    let sandbox = world.sandbox(&world.workspace_write());
    let ran = python(
        &sandbox,
        "os.mkfifo('fifo')
os.mknod('plain', 0o600 | stat.S_IFREG)
os.mknod('bare', 0o600)
print('made')",
    );
    assert_ok(&ran, "mkfifo and mknod of a regular file");
    assert!(world.path("work/fifo").exists());
    assert!(world.path("work/plain").is_file());
}

/// Every call the filter denies, with arguments that would do nothing
/// harmful had it been let through (wrong pointers, bad descriptors, the
/// names the host already has): each must answer `EPERM` before the kernel
/// looks at them. (name, number, Python arguments after the number)
fn denied_calls() -> Vec<(&'static str, i64, &'static str)> {
    let mut calls = vec![
        ("move_mount", libc::SYS_move_mount, "-1, b'', -1, b'', 0"),
        ("fsconfig", libc::SYS_fsconfig, "-1, 0, None, None, 0"),
        ("fsmount", libc::SYS_fsmount, "-1, 0, 0"),
        ("fspick", libc::SYS_fspick, "-100, b'/nonexistent-wharf', 0"),
        (
            "setdomainname (to the name it has)",
            libc::SYS_setdomainname,
            "domain, len(domain)",
        ),
        // An architecture no kernel has: nothing is loaded or unloaded.
        ("kexec_load", libc::SYS_kexec_load, "0, 0, None, 0xffff0000"),
        (
            "kexec_file_load",
            libc::SYS_kexec_file_load,
            "-1, -1, 0, None, 0",
        ),
        ("init_module", libc::SYS_init_module, "None, 0, None"),
        ("finit_module", libc::SYS_finit_module, "-1, b'', 0"),
        ("delete_module", libc::SYS_delete_module, "None, 0"),
        ("swapon", libc::SYS_swapon, "None, 0"),
        ("swapoff", libc::SYS_swapoff, "None"),
        // KEYCTL_GET_KEYRING_ID of the session keyring, without creating it.
        ("keyctl", libc::SYS_keyctl, "0, -3, 0"),
        ("add_key", libc::SYS_add_key, "None, None, None, 0, 0"),
        ("request_key", libc::SYS_request_key, "None, None, None, 0"),
        ("bpf", libc::SYS_bpf, "0, None, 0"),
        (
            "perf_event_open",
            libc::SYS_perf_event_open,
            "None, 0, -1, -1, 0",
        ),
        ("userfaultfd", libc::SYS_userfaultfd, "os.O_CLOEXEC"),
        // The kernel reads the mode as 16 bits: a bit above must not hide
        // the device type from the filter.
        (
            "mknodat of a character device with a bit above the mode",
            libc::SYS_mknodat,
            "-100, b'high', (1 << 16) | stat.S_IFCHR | 0o600, os.makedev(1, 3)",
        ),
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        (
            "mknod of a character device",
            libc::SYS_mknod,
            "b'old', stat.S_IFCHR | 0o600, os.makedev(1, 3)",
        ),
        // The same call by its x32 number (`__X32_SYSCALL_BIT` added),
        // which a kernel with the x32 ABI would take.
        (
            "open_tree through the x32 ABI",
            0x4000_0000 | libc::SYS_open_tree,
            "-100, b'.', 1",
        ),
    ]);
    calls
}

#[test]
fn every_denied_call_answers_eperm() {
    let world = World::new();
    let sandbox = world.sandbox(&world.workspace_write());
    let mut answered = Vec::new();
    for (name, number, args) in denied_calls() {
        let code = format!(
            "domain = open('/proc/sys/kernel/domainname', 'rb').read().strip()
done(*call({number}, {args}))"
        );
        let ran = python(&sandbox, &code);
        if ran.code != Some(1) || ran.stdout.trim() != "EPERM" {
            answered.push(format!("{name}: {}{}", ran.stdout, ran.stderr));
        }
    }
    assert!(answered.is_empty(), "not denied:\n{}", answered.join("\n"));
    assert!(!world.path("work/high").exists());
}

/// `TIOCSTI` pushes input into the terminal as if typed; `TIOCLINUX` can
/// paste the console's selection. The request is 32 bits for the kernel,
/// whatever the upper half says.
const INJECTIONS: &[(&str, &str)] = &[
    (
        "TIOCSTI",
        "import fcntl, termios
oserror(lambda: fcntl.ioctl(0, termios.TIOCSTI, b'x'))",
    ),
    (
        "TIOCSTI with the upper 32 bits set",
        "import termios
r = libc.ioctl(0, ctypes.c_ulong((1 << 32) | termios.TIOCSTI), ctypes.c_char_p(b'x'))
done(r, ctypes.get_errno())",
    ),
    (
        "TIOCLINUX",
        "arg = ctypes.c_char(b'\\x02')
r = libc.ioctl(0, ctypes.c_ulong(0x541c), ctypes.byref(arg))
done(r, ctypes.get_errno())",
    ),
];

#[test]
fn a_command_cannot_type_into_its_terminal() {
    let world = World::new();
    let sandbox = world.sandbox(&world.workspace_write());
    for (what, code) in INJECTIONS {
        let script = format!("{PRELUDE}{code}\n");
        let command = Command::new(["/usr/bin/python3", "-c", &script]);
        let mut pty = sandbox
            .spawn_pty(command, PtySize { rows: 24, cols: 80 })
            .unwrap();
        let started = Instant::now();
        let mut output = Vec::new();
        let mut buf = [0u8; 4096];
        // Until the terminal reports EOF (EIO once the last writer is gone).
        while let Ok(n @ 1..) = pty.master.read(&mut buf) {
            output.extend_from_slice(&buf[..n]);
            assert!(started.elapsed() < Duration::from_secs(10), "no EOF");
        }
        let status = pty.child.wait().unwrap();
        let output = String::from_utf8_lossy(&output);
        assert_eq!(status.code(), Some(1), "{what}: {output}");
        assert!(output.contains("EPERM"), "{what}: {output}");
    }
}

/// The same escapes (and the mount race of `linux/tests.rs`) as an
/// unprivileged user, where the mounts need a user namespace, when the suite
/// runs as root; as anyone else the tests already ran that way.
#[test]
fn escapes_also_fail_for_an_unprivileged_user() {
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    // A copy of the test binary that `nobody` can run again by itself (some
    // tests start it as another process): the build directory may be
    // closed to other users (a CI checkout in a 0700 temporary directory).
    let copy = tempfile::tempdir().unwrap();
    let exe = copy.path().join("escapes");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    for dir in [copy.path(), exe.as_path()] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The test binary, through setpriv: not a sandboxed command.
    #[allow(clippy::disallowed_methods)]
    let mut command = std::process::Command::new("setpriv");
    command.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
    command.arg(&exe).args([
        "spawn::escapes::",
        "spawn::linux::tests::",
        "spawn::nested_git_escapes::",
        "paths::nested_git::",
        "--skip",
        "escapes_also_fail_for_an_unprivileged_user",
        "--test-threads=1",
    ]);
    // `nobody` has no home of its own; temporary directories go to /tmp.
    command.env_remove("TMPDIR").current_dir("/");
    let output = command
        .output()
        .expect("setpriv (util-linux) runs the tests as nobody");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "as nobody:\n{stdout}\n{stderr}");
    // The filter matched the tests above, and they ran.
    assert!(stdout.contains("test result: ok. 25 passed"), "{stdout}");
}
