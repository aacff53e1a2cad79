//! How the model answers: reasoning, verbosity and tone (codex's values).

use schemars::JsonSchema;
use serde::Serialize;

use crate::by_name::deserialize_by_name;

/// How much a reasoning model thinks (codex's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
}

/// How a reasoning model summarizes its reasoning (codex's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReasoningSummary {
    Auto,
    Concise,
    Detailed,
    /// No summaries are asked for.
    None,
}

/// How long a model's answers are (codex's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verbosity {
    Low,
    Medium,
    High,
}

/// The tone of the model's messages (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Personality {
    /// No personality instructions.
    #[default]
    None,
    /// Warm and encouraging.
    Friendly,
    /// Direct and to the point.
    Pragmatic,
}

deserialize_by_name!(Personality {
    None = "none",
    Friendly = "friendly",
    Pragmatic = "pragmatic",
});

impl Personality {
    /// The name written in config.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Personality::None => "none",
            Personality::Friendly => "friendly",
            Personality::Pragmatic => "pragmatic",
        }
    }
}

deserialize_by_name!(ReasoningEffort {
    None = "none",
    Minimal = "minimal",
    Low = "low",
    Medium = "medium",
    High = "high",
    Xhigh = "xhigh",
});

deserialize_by_name!(ReasoningSummary {
    Auto = "auto",
    Concise = "concise",
    Detailed = "detailed",
    None = "none",
});

deserialize_by_name!(Verbosity {
    Low = "low",
    Medium = "medium",
    High = "high",
});

impl ReasoningEffort {
    /// The name in config.toml and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::None => "none",
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
            ReasoningEffort::Xhigh => "xhigh",
        }
    }
}

impl ReasoningSummary {
    /// The name in config.toml and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningSummary::Auto => "auto",
            ReasoningSummary::Concise => "concise",
            ReasoningSummary::Detailed => "detailed",
            ReasoningSummary::None => "none",
        }
    }
}

impl Verbosity {
    /// The name in config.toml and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verbosity::Low => "low",
            Verbosity::Medium => "medium",
            Verbosity::High => "high",
        }
    }
}
