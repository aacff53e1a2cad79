//! Cross-crate end-to-end tests.

mod config_to_sandbox;
