//! Escapes through the host's write path: a directory swapped for a symlink
//! between the check and the write, FIFOs, devices, sockets and directories
//! where a file was expected, symlinks inside the root, the call's deadline.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::fs::symlink;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::*;

/// How long a call may take before the test calls it hung: the old write
/// path blocked forever opening a FIFO.
const HANG: Duration = Duration::from_secs(10);

/// Runs `call` on a thread of its own and waits at most [`HANG`] for it.
fn call_bounded(setup: &Arc<Setup>, session: &Arc<Session>, args: &str) -> CallOutcome {
    let (done, outcome) = mpsc::channel();
    let (setup, session) = (Arc::clone(setup), Arc::clone(session));
    let call = ToolCall {
        call_id: "c1".into(),
        tool: "echo".to_owned(),
        args: args.to_owned(),
    };
    std::thread::spawn(move || {
        let _ = done.send(super::call(&setup.plugins, &session, &call));
    });
    outcome
        .recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("the call did not return within {HANG:?}: {args}"))
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

fn mkfifo(path: &Path) {
    let path = c_path(path);
    // SAFETY: `path` is a NUL-terminated string that outlives the call.
    let made = unsafe { libc::mkfifo(path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// Makes a character device with /dev/null's numbers (1, 3) at `path`;
/// `Err` says why it cannot (only a process with CAP_MKNOD may).
fn mknod_null(path: &Path) -> Result<(), String> {
    let c = c_path(path);
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    if made == 0 {
        Ok(())
    } else {
        Err(format!(
            "mknod {} needs CAP_MKNOD (run as root): {}",
            path.display(),
            std::io::Error::last_os_error()
        ))
    }
}

/// Swaps the names `a` and `b` atomically.
fn exchange(a: &CString, b: &CString) {
    // SAFETY: both are NUL-terminated strings that outlive the call.
    let swapped = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    assert_eq!(swapped, 0, "renameat2: {}", std::io::Error::last_os_error());
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A process inside the sandbox may rename and create freely in its
/// workspace: here a thread keeps exchanging `sub` (a real directory) with
/// `swap` (a symlink to a directory outside the roots) while the host
/// writes, moves and deletes below `sub`. Whatever the timing, nothing
/// outside may change: the path checked is the path walked, and a symlink
/// met while walking it is an error.
#[test]
fn a_directory_swapped_for_a_symlink_never_leads_outside() {
    let setup = Arc::new(Setup::new());
    let session = Arc::new(setup.session(SandboxMode::WorkspaceWrite, &[]));
    let work = setup.cwd();
    let outside = setup.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("victim"), "keep").unwrap();
    std::fs::create_dir(work.join("sub")).unwrap();
    symlink(&outside, work.join("swap")).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = Arc::clone(&stop);
        let (sub, swap) = (c_path(&work.join("sub")), c_path(&work.join("swap")));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                exchange(&sub, &swap);
            }
        })
    };
    let calls = [
        r#"{"text":"add","write":"sub/victim"}"#,
        r#"{"text":"add","write":"sub/new/deep.txt"}"#,
        r#"{"text":"move","write":"moved-from","move_to":"sub/moved"}"#,
        r#"{"text":"x","delete":"sub/victim"}"#,
    ];
    let started = Instant::now();
    let mut tries = 0;
    // How the calls ended: applied, refused by the rules (the symlink was
    // there at the check), refused at write time (it appeared after).
    let mut ends = [0; 3];
    while tries < 2000 && started.elapsed() < Duration::from_secs(2) {
        for args in calls {
            std::fs::write(work.join("moved-from"), "m").unwrap();
            let outcome = call(
                &setup.plugins,
                &session,
                &ToolCall {
                    call_id: "c".into(),
                    tool: "echo".to_owned(),
                    args: args.to_owned(),
                },
            );
            match outcome.result {
                Ok(_) => ends[0] += 1,
                Err(err) if err.to_string().contains("is a symbolic link now") => ends[2] += 1,
                Err(_) => ends[1] += 1,
            }
            let escaped = names(&outside);
            let victim = std::fs::read_to_string(outside.join("victim")).unwrap_or_default();
            assert!(
                escaped == ["victim"] && victim == "keep",
                "try {tries}: {args} changed the outside directory: {escaped:?}, victim {victim:?}"
            );
        }
        tries += 1;
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    let [applied, by_rules, at_write] = ends;
    eprintln!(
        "{tries} tries: {applied} applied, {by_rules} refused by the rules, {at_write} at write time"
    );
}

/// What a row's workspace holds before the call.
type Prepare = fn(&Path) -> Result<(), String>;

/// (what, preparation of the workspace, args, expected, file that must then
/// hold the given text)
type SpecialRow = (
    &'static str,
    Prepare,
    &'static str,
    Expected,
    Option<(&'static str, &'static str)>,
);

