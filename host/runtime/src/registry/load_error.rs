//! Why a plugin was not loaded, and the one check of an artifact against a
//! sha256 pin, shared by loading and by `wharf plugin add`.

use std::path::{Path, PathBuf};

use super::lock::LOCK_FILE;
use super::required::Blocked;
use crate::native::NativeError;
use crate::plugin::manifest::{PluginKind, ReadError, Sha256};
use crate::wasm::{SUPPORTED_API_VERSIONS, WasmError};

/// Who pinned the digest an artifact must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinnedBy {
    /// plugins.lock, written by `wharf plugin add`: it decides.
    Lock,
    /// The manifest's `sha256`: it can only refuse more.
    Manifest,
    /// The digest the user gave `wharf plugin add --sha256`.
    User,
}

/// Why a plugin could not be loaded. Its text is one line, shown after
/// "plugin `NAME` skipped: ".
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The administrator's requirements keep it from loading.
    #[error(transparent)]
    Blocked(#[from] Blocked),
    #[error("{}", pin_mismatch(*by, plugin, expected, actual))]
    PinMismatch {
        by: PinnedBy,
        plugin: String,
        expected: Sha256,
        actual: Sha256,
        /// The artifact that was hashed.
        path: PathBuf,
    },
    #[error(
        "{LOCK_FILE} records `{plugin}` as a {locked} plugin, but its manifest says \
         `kind = \"{manifest}\"`; install it again with `wharf plugin add`"
    )]
    KindMismatch {
        plugin: String,
        locked: PluginKind,
        manifest: PluginKind,
    },
    #[error(
        "a native plugin runs with your privileges, so wharf opens one only when it was \
         installed with `wharf plugin add` (which records it in {LOCK_FILE}); this one was \
         copied in by hand: remove it (`wharf plugin remove {plugin}`) and install it from its \
         source with `wharf plugin add DIR`"
    )]
    NotInstalled { plugin: String },
    #[error("{}", unsupported_api(*kind, api))]
    UnsupportedApi { kind: PluginKind, api: String },
    #[error("an MCP server is started from `[mcp_servers]` in config.toml, not loaded as a plugin")]
    McpServer,
    #[error(
        "the manifest says `kind = \"{kind}\"` but the binary embeds other code (a bug in this \
         build)"
    )]
    EmbeddedKind { kind: PluginKind },
    #[error(transparent)]
    Wasm(#[from] WasmError),
    #[error(transparent)]
    Native(#[from] NativeError),
    #[error("loading it panicked (a bug in wharf)")]
    Panicked,
    #[error("it was not loaded (a bug in wharf)")]
    NotLoaded,
}

/// Refuses `actual`, the digest of the artifact at `path` of `plugin`, when
/// it is not the one `by` pinned.
pub fn check_pin(
    by: PinnedBy,
    plugin: &str,
    expected: &Sha256,
    actual: &Sha256,
    path: &Path,
) -> Result<(), LoadError> {
    if expected == actual {
        return Ok(());
    }
    Err(LoadError::PinMismatch {
        by,
        plugin: plugin.to_owned(),
        expected: *expected,
        actual: *actual,
        path: path.to_path_buf(),
    })
}

fn pin_mismatch(by: PinnedBy, plugin: &str, expected: &Sha256, actual: &Sha256) -> String {
    match by {
        PinnedBy::Lock => format!(
            "sha256 mismatch: {LOCK_FILE} pins {expected} for `{plugin}`, the artifact is \
             {actual} (it changed since `wharf plugin add`; install it again if you trust it)"
        ),
        PinnedBy::Manifest => {
            format!("sha256 mismatch: the manifest pins {expected}, the artifact is {actual}")
        }
        PinnedBy::User => {
            format!("sha256 mismatch: expected {expected}, the artifact is {actual}")
        }
    }
}

fn unsupported_api(kind: PluginKind, api: &str) -> String {
    match kind {
        PluginKind::Native => format!(
            "the manifest targets native plugin ABI `{api}`, which this wharf does not support \
             (supported: {})",
            crate::native::ABI_VERSION
        ),
        PluginKind::Wasm | PluginKind::Mcp => format!(
            "the manifest targets wharf:plugin@{api}, which this wharf does not support \
             (supported: {})",
            SUPPORTED_API_VERSIONS.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_refuses_any_other_digest_and_says_who_pinned_it() {
        let pinned = Sha256([1; 32]);
        let actual = Sha256([2; 32]);
        let path = Path::new("/p/x.wasm");
        let cases = [
            (
                PinnedBy::Lock,
                format!(
                    "sha256 mismatch: plugins.lock pins {pinned} for `x`, the artifact is {actual} \
                     (it changed since `wharf plugin add`; install it again if you trust it)"
                ),
            ),
            (
                PinnedBy::Manifest,
                format!("sha256 mismatch: the manifest pins {pinned}, the artifact is {actual}"),
            ),
            (
                PinnedBy::User,
                format!("sha256 mismatch: expected {pinned}, the artifact is {actual}"),
            ),
        ];
        for (by, message) in cases {
            assert!(check_pin(by, "x", &pinned, &pinned, path).is_ok());
            let err = check_pin(by, "x", &pinned, &actual, path).unwrap_err();
            assert_eq!(err.to_string(), message);
            assert!(
                matches!(&err, LoadError::PinMismatch { path: p, .. } if p == path),
                "{err:?}"
            );
        }
    }
}
