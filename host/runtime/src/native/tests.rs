//! Native plugins through the real ABI: tools linked in with
//! `native_plugin!(builtin: ...)` go through the same table, JSON and
//! callbacks as a library; loading failures use hand-made tables and files.
//! (Libraries built as `.so` are tested through the binary, in
//! `cli/tests/it/native.rs`.)

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wharf_plugin_api::ExecRequest;
use wharf_plugin_api::native::{Buf, PluginV1};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

use super::*;
use crate::plugin::grant::HostLimits;

mod schema;

/// Test tools, each exercising one part of the ABI.
mod tools {
    use serde::Deserialize;
    use wharf_plugin_api::{
        Args, Context, ExecRequest, FileChange, Level, Output, Tool, ToolError, ToolSpec,
    };

    #[derive(Deserialize)]
    struct Input {
        #[serde(default)]
        text: String,
    }

    /// Logs, reports progress, echoes `text` and what it was told.
    pub struct Echo;

    impl Tool for Echo {
        const NAME: &'static str = "echo";
        fn spec() -> ToolSpec {
            ToolSpec::new("Echoes.").requires("image_input")
        }
        fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
            let input: Input = args.parse()?;
            wharf_plugin_api::log(Level::Warn, &format!("echo {}", input.text));
            wharf_plugin_api::progress("done");
            let told = serde_json::json!({
                "call_id": cx.call_id(),
                "session_id": cx.session_id(),
                "cwd": cx.cwd(),
                "mode": cx.sandbox_json()["policy"]["mode"],
            });
            Ok(Output::text(input.text).with_json(&told))
        }
    }

    /// Panics with `text`.
    pub struct Panic;

    impl Tool for Panic {
        const NAME: &'static str = "panic";
        fn spec() -> ToolSpec {
            ToolSpec::new("Panics.")
        }
        fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
            let input: Input = args.parse()?;
            panic!("{}", input.text);
        }
    }

    /// Reads the file `text` through the host.
    pub struct Read;

    impl Tool for Read {
        const NAME: &'static str = "read";
        fn spec() -> ToolSpec {
            ToolSpec::new("Reads.")
        }
        fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
            let input: Input = args.parse()?;
            Ok(Output::text(cx.read_to_string(&input.text)?))
        }
    }

    /// Runs `sh -c text` through the host.
    pub struct Run;

    impl Tool for Run {
        const NAME: &'static str = "run";
        fn spec() -> ToolSpec {
            ToolSpec::new("Runs.")
        }
        fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
            let input: Input = args.parse()?;
            // Input that is not UTF-8, and a variable of the request's own.
            let request = ExecRequest::new(["sh", "-c", &input.text])
                .timeout_ms(100)
                .stdin(b"from stdin \xff\xfe".to_vec())
                .env("WHARF_TEST_VAR", "set by the plugin");
            let output = cx.exec(&request)?;
            Ok(Output::new().with_json(&serde_json::json!({
                "exit_code": output.exit_code,
                "stdout": output.stdout,
                "stderr": output.stderr_text(),
                "timed_out": output.timed_out,
            })))
        }
    }

    /// Runs the program `text`, with no arguments, through the host.
    pub struct Spawn;

    impl Tool for Spawn {
        const NAME: &'static str = "spawn";
        fn spec() -> ToolSpec {
            ToolSpec::new("Spawns.")
        }
        fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
            let input: Input = args.parse()?;
            let output = cx.exec(&ExecRequest::new([input.text]))?;
            Ok(Output::text(output.stdout_text()))
        }
    }

    /// Waits until the host says stop.
    pub struct Wait;

    impl Tool for Wait {
        const NAME: &'static str = "wait";
        fn spec() -> ToolSpec {
            ToolSpec::new("Waits.")
        }
        fn call(cx: &Context, _args: Args) -> Result<Output, ToolError> {
            while !cx.is_cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(ToolError::Cancelled)
        }
    }

    /// Returns an image, a file change and an error mark.
    pub struct Rich;

    impl Tool for Rich {
        const NAME: &'static str = "rich";
        fn spec() -> ToolSpec {
            ToolSpec::new("Returns everything.")
        }
        fn call(_cx: &Context, _args: Args) -> Result<Output, ToolError> {
            Ok(Output::error("partly failed")
                .with_image("image/png", vec![0, 1, 254, 255])
                .with_change(FileChange::Update {
                    path: "a.txt".to_owned(),
                    move_to: Some("b.txt".to_owned()),
                    contents: "new".to_owned(),
                }))
        }
    }

    /// Says the arguments are wrong.
    pub struct Refuse;

    impl Tool for Refuse {
        const NAME: &'static str = "refuse";
        fn spec() -> ToolSpec {
            ToolSpec::new("Refuses.")
        }
        fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
            #[derive(Deserialize)]
            #[allow(dead_code)]
            struct Needs {
                number: u32,
            }
            args.parse::<Needs>()?;
            Ok(Output::new())
        }
    }

    wharf_plugin_api::native_plugin!(builtin: Echo, Panic, Read, Run, Spawn, Wait, Rich, Refuse);
}

