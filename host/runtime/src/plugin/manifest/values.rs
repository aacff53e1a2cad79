//! The checked values a manifest is made of: each newtype parses its text
//! once, on deserialization, and its error says what to write instead.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

/// The longest plugin name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// A plugin's name: 1 to 64 characters of `a-z`, `0-9`, `_` and `-`, so that
/// it is also a directory name, a feature key and part of a tool name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct PluginName(String);

impl PluginName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PluginName {
    type Error = InvalidValue;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        if name.is_empty() {
            return Err(InvalidValue("a plugin name must not be empty".to_owned()));
        }
        let valid = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            return Err(InvalidValue(format!(
                "`{name}` is not a valid plugin name (use a-z, 0-9, `_` and `-`)"
            )));
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(InvalidValue(format!(
                "`{name}` is too long for a plugin name (at most {MAX_NAME_LEN} characters)"
            )));
        }
        Ok(PluginName(name))
    }
}

impl FromStr for PluginName {
    type Err = InvalidValue;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        PluginName::try_from(name.to_owned())
    }
}

/// How a plugin is run. Builtin plugins are compiled in and have no
/// `plugin.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// A WASI 0.2 component implementing the `wharf:plugin` world.
    Wasm,
    /// A shared library exporting the versioned C ABI entry point.
    Native,
    /// An MCP server of `[mcp_servers]`: started from the configuration
    /// (its tools are discovered then), never from a `plugin.toml`, which
    /// cannot say `kind = "mcp"`.
    #[serde(skip)]
    Mcp,
}

impl PluginKind {
    /// The word used in `plugin.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Wasm => "wasm",
            PluginKind::Native => "native",
            PluginKind::Mcp => "mcp",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SHA-256 digest, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest as _;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl FromStr for Sha256 {
    type Err = InvalidValue;

    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            InvalidValue(format!(
                "`{hex}` is not a sha256 digest (expected 64 lowercase hex digits)"
            ))
        };
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(invalid());
        }
        let mut digest = [0u8; 32];
        for (byte, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
            let [high, low] = pair else {
                return Err(invalid());
            };
            *byte = (digit(*high).ok_or_else(invalid)? << 4) | digit(*low).ok_or_else(invalid)?;
        }
        Ok(Sha256(digest))
    }
}

impl TryFrom<String> for Sha256 {
    type Error = InvalidValue;

    fn try_from(hex: String) -> Result<Self, Self::Error> {
        hex.parse()
    }
}

/// One `fs.read` / `fs.write` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum PathRequest {
    /// `workspace`: the cwd and the writable roots of the policy.
    Workspace,
    /// `cwd`: the directory tool calls run in.
    Cwd,
    /// An absolute path, or `~` / `~/...` kept as written: the home
    /// directory is only known when the grant is computed.
    Path(PathBuf),
}

impl fmt::Display for PathRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathRequest::Workspace => f.write_str("workspace"),
            PathRequest::Cwd => f.write_str("cwd"),
            PathRequest::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

impl FromStr for PathRequest {
    type Err = InvalidValue;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        match entry {
            "workspace" => Ok(PathRequest::Workspace),
            "cwd" => Ok(PathRequest::Cwd),
            _ if entry == "~" || entry.starts_with("~/") || Path::new(entry).is_absolute() => {
                Ok(PathRequest::Path(PathBuf::from(entry)))
            }
            _ => Err(InvalidValue(format!(
                "`{entry}` is not a path request (use `workspace`, `cwd`, an absolute path or `~/...`)"
            ))),
        }
    }
}

impl TryFrom<String> for PathRequest {
    type Error = InvalidValue;

    fn try_from(entry: String) -> Result<Self, Self::Error> {
        entry.parse()
    }
}

