use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

/// A wharf home and a repository `repo/` whose working directory is
/// `repo/a/b`.
struct World {
    dir: TempDir,
}

impl World {
    fn new() -> World {
        let world = World {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(world.home()).unwrap();
        std::fs::create_dir_all(world.cwd()).unwrap();
        std::fs::create_dir_all(world.root().join(".git")).unwrap();
        world
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap().join("repo")
    }

    fn cwd(&self) -> PathBuf {
        self.root().join("a").join("b")
    }

    fn write(&self, path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    fn load(&self, trusted: bool, max_bytes: usize, fallbacks: &[&str]) -> ProjectDocs {
        let root = self.root();
        let home = self.home();
        let cwd = self.cwd();
        let fallbacks: Vec<String> = fallbacks.iter().map(|name| (*name).to_owned()).collect();
        ProjectDocs::load(&Search {
            wharf_home: &home,
            cwd: &cwd,
            trusted_root: trusted.then_some(root.as_path()),
            max_bytes,
            fallback_names: &fallbacks,
        })
    }
}

fn names(docs: &ProjectDocs, world: &World) -> Vec<String> {
    docs.files
        .iter()
        .map(|file| {
            file.path
                .strip_prefix(world.dir.path().canonicalize().unwrap())
                .or_else(|_| file.path.strip_prefix(world.dir.path()))
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

fn text(docs: &ProjectDocs) -> String {
    match docs.message() {
        Some(ResponseItem::Message { role, text, .. }) => {
            assert_eq!(role, Role::User);
            text
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_global_file_then_one_per_directory_root_first() {
    let world = World::new();
    world.write(&world.home().join("AGENTS.md"), "global rules");
    world.write(&world.root().join("AGENTS.md"), "repo rules");
    world.write(&world.root().join("a").join("AGENTS.md"), "a rules");
    world.write(
        &world.root().join("a").join("AGENTS.override.md"),
        "a override",
    );
    world.write(&world.cwd().join("AGENTS.md"), "b rules");
    let docs = world.load(true, 32 * 1024, &[]);
    assert_eq!(
        names(&docs, &world),
        [
            "home/AGENTS.md",
            "repo/AGENTS.md",
            "repo/a/AGENTS.override.md",
            "repo/b/AGENTS.md".replace("repo/b", "repo/a/b").as_str(),
        ]
    );
    let text = text(&docs);
    assert!(
        text.starts_with(&format!(
            "{MESSAGE_PREFIX}{}\n\n<INSTRUCTIONS>\n",
            world.cwd().display()
        )),
        "{text}"
    );
    let order: Vec<usize> = ["global rules", "repo rules", "a override", "b rules"]
        .iter()
        .map(|part| {
            text.find(part)
                .unwrap_or_else(|| panic!("{part} in {text}"))
        })
        .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    assert!(!text.contains("a rules"), "the override wins: {text}");
    assert!(
        text.contains(&format!(
            "--- {} ---\nrepo rules\n",
            world.root().join("AGENTS.md").display()
        )),
        "{text}"
    );
    assert!(text.ends_with("</INSTRUCTIONS>"), "{text}");
    assert!(docs.warnings.is_empty(), "{:?}", docs.warnings);
}

#[test]
fn an_untrusted_project_gives_only_the_global_file() {
    let world = World::new();
    world.write(&world.home().join("AGENTS.override.md"), "override");
    world.write(&world.home().join("AGENTS.md"), "not this one");
    world.write(&world.root().join("AGENTS.md"), "repo rules");
    let docs = world.load(false, 32 * 1024, &[]);
    assert_eq!(names(&docs, &world), ["home/AGENTS.override.md"]);
    assert!(!text(&docs).contains("repo rules"));
}

#[test]
fn nothing_found_sends_nothing() {
    let world = World::new();
    world.write(&world.root().join("AGENTS.md"), "  \n");
    let docs = world.load(true, 32 * 1024, &[]);
    assert!(docs.files.is_empty());
    assert_eq!(docs.message(), None);
}

#[test]
fn fallback_names_are_read_where_agents_md_is_missing() {
    let world = World::new();
    world.write(&world.root().join("CLAUDE.md"), "claude rules");
    world.write(&world.cwd().join("AGENTS.md"), "b rules");
    world.write(
        &world.cwd().join("CLAUDE.md"),
        "not read: AGENTS.md is here",
    );
    let docs = world.load(true, 32 * 1024, &["../../etc/passwd", "", "CLAUDE.md"]);
    assert_eq!(
        names(&docs, &world),
        ["repo/CLAUDE.md", "repo/a/b/AGENTS.md"]
    );
    assert_eq!(docs.warnings.len(), 2, "{:?}", docs.warnings);
    assert!(docs.warnings[0].contains("\"../../etc/passwd\" is not a file name"));
}

#[test]
fn the_budget_cuts_the_file_that_crosses_it_and_drops_the_rest() {
    let world = World::new();
    // Longer than the project's budget, but the user's file has a budget
    // of its own (at least 32 KiB).
    world.write(&world.home().join("AGENTS.md"), &"g".repeat(100));
    world.write(&world.root().join("AGENTS.md"), &"r".repeat(60));
    // A two-byte character straddles the cut.
    world.write(
        &world.root().join("a").join("AGENTS.md"),
        &format!("{}é tail", "a".repeat(38)),
    );
    world.write(&world.cwd().join("AGENTS.md"), "never read");
    let docs = world.load(true, 99, &[]);
    let bytes: Vec<(usize, bool)> = docs.files.iter().map(|f| (f.bytes, f.truncated)).collect();
    // The project's files share 99 bytes.
    assert_eq!(bytes, [(100, false), (60, false), (38, true)]);
    let text = text(&docs);
    assert!(
        !text.contains("never read") && !text.contains('\u{FFFD}'),
        "{text}"
    );
    assert_eq!(docs.warnings.len(), 1, "{:?}", docs.warnings);
    assert!(
        docs.warnings[0].contains("cut at 39 bytes"),
        "{:?}",
        docs.warnings
    );
}

#[test]
fn a_zero_budget_reads_none_of_the_project() {
    let world = World::new();
    world.write(&world.home().join("AGENTS.md"), "global");
    world.write(&world.root().join("AGENTS.md"), "repo");
    let docs = world.load(true, 0, &[]);
    assert_eq!(names(&docs, &world), ["home/AGENTS.md"]);
}

/// A repository's AGENTS.md that links to a secret outside it would send
/// the secret to the model provider: it is not read.
#[test]
fn a_symlink_out_of_the_project_is_not_read() {
    let world = World::new();
    let secret = world.dir.path().join("secret.txt");
    world.write(&secret, "the user's secret");
    std::os::unix::fs::symlink(&secret, world.root().join("AGENTS.md")).unwrap();
    // Through `..` in a relative link, too.
    std::fs::create_dir_all(world.dir.path().join("outside")).unwrap();
    world.write(
        &world.dir.path().join("outside").join("AGENTS.md"),
        "outside rules",
    );
    std::os::unix::fs::symlink("../../../outside/AGENTS.md", world.cwd().join("AGENTS.md"))
        .unwrap();
    // Inside the project, a symlink is fine.
    world.write(&world.root().join("a").join("RULES.md"), "a rules");
    std::os::unix::fs::symlink("RULES.md", world.root().join("a").join("AGENTS.md")).unwrap();
    let docs = world.load(true, 32 * 1024, &[]);
    assert_eq!(names(&docs, &world), ["repo/a/AGENTS.md"]);
    let text = text(&docs);
    assert!(
        !text.contains("secret") && !text.contains("outside rules"),
        "{text}"
    );
    assert!(
        docs.warnings
            .iter()
            .any(|w| w.contains("outside the project")),
        "{:?}",
        docs.warnings
    );
}

/// A FIFO named AGENTS.md would block every session's start: it is
/// skipped at once, with a warning.
#[test]
fn a_fifo_is_skipped_without_blocking() {
    let world = World::new();
    let fifo = world.root().join("AGENTS.md");
    let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `name` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
    world.write(&world.cwd().join("AGENTS.md"), "b rules");
    let docs = world.load(true, 32 * 1024, &[]);
    assert_eq!(names(&docs, &world), ["repo/a/b/AGENTS.md"]);
    assert!(
        docs.warnings
            .iter()
            .any(|w| w.contains("not a regular file")),
        "{:?}",
        docs.warnings
    );
}

#[test]
fn outside_a_repository_only_the_working_directory_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap().join("x");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(dir.path().join("AGENTS.md"), "parent").unwrap();
    std::fs::write(cwd.join("AGENTS.md"), "here").unwrap();
    let home = dir.path().join("no-home");
    let docs = ProjectDocs::load(&Search {
        wharf_home: &home,
        cwd: &cwd,
        // The project root of a directory outside a repository is itself.
        trusted_root: Some(&cwd),
        max_bytes: 1024,
        fallback_names: &[],
    });
    assert_eq!(docs.paths(), [cwd.join("AGENTS.md")]);
}