/// A plugin whose `describe` panics.
mod broken {
    use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

    pub struct BadSpec;

    impl Tool for BadSpec {
        const NAME: &'static str = "bad_spec";
        fn spec() -> ToolSpec {
            panic!("no spec today")
        }
        fn call(_cx: &Context, _args: Args) -> Result<Output, ToolError> {
            Ok(Output::new())
        }
    }

    wharf_plugin_api::native_plugin!(builtin: BadSpec);
}

struct Setup {
    dir: tempfile::TempDir,
    plugin: NativePlugin,
    /// What the calls reported as progress, as it came.
    progress: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "some notes").unwrap();
        Setup {
            plugin: NativePlugin::builtin("tools", tools::wharf_native_plugin()).unwrap(),
            dir,
            progress: Arc::default(),
        }
    }

    fn cwd(&self) -> std::path::PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    /// Calls `tool` in a read-only session whose grant reads the cwd.
    fn call(&self, tool: &str, text: &str, grant: &Grant) -> Result<ToolOutput, ToolError> {
        self.call_in(SandboxPolicy::new_read_only(), tool, text, grant)
    }

    fn call_in(
        &self,
        policy: SandboxPolicy,
        tool: &str,
        text: &str,
        grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let env = PathEnv {
            cwd: self.cwd(),
            tmpdir: None,
            protected: Vec::new(),
        };
        let cx = CallContext {
            call_id: "c1".into(),
            session_id: "s1".into(),
            cwd: self.cwd(),
            sandbox: Arc::new(Sandbox::new(&policy, &env)),
            cancel: wharf_cancel::CancelToken::new(),
            progress: Some(crate::plugin::Progress::new({
                let progress = Arc::clone(&self.progress);
                move |message| progress.lock().unwrap().push(message.to_owned())
            })),
            elicitation: None,
        };
        let value = serde_json::json!({ "text": text });
        let text = value.to_string();
        let args = Args {
            text: &text,
            value: &value,
        };
        self.plugin.invoke(&cx, tool, args, grant)
    }

    fn grant(&self) -> Grant {
        let mut grant = Grant::none(&HostLimits::default());
        grant.read_roots = vec![self.cwd()];
        grant
    }
}

/// A call's result as one line.
fn show(result: Result<ToolOutput, ToolError>) -> String {
    match result {
        Ok(output) => format!(
            "ok{}: {} {:?}",
            if output.is_error { " (error)" } else { "" },
            output.text(),
            output.logs
        ),
        Err(err) => format!("error: {err}"),
    }
}

#[test]
fn builtin_tools_are_described_through_the_abi() {
    let setup = Setup::new();
    assert!(setup.plugin.is_builtin());
    let names: Vec<&str> = setup
        .plugin
        .tools()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "echo", "panic", "read", "run", "spawn", "wait", "rich", "refuse"
        ]
    );
    let echo = &setup.plugin.tools()[0];
    assert_eq!(echo.description, "Echoes.");
    assert_eq!(echo.requires, ["image_input"]);
    assert_eq!(
        echo.input_schema,
        serde_json::json!({ "type": "object", "properties": {} })
    );
}

