//! The requirements applied to a configuration as it loads, above every
//! layer: an approval policy or sandbox mode they do not allow falls back
//! to the first one they list, a pinned feature takes its pinned value,
//! and an MCP server off their allowlist (by name and identity) is
//! blocked. Each message names the requirement: where it is written and
//! its key (`/etc/wharf/requirements.toml: allowed_sandbox_modes`).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use wharf_sandbox::SandboxMode;

use super::{McpIdentity, Requirements};
use crate::features::{FeatureError, FeatureRegistry};
use crate::layer::{Layered, remove_at};
use crate::toml_types::approval::ApprovalPolicyToml;
use crate::toml_types::{ApprovalPolicy, SandboxModeToml};
use crate::{Config, ConfigError, Source};

/// The requirements' keys, as messages name them.
pub const APPROVAL_POLICIES: &str = "allowed_approval_policies";
pub const SANDBOX_MODES: &str = "allowed_sandbox_modes";
pub const FEATURES: &str = "[features]";
pub const MCP_SERVERS: &str = "[mcp_servers]";

impl Requirements {
    /// `ORIGIN: KEY`: where requirement `key` is written.
    pub fn at(&self, key: &str) -> String {
        match &self.origin {
            Some(origin) => format!("{origin}: {key}"),
            None => key.to_owned(),
        }
    }

    /// Why a session may not ask under `policy`, if it may not.
    pub fn approval_policy_refused(&self, policy: ApprovalPolicy) -> Option<String> {
        let allowed = self.allowed_approval_policies.as_ref()?;
        (!allowed.contains(&policy)).then(|| {
            format!(
                "blocked by requirements ({}): approval policy `{}` is not allowed (allowed: {})",
                self.at(APPROVAL_POLICIES),
                policy.as_str(),
                names(allowed.iter().map(|policy| policy.as_str()))
            )
        })
    }

    /// Why a session may not run under sandbox `mode`, if it may not.
    pub fn sandbox_mode_refused(&self, mode: SandboxMode) -> Option<String> {
        let allowed = self.allowed_sandbox_modes.as_ref()?;
        (!allowed.contains(&mode)).then(|| {
            format!(
                "blocked by requirements ({}): sandbox mode `{}` is not allowed (allowed: {})",
                self.at(SANDBOX_MODES),
                mode.as_str(),
                names(allowed.iter().map(|mode| mode.as_str()))
            )
        })
    }

    /// `policy`, which came from `from`; where the requirements do not
    /// allow it, the first policy they list and a warning saying so.
    pub fn allowed_approval_policy(
        &self,
        policy: ApprovalPolicy,
        from: &str,
    ) -> (ApprovalPolicy, Option<String>) {
        let first = self
            .allowed_approval_policies
            .as_ref()
            .and_then(|allowed| allowed.first());
        match (self.approval_policy_refused(policy), first) {
            (Some(reason), Some(first)) => {
                let warning = fallback(&reason, policy.as_str(), from, first.as_str());
                (*first, Some(warning))
            }
            _ => (policy, None),
        }
    }

