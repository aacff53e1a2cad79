//! `apply_patch`: edit files with codex-style patches.
//!
//! The patch logic lives in [`patch`] and touches no files. The tool reads
//! the files a patch names through its read-only grant and hands the edits
//! back to the host as [`FileChange`]s; the host checks every path against
//! the writable roots and protected paths before it applies any of them.

#![forbid(unsafe_code)]

pub mod patch;

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Output, ReadError, Tool, ToolError, ToolSpec};

/// The tool.
pub struct ApplyPatch;

const DESCRIPTION: &str = "\
Edit files with a patch. The patch is plain text:

*** Begin Patch
*** Add File: path/to/new.txt
+every line of the new file, prefixed with +
*** Delete File: path/to/old.txt
*** Update File: path/to/file.py
*** Move to: path/to/renamed.py        (optional)
@@ def greet():                         (optional: a line just before the change)
 context line, prefixed with a space
-line to remove
+line to add
*** End of File                         (optional: the change is at the end of the file)
*** End Patch

Paths are relative to the working directory. Give three lines of context \
around each change, and use @@ lines to tell apart code that repeats.";

/// A Lark grammar of the patch text, for models that call tools with free
/// text.
pub const GRAMMAR: &str = r#"start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
"#;

#[derive(Deserialize)]
struct Input {
    input: String,
}

impl Tool for ApplyPatch {
    const NAME: &'static str = "apply_patch";

    fn spec() -> ToolSpec {
        ToolSpec::new(DESCRIPTION)
            .input_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "input": { "type": "string", "description": "The whole patch, from *** Begin Patch to *** End Patch." }
                },
                "required": ["input"],
                "additionalProperties": false
            }))
            .freeform_grammar(GRAMMAR)
            // A freeform call's patch text is the `input` argument (codex's
            // shape), which is also all wharf:plugin@0.1.0 can carry.
            .freeform_argument("input")
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        let files = Files { cx };
        let applied = patch::compute(&input.input, &files);
        let mut output = match &applied.error {
            None => Output::text(patch::summary(&applied.changes)),
            Some(err) => {
                let mut text = err.to_string();
                if !applied.changes.is_empty() {
                    text.push_str("\n\nThe edits before the failing one were applied:\n");
                    text.push_str(&patch::summary(&applied.changes));
                }
                Output::error(text)
            }
        };
        for change in applied.changes {
            output = output.with_change(change);
        }
        Ok(output)
    }
}

/// The files of the call's grant, read with the host's one-call read.
struct Files<'a> {
    cx: &'a Context,
}

impl patch::FileSource for Files<'_> {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match self.cx.read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(ReadError::NotFound) => Ok(None),
            Err(err) => Err(err.to_string()),
        }
    }
}

wharf_plugin_api::plugin!(ApplyPatch);
