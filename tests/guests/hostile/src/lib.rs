//! A plugin that misbehaves on purpose: each tool tries one way out of the
//! box a WASM plugin runs in (files outside its grant, direct writes,
//! endless loops, memory bombs, stack overflows, commands, huge outputs, the environment, sockets,
//! panics), and `echo` behaves, to show that the next call still works.
//!
//! Only wharf's containment tests (`cli/tests/it/containment.rs`) install
//! it. Every tool reports what it managed to do, so that a test sees an
//! escape as output instead of guessing from silence.

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, ExecRequest, FileChange, Output, Tool, ToolError, ToolSpec};

/// A spec whose arguments are the given properties, all required.
fn spec(description: &str, properties: &[(&str, &str)]) -> ToolSpec {
    let schema_of = |ty: &str| serde_json::json!({ "type": ty });
    let props: serde_json::Map<String, serde_json::Value> = properties
        .iter()
        .map(|(name, ty)| ((*name).to_owned(), schema_of(ty)))
        .collect();
    let required: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
    ToolSpec::new(description).input_schema(serde_json::json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    }))
}

#[derive(Deserialize)]
struct PathArg {
    path: String,
}

#[derive(Deserialize)]
struct WriteArgs {
    path: String,
    contents: String,
}

/// Reads a file with `std::fs`, through whatever the host preopened.
pub struct ReadFile;

impl Tool for ReadFile {
    const NAME: &'static str = "read_file";

    fn spec() -> ToolSpec {
        spec("Reads a file directly.", &[("path", "string")])
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let PathArg { path } = args.parse()?;
        let full = cx.resolve(&path);
        Ok(match std::fs::read_to_string(&full) {
            Ok(contents) => Output::text(contents),
            Err(err) => Output::error(format!("cannot read {}: {err}", full.display())),
        })
    }
}

/// Reads a file with the host's one-call read (`Context::read_to_string`).
pub struct HostRead;

impl Tool for HostRead {
    const NAME: &'static str = "host_read";

    fn spec() -> ToolSpec {
        spec("Reads a file through the host.", &[("path", "string")])
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let PathArg { path } = args.parse()?;
        Ok(match cx.read_to_string(&path) {
            Ok(contents) => Output::text(contents),
            Err(err) => Output::error(format!("cannot read {path}: {err}")),
        })
    }
}

/// Lists a directory with `std::fs`, one sorted name a line.
pub struct ListDir;

impl Tool for ListDir {
    const NAME: &'static str = "list_dir";

    fn spec() -> ToolSpec {
        spec("Lists a directory directly.", &[("path", "string")])
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let PathArg { path } = args.parse()?;
        let full = cx.resolve(&path);
        let names: std::io::Result<Vec<String>> = std::fs::read_dir(&full).and_then(|entries| {
            entries
                .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        });
        Ok(match names {
            Ok(mut names) => {
                names.sort();
                Output::text(names.join("\n"))
            }
            Err(err) => Output::error(format!("cannot list {}: {err}", full.display())),
        })
    }
}

/// Writes a file with `std::fs`, bypassing the host's checks.
pub struct WriteFile;

impl Tool for WriteFile {
    const NAME: &'static str = "write_file";

    fn spec() -> ToolSpec {
        spec(
            "Writes a file directly.",
            &[("path", "string"), ("contents", "string")],
        )
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let WriteArgs { path, contents } = args.parse()?;
        let full = cx.resolve(&path);
        Ok(match std::fs::write(&full, contents) {
            Ok(()) => Output::text(format!("wrote {}", full.display())),
            Err(err) => Output::error(format!("cannot write {}: {err}", full.display())),
        })
    }
}

/// Asks the host to write a file, wherever the model says.
pub struct ProposeWrite;

impl Tool for ProposeWrite {
    const NAME: &'static str = "propose_write";

    fn spec() -> ToolSpec {
        spec(
            "Returns a file change adding a file.",
            &[("path", "string"), ("contents", "string")],
        )
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let WriteArgs { path, contents } = args.parse()?;
        Ok(
            Output::text(format!("proposed {path}"))
                .with_change(FileChange::Add { path, contents }),
        )
    }
}

/// Never returns.
pub struct Spin;

impl Tool for Spin {
    const NAME: &'static str = "spin";

    fn spec() -> ToolSpec {
        spec("Loops forever.", &[])
    }

    fn call(_cx: &Context, _args: Args) -> Result<Output, ToolError> {
        let mut turns: u64 = 0;
        loop {
            // Opaque to the optimizer, so the loop stays a loop.
            turns = std::hint::black_box(turns.wrapping_add(1));
        }
    }
}

/// Sleeps for `ms` milliseconds: blocked in a host call, not running WASM.
pub struct Sleep;

impl Tool for Sleep {
    const NAME: &'static str = "sleep";

    fn spec() -> ToolSpec {
        spec("Sleeps.", &[("ms", "integer")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            ms: u64,
        }
        let Input { ms } = args.parse()?;
        std::thread::sleep(std::time::Duration::from_millis(ms));
        Ok(Output::text(format!("slept {ms} ms")))
    }
}

/// Allocates and touches `mb` MiB, keeping all of it.
pub struct Alloc;

impl Tool for Alloc {
    const NAME: &'static str = "alloc";

