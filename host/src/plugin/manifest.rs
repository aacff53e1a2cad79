//! `plugin.toml`: what a plugin is, where its artifact lies, and what it
//! asks to touch.
//!
//! A plugin lives in `$WHARF_HOME/plugins/<name>/` beside its artifact.
//! [`Manifest::parse`] checks the file the way the configuration is checked:
//! every error names the file, line, column and key; unknown keys are
//! warnings, not errors, so that an older wharf can still load a plugin
//! written for a newer one. What a plugin *asks* for here is only a request:
//! [`super::grant`] intersects it with the session's sandbox policy.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use crate::config::{Location, display_key};
use crate::features::Stage;

/// The file name of a manifest inside a plugin's directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// The longest plugin name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// A parsed and checked `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: PluginName,
    /// The plugin's own version, free-form.
    pub version: String,
    /// The `wharf:plugin` WIT version the plugin targets.
    pub api: String,
    pub kind: PluginKind,
    /// The artifact, absolute: resolved against the manifest's directory,
    /// which it never leaves (checked lexically; see [`Manifest::parse`]).
    pub artifact: PathBuf,
    /// The digest the artifact must have, when pinned.
    pub sha256: Option<Sha256>,
    pub description: Option<String>,
    /// Whether a failure to load this plugin fails startup.
    pub required: bool,
    pub feature: FeatureDecl,
    pub capabilities: Capabilities,
    /// Model capabilities the plugin's tools need (`image_input`), from the
    /// top-level `requires` and `capabilities.requires` together.
    pub requires: Vec<String>,
    pub limits: LimitWishes,
    /// The `plugin.toml` this was read from.
    pub path: PathBuf,
}

/// The feature flag that turns the plugin on and off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDecl {
    /// Defaults to the plugin's name.
    pub key: String,
    /// Defaults to [`Stage::Experimental`].
    pub stage: Stage,
    pub default_enabled: bool,
}

/// What the plugin asks to touch. The default asks for nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub fs_read: Vec<PathRequest>,
    /// Roots below which the plugin may return file changes; the host
    /// applies them after checking each path.
    pub fs_write: Vec<PathRequest>,
    pub network: Vec<HostPort>,
    /// Names of environment variables the plugin wants to see.
    pub env: Vec<String>,
    pub exec: bool,
}

/// Per-call limits the plugin would like; the host clamps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitWishes {
    pub timeout_ms: Option<u64>,
    pub memory_mb: Option<u64>,
}

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
}

impl PluginKind {
    /// The word used in `plugin.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Wasm => "wasm",
            PluginKind::Native => "native",
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

/// A `host:port` network entry; IPv6 hosts are written in brackets.
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

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: {key}: {message}")]
    Invalid {
        at: Location,
        key: String,
        message: String,
    },
    #[error("{at}: missing key{} {}", if keys.len() == 1 { "" } else { "s" }, quoted(keys))]
    Missing { at: Location, keys: Vec<String> },
}

fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A manifest found by [`discover`], with the warnings its file produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub manifest: Manifest,
    pub warnings: Vec<String>,
}

/// Loads the manifest of every subdirectory of `plugins_dir` that holds a
/// `plugin.toml`, sorted by directory name. A missing `plugins_dir` holds no
/// plugins. A failure names the plugin's directory, so that the caller can
/// report it and go on with the others.
pub fn discover(plugins_dir: &Path) -> Vec<Result<Discovered, (PathBuf, ManifestError)>> {
    let entries = match fs::read_dir(plugins_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(source) => {
            let path = plugins_dir.to_path_buf();
            return vec![Err((path.clone(), ManifestError::Read { path, source }))];
        }
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut failures = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => dirs.push(entry.path()),
            Err(source) => failures.push(Err((
                plugins_dir.to_path_buf(),
                ManifestError::Read {
                    path: plugins_dir.to_path_buf(),
                    source,
                },
            ))),
        }
    }
    dirs.retain(|dir| dir.is_dir() && dir.join(MANIFEST_FILE).is_file());
    dirs.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let loaded = dirs.into_iter().map(|dir| {
        let dir_name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(MANIFEST_FILE);
        let read = fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        });
        read.and_then(|text| parse_manifest(&path, &text, Some(&dir_name)))
            .map(|(manifest, warnings)| Discovered { manifest, warnings })
            .map_err(|err| (dir, err))
    });
    failures.into_iter().chain(loaded).collect()
}

