//! The user's terminal: a command a tool starts (pipes, not a terminal of
//! its own) runs in a session without a controlling terminal, so it cannot
//! open wharf's `/dev/tty` to write on the user's screen or read their keys.
//! (`a_command_cannot_type_into_its_terminal` covers a terminal it has.)

#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use super::World;
use crate::{Command, RunLimits};

/// The environment variable that makes [`helper_on_a_terminal`] do its work.
const HELPER: &str = "WHARF_SANDBOX_TERMINAL_HELPER";

/// What a command writes to the terminal if it can reach it.
const MARK: &str = "written-by-the-command";

#[test]
fn a_tool_command_cannot_reach_wharfs_terminal() {
    let world = World::new();
    let exe = std::env::current_exe().unwrap();
    // `script` runs the helper (playing wharf) with a terminal of its own
    // as its controlling terminal, and copies what appears there.
    let helper = format!(
        "{} spawn::escapes::terminal::helper_on_a_terminal --exact --nocapture \
         --test-threads=1",
        exe.display()
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &helper, "/dev/null"])
        .env(HELPER, &world.root)
        .current_dir(&world.work)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (bsdutils) runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    // The helper saw its terminal, so the test can fail ...
    assert!(screen.contains("helper has a terminal"), "{screen}");
    // ... and the command could not write on it.
    assert!(!screen.contains(MARK), "{screen}");
    assert!(
        screen.contains("command: No such device or address"),
        "{screen}"
    );
}

/// Not a test of its own: what [`a_tool_command_cannot_reach_wharfs_terminal`]
/// runs on a terminal. Without [`HELPER`] set it does nothing.
#[test]
fn helper_on_a_terminal() {
    let Some(root) = std::env::var_os(HELPER) else {
        return;
    };
    assert!(
        std::fs::File::options()
            .write(true)
            .open("/dev/tty")
            .is_ok(),
        "the helper has no terminal"
    );
    println!("helper has a terminal");
    let world = World::at(root.into());
    let sandbox = world.sandbox(&world.workspace_write());
    let script = format!(
        "python3 -c \"import os
try:
    os.write(os.open('/dev/tty', os.O_WRONLY), b'{MARK}')
    print('command: wrote')
except OSError as err:
    print('command:', err.strerror)\""
    );
    let limits = RunLimits {
        timeout: Duration::from_secs(20),
        max_output_bytes: 4096,
    };
    let ran = sandbox
        .run(Command::new(["/bin/sh", "-c", &script]), None, limits)
        .unwrap();
    print!("{}", String::from_utf8_lossy(&ran.stdout));
    print!("{}", String::from_utf8_lossy(&ran.stderr));
}
