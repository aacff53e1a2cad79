//! `acme-agent`: wharf built as a branded binary (see README.md). Its own
//! builtin plugin, the first-party plugins this crate's cargo features
//! choose, and a requirements file and config baked in at compile time.

mod tickets;

use std::process::ExitCode;

use wharf_cli::{Build, EmbeddedPlugin, FIRST_PARTY};

/// acme-agent's own plugin: its manifest and the native table of its tools,
/// linked in as wharf's builtin plugins are.
const ACME_TICKETS: EmbeddedPlugin = EmbeddedPlugin::native(
    include_str!("../plugin.toml"),
    tickets::plugin::wharf_native_plugin,
);

fn main() -> ExitCode {
    wharf_cli::main_with(Build {
        name: "acme-agent",
        version: env!("CARGO_PKG_VERSION"),
        about: Some("ACME's coding agent, built on wharf."),
        plugins: [FIRST_PARTY, &[ACME_TICKETS]].concat(),
        requirements: Some((
            "acme-agent/requirements.toml",
            include_str!("../requirements.toml"),
        )),
        default_config: Some(("acme-agent/config.toml", include_str!("../config.toml"))),
    })
}
