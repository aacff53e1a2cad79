//! Tool names as models see them, and which tools a server offers.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::{McpTool, OfferLimits};

/// The longest tool name the model APIs accept.
pub const MAX_TOOL_NAME_LEN: usize = 64;

/// Hex digits of the hash that ends a shortened name: 64 bits, enough to
/// keep two long names of one server apart.
const HASH_HEX_LEN: usize = 16;

/// `mcp__<server>__<tool>` in `[a-zA-Z0-9_-]`, at most
/// [`MAX_TOOL_NAME_LEN`] characters.
///
/// Every other character becomes `_` (models reject them; MCP tool names
/// are free-form). A longer name keeps its beginning and ends with `_` and
/// a hash of the *unsanitized* name, so it is stable and two long names
/// that differ only at the end stay apart. Different tools can still end up
/// with the same name (`a.b` and `a_b`); [`select_tools`] keeps the first.
pub fn qualified_name(server: &str, tool: &str) -> String {
    let raw = format!("mcp__{server}__{tool}");
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.len() <= MAX_TOOL_NAME_LEN {
        return name;
    }
    let digest = Sha256::digest(raw.as_bytes());
    let hash: String = digest
        .iter()
        .take(HASH_HEX_LEN / 2)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    // Only ASCII is left, so any length is a character boundary.
    name.truncate(MAX_TOOL_NAME_LEN - HASH_HEX_LEN - 1);
    name.push('_');
    name.push_str(&hash);
    name
}

/// A tool as listed by the server, before filtering.
pub(crate) struct ListedTool {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// An object schema with `"type": "object"`; `Null` when `problem` is
    /// set.
    pub input_schema: serde_json::Value,
    /// Why the tool cannot be offered, found while reading the list.
    pub problem: Option<String>,
}

/// A name from a server or a config as a warning shows it: control
/// characters, bidi overrides and the like escaped (`\n`, `\u{202e}`), so
/// that it stays on its line and reads as what it is.
pub(crate) fn shown(name: &str) -> String {
    name.escape_debug().to_string()
}

/// How many names a warning lists before `and N more`.
const NAMES_SHOWN: usize = 5;

/// Applies `enabled` (an allowlist, first) and `disabled` (then), skips a
/// tool with a problem, one over a size limit or one whose name is taken,
/// keeps at most `limits.max_tools`, and names the survivors; with a
/// warning for each skipped tool, one for the tools over the count and
/// one for each filter entry that names no tool. Warnings do not name the
/// server: the caller prefixes them.
pub(crate) fn select_tools(
    server: &str,
    listed: Vec<ListedTool>,
    enabled: Option<&[String]>,
    disabled: &[String],
    limits: &OfferLimits,
) -> (Vec<McpTool>, Vec<String>) {
    let mut warnings = Vec::new();
    for (key, names) in [
        ("enabled_tools", enabled.unwrap_or_default()),
        ("disabled_tools", disabled),
    ] {
        for wanted in names {
            if !listed.iter().any(|tool| &tool.name == wanted) {
                warnings.push(format!(
                    "{key} names `{}`, which the server does not offer",
                    shown(wanted)
                ));
            }
        }
    }
    let mut tools = Vec::new();
    // Tools past `max_tools`, by name.
    let mut over = Vec::new();
    // qualified name → the tool that has it
    let mut taken: HashMap<String, String> = HashMap::new();
    for tool in listed {
        let allowed = enabled.is_none_or(|enabled| enabled.contains(&tool.name))
            && !disabled.contains(&tool.name);
        if !allowed {
            continue;
        }
        if let Some(why) = unfit(&tool, limits) {
            warnings.push(format!("tool `{}` is skipped: {why}", shown(&tool.name)));
            continue;
        }
        let qualified = qualified_name(server, &tool.name);
        if let Some(owner) = taken.get(&qualified) {
            let why = if *owner == tool.name {
                "the server lists it twice".to_owned()
            } else {
                format!(
                    "its name `{qualified}` is already the name of tool `{}`",
                    shown(owner)
                )
            };
            warnings.push(format!("tool `{}` is skipped: {why}", shown(&tool.name)));
            continue;
        }
        if tools.len() >= limits.max_tools {
            over.push(tool.name);
            continue;
        }
        taken.insert(qualified.clone(), tool.name.clone());
        tools.push(McpTool {
            qualified_name: qualified,
            name: tool.name,
            description: tool.description.unwrap_or_default(),
            input_schema: tool.input_schema,
            title: tool.title,
        });
    }
    if !over.is_empty() {
        warnings.push(too_many(server, limits.max_tools, &over));
    }
    (tools, warnings)
}

