//! What the command line and the process environment contribute to a
//! configuration; the one place that reads the environment.

use std::io;
use std::path::{Path, PathBuf};

use wharf_sandbox::SandboxMode;

use crate::build_config::BuildConfig;
use crate::error::ConfigError;
use crate::requirements::{self, RequirementsSource};
use crate::toml_types::ApprovalPolicy;

/// What the command line and the process environment contribute. Built by
/// the caller so that the loader itself never reads the environment.
#[derive(Debug, Clone, Default)]
pub struct ConfigOptions {
    /// `$WHARF_HOME`, or `~/.wharf`.
    pub wharf_home: PathBuf,
    /// The user's home directory, for `~/` in configured paths.
    pub home_dir: Option<PathBuf>,
    /// The working directory of the session (`--cd`).
    pub cwd: PathBuf,
    /// `$TMPDIR`, which workspace-write makes writable unless excluded.
    pub tmpdir: Option<PathBuf>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `-c key.path=value`, in order.
    pub overrides: Vec<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--sandbox`.
    pub sandbox_mode: Option<SandboxMode>,
    /// `--ask-for-approval`.
    pub approval_policy: Option<ApprovalPolicy>,
    /// `$OPENAI_BASE_URL`: the built-in `openai` provider's base URL, as in
    /// codex. A configured `model_providers.openai.base_url` wins.
    pub openai_base_url: Option<String>,
    /// `--enable`, `--disable`.
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    /// Where the administrator's requirements are read from.
    pub requirements: RequirementsSource,
    /// The `config.toml` a custom build bakes in, if any: above the
    /// built-in defaults, below every file.
    pub build_config: Option<BuildConfig>,
}

impl ConfigOptions {
    /// Options from the process environment: `$WHARF_HOME` (default
    /// `~/.wharf`), `$HOME`, `$TMPDIR`, `$OPENAI_BASE_URL`,
    /// `$WHARF_REQUIREMENTS` (where there is no system requirements file),
    /// with `cwd` as the working directory.
    pub fn from_env(cwd: &Path) -> Result<ConfigOptions, ConfigError> {
        ConfigOptions::from_env_with(cwd, None)
    }

    /// [`ConfigOptions::from_env`] for a build that bakes `built_in`
    /// requirements in (a name for messages, and the file's text): they
    /// apply whatever the machine holds.
    pub fn from_env_with(
        cwd: &Path,
        built_in: Option<(&str, &'static str)>,
    ) -> Result<ConfigOptions, ConfigError> {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let home_dir = std::env::home_dir();
        let cwd = std::path::absolute(cwd)
            .and_then(|path| {
                if path.is_dir() {
                    Ok(path)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::NotADirectory,
                        "not a directory",
                    ))
                }
            })
            .map_err(|source| ConfigError::Cwd {
                path: cwd.to_path_buf(),
                source,
            })?;
        let wharf_home = match non_empty("WHARF_HOME") {
            Some(dir) => cwd.join(dir),
            None => home_dir.as_ref().ok_or(ConfigError::NoHome)?.join(".wharf"),
        };
        let requirements = RequirementsSource::find(
            built_in,
            Path::new(requirements::SYSTEM_PATH),
            non_empty(requirements::ENV_VAR).map(|path| cwd.join(path)),
        );
        Ok(ConfigOptions {
            wharf_home,
            requirements,
            home_dir,
            cwd,
            tmpdir: non_empty("TMPDIR").map(PathBuf::from),
            openai_base_url: non_empty("OPENAI_BASE_URL")
                .and_then(|url| url.into_string().ok())
                .filter(|url| !url.trim().is_empty()),
            ..ConfigOptions::default()
        })
    }

    /// The user's configuration file.
    pub fn user_config_path(&self) -> PathBuf {
        self.wharf_home.join(crate::CONFIG_FILE)
    }
}
