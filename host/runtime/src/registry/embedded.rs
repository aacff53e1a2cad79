//! Plugins compiled into the binary: the first-party WASM components and
//! the builtin native plugins a build links in.

use wharf_plugin_api::native::PluginV1;

/// A plugin compiled into the binary: its manifest text and its code.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedPlugin {
    pub manifest: &'static str,
    pub code: EmbeddedCode,
}

/// The code of an embedded plugin.
#[derive(Clone, Copy)]
pub enum EmbeddedCode {
    /// A first-party WASM component (`kind = "wasm"`).
    Wasm(&'static [u8]),
    /// A builtin native plugin linked into the binary (`kind = "native"`):
    /// the same C ABI table a `.so` exports, without `dlopen`.
    Native(fn() -> &'static PluginV1),
}

impl std::fmt::Debug for EmbeddedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmbeddedCode::Wasm(bytes) => write!(f, "Wasm({} bytes)", bytes.len()),
            EmbeddedCode::Native(_) => f.write_str("Native"),
        }
    }
}

impl EmbeddedPlugin {
    pub const fn wasm(manifest: &'static str, wasm: &'static [u8]) -> EmbeddedPlugin {
        EmbeddedPlugin {
            manifest,
            code: EmbeddedCode::Wasm(wasm),
        }
    }

    pub const fn native(
        manifest: &'static str,
        table: fn() -> &'static PluginV1,
    ) -> EmbeddedPlugin {
        EmbeddedPlugin {
            manifest,
            code: EmbeddedCode::Native(table),
        }
    }
}