impl Manifest {
    /// Reads and checks the manifest at `path`, dropping its warnings.
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let text = fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(path, &text).map(|(manifest, _)| manifest)
    }

    /// Checks `text`, the contents of `path`, and returns the manifest with
    /// the warnings (unknown keys, each with its location).
    ///
    /// `artifact` must be relative and must not leave the manifest's
    /// directory, judged on the text (`..` may only undo a component written
    /// before it): a symlink inside the plugin's own directory is the
    /// plugin's business, and the `sha256` pin covers what it points to.
    pub fn parse(path: &Path, text: &str) -> Result<(Manifest, Vec<String>), ManifestError> {
        parse_manifest(path, text, None)
    }

    /// One line per thing the plugin asks for, for `wharf plugin add`:
    /// `reads: the workspace`, `network: none`, `runs commands: no`.
    pub fn describe_capabilities(&self) -> Vec<String> {
        let caps = &self.capabilities;
        let paths = |requests: &[PathRequest]| {
            list_or(
                requests.iter().map(|request| match request {
                    PathRequest::Workspace => "the workspace".to_owned(),
                    PathRequest::Cwd => "the working directory".to_owned(),
                    PathRequest::Path(path) => path.display().to_string(),
                }),
                "nothing",
            )
        };
        let mut lines = vec![
            format!("reads: {}", paths(&caps.fs_read)),
            format!("writes: {}", paths(&caps.fs_write)),
            format!(
                "network: {}",
                list_or(caps.network.iter().map(HostPort::to_string), "none")
            ),
            format!("environment: {}", list_or(caps.env.iter().cloned(), "none")),
            format!("runs commands: {}", if caps.exec { "yes" } else { "no" }),
        ];
        if !self.requires.is_empty() {
            lines.push(format!("needs a model with: {}", self.requires.join(", ")));
        }
        lines
    }
}

/// `items` joined by `, `, or `empty` when there are none.
pub(crate) fn list_or(items: impl Iterator<Item = String>, empty: &str) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

/// The shape of `plugin.toml` as serde sees it. Required keys are optional
/// here so that a missing one is reported by name, with every other one.
#[derive(Deserialize)]
struct ManifestToml {
    name: Option<PluginName>,
    version: Option<NonEmpty>,
    api: Option<NonEmpty>,
    kind: Option<PluginKind>,
    artifact: Option<ArtifactPath>,
    sha256: Option<Sha256>,
    description: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    feature: FeatureToml,
    #[serde(default)]
    capabilities: CapabilitiesToml,
    #[serde(default)]
    requires: Vec<Word>,
    #[serde(default)]
    limits: LimitsToml,
}

#[derive(Default, Deserialize)]
struct FeatureToml {
    key: Option<Word>,
    stage: Option<StageToml>,
    default_enabled: Option<bool>,
}

/// [`Stage`] as written in a file.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum StageToml {
    UnderDevelopment,
    Experimental,
    Stable,
    Deprecated,
    Removed,
}

impl From<StageToml> for Stage {
    fn from(stage: StageToml) -> Stage {
        match stage {
            StageToml::UnderDevelopment => Stage::UnderDevelopment,
            StageToml::Experimental => Stage::Experimental,
            StageToml::Stable => Stage::Stable,
            StageToml::Deprecated => Stage::Deprecated,
            StageToml::Removed => Stage::Removed,
        }
    }
}

