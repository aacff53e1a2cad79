//! Neighbours: processes outside the sandbox. A command cannot see them
//! (its own PID namespace and `/proc`), signal them, read their
//! environment, or reach their abstract unix sockets (Landlock's scopes).

#![allow(clippy::disallowed_methods)]

use std::io::ErrorKind;
use std::os::linux::net::SocketAddrExt as _;
use std::os::unix::net::{SocketAddr, UnixListener};

use super::{World, python};
use crate::spawn::tests::sh;

/// A process of the test's own user outside the sandbox, killed on drop.
struct Neighbour(std::process::Child);

impl Neighbour {
    fn start() -> Neighbour {
        let child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep runs");
        Neighbour(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn alive(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Neighbour {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn outside_processes_cannot_be_signalled() {
    let world = World::new();
    let mut neighbour = Neighbour::start();
    for (name, policy) in world.confining_policies() {
        let sandbox = world.sandbox(&policy);
        let pid = neighbour.pid();
        // (Not by its group: on a sandbox that fails this test that would
        // be the test runner's.)
        let ran = python(&sandbox, &format!("oserror(lambda: os.kill({pid}, 9))"));
        assert!(neighbour.alive(), "{name}: the neighbour was killed");
        assert_eq!(ran.code, Some(1), "{name}: {}{}", ran.stdout, ran.stderr);
    }
}

#[test]
fn outside_processes_are_invisible() {
    let world = World::new();
    let neighbour = Neighbour::start();
    let me = std::process::id();
    for (name, policy) in world.confining_policies() {
        let sandbox = world.sandbox(&policy);
        let ran = sh(
            &sandbox,
            &format!(
                "cat /proc/{me}/environ && echo read-mine; cat /proc/{n}/cmdline && echo read-its; \
                 ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '",
                n = neighbour.pid()
            ),
        );
        assert!(
            !ran.stdout.contains("read-mine") && !ran.stdout.contains("read-its"),
            "{name}: {}",
            ran.stdout
        );
        // Its own namespace: init (1), the shell (2), and what it runs.
        let pids: Vec<u32> = ran
            .stdout
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect();
        assert!(pids.contains(&1) && pids.contains(&2), "{name}: {pids:?}");
        assert!(pids.iter().all(|pid| *pid < 10), "{name}: {pids:?}");
    }
}

#[test]
fn outside_abstract_sockets_cannot_be_reached() {
    let world = World::new();
    let name = format!("wharf-escape-test-{}", std::process::id());
    let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let listener = UnixListener::bind_addr(&address).unwrap();
    listener.set_nonblocking(true).unwrap();
    for (policy_name, policy) in world.confining_policies() {
        let sandbox = world.sandbox(&policy);
        let code = format!(
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
oserror(lambda: s.connect('\\0{name}'))"
        );
        let ran = python(&sandbox, &code);
        assert_eq!(
            (ran.code, ran.stdout.trim()),
            (Some(1), "EPERM"),
            "{policy_name}: {}",
            ran.stderr
        );
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(err) if err.kind() == ErrorKind::WouldBlock),
            "{policy_name}: a connection arrived"
        );
    }
    // A socket the command makes itself still works.
    let sandbox = world.sandbox(&world.workspace_write());
    let ran = python(
        &sandbox,
        "a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
a.bind('\\0own'); a.listen(1)
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
oserror(lambda: b.connect('\\0own'))",
    );
    assert_eq!(ran.stdout.trim(), "ok", "{}", ran.stderr);
}
