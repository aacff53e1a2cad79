//! Fixtures shared by wharf's cross-crate end-to-end tests (`tests/it/`).

pub mod mcp_servers;
pub mod model_server;
pub mod oauth_server;
pub mod otlp_receiver;

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A temporary machine: a home directory with `.wharf/`, a git checkout to
/// work in, and a directory that stands in for `$TMPDIR`. It lives in
/// `/var/tmp`: with the home below `/tmp`, wharf would refuse `/tmp` as a
/// writable root.
pub struct Machine {
    dir: TempDir,
}

impl Machine {
    pub fn new() -> std::io::Result<Machine> {
        let machine = Machine {
            dir: tempfile::Builder::new().tempdir_in("/var/tmp")?,
        };
        std::fs::create_dir_all(machine.wharf_home())?;
        std::fs::create_dir_all(machine.repo().join(".git"))?;
        std::fs::create_dir_all(machine.tmpdir())?;
        Ok(machine)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn wharf_home(&self) -> PathBuf {
        self.home().join(".wharf")
    }

    /// A git checkout (it has a `.git` directory).
    pub fn repo(&self) -> PathBuf {
        self.root().join("repo")
    }

    pub fn tmpdir(&self) -> PathBuf {
        self.root().join("tmp")
    }

    /// Writes `$WHARF_HOME/config.toml`.
    pub fn write_user_config(&self, text: &str) -> std::io::Result<PathBuf> {
        let path = self.wharf_home().join("config.toml");
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// Writes a file below the machine's root, creating its directories.
    pub fn write(&self, relative: &str, text: &str) -> std::io::Result<PathBuf> {
        let path = self.root().join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        Ok(path)
    }
}
