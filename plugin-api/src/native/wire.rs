//! The JSON documents that cross the native ABI, version 1.
//!
//! Every buffer in [`super`] that is not a plain UTF-8 string holds one of
//! these, serialized with `serde_json`. Field names and tags are part of the
//! ABI: a field may be added (readers ignore unknown fields and default
//! missing optional ones), none renamed or removed.

use serde::{Deserialize, Serialize};

/// What `describe` returns: `{"tools": [...]}` or `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Described {
    Tools(Vec<ToolSpec>),
    Error(String),
}

/// One tool, as models see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// The JSON Schema of the arguments object (a JSON value, not text).
    pub input_schema: serde_json::Value,
    #[serde(default)]
    pub freeform_grammar: Option<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    /// How a host shows and calls the tool; absent: no hints.
    #[serde(default, skip_serializing_if = "Display::is_empty")]
    pub display: Display,
}

/// Hints for showing a tool's calls and for calling it with free text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Display {
    /// The JSON pointer (`/cmd`) of the argument holding the command line
    /// the call runs: a string, or an array of words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The argument a freeform call's text goes into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_argument: Option<String>,
}

impl Display {
    pub fn is_empty(&self) -> bool {
        self.command.is_none() && self.freeform_argument.is_none()
    }
}

/// What the host passes to `invoke`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub tool: String,
    /// The arguments as JSON text, already checked against the tool's
    /// input schema.
    pub args: String,
    pub context: RequestContext,
}

/// Where the call runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestContext {
    pub call_id: String,
    pub session_id: String,
    /// Absolute.
    pub cwd: String,
    /// What the call may touch, as the host describes it (for wharf: the
    /// call's grant, see the README). Opaque to this crate.
    #[serde(default)]
    pub sandbox: serde_json::Value,
}

/// What `invoke` returns: `{"ok": {...}}` or `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Ok(Output),
    Error(Error),
}

/// A tool's output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Output {
    #[serde(default)]
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub changes: Vec<FileChange>,
    /// The command the call ran; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
}

/// A command a call ran: `{"argv": [...], "exit_code": 0, "duration_ms": 12}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub argv: Vec<String>,
    /// Absent while the command still runs.
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub duration_ms: u64,
}

impl From<crate::CommandRun> for Command {
    fn from(run: crate::CommandRun) -> Command {
        Command {
            argv: run.argv,
            exit_code: run.exit_code,
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl From<Command> for crate::CommandRun {
    fn from(command: Command) -> crate::CommandRun {
        crate::CommandRun {
            argv: command.argv,
            exit_code: command.exit_code,
            duration: std::time::Duration::from_millis(command.duration_ms),
        }
    }
}

/// One block of output: `{"type": "text", "text": "..."}`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    /// JSON text.
    Json {
        json: String,
    },
    Image {
        mime_type: String,
        /// Standard base64, with padding.
        data: String,
    },
}

/// A file edit for the host to check and apply: `{"type": "add", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FileChange {
    Add {
        path: String,
        contents: String,
    },
    Delete {
        path: String,
    },
    Update {
        path: String,
        #[serde(default)]
        move_to: Option<String>,
        contents: String,
    },
}

// The wire form of the plugin API's `FileChange`, kept apart so that the
// author's type can change without changing the ABI: the two conversions
// are the only place they meet.
impl From<crate::FileChange> for FileChange {
    fn from(change: crate::FileChange) -> FileChange {
        match change {
            crate::FileChange::Add { path, contents } => FileChange::Add { path, contents },
            crate::FileChange::Delete { path } => FileChange::Delete { path },
            crate::FileChange::Update {
                path,
                move_to,
                contents,
            } => FileChange::Update {
                path,
                move_to,
                contents,
            },
        }
    }
}

impl From<FileChange> for crate::FileChange {
    fn from(change: FileChange) -> crate::FileChange {
        match change {
            FileChange::Add { path, contents } => crate::FileChange::Add { path, contents },
            FileChange::Delete { path } => crate::FileChange::Delete { path },
            FileChange::Update {
                path,
                move_to,
                contents,
            } => crate::FileChange::Update {
                path,
                move_to,
                contents,
            },
        }
    }
}

/// Why a call (or a host callback) did not produce a result:
/// `{"kind": "denied", "message": "..."}`, `{"kind": "cancelled"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum Error {
    InvalidArgs(String),
    Denied(String),
    Cancelled,
    Failed(String),
    /// The plugin panicked; the message is the panic's.
    Panicked(String),
}

