//! What a build of the command line is: its name and version, the plugins
//! compiled in, and the requirements and configuration baked in. wharf's
//! own is [`Build::wharf`]; a custom build makes its own and hands it to
//! [`crate::main_with`], which installs it for the whole process.

use std::sync::OnceLock;

use wharf_runtime::registry::EmbeddedPlugin;

/// A build of the command line.
#[derive(Debug, Clone)]
pub struct Build {
    /// The command's name in `--help` and `--version` (`wharf`).
    pub name: &'static str,
    /// The version `--version` prints.
    pub version: &'static str,
    /// The line under the usage in `--help`; `None`: wharf's own.
    pub about: Option<&'static str>,
    /// The plugins compiled in: [`FIRST_PARTY`] (or part of it) and the
    /// build's own builtin native plugins. Their manifests' `[feature]`
    /// keys are registered like those of installed plugins.
    pub plugins: Vec<EmbeddedPlugin>,
    /// A `requirements.toml` baked in (`include_str!`): a name for
    /// messages, and the text. It applies whatever the machine holds, in
    /// place of `/etc/wharf/requirements.toml` and `$WHARF_REQUIREMENTS`.
    pub requirements: Option<(&'static str, &'static str)>,
    /// A `config.toml` baked in: a name for messages, and the text. Its
    /// values sit above wharf's defaults and below every file, flag and
    /// requirement; `wharf config show` calls them `build`.
    pub default_config: Option<(&'static str, &'static str)>,
}

impl Build {
    /// wharf itself: every first-party plugin this crate's cargo features
    /// link in, nothing baked in.
    pub fn wharf() -> Build {
        Build {
            name: "wharf",
            version: env!("CARGO_PKG_VERSION"),
            about: None,
            plugins: FIRST_PARTY.to_vec(),
            requirements: None,
            default_config: None,
        }
    }
}

static CURRENT: OnceLock<Build> = OnceLock::new();

/// Makes `build` the process's build (the first one given stays).
pub(crate) fn install(build: Build) -> &'static Build {
    CURRENT.get_or_init(|| build)
}

/// The process's build: the one [`crate::main_with`] installed, else wharf's.
pub(crate) fn current() -> &'static Build {
    CURRENT.get_or_init(Build::wharf)
}

/// The plugins compiled into this build.
pub(crate) fn embedded() -> &'static [EmbeddedPlugin] {
    &current().plugins
}

/// wharf's first-party plugins in this crate: the WASM components
/// `build.rs` builds, and the builtin native plugins its cargo features
/// (`unified_exec`, `shell_tool`) choose.
pub const FIRST_PARTY: &[EmbeddedPlugin] = &[
    EmbeddedPlugin::wasm(
        include_str!("../../plugins/apply-patch/plugin.toml"),
        include_bytes!(env!("WHARF_APPLY_PATCH_WASM")),
    ),
    EmbeddedPlugin::wasm(
        include_str!("../../plugins/view-image/plugin.toml"),
        include_bytes!(env!("WHARF_VIEW_IMAGE_WASM")),
    ),
    EmbeddedPlugin::wasm(
        include_str!("../../plugins/update-plan/plugin.toml"),
        include_bytes!(env!("WHARF_UPDATE_PLAN_WASM")),
    ),
    #[cfg(feature = "unified_exec")]
    EmbeddedPlugin::native(
        include_str!("../../plugins/unified-exec/unified-exec.toml"),
        wharf_plugin_unified_exec::tools::unified_exec::wharf_native_plugin,
    ),
    #[cfg(feature = "shell_tool")]
    EmbeddedPlugin::native(
        include_str!("../../plugins/unified-exec/shell.toml"),
        wharf_plugin_unified_exec::tools::shell_tool::wharf_native_plugin,
    ),
];
