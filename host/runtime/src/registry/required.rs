//! What the administrator's requirements (`requirements.toml`) allow of
//! installed plugins: with a `[plugins]` table, only the plugins it lists,
//! each only with the artifact whose sha256 it pins; with
//! `allow_native_plugins = false`, no installed native library at all.
//!
//! The plugins built into the binary are part of the build and are not
//! checked here. The digest checked is the one of the bytes that are then
//! compiled or opened ([`super::load`]): the artifact is read once.

use std::collections::BTreeMap;

use wharf_config::requirements::Requirements;

use crate::plugin::manifest::{PluginKind, Sha256};

/// Why the requirements keep an installed plugin from loading. Its text
/// names where the requirements came from and the key that decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    #[error(
        "blocked by requirements ({origin}: [plugins]): `{plugin}` is not allowed (only the \
         plugins listed there may load; ask your administrator to add it)"
    )]
    NotListed { origin: String, plugin: String },
    #[error(
        "blocked by requirements ({origin}: allow_native_plugins = false): `{plugin}` is a \
         native plugin, and no installed native plugin may load"
    )]
    Native { origin: String, plugin: String },
    #[error(
        "blocked by requirements ({origin}: plugins.{plugin}.sha256): the artifact is {actual}, \
         not the pinned {expected}"
    )]
    Digest {
        origin: String,
        plugin: String,
        expected: String,
        actual: Sha256,
    },
}

/// The plugin part of the requirements in force; the default allows
/// every plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginRequirements {
    /// Where the requirements came from, for messages.
    origin: String,
    /// Plugin name → the lowercase hex sha256 its artifact must have;
    /// `None`: any plugin.
    allowed: Option<BTreeMap<String, String>>,
    natives_forbidden: bool,
}

impl PluginRequirements {
    pub fn new(requirements: &Requirements) -> PluginRequirements {
        // Without an origin there are no requirements (and the default's
        // `allow_native_plugins` means nothing).
        let Some(origin) = &requirements.origin else {
            return PluginRequirements::default();
        };
        PluginRequirements {
            origin: origin.to_string(),
            allowed: requirements.plugins.as_ref().map(|plugins| {
                plugins
                    .iter()
                    .map(|(name, pin)| (name.clone(), pin.sha256.to_ascii_lowercase()))
                    .collect()
            }),
            natives_forbidden: !requirements.allow_native_plugins,
        }
    }

    /// Refuses an installed plugin named `name` of `kind` before anything
    /// of it is read: a native one when natives are off, one not listed.
    pub fn check_plugin(&self, name: &str, kind: PluginKind) -> Result<(), Blocked> {
        if self.natives_forbidden && kind == PluginKind::Native {
            return Err(Blocked::Native {
                origin: self.origin.clone(),
                plugin: name.to_owned(),
            });
        }
        self.pin(name).map(|_| ())
    }

    /// Refuses `actual`, the digest of the artifact of the installed plugin
    /// `name`, when it is not the one pinned (or `name` is not listed).
    pub fn check_artifact(&self, name: &str, actual: &Sha256) -> Result<(), Blocked> {
        match self.pin(name)? {
            Some(expected) if *expected != actual.to_hex() => Err(Blocked::Digest {
                origin: self.origin.clone(),
                plugin: name.to_owned(),
                expected: expected.clone(),
                actual: *actual,
            }),
            Some(_) | None => Ok(()),
        }
    }

    /// The digest pinned for `name`: `None` when there is no allowlist.
    fn pin(&self, name: &str) -> Result<Option<&String>, Blocked> {
        let Some(allowed) = &self.allowed else {
            return Ok(None);
        };
        allowed
            .get(name)
            .map(Some)
            .ok_or_else(|| Blocked::NotListed {
                origin: self.origin.clone(),
                plugin: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use wharf_config::requirements::Origin;

    use super::*;

    fn parse(text: &str) -> PluginRequirements {
        let path = Path::new("/etc/wharf/requirements.toml");
        let requirements =
            Requirements::parse(path, text, Origin::File(path.to_path_buf())).unwrap();
        PluginRequirements::new(&requirements)
    }

    #[test]
    fn plugins_are_checked_by_name_kind_and_digest() {
        let good = Sha256([0xab; 32]);
        let other = Sha256([0x01; 32]);
        let pinned = format!(
            "[plugins.grep]\nsha256 = \"{}\"\n",
            good.to_hex().to_uppercase()
        );
        let natives_off = "allow_native_plugins = false\n";
        let both = format!("{natives_off}{pinned}");
        let at = "/etc/wharf/requirements.toml";
        let not_listed = |name: &str| {
            format!(
                "blocked by requirements ({at}: [plugins]): `{name}` is not allowed (only the \
                 plugins listed there may load; ask your administrator to add it)"
            )
        };
        let native = format!(
            "blocked by requirements ({at}: allow_native_plugins = false): `grep` is a native \
             plugin, and no installed native plugin may load"
        );
        let digest = format!(
            "blocked by requirements ({at}: plugins.grep.sha256): the artifact is {other}, not \
             the pinned {good}"
        );
        // (requirements, plugin, kind, artifact, the refusal if any)
        let cases: &[(&str, &str, PluginKind, Sha256, Option<String>)] = &[
            ("", "grep", PluginKind::Wasm, other, None),
            ("", "grep", PluginKind::Native, other, None),
            (&pinned, "grep", PluginKind::Wasm, good, None),
            (&pinned, "grep", PluginKind::Native, good, None),
            (
                &pinned,
                "grep",
                PluginKind::Wasm,
                other,
                Some(digest.clone()),
            ),
            (
                &pinned,
                "grep2",
                PluginKind::Wasm,
                good,
                Some(not_listed("grep2")),
            ),
            (
                &pinned,
                "GREP",
                PluginKind::Wasm,
                good,
                Some(not_listed("GREP")),
            ),
            (natives_off, "grep", PluginKind::Wasm, other, None),
            (
                natives_off,
                "grep",
                PluginKind::Native,
                good,
                Some(native.clone()),
            ),
            (&both, "grep", PluginKind::Native, good, Some(native)),
            (&both, "grep", PluginKind::Wasm, good, None),
            (&both, "grep", PluginKind::Wasm, other, Some(digest)),
            (&both, "x", PluginKind::Wasm, good, Some(not_listed("x"))),
        ];
        for (text, name, kind, artifact, refusal) in cases {
            let requirements = parse(text);
            let result = requirements
                .check_plugin(name, *kind)
                .and_then(|()| requirements.check_artifact(name, artifact));
            assert_eq!(
                result.err().map(|err| err.to_string()),
                *refusal,
                "{text:?} {name} {kind:?}"
            );
        }
    }

    #[test]
    fn no_requirements_allow_everything() {
        let none = PluginRequirements::new(&Requirements::default());
        assert_eq!(none, PluginRequirements::default());
        assert!(none.check_plugin("x", PluginKind::Native).is_ok());
        assert!(none.check_artifact("x", &Sha256([0; 32])).is_ok());
    }
}
