//! Heavy components (`WHARF_BENCH=heavy`): a plugin of tens of MiB — an
//! interpreter's snapshot — must not slow the commands that do not call
//! it, nor cost per call what its size would suggest.
//!
//! - through the pipeline, a fresh instance per call: the warm call of the
//!   16 MiB test guest (tests/guests/heavy) and of the Python and JS
//!   examples (when `cargo xtask language-examples` built them into
//!   `target/language-examples/`), their first call in a new process (the
//!   compiled code deserialized from the cache), beside echo_text;
//! - whole processes: `wharf tool call echo_text` with the heavy plugins
//!   installed (off, then on) against the same with none installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};
use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::registry::{Discovery, EmbeddedPlugin, Plugins};
use wharf_runtime::wasm::WasmRuntime;
use wharf_sandbox::SandboxMode;

use super::{ECHO_MANIFEST, ECHO_WASM, percentile};

const HEAVY_MANIFEST: &str = include_str!("../../../tests/guests/heavy/plugin.toml");
const HEAVY_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_HEAVY_WASM"));

/// The issue's targets: a warm call of a heavy plugin, and the cost of
/// having heavy plugins installed for a command that does not call them.
const WARM_CALL_TARGET: Duration = Duration::from_millis(10);
const INSTALLED_TARGET_PERCENT: f64 = 10.0;

/// A heavy plugin to measure: its directory as `wharf plugin add` takes
/// it, its feature, and a call of its tool.
struct Subject {
    label: &'static str,
    dir: PathBuf,
    feature: &'static str,
    tool: &'static str,
    args: &'static str,
}

pub(crate) fn heavy(root: &Path) {
    let root = root.join("heavy");
    let subjects = subjects(&root);
    for subject in &subjects {
        warm_calls(&root, subject);
    }
    installed_beside(&root, &subjects);
}

/// The 16 MiB guest, then the language examples that were built.
fn subjects(root: &Path) -> Vec<Subject> {
    let guest = root.join("sources/heavy");
    std::fs::create_dir_all(&guest).unwrap();
    std::fs::write(guest.join("plugin.toml"), HEAVY_MANIFEST).unwrap();
    std::fs::write(guest.join("wharf_test_guest_heavy.wasm"), HEAVY_WASM).unwrap();
    let mut subjects = vec![Subject {
        label: "16 MiB test guest",
        dir: guest,
        feature: "heavy",
        tool: "heavy_pages",
        args: "{}",
    }];
    let built = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
            PathBuf::from,
        )
        .join("language-examples");
    for (label, dir, feature, tool) in [
        (
            "Python example (componentize-py)",
            "python-word-count",
            "python_word_count",
            "py_word_count",
        ),
        (
            "JS example (componentize-js)",
            "js-word-count",
            "js_word_count",
            "js_word_count",
        ),
    ] {
        let dir = built.join(dir);
        if dir.join("word_count.wasm").is_file() {
            subjects.push(Subject {
                label,
                dir,
                feature,
                tool,
                args: r#"{"path":"words.txt"}"#,
            });
        } else {
            println!(
                "heavy: {label} not built ({} missing; `cargo xtask language-examples`)",
                dir.display()
            );
        }
    }
    subjects
}

/// A session of this process with `subject` and echo built in, compiled
/// code cached in `cache`.
fn start_session(root: &Path, subject: &Subject, cache: &Path) -> (Arc<Plugins>, Arc<Session>) {
    let manifest = std::fs::read_to_string(subject.dir.join("plugin.toml")).unwrap();
    let artifact: toml::Table = toml::from_str(&manifest).unwrap();
    let artifact = artifact["artifact"].as_str().unwrap().to_owned();
    let wasm = std::fs::read(subject.dir.join(artifact)).unwrap();
    // Built in for the bench's session; leaked, as a binary's own bytes.
    let embedded = [
        EmbeddedPlugin::wasm(Box::leak(manifest.into_boxed_str()), wasm.leak()),
        EmbeddedPlugin::wasm(ECHO_MANIFEST, ECHO_WASM),
    ];
    let mut registry = FeatureRegistry::from_toml(include_str!("../../features.toml")).unwrap();
    let mut discovery = Discovery::find(&embedded, &root.join("no-plugins"));
    discovery.register_features(&mut registry);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("words.txt"), "one two three\nfour five\n").unwrap();
    let options = ConfigOptions {
        wharf_home: root.join("home"),
        cwd: work,
        sandbox_mode: Some(SandboxMode::ReadOnly),
        enable: vec![subject.feature.to_owned(), "echo".to_owned()],
        ..ConfigOptions::default()
    };
    let config = Config::load(&options, &registry).unwrap();
    let runtime = WasmRuntime::new(Some(cache.to_path_buf())).unwrap();
    let plugins = discovery.load(&runtime, &config.features).unwrap();
    assert!(plugins.skipped.is_empty(), "{:?}", plugins.skipped);
    let session = Session::new("heavy", &config, None, None, Box::new(|_| None));
    (Arc::new(plugins), Arc::new(session))
}

fn timed_call(plugins: &Plugins, session: &Session, tool: &str, args: &str) -> Duration {
    let call = ToolCall {
        call_id: "h".into(),
        tool: tool.to_owned(),
        args: args.to_owned(),
    };
    let started = Instant::now();
    let outcome = pipeline::call(plugins, session, &call);
    let elapsed = started.elapsed();
    let output = outcome.result.unwrap();
    assert!(!output.is_error, "{tool}: {}", output.text());
    elapsed
}

fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    percentile(&samples, 0.5)
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// The first call after a cold start (compiling), the first in a new
/// session with the code cached (deserializing), then warm calls.
fn warm_calls(root: &Path, subject: &Subject) {
    let cache = root.join(format!("cache-{}", subject.feature));
    let started = Instant::now();
    let (plugins, session) = start_session(root, subject, &cache);
    let cold_load = started.elapsed();
    drop((plugins, session));

    let started = Instant::now();
    let (plugins, session) = start_session(root, subject, &cache);
    let warm_load = started.elapsed();
    let first = timed_call(&plugins, &session, subject.tool, subject.args);
    for _ in 0..20 {
        timed_call(&plugins, &session, subject.tool, subject.args);
    }
    let calls = 300;
    let heavy: Vec<Duration> = (0..calls)
        .map(|_| timed_call(&plugins, &session, subject.tool, subject.args))
        .collect();
    let echo_args = r#"{"text":"hello"}"#;
    let echo: Vec<Duration> = (0..calls)
        .map(|_| timed_call(&plugins, &session, "echo_text", echo_args))
        .collect();
    let (heavy, echo) = (p50(heavy), p50(echo));
    println!(
        "heavy: {}, {} KiB: warm call through the pipeline p50 {} (target ≤ {}), {:.1}× echo_text's \
         {}; first call in a new session {} (the session's start {}, hashing the bytes built in, \
         as an installed plugin's are not; the first session, compiling: {})",
        subject.label,
        artifact_size(&subject.dir) >> 10,
        ms(heavy),
        ms(WARM_CALL_TARGET),
        heavy.as_secs_f64() / echo.as_secs_f64(),
        ms(echo),
        ms(first),
        ms(warm_load),
        ms(cold_load),
    );
    if subject.feature == "heavy" {
        // The guest writes a byte in each of its 4 096 pages: the call's
        // own page faults, and a reset of what it dirtied.
        let args = r#"{"check":true,"mark":true}"#;
        let marking: Vec<Duration> = (0..50)
            .map(|_| timed_call(&plugins, &session, subject.tool, args))
            .collect();
        println!(
            "  the same guest writing all 16 MiB (4 096 pages) per call: p50 {}",
            ms(p50(marking))
        );
    }
}

fn artifact_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .filter(|metadata| metadata.is_file())
        .map(|metadata| metadata.len())
        .max()
        .unwrap_or(0)
}

/// `wharf tool call echo_text` as a whole process in a home with nothing
/// else installed, and in one with the heavy plugins installed, their
/// features off and then on: the three in turns, so that the machine's
/// load weighs on each alike.
fn installed_beside(root: &Path, subjects: &[Subject]) {
    let wharf = PathBuf::from(env!("CARGO_BIN_EXE_wharf"));
    let alone = root.join("home-alone");
    let beside = root.join("home-beside");
    let work = root.join("process-work");
    std::fs::create_dir_all(&work).unwrap();
    let echo = root.join("sources/echo");
    std::fs::create_dir_all(&echo).unwrap();
    std::fs::write(echo.join("plugin.toml"), ECHO_MANIFEST).unwrap();
    std::fs::write(echo.join("wharf_test_guest_echo.wasm"), ECHO_WASM).unwrap();
    let wharf_run = |home: &Path, args: &[&str]| {
        let started = Instant::now();
        let output = Command::new(&wharf)
            .args(args)
            .env_clear()
            .env("WHARF_HOME", home)
            .env("HOME", root)
            .current_dir(&work)
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        elapsed
    };
    for home in [&alone, &beside] {
        wharf_run(home, &["plugin", "add", echo.to_str().unwrap()]);
    }
    for subject in subjects {
        wharf_run(&beside, &["plugin", "add", subject.dir.to_str().unwrap()]);
    }
    // Installed a while ago, as a user's plugins are: a start then knows
    // their digests without reading them (see wasm/cache/digests.rs).
    let past = SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(beside.join("plugins")).unwrap() {
        for file in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            std::fs::File::options()
                .write(true)
                .open(file.unwrap().path())
                .unwrap()
                .set_times(std::fs::FileTimes::new().set_modified(past))
                .unwrap();
        }
    }
    let args = |switch: &'static str| {
        let mut args: Vec<&str> = vec!["--enable", "echo"];
        for subject in subjects.iter().filter(|_| !switch.is_empty()) {
            args.extend([switch, subject.feature]);
        }
        args.extend(["tool", "call", "echo_text", "--args", r#"{"text":"hi"}"#]);
        args
    };
    let runs = [
        (&alone, args("")),
        (&beside, args("--disable")),
        (&beside, args("--enable")),
    ];
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for round in 0..22 {
        for ((home, args), samples) in runs.iter().zip(&mut samples) {
            let elapsed = wharf_run(home, args);
            // The first round warms the caches.
            if round > 0 {
                samples.push(elapsed);
            }
        }
    }
    let [absent, off, on] = samples.map(p50);
    let names: Vec<&str> = subjects.iter().map(|s| s.label).collect();
    let percent = |with: Duration| (with.as_secs_f64() / absent.as_secs_f64() - 1.0) * 100.0;
    println!(
        "wharf tool call echo_text, whole process: p50 {} alone; with {} installed: off {} \
         ({:+.0} %), on {} ({:+.0} %) (target within {INSTALLED_TARGET_PERCENT} %)",
        ms(absent),
        names.join(", "),
        ms(off),
        percent(off),
        ms(on),
        percent(on),
    );
}
