//! wharf's plugin runtime: what a plugin is to the host ([`plugin`]), its
//! manifest and grant, the registry that loads installed and embedded
//! plugins ([`registry`]), the call pipeline every call goes through
//! ([`pipeline`]: feature gate, model fit, approval, the call itself,
//! truncation, checked file changes), and the two runtimes: WASM components
//! ([`wasm`]) and native plugins ([`native`]).
//!
//! The runtime knows no model wire API and no specific tool: it takes what
//! it must know about the model as a [`pipeline::ModelFit`].

pub mod exec;
pub mod hooks;
pub mod ids;
pub mod native;
pub mod pipeline;
pub mod plugin;
pub mod registry;
pub mod wasm;