/// What the `exec` host callback takes: `{"argv", "cwd", "timeout_ms",
/// "stdin", "stdin_base64", "env"}`. Input that is UTF-8 travels as text in
/// `stdin`, any other as base64 in `stdin_base64`; `env` is a list of
/// `[name, value]` pairs. (`stdin_base64` and `env` were added to ABI 1: a
/// plugin that does not send them sends none.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub stdin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
}

impl From<&crate::ExecRequest> for ExecRequest {
    fn from(request: &crate::ExecRequest) -> ExecRequest {
        let (stdin, stdin_base64) = match &request.stdin {
            None => (None, None),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => (Some(text.to_owned()), None),
                Err(_) => (None, Some(super::base64::encode(bytes))),
            },
        };
        ExecRequest {
            argv: request.argv.clone(),
            cwd: request.cwd.clone(),
            timeout_ms: request.timeout_ms,
            stdin,
            stdin_base64,
            env: request.env.clone(),
        }
    }
}

impl TryFrom<ExecRequest> for crate::ExecRequest {
    /// Why the request cannot be read.
    type Error = String;

    fn try_from(request: ExecRequest) -> Result<crate::ExecRequest, String> {
        let stdin = match (request.stdin_base64, request.stdin) {
            (Some(data), _) => Some(
                super::base64::decode(&data)
                    .ok_or_else(|| "`stdin_base64` is not valid base64".to_owned())?,
            ),
            (None, text) => text.map(String::into_bytes),
        };
        Ok(crate::ExecRequest {
            argv: request.argv,
            cwd: request.cwd,
            env: request.env,
            timeout_ms: request.timeout_ms,
            stdin,
        })
    }
}

/// What a command did, as the `exec` host callback returns it: `{"exit_code",
/// "stdout", "stderr", "timed_out", "stdout_base64", "stderr_base64"}`. A
/// stream that is UTF-8 is its text; one that is not is also in its
/// `_base64` field, exactly (its text field then replaces what is not
/// UTF-8). The `_base64` fields were added to ABI 1.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecOutput {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_base64: Option<String>,
}

/// A stream as text, and as base64 too when it is not UTF-8.
fn stream_to_wire(bytes: Vec<u8>) -> (String, Option<String>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(err) => {
            let bytes = err.into_bytes();
            (
                String::from_utf8_lossy(&bytes).into_owned(),
                Some(super::base64::encode(&bytes)),
            )
        }
    }
}

/// A stream's bytes: the base64 ones when they are there and valid.
fn stream_from_wire(text: String, base64: Option<String>) -> Vec<u8> {
    base64
        .and_then(|data| super::base64::decode(&data))
        .unwrap_or_else(|| text.into_bytes())
}

impl From<crate::ExecOutput> for ExecOutput {
    fn from(output: crate::ExecOutput) -> ExecOutput {
        let (stdout, stdout_base64) = stream_to_wire(output.stdout);
        let (stderr, stderr_base64) = stream_to_wire(output.stderr);
        ExecOutput {
            exit_code: output.exit_code,
            stdout,
            stderr,
            timed_out: output.timed_out,
            stdout_base64,
            stderr_base64,
        }
    }
}

impl From<ExecOutput> for crate::ExecOutput {
    fn from(output: ExecOutput) -> crate::ExecOutput {
        crate::ExecOutput {
            exit_code: output.exit_code,
            stdout: stream_from_wire(output.stdout, output.stdout_base64),
            stderr: stream_from_wire(output.stderr, output.stderr_base64),
            timed_out: output.timed_out,
        }
    }
}

/// What the `exec` host callback returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecResponse {
    Ok(ExecOutput),
    Error(Error),
}

