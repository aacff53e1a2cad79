//! `approval_policy`: one of codex's four names, or codex's granular table
//! `{ granular = { sandbox_approval = …, … } }`.

use schemars::JsonSchema;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::ApprovalPolicy;

/// `approval_policy` as written: a name, or the granular table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ApprovalPolicyToml {
    /// `untrusted`, `on-failure`, `on-request` or `never`.
    Named(ApprovalPolicy),
    /// `{ granular = { … } }`: `on-request`, with each kind of prompt
    /// allowed (`true`) or answered "no" without asking (`false`).
    Granular { granular: GranularApprovalToml },
}

/// The kinds of prompt of codex's granular approvals. Each `true` lets
/// that kind of prompt reach you; `false` refuses it without asking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct GranularApprovalToml {
    /// A command's request to run outside the sandbox
    /// (`sandbox_permissions = "require_escalated"`). Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_approval: Option<bool>,
    /// Prompts of codex's execpolicy `prompt` rules. wharf has no such
    /// rules: nothing asks for this. Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<bool>,
    /// Prompts of codex's skill scripts. wharf has no skills: nothing asks
    /// for this. Default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_approval: Option<bool>,
    /// Prompts of codex's `request_permissions` tool. wharf has no such
    /// tool: nothing asks for this. Default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_permissions: Option<bool>,
    /// An MCP server's questions while its tool runs (elicitations), and
    /// the prompts of MCP tools set to `approval_mode = "prompt"`.
    /// Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_elicitations: Option<bool>,
}

impl ApprovalPolicyToml {
    /// The policy a session asks under: a granular table is `on-request`
    /// with some prompts refused (see [`crate::ApprovalPrompts`]).
    pub fn policy(self) -> ApprovalPolicy {
        match self {
            ApprovalPolicyToml::Named(policy) => policy,
            ApprovalPolicyToml::Granular { .. } => ApprovalPolicy::OnRequest,
        }
    }
}

impl<'de> Deserialize<'de> for ApprovalPolicyToml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = ApprovalPolicyToml;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let quoted: Vec<String> = ApprovalPolicy::NAMES
                    .iter()
                    .map(|name| format!("\"{name}\""))
                    .collect();
                write!(
                    f,
                    "one of {}, or a table `{{ granular = {{ … }} }}`",
                    quoted.join(", ")
                )
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                ApprovalPolicy::deserialize(value.into_deserializer())
                    .map(ApprovalPolicyToml::Named)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                #[derive(Deserialize)]
                struct Table {
                    granular: GranularApprovalToml,
                }
                let table = Table::deserialize(MapAccessDeserializer::new(map))?;
                Ok(ApprovalPolicyToml::Granular {
                    granular: table.granular,
                })
            }
        }
        deserializer.deserialize_any(Either)
    }
}