    fn spec() -> ToolSpec {
        spec("Allocates memory, one MiB at a time.", &[("mb", "integer")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            mb: usize,
        }
        let Input { mb } = args.parse()?;
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        for _ in 0..mb {
            let mut block = vec![0u8; 1 << 20];
            block.fill(0xa5);
            blocks.push(std::hint::black_box(block));
        }
        Ok(Output::text(format!("allocated {} MiB", blocks.len())))
    }
}

/// Returns `bytes` bytes of text.
pub struct Flood;

impl Tool for Flood {
    const NAME: &'static str = "flood";

    fn spec() -> ToolSpec {
        spec("Returns a huge output.", &[("bytes", "integer")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            bytes: usize,
        }
        let Input { bytes } = args.parse()?;
        Ok(Output::text("x".repeat(bytes)))
    }
}

/// Reads an environment variable.
pub struct Env;

impl Tool for Env {
    const NAME: &'static str = "env";

    fn spec() -> ToolSpec {
        spec("Reads an environment variable.", &[("name", "string")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            name: String,
        }
        let Input { name } = args.parse()?;
        Ok(match std::env::var(&name) {
            Ok(value) => Output::text(value),
            Err(err) => Output::error(format!("cannot read {name}: {err}")),
        })
    }
}

/// Opens a TCP connection.
pub struct Connect;

impl Tool for Connect {
    const NAME: &'static str = "connect";

    fn spec() -> ToolSpec {
        spec("Connects to host:port over TCP.", &[("addr", "string")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            addr: String,
        }
        let Input { addr } = args.parse()?;
        Ok(match std::net::TcpStream::connect(&addr) {
            Ok(_) => Output::text(format!("connected to {addr}")),
            Err(err) => Output::error(format!("cannot connect to {addr}: {err}")),
        })
    }
}

/// Behaves: returns its text.
pub struct Echo;

impl Tool for Echo {
    const NAME: &'static str = "echo";

    fn spec() -> ToolSpec {
        spec("Returns its text.", &[("text", "string")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            text: String,
        }
        let Input { text } = args.parse()?;
        Ok(Output::text(text))
    }
}

/// Panics.
pub struct Panic;

impl Tool for Panic {
    const NAME: &'static str = "panic";

    fn spec() -> ToolSpec {
        spec("Panics.", &[])
    }

    fn call(_cx: &Context, _args: Args) -> Result<Output, ToolError> {
        panic!("the hostile plugin panics on purpose")
    }
}

/// Runs a command through the host's `exec`, with the given input bytes
/// and variables; the exact output bytes follow in a JSON block when input
/// is given.
pub struct Run;

#[derive(Deserialize)]
struct RunArgs {
    argv: Vec<String>,
    #[serde(default)]
    stdin: Option<Vec<u8>>,
    #[serde(default)]
    env: Vec<(String, String)>,
}

impl Tool for Run {
    const NAME: &'static str = "run";

    fn spec() -> ToolSpec {
        let strings = serde_json::json!({ "type": "array", "items": { "type": "string" } });
        ToolSpec::new("Runs a command through the host.").input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "argv": strings,
                "stdin": { "type": "array", "items": { "type": "integer" } },
                "env": { "type": "array", "items": strings },
            },
            "required": ["argv"],
            "additionalProperties": false,
        }))
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let RunArgs { argv, stdin, env } = args.parse()?;
        let bytes = stdin.is_some();
        let mut request = ExecRequest::new(argv);
        request.stdin = stdin;
        request.env = env;
        Ok(match cx.exec(&request) {
            Ok(ran) => {
                let text = Output::text(format!(
                    "exit {:?}, timed out {}\nstdout: {}stderr: {}",
                    ran.exit_code,
                    ran.timed_out,
                    ran.stdout_text(),
                    ran.stderr_text()
                ));
                if bytes {
                    text.with_json(&serde_json::json!({ "stdout": ran.stdout }))
                } else {
                    text
                }
            }
            Err(err) => Output::error(format!("cannot run: {err}")),
        })
    }
}

/// Recurses `depth` times, each frame holding a 1 KiB buffer.
pub struct Recurse;

#[derive(Deserialize)]
struct DepthArg {
    depth: u32,
}

fn recurse(depth: u32) -> u64 {
    let frame = std::hint::black_box([depth as u8; 1024]);
    if depth == 0 {
        return u64::from(frame[0]);
    }
    recurse(depth - 1) + u64::from(std::hint::black_box(frame)[1])
}

impl Tool for Recurse {
    const NAME: &'static str = "recurse";

    fn spec() -> ToolSpec {
        spec("Recurses deeply.", &[("depth", "integer")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let DepthArg { depth } = args.parse()?;
        Ok(Output::text(format!("recursed, sum {}", recurse(depth))))
    }
}

wharf_plugin_api::plugin!(
    Run,
    Recurse,
    ReadFile,
    HostRead,
    ListDir,
    WriteFile,
    ProposeWrite,
    Spin,
    Sleep,
    Alloc,
    Flood,
    Env,
    Connect,
    Echo,
    Panic,
);
