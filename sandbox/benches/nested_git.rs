//! The cost of the once-per-session scan for nested git repositories (run
//! with `cargo xtask bench`): a generated 100 000-file workspace (1 000
//! directories of 100 files, 300 of them deep as in `node_modules`, with
//! nested repositories), walked right after it was written (cold-ish: the
//! kernel's caches hold it, nothing else has read it) and again (warm).

#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use wharf_sandbox::paths::nested_git::{ScanLimits, scan};

const DIRS: usize = 1_000;
const DEEP_DIRS: usize = 300;
const FILES_PER_DIR: usize = 100;
const REPOSITORIES: usize = 5;
const COLD_RUNS: usize = 5;
const WARM_RUNS: usize = 10;

fn main() {
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut found = 0;
    for _ in 0..COLD_RUNS {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        generate(&root);
        let (elapsed, nested) = timed(&root);
        cold.push(elapsed);
        found = nested;
        for _ in 0..WARM_RUNS / COLD_RUNS {
            warm.push(timed(&root).0);
        }
    }
    // Each vendored repository, and the one deep in node_modules.
    assert_eq!(found, REPOSITORIES + 1, "the scan missed a repository");
    println!(
        "nested_git scan of {} files in {DIRS} directories ({found} repositories found): \
         cold-ish p50 {:.1} ms, warm p50 {:.1} ms",
        DIRS * FILES_PER_DIR,
        p50(&mut cold),
        p50(&mut warm),
    );
}

fn timed(root: &Path) -> (Duration, usize) {
    let started = Instant::now();
    let nested = scan(&[root.to_path_buf()], ScanLimits::SESSION);
    let elapsed = started.elapsed();
    assert_eq!(nested.stopped, None, "the scan hit a limit");
    (elapsed, nested.paths().count())
}

fn generate(root: &Path) {
    for index in 0..DIRS {
        let dir = if index < DEEP_DIRS {
            root.join(format!("node_modules/pkg{index}/lib/src/internal/util"))
        } else {
            root.join(format!("src/m{}/d{index}", index % 30))
        };
        std::fs::create_dir_all(&dir).unwrap();
        for file in 0..FILES_PER_DIR {
            std::fs::write(dir.join(format!("f{file}.rs")), "").unwrap();
        }
    }
    let deep = root.join("node_modules/pkg7/lib/src/internal/util/.git");
    let vendored = (0..REPOSITORIES).map(|index| root.join(format!("vendor/lib{index}/.git")));
    for git_dir in vendored.chain([deep]) {
        std::fs::create_dir_all(git_dir.join("hooks")).unwrap();
        std::fs::create_dir_all(git_dir.join("objects")).unwrap();
        std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }
}

fn p50(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1_000.0
}
