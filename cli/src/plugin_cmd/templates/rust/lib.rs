//! `{{tool}}`: counts the lines and words of a text file. Edit it, then
//! `wharf plugin dev .` builds it and calls it without installing it.

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Level, Output, ReadError, Tool, ToolError, ToolSpec};

pub struct WordCount;

#[derive(Deserialize)]
struct Input {
    path: String,
}

impl Tool for WordCount {
    /// The name the model calls: 1 to 64 of `A-Z a-z 0-9 _ -`, unique
    /// among every plugin's tools.
    const NAME: &'static str = "{{tool}}";

    fn spec() -> ToolSpec {
        // The input schema is a JSON Schema object; wharf checks every
        // call's arguments against it before the tool runs.
        ToolSpec::new("Counts the lines and words of a text file.").input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "path": { "type": "string", "description": "Relative to the working directory." }
            },
            "required": ["path"],
            "additionalProperties": false
        }))
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        // Recorded with the call; `wharf plugin dev` prints it on stderr.
        wharf_plugin_api::log(Level::Debug, &format!("counting {}", input.path));
        // One host call, checked against the grant (`fs.read` in
        // plugin.toml); its errors say what was refused and why.
        match cx.read_to_string(&input.path) {
            Ok(text) => Ok(Output::text(format!(
                "{} lines, {} words",
                text.lines().count(),
                text.split_whitespace().count()
            ))),
            // A failure the model should read, not a crash.
            Err(ReadError::NotFound) => Ok(Output::error(format!("{}: no such file", input.path))),
            Err(err) => Ok(Output::error(format!("cannot read {}: {err}", input.path))),
        }
    }
}

wharf_plugin_api::plugin!(WordCount);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_lines_and_words_of_a_file() {
        let dir = std::env::temp_dir().join(format!("{{name}}-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), "one two\nthree\n").unwrap();
        let cx = Context::new(&dir);
        let cases = [
            (r#"{"path": "a.txt"}"#, "2 lines, 3 words", false),
            (r#"{"path": "missing.txt"}"#, "missing.txt: no such file", true),
        ];
        for (args, text, is_error) in cases {
            let output = WordCount::call(&cx, Args::new(args)).unwrap();
            assert_eq!(output.as_text(), text);
            assert_eq!(output.is_error(), is_error);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