#[test]
fn calls_cross_the_abi_and_back() {
    let setup = Setup::new();
    let grant = setup.grant();
    let cwd = setup.cwd().display().to_string();
    let outside = setup.cwd().parent().unwrap().join("outside.txt");
    // (tool, text, the result as `show` prints it)
    let cases = [
        (
            "echo",
            "hello",
            format!(
                r#"ok: hello
{{"call_id":"c1","cwd":"{cwd}","mode":"read-only","session_id":"s1"}} ["[warn] echo hello", "[progress] done"]"#
            ),
        ),
        ("read", "notes.txt", "ok: some notes []".to_owned()),
        (
            "read",
            "missing.txt",
            "error: no such file".to_owned(),
        ),
        (
            "read",
            &outside.display().to_string(),
            format!(
                "error: denied: {} is outside the plugin's read grant",
                outside.display()
            ),
        ),
        ("rich", "", "ok (error): partly failed []".to_owned()),
        (
            "refuse",
            "",
            "error: invalid arguments: invalid arguments: missing field `number` at line 1 column 11"
                .to_owned(),
        ),
        (
            "nope",
            "",
            "error: invalid arguments: this plugin has no tool named `nope`".to_owned(),
        ),
        (
            "run",
            "echo hi",
            "error: denied: running commands is not in this plugin's grant \
             (its manifest does not ask for `exec = true`)"
                .to_owned(),
        ),
    ];
    for (tool, text, expected) in &cases {
        assert_eq!(
            show(setup.call(tool, text, &grant)),
            *expected,
            "{tool} {text}"
        );
    }
    // Progress is logged and also passed on as it comes.
    assert_eq!(*setup.progress.lock().unwrap(), ["done"]);
}

#[test]
fn images_and_changes_survive_the_json() {
    let setup = Setup::new();
    let output = setup.call("rich", "", &setup.grant()).unwrap();
    assert_eq!(
        output.content,
        [
            Content::Text("partly failed".to_owned()),
            Content::Image {
                mime_type: "image/png".to_owned(),
                data: vec![0, 1, 254, 255],
            },
        ]
    );
    assert_eq!(
        output.changes,
        [FileChange::Update {
            path: "a.txt".to_owned(),
            move_to: Some("b.txt".to_owned()),
            contents: "new".to_owned(),
        }]
    );
}

#[test]
fn a_panic_is_an_error_and_the_next_call_works() {
    let setup = Setup::new();
    let grant = setup.grant();
    for _ in 0..2 {
        assert_eq!(
            show(setup.call("panic", "boom", &grant)),
            "error: the plugin crashed: it panicked: boom"
        );
        assert_eq!(
            show(setup.call("echo", "after", &grant)).lines().next(),
            Some("ok: after")
        );
    }
}