/// Why `tool` cannot be offered, if it cannot: a problem found while
/// listing, or a description or schema over its limit.
fn unfit(tool: &ListedTool, limits: &OfferLimits) -> Option<String> {
    if let Some(problem) = &tool.problem {
        return Some(problem.clone());
    }
    let description = tool.description.as_deref().unwrap_or_default().len();
    if description > limits.max_description_bytes {
        return Some(format!(
            "its description is {description} bytes, more than max_tool_description_bytes ({})",
            limits.max_description_bytes
        ));
    }
    if serialized_over(&tool.input_schema, limits.max_schema_bytes) {
        return Some(format!(
            "its input schema is more than max_tool_schema_bytes ({}) as JSON",
            limits.max_schema_bytes
        ));
    }
    None
}

/// Whether `value` serialized is longer than `limit` bytes; stops
/// writing as soon as it is.
fn serialized_over(value: &serde_json::Value, limit: usize) -> bool {
    struct Counter {
        written: usize,
        limit: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written += buf.len();
            if self.written > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter { written: 0, limit };
    serde_json::to_writer(&mut counter, value).is_err()
}

/// The one warning for the tools past `max_tools`.
fn too_many(server: &str, max: usize, over: &[String]) -> String {
    let mut names: Vec<String> = over
        .iter()
        .take(NAMES_SHOWN)
        .map(|name| format!("`{}`", shown(name)))
        .collect();
    if over.len() > NAMES_SHOWN {
        names.push(format!("and {} more", over.len() - NAMES_SHOWN));
    }
    format!(
        "{} tools are left to offer, more than max_tools ({max}): {} not offered: {} \
         (raise max_tools or choose with enabled_tools in [mcp_servers.{server}])",
        max + over.len(),
        if over.len() == 1 {
            "this one is"
        } else {
            "these are"
        },
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(names: &[&str]) -> Vec<ListedTool> {
        names
            .iter()
            .map(|name| ListedTool {
                name: (*name).to_owned(),
                title: None,
                description: None,
                input_schema: serde_json::json!({"type": "object"}),
                problem: None,
            })
            .collect()
    }

    fn select(
        listed: Vec<ListedTool>,
        enabled: Option<&[String]>,
        disabled: &[String],
    ) -> (Vec<McpTool>, Vec<String>) {
        select_tools("s", listed, enabled, disabled, &OfferLimits::DEFAULT)
    }

    fn names(tools: &[McpTool]) -> Vec<&str> {
        tools
            .iter()
            .map(|tool| tool.qualified_name.as_str())
            .collect()
    }

    #[test]
    fn short_names_are_kept() {
        assert_eq!(qualified_name("docs", "search"), "mcp__docs__search");
        assert_eq!(
            qualified_name("my-srv", "get_sum-2"),
            "mcp__my-srv__get_sum-2"
        );
    }

    #[test]
    fn other_characters_become_underscores() {
        assert_eq!(
            qualified_name("docs", "files.read"),
            "mcp__docs__files_read"
        );
        assert_eq!(qualified_name("docs", "a b/c:d"), "mcp__docs__a_b_c_d");
        // One underscore per character, not per byte.
        assert_eq!(qualified_name("docs", "café"), "mcp__docs__caf_");
        assert_eq!(qualified_name("docs", "搜索"), "mcp__docs____");
        assert_eq!(qualified_name("docs", "🦀x"), "mcp__docs___x");
    }

    #[test]
    fn long_names_end_with_a_hash() {
        let tool = "a".repeat(100);
        let name = qualified_name("docs", &tool);
        assert_eq!(name.len(), MAX_TOOL_NAME_LEN);
        assert!(name.starts_with("mcp__docs__aaaa"), "{name}");
        let (prefix, hash) = name.split_at(MAX_TOOL_NAME_LEN - HASH_HEX_LEN);
        assert!(prefix.ends_with('_'), "{name}");
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        // Stable.
        assert_eq!(qualified_name("docs", &tool), name);
        // Names that differ only past the cut stay apart.
        let other = qualified_name("docs", &format!("{tool}b"));
        assert_eq!(other.len(), MAX_TOOL_NAME_LEN);
        assert_ne!(other, name);
    }

    #[test]
    fn exactly_the_limit_is_not_shortened() {
        let tool = "t".repeat(MAX_TOOL_NAME_LEN - "mcp__docs__".len());
        let name = qualified_name("docs", &tool);
        assert_eq!(name, format!("mcp__docs__{tool}"));
        let longer = qualified_name("docs", &format!("{tool}t"));
        assert_eq!(longer.len(), MAX_TOOL_NAME_LEN);
        assert_ne!(longer, format!("mcp__docs__{tool}"));
    }

    #[test]
    fn long_unicode_names_are_shortened_safely() {
        let name = qualified_name("docs", &"é".repeat(80));
        assert_eq!(name.len(), MAX_TOOL_NAME_LEN);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{name}"
        );
    }

    #[test]
    fn filters_apply_allowlist_then_denylist() {
        let all = || listed(&["echo", "get-sum", "get-tiny-image"]);
        let (tools, warnings) = select(all(), None, &[]);
        assert_eq!(
            names(&tools),
            ["mcp__s__echo", "mcp__s__get-sum", "mcp__s__get-tiny-image"]
        );
        assert!(warnings.is_empty());

        let enabled = ["echo".to_owned(), "get-sum".to_owned()];
        let disabled = ["get-sum".to_owned()];
        let (tools, warnings) = select(all(), Some(&enabled), &disabled);
        assert_eq!(names(&tools), ["mcp__s__echo"]);
        assert!(warnings.is_empty());

        let (tools, _) = select(all(), Some(&[]), &[]);
        assert!(tools.is_empty());
    }

    #[test]
    fn filter_entries_naming_no_tool_are_warned_about() {
        let enabled = ["echo".to_owned(), "nope".to_owned()];
        let disabled = ["gone".to_owned()];
        let (tools, warnings) = select(listed(&["echo"]), Some(&enabled), &disabled);
        assert_eq!(names(&tools), ["mcp__s__echo"]);
        assert_eq!(
            warnings,
            [
                "enabled_tools names `nope`, which the server does not offer",
                "disabled_tools names `gone`, which the server does not offer",
            ]
        );
    }

    #[test]
    fn duplicates_after_sanitizing_are_skipped_with_a_warning() {
        let (tools, warnings) = select(listed(&["a.b", "a_b", "a b", "a.b"]), None, &[]);
        assert_eq!(names(&tools), ["mcp__s__a_b"]);
        assert_eq!(tools[0].name, "a.b");
        assert_eq!(
            warnings,
            [
                "tool `a_b` is skipped: its name `mcp__s__a_b` is already the name of tool `a.b`",
                "tool `a b` is skipped: its name `mcp__s__a_b` is already the name of tool `a.b`",
                "tool `a.b` is skipped: the server lists it twice",
            ]
        );
    }

    #[test]
    fn what_exceeds_a_limit_is_skipped_by_name() {
        let limits = OfferLimits {
            max_tools: 2,
            max_description_bytes: 10,
            max_schema_bytes: 40,
        };
        let mut tools = listed(&["a", "long", "big", "b", "c", "d"]);
        tools[1].description = Some("x".repeat(11));
        tools[2].input_schema =
            serde_json::json!({"type": "object", "description": "y".repeat(40)});
        let (offered, warnings) = select_tools("s", tools, None, &[], &limits);
        assert_eq!(names(&offered), ["mcp__s__a", "mcp__s__b"]);
        assert_eq!(
            warnings,
            [
                "tool `long` is skipped: its description is 11 bytes, more than \
                 max_tool_description_bytes (10)",
                "tool `big` is skipped: its input schema is more than max_tool_schema_bytes (40) as JSON",
                "4 tools are left to offer, more than max_tools (2): these are not offered: \
                 `c`, `d` (raise max_tools or choose with enabled_tools in [mcp_servers.s])",
            ]
        );
    }

    #[test]
    fn names_in_warnings_are_escaped() {
        let cases = [
            ("a\nb", "a\\nb"),
            ("\u{1b}[2J", "\\u{1b}[2J"),
            ("\u{202e}txt", "\\u{202e}txt"),
            ("tab\there", "tab\\there"),
            ("plain-name", "plain-name"),
        ];
        for (name, expected) in cases {
            assert_eq!(shown(name), expected);
            let mut tools = listed(&[name]);
            tools[0].problem = Some("why".to_owned());
            let (_, warnings) = select(tools, None, &[]);
            assert_eq!(warnings, [format!("tool `{expected}` is skipped: why")]);
        }
    }
}