    /// The pinned features by canonical key, and the pinned keys
    /// `registry` does not know. A feature pinned both on and off (under
    /// a key and an alias) is pinned off.
    pub fn feature_pins<'a>(
        &'a self,
        registry: &FeatureRegistry,
    ) -> (BTreeMap<String, bool>, Vec<&'a str>) {
        let mut pins = BTreeMap::new();
        let mut unknown = Vec::new();
        for (key, &pinned) in &self.features {
            match registry.canonical(key) {
                Some(canonical) => {
                    let value = pins.entry(canonical.to_owned()).or_insert(pinned);
                    *value &= pinned;
                }
                None => unknown.push(key.as_str()),
            }
        }
        (pins, unknown)
    }

    /// Refuses to turn feature `key` on (`enabled`) or off against its
    /// pin: `--enable`, `--disable`, `wharf features enable|disable`.
    pub fn check_feature(
        &self,
        registry: &FeatureRegistry,
        key: &str,
        enabled: bool,
    ) -> Result<(), FeatureError> {
        let Some(canonical) = registry.canonical(key) else {
            return Ok(());
        };
        match self.feature_pins(registry).0.get(canonical) {
            Some(&pinned) if pinned != enabled => Err(FeatureError::Pinned {
                key: canonical.to_owned(),
                pinned,
                at: self.at(FEATURES),
            }),
            _ => Ok(()),
        }
    }

    /// Why the MCP server `name`, which is `identity` (a stdio server's
    /// `command`, an HTTP server's `url`), may not start, if it may not:
    /// with an allowlist, its name must be listed and its identity must be
    /// the listed one, compared normalized ([`normalize_url`]).
    pub fn mcp_server_blocked(&self, name: &str, identity: &McpIdentity) -> Option<String> {
        let allowed = self.mcp_servers.as_ref()?;
        let Some(wanted) = allowed.get(name) else {
            let listed = if allowed.is_empty() {
                "none".to_owned()
            } else {
                names(allowed.keys().map(String::as_str))
            };
            return Some(format!(
                "blocked by requirements ({}): `{name}` is not an allowed MCP server \
                 (allowed: {listed})",
                self.at(MCP_SERVERS)
            ));
        };
        let same = match (wanted, identity) {
            (McpIdentity::Command(want), McpIdentity::Command(command)) => {
                want.trim() == command.trim()
            }
            (McpIdentity::Url(want), McpIdentity::Url(url)) => {
                normalize_url(want) == normalize_url(url)
            }
            (McpIdentity::Command(_), McpIdentity::Url(_))
            | (McpIdentity::Url(_), McpIdentity::Command(_)) => false,
        };
        (!same).then(|| {
            format!(
                "blocked by requirements ({}): MCP server `{name}` must be {}, not {}",
                self.at(&format!("[mcp_servers.{name}.identity]")),
                wanted.describe(),
                identity.describe()
            )
        })
    }

    /// Applies the requirements to `effective`, the merged layers with
    /// the flags and a trusted project's defaults: `approval_policy` and
    /// `sandbox_mode` fall back, pinned features are set; each change
    /// that overrides a layer is a warning. Fails (closed) on an empty
    /// list of allowed values: there is no value to fall back to.
    pub(crate) fn apply(
        &self,
        registry: &FeatureRegistry,
        effective: &mut Layered,
        warnings: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for (key, empty) in [
            (
                APPROVAL_POLICIES,
                self.allowed_approval_policies
                    .as_ref()
                    .is_some_and(Vec::is_empty),
            ),
            (
                SANDBOX_MODES,
                self.allowed_sandbox_modes
                    .as_ref()
                    .is_some_and(Vec::is_empty),
            ),
        ] {
            if empty {
                return Err(ConfigError::Value {
                    key: self.at(key),
                    message: "the list is empty, so nothing could run; list at least one value"
                        .to_owned(),
                });
            }
        }
        if let Some(otel) = &self.otel {
            // The whole table: no layer's key survives beside it.
            effective.remove("otel");
            if let Ok(value) = toml::Value::try_from(otel) {
                effective.set(
                    vec!["otel".to_owned()],
                    value,
                    Source::Requirements(self.at("[otel]")),
                );
            }
        }
        // A granular table asks as `on-request` does, and is allowed as that.
        if let Some((policy, source)) = current::<ApprovalPolicyToml>(effective, "approval_policy")
        {
            let (allowed, warning) =
                self.allowed_approval_policy(policy.policy(), &source.to_string());
            if let Some(warning) = warning {
                let value = toml::Value::String(allowed.as_str().to_owned());
                let source = Source::Requirements(self.at(APPROVAL_POLICIES));
                effective.set(vec!["approval_policy".to_owned()], value, source);
                warnings.push(warning);
            }
        }
        if let Some((mode, source)) = current::<SandboxModeToml>(effective, "sandbox_mode") {
            let mode = SandboxMode::from(mode);
            let first = self
                .allowed_sandbox_modes
                .as_ref()
                .and_then(|allowed| allowed.first());
            if let (Some(reason), Some(first)) = (self.sandbox_mode_refused(mode), first) {
                let value = toml::Value::String(first.as_str().to_owned());
                let requirement = Source::Requirements(self.at(SANDBOX_MODES));
                effective.set(vec!["sandbox_mode".to_owned()], value, requirement);
                warnings.push(fallback(
                    &reason,
                    mode.as_str(),
                    &source.to_string(),
                    first.as_str(),
                ));
            }
        }
        self.pin_features(registry, effective, warnings);
        Ok(())
    }

    /// Sets every pinned feature in `effective`, over any layer's value
    /// (under its key or an alias), each contrary setting a warning.
    fn pin_features(
        &self,
        registry: &FeatureRegistry,
        effective: &mut Layered,
        warnings: &mut Vec<String>,
    ) {
        let (pins, unknown) = self.feature_pins(registry);
        for key in unknown {
            warnings.push(format!(
                "requirements ({}): this wharf has no feature `{key}` (its pin is ignored)",
                self.at(FEATURES)
            ));
        }
        let set: Vec<(String, bool)> = effective
            .table
            .get("features")
            .and_then(toml::Value::as_table)
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| Some((key.clone(), value.as_bool()?)))
            .collect();
        for (key, enabled) in set {
            let Some(&pinned) = registry.canonical(&key).and_then(|key| pins.get(key)) else {
                continue;
            };
            let path = vec!["features".to_owned(), key.clone()];
            let source = effective.sources.remove(&path);
            remove_at(&mut effective.table, &path);
            match source {
                Some(source) if enabled != pinned && source != Source::Default => {
                    let error = FeatureError::Pinned {
                        key: key.clone(),
                        pinned,
                        at: self.at(FEATURES),
                    };
                    warnings.push(format!("{error}; the setting in {source} has no effect"));
                }
                _ => {}
            }
        }
        for (key, pinned) in pins {
            effective.set(
                vec!["features".to_owned(), key],
                toml::Value::Boolean(pinned),
                Source::Requirements(self.at(FEATURES)),
            );
        }
    }
}

