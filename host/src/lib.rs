//! The wharf host: everything between the command line and the plugins.
//!
//! For now that is the layered configuration ([`config`]) and the feature
//! flag registry ([`features`]). The plugin registry, the call pipeline and
//! the agent loop grow here later; the host never names a specific tool —
//! tools live in plugins, and the host only sees their manifests, specs,
//! grants and outputs.

pub mod agent;
pub mod client;
pub mod config;
pub mod exec;
pub mod features;
pub mod model;
pub mod models;
pub mod native;
pub mod pipeline;
pub mod plugin;
pub mod registry;
pub mod replay;
pub mod rollout;
pub mod wasm;

pub use config::{Config, ConfigError, ConfigOptions, Source};
pub use features::{FeatureError, FeatureRegistry, FeatureSpec, Features, Stage};
