//! `text_stats`, a third-party native wharf plugin: the lines, words and
//! bytes of a text file in the workspace. Built as a `.so` against
//! `wharf-plugin-api` alone (feature `native`); see README.md.

use serde::{Deserialize, Serialize};
use wharf_plugin_api::{Args, Context, Level, Output, ReadError, Tool, ToolError, ToolSpec};

pub struct TextStats;

#[derive(Deserialize)]
struct Input {
    path: String,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
struct Stats {
    lines: usize,
    words: usize,
    bytes: usize,
}

impl Stats {
    fn of(bytes: &[u8]) -> Stats {
        let text = String::from_utf8_lossy(bytes);
        Stats {
            lines: text.lines().count(),
            words: text.split_whitespace().count(),
            bytes: bytes.len(),
        }
    }
}

impl Tool for TextStats {
    const NAME: &'static str = "text_stats";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Counts the lines, words and bytes of a text file.\n\
             The path is relative to the working directory; only files the \
             plugin may read (the workspace) can be counted.",
        )
        .input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "path": { "type": "string", "description": "The file, relative to the working directory." }
            },
            "required": ["path"],
            "additionalProperties": false
        }))
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        wharf_plugin_api::log(Level::Debug, &format!("counting {}", input.path));
        let bytes = match cx.read_file(&input.path) {
            Ok(bytes) => bytes,
            // Failures the model should read, not crashes.
            Err(ReadError::NotFound) => {
                return Ok(Output::error(format!("{}: no such file", input.path)));
            }
            Err(err) => return Ok(Output::error(format!("cannot read {}: {err}", input.path))),
        };
        let stats = Stats::of(&bytes);
        Ok(Output::text(format!(
            "{}: {} lines, {} words, {} bytes",
            input.path, stats.lines, stats.words, stats.bytes
        ))
        .with_json(&stats))
    }
}

wharf_plugin_api::native_plugin!(TextStats);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_file_below_the_working_directory() {
        let dir = std::env::temp_dir().join(format!("text-stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), "one two\nthree\n").unwrap();
        let cx = Context::new(&dir);
        let out = TextStats::call(&cx, Args::new(r#"{"path":"a.txt"}"#)).unwrap();
        assert_eq!(
            out.as_text(),
            "a.txt: 2 lines, 3 words, 14 bytes\n{\"lines\":2,\"words\":3,\"bytes\":14}"
        );
        let out = TextStats::call(&cx, Args::new(r#"{"path":"missing.txt"}"#)).unwrap();
        assert!(out.is_error());
        assert_eq!(out.as_text(), "missing.txt: no such file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