/// What the `read_file` host callback returns: `{"ok": "<base64>"}`,
/// `"not_found"`, `{"denied": "..."}` or `{"failed": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadResponse {
    /// The contents, standard base64.
    Ok(String),
    NotFound,
    Denied(String),
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command block and the display hints were added to ABI 1: a
    /// document without them reads as before, and one without them is
    /// written as before, so older hosts and plugins understand both.
    #[test]
    fn the_command_block_and_display_hints_are_optional_on_the_wire() {
        let old_output = r#"{"content":[],"is_error":false,"changes":[]}"#;
        let read: Output = serde_json::from_str(old_output).unwrap();
        assert_eq!(read.command, None);
        assert_eq!(serde_json::to_string(&read).unwrap(), old_output);

        let ran = crate::CommandRun {
            argv: vec!["bash".to_owned(), "-lc".to_owned(), "exit 3".to_owned()],
            exit_code: Some(3),
            duration: std::time::Duration::from_millis(12),
        };
        let json = serde_json::to_string(&Command::from(ran.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"argv":["bash","-lc","exit 3"],"exit_code":3,"duration_ms":12}"#
        );
        let back: Command = serde_json::from_str(&json).unwrap();
        assert_eq!(crate::CommandRun::from(back), ran);
        let running: Command = serde_json::from_str(r#"{"argv":["sleep"]}"#).unwrap();
        assert_eq!((running.exit_code, running.duration_ms), (None, 0));

        let old_spec = r#"{"name":"t","description":"d","input_schema":{},"freeform_grammar":null,"requires":[]}"#;
        let spec: ToolSpec = serde_json::from_str(old_spec).unwrap();
        assert!(spec.display.is_empty());
        assert_eq!(serde_json::to_string(&spec).unwrap(), old_spec);
    }

    /// Bytes that are not UTF-8 cross in base64 both ways; text crosses as
    /// text, in the form hosts and plugins that predate base64 read.
    #[test]
    fn exec_bytes_cross_the_wire_exactly_and_text_as_before() {
        let binary = vec![0xff, 0x00, b'a', 0xc3];
        let request = crate::ExecRequest::new(["cat"])
            .env("A", "1")
            .stdin(binary.clone());
        let wire = ExecRequest::from(&request);
        let json = serde_json::to_string(&wire).unwrap();
        assert_eq!(
            json,
            r#"{"argv":["cat"],"cwd":null,"timeout_ms":null,"stdin":null,"stdin_base64":"/wBhww==","env":[["A","1"]]}"#
        );
        let read: ExecRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(crate::ExecRequest::try_from(read), Ok(request));

        let text = crate::ExecRequest::new(["cat"]).stdin_text("hi");
        let json = serde_json::to_string(&ExecRequest::from(&text)).unwrap();
        assert_eq!(
            json,
            r#"{"argv":["cat"],"cwd":null,"timeout_ms":null,"stdin":"hi"}"#
        );
        let bad: ExecRequest = serde_json::from_str(r#"{"argv":[],"stdin_base64":"*"}"#).unwrap();
        assert!(crate::ExecRequest::try_from(bad).is_err());

        let output = crate::ExecOutput {
            exit_code: Some(0),
            stdout: binary,
            stderr: b"plain".to_vec(),
            timed_out: false,
        };
        let json = serde_json::to_string(&ExecOutput::from(output.clone())).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({
                "exit_code": 0,
                "stdout": "\u{fffd}\u{0}a\u{fffd}",
                "stderr": "plain",
                "timed_out": false,
                "stdout_base64": "/wBhww==",
            })
        );
        let read: ExecOutput = serde_json::from_str(&json).unwrap();
        assert_eq!(crate::ExecOutput::from(read), output);
    }

    /// The JSON of each change is ABI: it must not follow the author's type.
    #[test]
    fn a_file_change_crosses_the_wire_unchanged_in_its_abi_form() {
        let path = || "a.txt".to_owned();
        let cases = [
            (
                crate::FileChange::Add {
                    path: path(),
                    contents: "x".to_owned(),
                },
                r#"{"type":"add","path":"a.txt","contents":"x"}"#,
            ),
            (
                crate::FileChange::Delete { path: path() },
                r#"{"type":"delete","path":"a.txt"}"#,
            ),
            (
                crate::FileChange::Update {
                    path: path(),
                    move_to: Some("b.txt".to_owned()),
                    contents: "y".to_owned(),
                },
                r#"{"type":"update","path":"a.txt","move_to":"b.txt","contents":"y"}"#,
            ),
        ];
        for (change, json) in cases {
            let wire = FileChange::from(change.clone());
            assert_eq!(serde_json::to_string(&wire).unwrap(), json);
            let read: FileChange = serde_json::from_str(json).unwrap();
            assert_eq!(crate::FileChange::from(read), change);
        }
    }
}
