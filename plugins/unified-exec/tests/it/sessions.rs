//! Many sessions: pruning, the warning, and every way a process is killed.

use std::time::{Duration, Instant};

use wharf_plugin_unified_exec::{
    ExecError, MAX_SESSIONS, SessionId, Status, UnifiedExec, WriteStdinArgs,
};

use crate::{
    Fixture, SESSION, args, assert_dies, is_dead, never, pid_of_sleep, running, unique_sleep,
};

fn pid_of(fx: &Fixture, id: SessionId) -> u32 {
    let sessions = fx.exec.sessions(SESSION);
    sessions
        .iter()
        .find(|session| session.id == id)
        .unwrap()
        .pid
}

#[test]
fn the_65th_session_prunes_the_oldest_exited_one() {
    let fx = Fixture::new();
    // 1: the oldest, running; 2: exits soon after its call; 3..=64: running.
    let oldest = running(&fx.exec("exec sleep 30"));
    let exits = running(&fx.exec("exec sleep 0.4"));
    assert_eq!((oldest, exits), (SessionId(1), SessionId(2)));
    let warnings: Vec<bool> = std::thread::scope(|scope| {
        let calls: Vec<_> = (3..=MAX_SESSIONS)
            .map(|_| scope.spawn(|| fx.exec("exec sleep 30")))
            .collect();
        calls
            .into_iter()
            .map(|call| {
                let response = call.join().unwrap();
                running(&response);
                response.warning.is_some()
            })
            .collect()
    });
    // Sessions 60 to 64 were told that many are open.
    assert_eq!(warnings.iter().filter(|&&warned| warned).count(), 5);
    assert_eq!(fx.exec.sessions(SESSION).len(), MAX_SESSIONS);

    assert!(
        fx.exec
            .wait_for_exit(SESSION, exits, Duration::from_secs(5)),
        "sleep 0.4 did not exit"
    );
    assert!(fx.exec.sessions(SESSION)[1].exited);
    let oldest_pid = pid_of(&fx, oldest);

    let newest = fx.exec("exec sleep 30");
    assert_eq!(newest.status, Status::Running(SessionId(65)));
    let warning = newest.warning.as_deref().unwrap();
    assert!(
        warning.starts_with("64 exec sessions are open (at most 64;"),
        "{warning}"
    );
    assert!(
        newest
            .to_string()
            .ends_with(&format!("Output:\nWarning: {warning}"))
    );
    let ids: Vec<u32> = fx.exec.sessions(SESSION).iter().map(|s| s.id.0).collect();
    assert_eq!(ids, [1].into_iter().chain(3..=65).collect::<Vec<u32>>());
    assert!(matches!(
        fx.try_write(exits, "", 250),
        Err(ExecError::UnknownSession(2))
    ));

    // With none exited, the least recently used goes, and is killed.
    running(&fx.exec("exec sleep 30"));
    assert!(fx.exec.sessions(SESSION).iter().all(|s| s.id != oldest));
    assert_dies(oldest_pid);
    fx.exec.end_session(SESSION);
}

#[test]
fn pruning_spares_the_most_recently_used() {
    let fx = Fixture::new();
    let mut on_a_pty = args("exec sleep 30");
    on_a_pty.tty = Some(true);
    let first = running(&fx.try_exec(on_a_pty).unwrap());
    std::thread::scope(|scope| {
        let calls: Vec<_> = (1..MAX_SESSIONS)
            .map(|_| scope.spawn(|| running(&fx.exec("exec sleep 30"))))
            .collect();
        calls.into_iter().for_each(|call| {
            call.join().unwrap();
        });
    });
    assert_eq!(fx.exec.sessions(SESSION).len(), MAX_SESSIONS);
    // Typing into session 1 puts it among the 8 most recently used.
    fx.write(first, "\n", 250);
    let newest = fx.exec("exec sleep 30");
    assert_eq!(newest.session_id(), Some(SessionId(65)));
    let ids: Vec<u32> = fx.exec.sessions(SESSION).iter().map(|s| s.id.0).collect();
    assert_eq!(ids, [1].into_iter().chain(3..=65).collect::<Vec<u32>>());
    fx.exec.end_session(SESSION);
}

