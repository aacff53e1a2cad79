//! wharf's side of the model: the conversation protocol every client speaks
//! ([`protocol`]), what wharf knows about models ([`models`]: the catalog and
//! the providers), the clients of the Responses and Chat Completions APIs
//! over HTTP, SSE and WebSocket ([`client`]), and record/replay of a model's
//! side of a session ([`replay`]).
//!
//! This crate knows no plugin: tools reach it only as the specs in a
//! [`protocol::Prompt`].

pub mod client;
pub mod models;
pub mod protocol;
pub mod replay;
