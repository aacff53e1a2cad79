//! The wharf host: the agent loop that joins a model ([`wharf_model`]) to
//! the plugin runtime ([`wharf_runtime`]) under a configuration
//! ([`wharf_config`]), the events it reports, and rollouts (what a session
//! wrote, to resume it). The host never names a specific tool — tools live
//! in plugins, and the host only sees their manifests, specs, grants and
//! outputs.

pub mod agent;
pub mod audit;
pub mod clock;
pub mod interactive;
pub mod notify;
pub mod ops;
pub mod project_doc;
pub mod rollout;
pub mod session;
pub mod write_behind;