#[test]
fn writes_go_only_to_regular_files_beneath_the_root() {
    let rows: &[SpecialRow] = &[
        (
            "add onto a FIFO nobody reads",
            |work| {
                mkfifo(&work.join("fifo"));
                Ok(())
            },
            r#"{"text":"x","write":"fifo"}"#,
            Err((Stage::Apply, "/work/fifo: it is a FIFO, not a regular file")),
            None,
        ),
        (
            "update onto a FIFO nobody reads",
            |work| {
                mkfifo(&work.join("fifo"));
                std::fs::write(work.join("a.txt"), "a").map_err(|e| e.to_string())
            },
            r#"{"text":"x","write":"a.txt","move_to":"fifo"}"#,
            Err((Stage::Apply, "/work/fifo: it is a FIFO, not a regular file")),
            Some(("a.txt", "a")),
        ),
        (
            "add onto a character device",
            |work| mknod_null(&work.join("null")),
            r#"{"text":"x","write":"null"}"#,
            Err((
                Stage::Apply,
                "/work/null: it is a character device, not a regular file",
            )),
            None,
        ),
        (
            "add onto a socket",
            |work| {
                let listener = std::os::unix::net::UnixListener::bind(work.join("sock"));
                listener.map(drop).map_err(|e| e.to_string())
            },
            r#"{"text":"x","write":"sock"}"#,
            Err((
                Stage::Apply,
                "/work/sock: it is a socket, not a regular file",
            )),
            None,
        ),
        (
            "add onto a directory",
            |work| std::fs::create_dir(work.join("dir")).map_err(|e| e.to_string()),
            r#"{"text":"x","write":"dir"}"#,
            Err((
                Stage::Apply,
                "/work/dir: it is a directory, not a regular file",
            )),
            None,
        ),
        (
            "add below a regular file",
            |work| std::fs::write(work.join("file"), "f").map_err(|e| e.to_string()),
            r#"{"text":"x","write":"file/below"}"#,
            Err((Stage::Apply, "/work/file is not a directory")),
            Some(("file", "f")),
        ),
        (
            "delete a directory",
            |work| std::fs::create_dir(work.join("dir")).map_err(|e| e.to_string()),
            r#"{"text":"x","delete":"dir"}"#,
            Err((
                Stage::Apply,
                "/work/dir: it is a directory, which apply does not delete",
            )),
            None,
        ),
        (
            "a failure after a change lists what was made",
            |work| std::fs::create_dir(work.join("dir")).map_err(|e| e.to_string()),
            r#"{"text":"x","write":"a.txt","delete":"dir"}"#,
            Err((
                Stage::Apply,
                "/work/dir: it is a directory, which apply does not delete; these changes were already made: A ",
            )),
            Some(("a.txt", "x")),
        ),
        (
            "a symlink in the root to a file outside: refused by the rules",
            |work| {
                let outside = work.parent().unwrap().join("outside.txt");
                std::fs::write(&outside, "keep").map_err(|e| e.to_string())?;
                symlink(outside, work.join("link")).map_err(|e| e.to_string())
            },
            r#"{"text":"x","write":"link"}"#,
            Err((Stage::Apply, "is outside the writable roots")),
            Some(("../outside.txt", "keep")),
        ),
        (
            "a symlink in the root to a file inside: the rules resolve it, the target is written",
            |work| {
                std::fs::write(work.join("real.txt"), "old").map_err(|e| e.to_string())?;
                symlink("real.txt", work.join("link")).map_err(|e| e.to_string())
            },
            r#"{"text":"new","write":"link"}"#,
            Ok("new"),
            Some(("real.txt", "new")),
        ),
        (
            "a symlinked directory inside the root: the target directory is written",
            |work| {
                std::fs::create_dir(work.join("real")).map_err(|e| e.to_string())?;
                symlink("real", work.join("link")).map_err(|e| e.to_string())
            },
            r#"{"text":"new","write":"link/a/b.txt"}"#,
            Ok("new"),
            Some(("real/a/b.txt", "new")),
        ),
        (
            "missing parents are created",
            |_| Ok(()),
            r#"{"text":"deep","write":"a/b/c/d.txt"}"#,
            Ok("deep"),
            Some(("a/b/c/d.txt", "deep")),
        ),
        (
            "a move writes the destination, then removes the source",
            |work| std::fs::write(work.join("from.txt"), "old").map_err(|e| e.to_string()),
            r#"{"text":"moved","write":"from.txt","move_to":"to/here.txt"}"#,
            Ok("moved"),
            Some(("to/here.txt", "moved")),
        ),
        (
            "a shorter file is cut to length",
            |work| std::fs::write(work.join("a.txt"), "a long old text").map_err(|e| e.to_string()),
            r#"{"text":"short","write":"a.txt"}"#,
            Ok("short"),
            Some(("a.txt", "short")),
        ),
    ];
    for (what, prepare, args, expected, holds) in rows {
        let setup = Arc::new(Setup::new());
        let work = setup.cwd();
        if let Err(why) = prepare(&work) {
            eprintln!("skipping `{what}`: {why}");
            continue;
        }
        let session = Arc::new(setup.session(SandboxMode::WorkspaceWrite, &[]));
        let outcome = call_bounded(&setup, &session, args);
        assert_outcome(what, &outcome, expected);
        if let Some((path, text)) = holds {
            let held = std::fs::read_to_string(work.join(path));
            assert_eq!(held.ok().as_deref(), Some(*text), "{what}: {path}");
        }
    }
}

