//! The checks a plugin must pass to be loaded, in one place for loading
//! and for `wharf plugin add` (which runs them before it installs
//! anything):
//!
//! - [`check_component`]: what the component's own header says, read
//!   without compiling it — the `wharf:plugin` version it exports and the
//!   interfaces it imports, each of which this host must provide;
//! - [`check_tools`]: what `describe` answered — tool names and input
//!   schemas.

use std::collections::BTreeMap;

use crate::plugin::ToolSpec;
use crate::plugin::manifest::PluginKind;
use crate::wasm::SUPPORTED_API_VERSIONS;

/// The longest tool name: what model providers accept.
pub const MAX_TOOL_NAME: usize = 64;

/// The export every plugin has, followed by `@VERSION`.
const TOOL_EXPORT: &str = "wharf:plugin/tool@";

/// The WASI packages this host links (`wasmtime_wasi::p2`); any other
/// import cannot be satisfied.
const PROVIDED_WASI: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
];

/// Why a component cannot be a plugin, known without compiling it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentCheck {
    #[error("not a WASM component: {0}")]
    Malformed(String),
    #[error(
        "not a wharf plugin: it exports no `wharf:plugin/tool` interface (implement the \
         `plugin` world of wit/0.1.0/plugin.wit)"
    )]
    NotAPlugin,
    #[error(
        "the component exports wharf:plugin@{found}, which this wharf does not support \
         (supported: {})",
        SUPPORTED_API_VERSIONS.join(", ")
    )]
    UnsupportedExport { found: String },
    #[error(
        "the manifest says `api = \"{manifest}\"` but the component exports \
         wharf:plugin@{component}; set `api = \"{component}\"` in plugin.toml"
    )]
    ApiMismatch { manifest: String, component: String },
    #[error("{}", unprovided(imports))]
    Unprovided { imports: Vec<String> },
}