#[test]
fn a_tool_that_waits_for_cancellation_times_out_at_the_deadline() {
    let setup = Setup::new();
    let mut grant = setup.grant();
    grant.timeout = Duration::from_millis(30);
    let started = Instant::now();
    assert_eq!(
        show(setup.call("wait", "", &grant)),
        "error: timed out after 30 ms"
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[test]
fn commands_run_through_the_sandbox_when_granted() {
    let setup = Setup::new();
    let mut grant = setup.grant();
    grant.exec = true;
    let run = |script: &str| {
        let output = setup
            .call_in(SandboxPolicy::DangerFullAccess, "run", script, &grant)
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&output.text()).unwrap()
    };
    let mut stdout = b"from stdin \xff\xfe\n".to_vec();
    stdout.extend(format!("{}\nset by the plugin\n", setup.cwd().display()).bytes());
    stdout.push(0x80);
    assert_eq!(
        run("cat; echo; pwd; echo \"$WHARF_TEST_VAR\"; printf '\\200'; echo oops >&2; exit 3"),
        serde_json::json!({
            "exit_code": 3,
            "stdout": stdout,
            "stderr": "oops\n",
            "timed_out": false,
        })
    );
    let slow = run("sleep 5");
    assert_eq!(slow["timed_out"], true, "{slow}");
    assert_eq!(slow["exit_code"], serde_json::Value::Null, "{slow}");

    // A missing program is a failure, not a denial.
    assert_eq!(
        show(setup.call_in(
            SandboxPolicy::DangerFullAccess,
            "spawn",
            "no-such-program-wharf",
            &grant
        )),
        "error: no-such-program-wharf: command not found"
    );
}

#[test]
fn exec_outside_a_call_is_denied() {
    let cx = wharf_plugin_api::Context::new("/");
    let request = ExecRequest::new(["true"]);
    assert_eq!(
        cx.exec(&request),
        Err(wharf_plugin_api::ToolError::Denied(
            "no host to run the command: exec works only inside a call, on the call's thread"
                .to_owned()
        ))
    );
}

unsafe extern "C" fn describe_nothing() -> Buf {
    Buf::from_vec(br#"{"tools":[]}"#.to_vec())
}

unsafe extern "C" fn describe_garbage() -> Buf {
    Buf::from_vec(b"not json".to_vec())
}

unsafe extern "C" fn describe_twice() -> Buf {
    let spec = r#"{"name":"x","description":"","input_schema":{}}"#;
    Buf::from_vec(format!(r#"{{"tools":[{spec},{spec}]}}"#).into_bytes())
}

unsafe extern "C" fn invoke_nothing(
    _: *const wharf_plugin_api::native::HostV1,
    _: *const u8,
    _: usize,
) -> Buf {
    Buf::from_vec(Vec::new())
}

unsafe extern "C" fn end_nothing(_: *const u8, _: usize) {}

unsafe extern "C" fn free_vec(buf: Buf) {
    // SAFETY: the Bufs of these tables are made by `Buf::from_vec` here.
    unsafe { buf.free() }
}

const fn table(abi_version: u32, describe: unsafe extern "C" fn() -> Buf) -> PluginV1 {
    PluginV1 {
        abi_version,
        describe,
        invoke: invoke_nothing,
        end_session: end_nothing,
        free: free_vec,
    }
}

static FUTURE: PluginV1 = table(2, describe_nothing);
static GARBAGE: PluginV1 = table(1, describe_garbage);
static TWICE: PluginV1 = table(1, describe_twice);
static EMPTY: PluginV1 = table(1, describe_nothing);

#[test]
fn tables_that_cannot_be_used_are_refused_with_the_reason() {
    let cases: [(&'static PluginV1, &str); 4] = [
        (
            &FUTURE,
            "builtin plugin `p`: implements native plugin ABI version 2, but this wharf supports \
             version 1 (rebuild the plugin against a matching wharf-plugin-api)",
        ),
        (
            &GARBAGE,
            "builtin plugin `p`: `describe` failed: its answer is not the JSON of ABI 1: \
             expected value at line 1 column 1",
        ),
        (
            &TWICE,
            "builtin plugin `p`: `describe` failed: it lists the tool `x` twice",
        ),
        (
            broken::wharf_native_plugin(),
            "builtin plugin `p`: `describe` failed: the plugin panicked: no spec today",
        ),
    ];
    for (table, expected) in cases {
        let err = NativePlugin::builtin("p", table).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    // An empty plugin is odd but valid; a call answering with nothing is a
    // crash, not a host failure.
    let plugin = NativePlugin::builtin("p", &EMPTY).unwrap();
    let setup = Setup {
        plugin,
        ..Setup::new()
    };
    let err = setup.call("x", "", &setup.grant()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the plugin crashed: its answer is not the JSON of ABI 1: EOF while parsing a value at line 1 column 0"
    );
}

#[test]
fn files_that_are_not_plugins_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("libnot.so");
    std::fs::write(&text, "not a library").unwrap();
    let err = NativePlugin::load("p", &text).unwrap_err().to_string();
    let prefix = format!("{}: cannot load it as a shared library: ", text.display());
    assert!(err.starts_with(&prefix), "{err}");

    let missing = dir.path().join("libmissing.so");
    let err = NativePlugin::load("p", &missing).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: cannot load", missing.display())),
        "{err}"
    );

    // A real library that is not a plugin: the C library every test
    // process has loaded.
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let err = NativePlugin::load("p", Path::new("libc.so.6")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "libc.so.6: not a wharf native plugin: it exports no `wharf_plugin_v1` symbol \
             (list the tools with `wharf_plugin_api::native_plugin!` and build a cdylib)"
        );
    }
}
