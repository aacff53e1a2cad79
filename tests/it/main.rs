//! Cross-crate end-to-end tests.

// A failed setup step fails the test, which is what unwrap says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod clients;
mod config_to_sandbox;
mod rules;
mod websocket;