impl McpIdentity {
    /// How messages name a server: its kind, and its command or URL.
    fn describe(&self) -> String {
        match self {
            McpIdentity::Command(command) => format!("the stdio server `{}`", command.trim()),
            McpIdentity::Url(url) => format!("the HTTP server at `{}`", url.trim()),
        }
    }
}

impl Config {
    /// The approval policy a session asks under: the configured one
    /// (`Config::load` made it one the requirements allow), else the
    /// front end's `default` — which falls back to the first policy the
    /// requirements allow when they do not allow it, with a warning to
    /// print.
    pub fn approval_policy_or(&self, default: ApprovalPolicy) -> (ApprovalPolicy, Option<String>) {
        match self.approval_policy {
            Some(policy) => (policy, None),
            None => self
                .requirements
                .allowed_approval_policy(default, "this command's default"),
        }
    }
}

/// The value at top-level `key` of `effective` as a `T`, and the layer
/// that set it; `None` when unset or not a `T` (loading reports that).
fn current<T: DeserializeOwned>(effective: &Layered, key: &str) -> Option<(T, Source)> {
    let value = effective.table.get(key)?.clone().try_into().ok()?;
    // A table's sources are its leaves' (a granular `approval_policy`).
    let key = vec![key.to_owned()];
    let (_, source) = effective
        .sources
        .range(key.clone()..)
        .take_while(|(path, _)| path.starts_with(&key))
        .next()?;
    Some((value, source.clone()))
}

fn fallback(reason: &str, value: &str, from: &str, first: &str) -> String {
    format!("{reason}: `{value}` (from {from}) falls back to `{first}`")
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// A URL as the MCP allowlist compares it: trimmed, its scheme and host
/// lowercased, the scheme's default port and one trailing `/` of the path
/// dropped. Everything else stays as written (user info, path, query), so
/// two URLs are equal only when they name the same endpoint.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host_port)) => (format!("{user}@"), host_port),
        None => (String::new(), authority),
    };
    let (host, port) = split_port(host_port);
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let port = match port {
        Some(port) if default_port.is_some() && port.parse::<u16>().ok() == default_port => {
            String::new()
        }
        Some(port) => format!(":{port}"),
        None => String::new(),
    };
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, query) = tail.split_at(path_end);
    let path = path.strip_suffix('/').unwrap_or(path);
    format!(
        "{scheme}://{user}{}{port}{path}{query}",
        host.to_ascii_lowercase()
    )
}

/// `host:port` or `[v6]:port` into the host and the port, if any.
fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[')
        && let Some(close) = host_port.find(']')
    {
        let (host, after) = host_port.split_at(close + 1);
        if after.is_empty() {
            return (host, None);
        }
        // Anything but a port after the brackets stays part of the host.
        return match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests;