/// Reads the top level of the component `bytes` (no compiling): it must
/// export `wharf:plugin/tool` at the version `api` names, one this host
/// supports, and import nothing the host does not provide.
pub fn check_component(api: &str, bytes: &[u8]) -> Result<(), ComponentCheck> {
    use wasmparser::{Parser, Payload};

    let mut depth = 0usize;
    let mut exported = None;
    let mut unprovided = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|err| ComponentCheck::Malformed(err.to_string()))?;
        match payload {
            Payload::Version { encoding, .. }
                if depth == 0 && encoding != wasmparser::Encoding::Component =>
            {
                return Err(ComponentCheck::Malformed(
                    "this is a core WASM module; build the plugin for the wasm32-wasip2 \
                     target, which emits a component"
                        .to_owned(),
                ));
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) if depth > 0 => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import =
                        import.map_err(|err| ComponentCheck::Malformed(err.to_string()))?;
                    if !provided(api, import.name.name) {
                        unprovided.push(import.name.name.to_owned());
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export =
                        export.map_err(|err| ComponentCheck::Malformed(err.to_string()))?;
                    if let Some(version) = export.name.name.strip_prefix(TOOL_EXPORT) {
                        exported = Some(version.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    if !unprovided.is_empty() {
        return Err(ComponentCheck::Unprovided {
            imports: unprovided,
        });
    }
    let found = exported.ok_or(ComponentCheck::NotAPlugin)?;
    if !SUPPORTED_API_VERSIONS.contains(&found.as_str()) {
        return Err(ComponentCheck::UnsupportedExport { found });
    }
    if found != api {
        return Err(ComponentCheck::ApiMismatch {
            manifest: api.to_owned(),
            component: found,
        });
    }
    Ok(())
}

/// Whether this host links `import` for a plugin targeting `api`:
/// wasi:http only from 0.2.0 on, where a manifest may ask for network
/// (the requests are checked against the grant, `wasm/net.rs`).
fn provided(api: &str, import: &str) -> bool {
    import.starts_with("wharf:plugin/")
        || PROVIDED_WASI.iter().any(|p| import.starts_with(p))
        || (api != "0.1.0" && import.starts_with("wasi:http/"))
}

fn unprovided(imports: &[String]) -> String {
    let mut text = format!(
        "the component imports {}, which wharf does not provide to plugins",
        imports
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut fixes: Vec<&str> = Vec::new();
    for import in imports {
        let fix = if import.starts_with("wasi:http/") {
            "rebuild without HTTP: with componentize-js pass `--disable http` (jco componentize \
             `-d http`), with componentize-py do not import the `wasi:http` world; a plugin \
             runs commands through the host's `exec` instead, or targets wharf:plugin@0.2.0 \
             and lists its hosts in the manifest's `capabilities.network`"
        } else {
            "rebuild against the `plugin` world of wit/0.1.0/plugin.wit only (WASI 0.2 cli, \
             clocks, filesystem, io, random and sockets are provided)"
        };
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    for fix in fixes {
        text.push_str("; ");
        text.push_str(fix);
    }
    text
}

/// What `describe` answered, checked: each tool's name is 1 to
/// [`MAX_TOOL_NAME`] of `[A-Za-z0-9_-]` and not reserved for another kind,
/// and its input schema is a JSON Schema of an object. Returns one
/// compiled argument validator per tool, by name; the error names the tool
/// and what to change.
pub fn check_tools(
    kind: PluginKind,
    tools: &[ToolSpec],
) -> Result<BTreeMap<String, jsonschema::Validator>, String> {
    let mut validators = BTreeMap::new();
    for spec in tools {
        check_tool_name(kind, &spec.name)?;
        let name = &spec.name;
        match &spec.input_schema {
            serde_json::Value::Object(schema) => match schema.get("type") {
                None => {}
                Some(serde_json::Value::String(ty)) if ty == "object" => {}
                Some(other) => {
                    return Err(format!(
                        "tool `{name}` has an invalid input schema: its `type` is {other}, \
                         but a tool's arguments are an object (`\"type\": \"object\"`)"
                    ));
                }
            },
            other => {
                return Err(format!(
                    "tool `{name}` has an invalid input schema: it is {other}, not a JSON \
                     Schema object such as {{\"type\": \"object\", \"properties\": {{}}}}"
                ));
            }
        }
        match jsonschema::validator_for(&spec.input_schema) {
            Ok(validator) => {
                validators.insert(name.clone(), validator);
            }
            Err(err) => {
                return Err(format!("tool `{name}` has an invalid input schema: {err}"));
            }
        }
    }
    Ok(validators)
}

/// Refuses a tool name a plugin of `kind` may not offer.
pub fn check_tool_name(kind: PluginKind, tool: &str) -> Result<(), String> {
    if let Some(reason) = super::names::reserved(kind, tool) {
        return Err(reason);
    }
    // An MCP server's tool names are made by the MCP client, in its own
    // namespace.
    if kind == PluginKind::Mcp {
        return Ok(());
    }
    let valid = !tool.is_empty()
        && tool.len() <= MAX_TOOL_NAME
        && tool
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        return Ok(());
    }
    Err(format!(
        "its tool name {tool:?} is not 1 to {MAX_TOOL_NAME} letters, digits, `_` or `-`; \
         rename the tool"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Display;

    fn spec(name: &str, schema: serde_json::Value) -> ToolSpec {
        ToolSpec {
            name: name.to_owned(),
            description: String::new(),
            input_schema: schema,
            freeform_grammar: None,
            requires: Vec::new(),
            display: Display::default(),
        }
    }

    #[test]
    fn tools_are_checked_by_name_and_schema() {
        let object = serde_json::json!({"type": "object"});
        let long = "a".repeat(65);
        // An MCP server's namespace, which other kinds may not use.
        let mcp = super::super::names::namespace(PluginKind::Mcp).unwrap();
        let cases: Vec<(ToolSpec, Option<&str>)> = vec![
            (spec("word_count-2", object.clone()), None),
            (
                spec("bad name!", object.clone()),
                Some("\"bad name!\" is not 1 to 64"),
            ),
            (spec("", object.clone()), Some("\"\" is not 1 to 64")),
            (spec(&long, object.clone()), Some("is not 1 to 64")),
            (
                spec(&format!("{mcp}x__y"), object.clone()),
                Some("reserved for the tools of MCP"),
            ),
            (spec("t", serde_json::json!({})), None),
            (
                spec("t", serde_json::json!("x")),
                Some("it is \"x\", not a JSON Schema object"),
            ),
            (
                spec("t", serde_json::json!({"type": "string"})),
                Some("its `type` is \"string\""),
            ),
            (
                spec("t", serde_json::json!({"type": "object", "properties": 3})),
                Some("tool `t` has an invalid input schema: "),
            ),
        ];
        for (spec, expected) in cases {
            let result = check_tools(PluginKind::Wasm, std::slice::from_ref(&spec));
            match (result, expected) {
                (Ok(validators), None) => assert!(validators.contains_key(&spec.name)),
                (Err(err), Some(expected)) => assert!(err.contains(expected), "{err}"),
                (result, expected) => panic!("{}: {:?} vs {expected:?}", spec.name, result.err()),
            }
        }
    }

    #[test]
    fn a_core_module_or_garbage_is_not_a_component() {
        let core = b"\0asm\x01\0\0\0";
        let err = check_component("0.1.0", core).unwrap_err();
        assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
        assert!(matches!(
            check_component("0.1.0", b"nope"),
            Err(ComponentCheck::Malformed(_))
        ));
    }

    #[test]
    fn an_unprovided_import_names_its_fix() {
        let text = unprovided(&["wasi:http/types@0.2.0".to_owned()]);
        assert!(text.contains("`wasi:http/types@0.2.0`"), "{text}");
        assert!(text.contains("--disable http"), "{text}");
        assert!(provided("0.1.0", "wasi:filesystem/types@0.2.3"));
        assert!(provided("0.1.0", "wharf:plugin/host@0.1.0"));
        assert!(!provided("0.1.0", "wasi:keyvalue/store@0.2.0"));
        assert!(!provided("0.1.0", "wasi:http/outgoing-handler@0.2.0"));
        assert!(provided("0.2.0", "wasi:http/outgoing-handler@0.2.0"));
    }
}