#[derive(Default, Deserialize)]
struct CapabilitiesToml {
    #[serde(default)]
    fs: FsToml,
    #[serde(default)]
    network: Vec<HostPort>,
    #[serde(default)]
    env: Vec<EnvName>,
    #[serde(default)]
    exec: bool,
    /// Accepted here too: written after `[capabilities]`, a `requires` line
    /// lands in this table, and dropping it would offer image tools to
    /// text-only models.
    #[serde(default)]
    requires: Vec<Word>,
}

#[derive(Default, Deserialize)]
struct FsToml {
    #[serde(default)]
    read: Vec<PathRequest>,
    #[serde(default)]
    write: Vec<PathRequest>,
}

#[derive(Default, Deserialize)]
struct LimitsToml {
    timeout_ms: Option<Positive>,
    memory_mb: Option<Positive>,
}

/// A string that is not empty.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct NonEmpty(String);

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
struct Word(String);

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
struct EnvName(String);

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
struct Positive(u64);

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
struct ArtifactPath(PathBuf);

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

/// A dotted key path, one element per key or array index.
type KeyPath = Vec<String>;

/// Where each key and each value of a file is written.
struct Spans<'a> {
    path: &'a Path,
    text: &'a str,
    keys: BTreeMap<KeyPath, Range<usize>>,
    values: BTreeMap<KeyPath, Range<usize>>,
}

impl Spans<'_> {
    fn at(&self, offset: usize) -> Location {
        Location::of_offset(self.path, self.text, offset)
    }

    /// Where `key` (or its nearest written ancestor) is written.
    fn key(&self, key: &[String]) -> Location {
        let offset = (1..=key.len())
            .rev()
            .find_map(|len| key.get(..len).and_then(|prefix| self.keys.get(prefix)))
            .map_or(0, |span| span.start);
        self.at(offset)
    }

    /// Where the value of `key` is written, falling back to the key.
    fn value(&self, key: &[String]) -> Location {
        match self.values.get(key) {
            Some(span) => self.at(span.start),
            None => self.key(key),
        }
    }

    fn collect(&mut self, table: &DeTable<'_>, prefix: &mut KeyPath) {
        for (key, value) in table {
            prefix.push(key.get_ref().to_string());
            self.keys.insert(prefix.clone(), key.span());
            self.collect_value(value.get_ref(), value.span(), prefix);
            prefix.pop();
        }
    }

    fn collect_value(&mut self, value: &DeValue<'_>, span: Range<usize>, prefix: &mut KeyPath) {
        self.values.insert(prefix.clone(), span);
        match value {
            DeValue::Table(inner) => self.collect(inner, prefix),
            DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    prefix.push(index.to_string());
                    self.collect_value(item.get_ref(), item.span(), prefix);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }
}

