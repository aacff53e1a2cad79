//! The feature keys of wharf's first-party capabilities (PRODUCT §2).
//!
//! The host knows these keys as data only; what each capability does lives
//! in its plugin.

use super::Stage;

pub struct FirstPartyFeature {
    pub key: &'static str,
    pub stage: Stage,
    pub default_enabled: bool,
    pub aliases: &'static [&'static str],
    pub description: &'static str,
}

pub const FIRST_PARTY: &[FirstPartyFeature] = &[
    FirstPartyFeature {
        key: "apply_patch",
        stage: Stage::Stable,
        default_enabled: true,
        aliases: &[],
        description: "edit files with codex-style patches",
    },
    FirstPartyFeature {
        key: "apply_patch_freeform",
        stage: Stage::Experimental,
        default_enabled: false,
        aliases: &[],
        description: "offer apply_patch as a freeform (grammar) tool where the model supports it",
    },
    FirstPartyFeature {
        key: "view_image",
        stage: Stage::Stable,
        default_enabled: true,
        aliases: &["view_image_tool"],
        description: "let models with image input look at local images",
    },
    FirstPartyFeature {
        key: "unified_exec",
        stage: Stage::Stable,
        default_enabled: true,
        aliases: &[],
        description: "long-lived PTY command sessions (exec_command, write_stdin)",
    },
    FirstPartyFeature {
        key: "shell_tool",
        stage: Stage::Stable,
        default_enabled: true,
        aliases: &[],
        description: "a one-shot `shell` tool, offered when unified_exec is off",
    },
    FirstPartyFeature {
        key: "mcp_client",
        stage: Stage::Stable,
        default_enabled: true,
        aliases: &[],
        description: "tools from the configured MCP servers",
    },
    FirstPartyFeature {
        key: "telemetry",
        stage: Stage::Stable,
        default_enabled: true,
        aliases: &[],
        description: "the local event sink (export stays off until [otel] says so)",
    },
    FirstPartyFeature {
        key: "hooks",
        stage: Stage::Experimental,
        default_enabled: false,
        aliases: &[],
        description: "pre/post tool-call hooks",
    },
    FirstPartyFeature {
        key: "responses_websockets",
        stage: Stage::UnderDevelopment,
        default_enabled: false,
        aliases: &[],
        description: "stream Responses API turns over a WebSocket kept open between requests",
    },
];