/// A `host:port` network entry; IPv6 hosts are written in brackets. The
/// host is a name, an IP address, or `*.` and a name (any name below it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for HostPort {
    type Err = InvalidValue;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let invalid = |why: &str| {
            InvalidValue(format!(
                "`{entry}` is not a network entry: {why} (write `host:port`, e.g. `api.example.com:443`)"
            ))
        };
        let (host, port) = match entry.strip_prefix('[') {
            Some(rest) => {
                let (host, rest) = rest
                    .split_once(']')
                    .ok_or_else(|| invalid("the `[` is not closed"))?;
                let port = rest
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("the port is missing"))?;
                (host, port)
            }
            None => entry
                .rsplit_once(':')
                .ok_or_else(|| invalid("the port is missing"))?,
        };
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        let bracketed = entry.starts_with('[');
        let bad_char =
            |c: char| c.is_whitespace() || "/@[]".contains(c) || (c == ':' && !bracketed);
        if host.chars().any(bad_char) {
            return Err(invalid("the host is not a host name or address"));
        }
        // `*.` may only open a name: it stands for one or more labels, so
        // `*.example.com` matches `a.example.com`, never `example.com`.
        let name = host.strip_prefix("*.").unwrap_or(host);
        if name.contains('*') {
            return Err(invalid(
                "`*` is only allowed as a whole first label (`*.example.com:443`)",
            ));
        }
        if bracketed && name.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid("the brackets hold no IPv6 address"));
        }
        if name.is_empty() || name.starts_with('.') || name.ends_with('.') || name.contains("..") {
            return Err(invalid("the host has an empty label"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| invalid("the port must be a number from 1 to 65535"))?;
        Ok(HostPort {
            host: host.to_owned(),
            port,
        })
    }
}

impl TryFrom<String> for HostPort {
    type Error = InvalidValue;

    fn try_from(entry: String) -> Result<Self, Self::Error> {
        entry.parse()
    }
}

/// A value that does not have the shape its key needs; the message says why
/// and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(String);

/// A string that is not empty.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct NonEmpty(pub(super) String);

impl TryFrom<String> for NonEmpty {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.trim().is_empty() {
            Err(InvalidValue("must not be empty".to_owned()))
        } else {
            Ok(NonEmpty(value))
        }
    }
}

/// A feature key or model capability: letters, digits, `_` and `-`.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Word(pub(super) String);

impl TryFrom<String> for Word {
    type Error = InvalidValue;

    fn try_from(word: String) -> Result<Self, Self::Error> {
        let valid = !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid {
            Ok(Word(word))
        } else {
            Err(InvalidValue(format!(
                "`{word}` is not a valid key (use letters, digits, `_` and `-`)"
            )))
        }
    }
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct EnvName(pub(super) String);

impl TryFrom<String> for EnvName {
    type Error = InvalidValue;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            Ok(EnvName(name))
        } else {
            Err(InvalidValue(format!(
                "`{name}` is not an environment variable name (use letters, digits and `_`, not starting with a digit)"
            )))
        }
    }
}

/// A count that must be at least 1.
#[derive(Deserialize)]
#[serde(try_from = "u64")]
pub(super) struct Positive(pub(super) u64);

impl TryFrom<u64> for Positive {
    type Error = InvalidValue;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        if value == 0 {
            Err(InvalidValue("must be at least 1".to_owned()))
        } else {
            Ok(Positive(value))
        }
    }
}

/// `artifact` as written: relative, without `..` leaving the directory; kept
/// with `.` dropped and inner `..` applied.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct ArtifactPath(pub(super) PathBuf);

impl TryFrom<String> for ArtifactPath {
    type Error = InvalidValue;

    fn try_from(artifact: String) -> Result<Self, Self::Error> {
        let outside = || {
            InvalidValue(format!(
                "`{artifact}` must stay inside the plugin directory (write a path relative to plugin.toml, without `..` leaving it)"
            ))
        };
        let mut inside = PathBuf::new();
        for component in Path::new(&artifact).components() {
            match component {
                Component::Prefix(_) | Component::RootDir => return Err(outside()),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !inside.pop() {
                        return Err(outside());
                    }
                }
                Component::Normal(part) => inside.push(part),
            }
        }
        if inside.as_os_str().is_empty() {
            return Err(InvalidValue(
                "must name the artifact file, relative to plugin.toml".to_owned(),
            ));
        }
        Ok(ArtifactPath(inside))
    }
}