/// [`Manifest::parse`], also checking that `name` is `dir_name` when given.
fn parse_manifest(
    path: &Path,
    text: &str,
    dir_name: Option<&str>,
) -> Result<(Manifest, Vec<String>), ManifestError> {
    let root = DeTable::parse(text).map_err(|err| ManifestError::Syntax {
        at: Location::of_offset(path, text, err.span().map_or(0, |span| span.start)),
        message: err.message().trim_end().to_owned(),
    })?;
    let mut spans = Spans {
        path,
        text,
        keys: BTreeMap::new(),
        values: BTreeMap::new(),
    };
    spans.collect(root.get_ref(), &mut Vec::new());

    let mut unknown: Vec<KeyPath> = Vec::new();
    let mut on_unknown = |key: serde_ignored::Path<'_>| unknown.push(ignored_path(&key));
    let ignoring =
        serde_ignored::Deserializer::new(toml::Deserializer::from(root), &mut on_unknown);
    let parsed: Result<ManifestToml, _> = serde_path_to_error::deserialize(ignoring);
    let raw = parsed.map_err(|err| {
        let key: KeyPath = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let inner = err.into_inner();
        // Array elements have no span of their own in toml's errors, so our
        // own map of value spans comes first.
        let at = match (spans.values.get(&key), inner.span()) {
            (Some(span), _) => spans.at(span.start),
            (None, Some(span)) => spans.at(span.start),
            (None, None) => spans.key(&key),
        };
        ManifestError::Invalid {
            at,
            key: display_key(&key),
            message: inner.message().trim_end().to_owned(),
        }
    })?;
    let mut warnings: Vec<(Location, String)> = unknown
        .iter()
        .map(|key| {
            let at = spans.key(key);
            let message = format!("{at}: unknown key `{}` (ignored)", display_key(key));
            (at, message)
        })
        .collect();
    warnings.sort_by_key(|(at, _)| (at.line, at.column));
    let warnings = warnings.into_iter().map(|(_, message)| message).collect();

    let present = [
        ("name", raw.name.is_some()),
        ("version", raw.version.is_some()),
        ("api", raw.api.is_some()),
        ("kind", raw.kind.is_some()),
        ("artifact", raw.artifact.is_some()),
    ];
    let (Some(name), Some(version), Some(api), Some(kind), Some(artifact)) =
        (raw.name, raw.version, raw.api, raw.kind, raw.artifact)
    else {
        let keys = present
            .into_iter()
            .filter(|(_, present)| !present)
            .map(|(key, _)| key.to_owned())
            .collect();
        return Err(ManifestError::Missing {
            at: spans.at(0),
            keys,
        });
    };
    if let Some(dir_name) = dir_name
        && name.as_str() != dir_name
    {
        return Err(ManifestError::Invalid {
            at: spans.value(&["name".to_owned()]),
            key: "name".to_owned(),
            message: format!(
                "the plugin `{name}` is in the directory `{dir_name}` (rename the directory to `{name}` or change the name)"
            ),
        });
    }

    // A relative manifest path is taken from the current directory.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    let mut requires: Vec<String> = Vec::new();
    for Word(word) in raw.requires.into_iter().chain(raw.capabilities.requires) {
        if !requires.contains(&word) {
            requires.push(word);
        }
    }
    let feature = FeatureDecl {
        key: raw
            .feature
            .key
            .map_or_else(|| name.as_str().to_owned(), |Word(key)| key),
        stage: raw.feature.stage.map_or(Stage::Experimental, Stage::from),
        default_enabled: raw.feature.default_enabled.unwrap_or(false),
    };
    let capabilities = Capabilities {
        fs_read: raw.capabilities.fs.read,
        fs_write: raw.capabilities.fs.write,
        network: raw.capabilities.network,
        env: raw
            .capabilities
            .env
            .into_iter()
            .map(|EnvName(name)| name)
            .collect(),
        exec: raw.capabilities.exec,
    };
    let manifest = Manifest {
        name,
        version: version.0,
        api: api.0,
        kind,
        artifact: dir.join(artifact.0),
        sha256: raw.sha256,
        description: raw.description,
        required: raw.required,
        feature,
        capabilities,
        requires,
        limits: LimitWishes {
            timeout_ms: raw.limits.timeout_ms.map(|Positive(ms)| ms),
            memory_mb: raw.limits.memory_mb.map(|Positive(mb)| mb),
        },
        path: path.to_path_buf(),
    };
    Ok((manifest, warnings))
}

fn ignored_path(path: &serde_ignored::Path<'_>) -> KeyPath {
    let mut key = match path {
        serde_ignored::Path::Root => return Vec::new(),
        serde_ignored::Path::Seq { parent, .. }
        | serde_ignored::Path::Map { parent, .. }
        | serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(parent),
    };
    match path {
        serde_ignored::Path::Seq { index, .. } => key.push(index.to_string()),
        serde_ignored::Path::Map { key: part, .. } => key.push(part.clone()),
        _ => {}
    }
    key
}

#[cfg(test)]
mod tests;