#[test]
fn end_session_kills_the_whole_process_group() {
    let fx = Fixture::new();
    let sleep = unique_sleep();
    let started = fx.exec(&format!(
        "sleep {sleep} & while ! grep -q {sleep} /proc/$!/cmdline; do :; done; exec sleep 100"
    ));
    let id = running(&started);
    let background = pid_of_sleep(&sleep).expect("the background sleep runs");
    let leader = pid_of(&fx, id);
    assert!(!is_dead(leader) && !is_dead(background));

    // Another wharf session neither sees nor ends it.
    let other = WriteStdinArgs {
        session_id: 1,
        ..WriteStdinArgs::default()
    };
    assert!(matches!(
        fx.exec.write_stdin("other-session", other, &never),
        Err(ExecError::UnknownSession(1))
    ));
    fx.exec.end_session("other-session");
    assert!(!is_dead(leader));

    fx.exec.end_session(SESSION);
    assert_dies(leader);
    assert_dies(background);
    assert!(fx.exec.sessions(SESSION).is_empty());
    // The ids of a new session start over.
    assert_eq!(running(&fx.exec("exec sleep 100")), SessionId(1));
}

#[test]
fn what_a_command_leaves_behind_is_killed_when_it_exits() {
    let fx = Fixture::new();
    // It exits once the test has seen its background sleep run: it blocks
    // reading a FIFO the test writes to then.
    let seen = fx.work.join("seen");
    let path = std::ffi::CString::new(seen.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path and a mode.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let sleep = unique_sleep();
    let mut args = args(&format!("sleep {sleep} & read line < seen; echo started"));
    args.yield_time_ms = Some(10_000);
    let background = std::cell::Cell::new(None);
    let watch = || {
        if background.get().is_none() {
            background.set(pid_of_sleep(&sleep));
            if background.get().is_some() {
                std::fs::write(&seen, "seen\n").unwrap();
            }
        }
        false
    };
    let response = fx
        .exec
        .exec_command(&fx.sandbox, SESSION, args, &watch)
        .unwrap();
    assert_eq!(response.status, Status::Exited(0), "{response}");
    assert_dies(background.get().unwrap());
}

#[test]
fn cancelling_a_waiting_exec_kills_the_command() {
    let fx = Fixture::new();
    let sleep = unique_sleep();
    let mut args = args(&format!("exec sleep {sleep}"));
    args.yield_time_ms = Some(30_000);
    let started = Instant::now();
    let pid = std::cell::Cell::new(None);
    // Cancels once the command runs (and was seen).
    let cancel = || {
        if pid.get().is_none() {
            pid.set(pid_of_sleep(&sleep));
        }
        pid.get().is_some() && started.elapsed() > Duration::from_millis(300)
    };
    let result = fx.exec.exec_command(&fx.sandbox, SESSION, args, &cancel);
    assert!(matches!(result, Err(ExecError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_dies(pid.get().unwrap());
    assert!(fx.exec.sessions(SESSION).is_empty());
}

#[test]
fn cancelling_a_poll_kills_the_session() {
    let fx = Fixture::new();
    let id = running(&fx.exec("exec sleep 100"));
    let pid = pid_of(&fx, id);
    let poll = WriteStdinArgs {
        session_id: id.0.into(),
        ..WriteStdinArgs::default()
    };
    let started = Instant::now();
    let result = fx.exec.write_stdin(SESSION, poll, &|| true);
    assert!(matches!(result, Err(ExecError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_dies(pid);
    assert!(fx.exec.sessions(SESSION).is_empty());
}

#[test]
fn dropping_the_manager_kills_every_session() {
    let fx = Fixture::new();
    let exec = UnifiedExec::new();
    let response = exec
        .exec_command(&fx.sandbox, "a", args("exec sleep 100"), &never)
        .unwrap();
    let pid = exec.sessions("a")[0].pid;
    running(&response);
    drop(exec);
    assert_dies(pid);
}