/// A FIFO that some process reads: the host must not feed it.
#[test]
fn a_fifo_with_a_reader_is_not_written() {
    let setup = Arc::new(Setup::new());
    let fifo = setup.cwd().join("fifo");
    mkfifo(&fifo);
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let session = Arc::new(setup.session(SandboxMode::WorkspaceWrite, &[]));
    let outcome = call_bounded(&setup, &session, r#"{"text":"fed","write":"fifo"}"#);
    let err = outcome.result.unwrap_err();
    assert!(
        err.to_string().contains("is a FIFO, not a regular file"),
        "{err}"
    );
    let mut read = String::new();
    let _ = std::io::Read::read_to_string(&mut &reader, &mut read);
    assert_eq!(read, "", "the host wrote into the FIFO");
}

/// The apply step keeps the call's deadline: a tool that returns its
/// changes after the call's time is up gets none of them applied.
#[test]
fn changes_returned_after_the_deadline_are_not_applied() {
    let setup = Setup::new();
    let manifest = MANIFEST.replace(
        "[capabilities]",
        "[limits]\ntimeout_ms = 20\n[capabilities]",
    );
    let (manifest, _) = Manifest::parse(&setup.dir.path().join("plugin.toml"), &manifest).unwrap();
    let mut plugins = Plugins::default();
    plugins.add_plugin(manifest, Arc::new(Double::new()));
    let session = setup.session(SandboxMode::WorkspaceWrite, &[]);
    let call = ToolCall {
        call_id: "c1".into(),
        tool: "echo".to_owned(),
        args: r#"{"text":"late","write":"late.txt","sleep_ms":60}"#.to_owned(),
    };
    let outcome = super::call(&plugins, &session, &call);
    let err = outcome.result.unwrap_err();
    assert_eq!(err.stage(), Stage::Apply, "{err}");
    assert!(err.to_string().contains("timed out after 20 ms"), "{err}");
    assert!(!setup.cwd().join("late.txt").exists());
}

#[test]
fn a_session_that_records_diffs_gets_each_change_as_a_unified_diff() {
    let setup = Setup::new();
    let mut session = setup.session(SandboxMode::WorkspaceWrite, &[]);
    let file = setup.cwd().join("notes.txt");
    std::fs::write(&file, "one\ntwo\n").unwrap();
    let run = |session: &Session, args: &str| {
        let call = ToolCall {
            call_id: "c1".into(),
            tool: "echo".to_owned(),
            args: args.to_owned(),
        };
        let outcome = super::call(&setup.plugins, session, &call);
        assert!(outcome.result.is_ok(), "{args}: {:?}", outcome.result);
        outcome.applied
    };
    let applied = run(&session, r#"{"text":"one\n2\n","write":"notes.txt"}"#);
    assert_eq!(applied[0].diff, None, "off by default");
    session.record_diffs = true;
    let applied = run(&session, r#"{"text":"one\nTWO\n","write":"notes.txt"}"#);
    assert_eq!(applied[0].kind, ChangeKind::Modified);
    let diff = applied[0].diff.as_deref().unwrap();
    assert!(
        diff.ends_with("@@ -1,2 +1,2 @@\n one\n-2\n+TWO\n"),
        "{diff}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "one\nTWO\n");
    let applied = run(&session, r#"{"text":"","delete":"notes.txt"}"#);
    let diff = applied[0].diff.as_deref().unwrap();
    assert!(diff.ends_with("@@ -1,2 +0,0 @@\n-one\n-TWO\n"), "{diff}");
    let applied = run(&session, r#"{"text":"fresh\n","write":"new.txt"}"#);
    assert_eq!(applied[0].kind, ChangeKind::Added);
    assert!(applied[0].diff.as_deref().unwrap().ends_with("+fresh\n"));
}

#[test]
fn a_huge_file_replaced_or_deleted_is_not_read_whole_for_its_diff() {
    let setup = Setup::new();
    let mut session = setup.session(SandboxMode::WorkspaceWrite, &[]);
    session.record_diffs = true;
    // Past the largest file diffed (sparse: it costs no disk).
    let huge = setup.cwd().join("huge.log");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    for args in [
        r#"{"text":"small\n","write":"huge.log"}"#,
        r#"{"text":"","delete":"huge.log"}"#,
    ] {
        let call = ToolCall {
            call_id: "c1".into(),
            tool: "echo".to_owned(),
            args: args.to_owned(),
        };
        let outcome = super::call(&setup.plugins, &session, &call);
        assert!(outcome.result.is_ok(), "{args}: {:?}", outcome.result);
        assert_eq!(outcome.applied[0].diff, None, "{args}: too large to diff");
        if args.contains("write") {
            assert_eq!(std::fs::read_to_string(&huge).unwrap(), "small\n");
            std::fs::File::create(&huge)
                .unwrap()
                .set_len(8 << 20)
                .unwrap();
        }
    }
    assert!(!huge.exists());
}
