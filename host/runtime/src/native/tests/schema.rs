//! A tool whose input schema plugin-api generates from a type
//! (`ToolSpec::input_schema_of`, feature `schemars`) passes the host's load
//! checks, and the host's validator then accepts the arguments the type
//! reads and refuses the others before the tool is called.

use crate::plugin::manifest::PluginKind;

use super::NativePlugin;
use crate::plugin::Plugin;

mod derived {
    use schemars::JsonSchema;
    use serde::Deserialize;
    use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

    /// What to count.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Input {
        /// The text to look for.
        pattern: String,
        /// Stop after this many.
        max: Option<u32>,
        mode: Mode,
        within: Range,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Fast,
        Exact,
    }

    #[derive(Deserialize, JsonSchema)]
    struct Range {
        first_line: u32,
        last_line: u32,
    }

    pub struct Count;

    impl Tool for Count {
        const NAME: &'static str = "count";
        fn spec() -> ToolSpec {
            ToolSpec::new("Counts.").input_schema_of::<Input>()
        }
        fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
            let input: Input = args.parse()?;
            let mode = match input.mode {
                Mode::Fast => "fast",
                Mode::Exact => "exact",
            };
            Ok(Output::text(format!(
                "{} {mode} {:?} {}..{}",
                input.pattern, input.max, input.within.first_line, input.within.last_line
            )))
        }
    }

    wharf_plugin_api::native_plugin!(builtin: Count);
}

#[test]
fn a_derived_input_schema_passes_the_load_checks_and_validates_arguments() {
    let plugin = NativePlugin::builtin("derived", derived::wharf_native_plugin()).unwrap();
    let validators = crate::registry::check_tools(PluginKind::Native, plugin.tools()).unwrap();
    let schema = &plugin.tools()[0].input_schema;
    // Self-contained, as model APIs want it, with the doc comments.
    assert_eq!(schema["type"], "object", "{schema}");
    assert_eq!(schema.get("$schema"), None, "{schema}");
    assert_eq!(schema.get("$defs"), None, "{schema}");
    assert_eq!(
        schema["properties"]["pattern"]["description"], "The text to look for.",
        "{schema}"
    );
    let validator = &validators["count"];
    let within = serde_json::json!({ "first_line": 1, "last_line": 9 });
    // (arguments, whether the host lets them through)
    let cases = [
        (
            serde_json::json!({ "pattern": "x", "mode": "fast", "within": within }),
            true,
        ),
        (
            serde_json::json!({ "pattern": "x", "max": 3, "mode": "exact", "within": within }),
            true,
        ),
        (serde_json::json!({ "pattern": "x", "mode": "fast" }), false),
        (
            serde_json::json!({ "pattern": 1, "mode": "fast", "within": within }),
            false,
        ),
        (
            serde_json::json!({ "pattern": "x", "mode": "slow", "within": within }),
            false,
        ),
        (
            serde_json::json!({ "pattern": "x", "max": -1, "mode": "fast", "within": within }),
            false,
        ),
        (
            serde_json::json!({ "pattern": "x", "mode": "fast", "within": within, "extra": 1 }),
            false,
        ),
        (
            serde_json::json!({ "pattern": "x", "mode": "fast", "within": { "first_line": 1 } }),
            false,
        ),
    ];
    for (args, valid) in cases {
        assert_eq!(validator.is_valid(&args), valid, "{args} against {schema}");
    }
}
