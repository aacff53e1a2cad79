//! Tool names as models see them, and which tools a server offers.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::McpTool;

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
    pub input_schema: serde_json::Value,
}

/// Applies `enabled` (an allowlist, first) and `disabled` (then), names
/// the survivors, and skips a tool whose name is taken, with a warning for
/// each skipped tool and each filter entry that names no tool.
pub(crate) fn select_tools(
    server: &str,
    listed: Vec<ListedTool>,
    enabled: Option<&[String]>,
    disabled: &[String],
) -> (Vec<McpTool>, Vec<String>) {
    let mut warnings = Vec::new();
    for (key, names) in [
        ("enabled_tools", enabled.unwrap_or_default()),
        ("disabled_tools", disabled),
    ] {
        for wanted in names {
            if !listed.iter().any(|tool| &tool.name == wanted) {
                warnings.push(format!(
                    "mcp server `{server}`: {key} names `{wanted}`, which the server does not offer"
                ));
            }
        }
    }
    let mut tools = Vec::new();
    // qualified name → the tool that has it
    let mut taken: HashMap<String, String> = HashMap::new();
    for tool in listed {
        let allowed = enabled.is_none_or(|enabled| enabled.contains(&tool.name))
            && !disabled.contains(&tool.name);
        if !allowed {
            continue;
        }
        let qualified = qualified_name(server, &tool.name);
        if let Some(owner) = taken.get(&qualified) {
            let why = if *owner == tool.name {
                "the server lists it twice".to_owned()
            } else {
                format!("its name `{qualified}` is already the name of tool `{owner}`")
            };
            warnings.push(format!(
                "mcp server `{server}`: tool `{}` is skipped: {why}",
                tool.name
            ));
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
    (tools, warnings)
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
            })
            .collect()
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
        let (tools, warnings) = select_tools("s", all(), None, &[]);
        assert_eq!(
            names(&tools),
            ["mcp__s__echo", "mcp__s__get-sum", "mcp__s__get-tiny-image"]
        );
        assert!(warnings.is_empty());

        let enabled = ["echo".to_owned(), "get-sum".to_owned()];
        let disabled = ["get-sum".to_owned()];
        let (tools, warnings) = select_tools("s", all(), Some(&enabled), &disabled);
        assert_eq!(names(&tools), ["mcp__s__echo"]);
        assert!(warnings.is_empty());

        let (tools, _) = select_tools("s", all(), Some(&[]), &[]);
        assert!(tools.is_empty());
    }

    #[test]
    fn filter_entries_naming_no_tool_are_warned_about() {
        let enabled = ["echo".to_owned(), "nope".to_owned()];
        let disabled = ["gone".to_owned()];
        let (tools, warnings) = select_tools("s", listed(&["echo"]), Some(&enabled), &disabled);
        assert_eq!(names(&tools), ["mcp__s__echo"]);
        assert_eq!(
            warnings,
            [
                "mcp server `s`: enabled_tools names `nope`, which the server does not offer",
                "mcp server `s`: disabled_tools names `gone`, which the server does not offer",
            ]
        );
    }

    #[test]
    fn duplicates_after_sanitizing_are_skipped_with_a_warning() {
        let (tools, warnings) = select_tools("s", listed(&["a.b", "a_b", "a b", "a.b"]), None, &[]);
        assert_eq!(names(&tools), ["mcp__s__a_b"]);
        assert_eq!(tools[0].name, "a.b");
        assert_eq!(
            warnings,
            [
                "mcp server `s`: tool `a_b` is skipped: its name `mcp__s__a_b` is already the name of tool `a.b`",
                "mcp server `s`: tool `a b` is skipped: its name `mcp__s__a_b` is already the name of tool `a.b`",
                "mcp server `s`: tool `a.b` is skipped: the server lists it twice",
            ]
        );
    }
}
