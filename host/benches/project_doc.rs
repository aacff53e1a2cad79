//! What the project instructions add to a session's start (run with
//! `cargo xtask bench`): finding and reading the `AGENTS.md` files of a
//! working directory 20 levels below the repository root, one file per
//! level, and building the message (target ≤ 1 ms). Figures only; it
//! asserts no time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use wharf_host::project_doc::{ProjectDocs, Search};

const LEVELS: usize = 20;
const ROUNDS: usize = 2000;
const TARGET_MS: f64 = 1.0;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("repo");
    let home = dir.path().join("home");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("AGENTS.md"), "Answer in English.\n").unwrap();
    let mut cwd = root.clone();
    let mut dirs = vec![root.clone()];
    for level in 1..=LEVELS {
        cwd.push(format!("level{level}"));
        dirs.push(cwd.clone());
    }
    std::fs::create_dir_all(&cwd).unwrap();

    let run = |label: &str, files: usize| {
        let search = Search {
            wharf_home: &home,
            cwd: &cwd,
            trusted_root: Some(&root),
            max_bytes: 32 * 1024,
            fallback_names: &["CLAUDE.md".to_owned()],
        };
        let mut times = Vec::with_capacity(ROUNDS);
        let mut found = 0;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let docs = ProjectDocs::load(&search);
            let message = docs.message();
            times.push(started.elapsed());
            found = docs.files.len();
            std::hint::black_box(message);
        }
        times.sort();
        println!(
            "project instructions, {label} ({found} files read of {files} written): \
             p50 {:.3} ms, p99 {:.3} ms (target ≤ {TARGET_MS} ms)",
            ms(times[ROUNDS / 2]),
            ms(times[ROUNDS * 99 / 100]),
        );
    };

    run("20-level chain, only the user's AGENTS.md", 1);
    let text = "- Run `cargo test` before you answer.\n".repeat(20);
    for dir in &dirs {
        std::fs::write(dir.join("AGENTS.md"), &text).unwrap();
    }
    run(
        "20-level chain, an AGENTS.md at every level",
        dirs.len() + 1,
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
