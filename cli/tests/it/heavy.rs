//! Heavy components (tests/guests/heavy: 16 MiB of initialized memory, as
//! an interpreter's snapshot) and what a start loads: a listing loads no
//! component, a plugin whose feature is off is not even read, and a fresh
//! instance per call carries nothing from one call to the next.

use std::sync::Arc;

use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};
use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::registry::{Discovery, EmbeddedPlugin, Plugins};
use wharf_runtime::wasm::WasmRuntime;
use wharf_sandbox::SandboxMode;

use super::*;

const HEAVY_MANIFEST: &str = include_str!("../../../tests/guests/heavy/plugin.toml");
const HEAVY_ARTIFACT: &str = "wharf_test_guest_heavy.wasm";

fn heavy_wasm() -> Vec<u8> {
    std::fs::read(env!("WHARF_TEST_HEAVY_WASM")).unwrap()
}

/// What every call of `heavy_pages` must find: none of its pages changed.
const PRISTINE: &str = "0 of 4096 pages changed";

/// The heavy plugin built into a session of this process, with a compile
/// cache in `root`: calls go through the pipeline as the binary's do.
fn heavy_session(root: &Path) -> (Arc<Plugins>, Arc<Session>) {
    let embedded = [EmbeddedPlugin::wasm(
        HEAVY_MANIFEST,
        include_bytes!(env!("WHARF_TEST_HEAVY_WASM")),
    )];
    let mut registry = FeatureRegistry::from_toml(include_str!("../../features.toml")).unwrap();
    let mut discovery = Discovery::find(&embedded, &root.join("no-plugins"));
    discovery.register_features(&mut registry);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let options = ConfigOptions {
        wharf_home: root.join("home"),
        cwd: work,
        sandbox_mode: Some(SandboxMode::ReadOnly),
        enable: vec!["heavy".to_owned()],
        ..ConfigOptions::default()
    };
    let config = Config::load(&options, &registry).unwrap();
    let runtime = WasmRuntime::new(Some(root.join("cache"))).unwrap();
    let plugins = discovery.load(&runtime, &config.features).unwrap();
    assert!(plugins.skipped.is_empty(), "{:?}", plugins.skipped);
    let session = Session::new("heavy", &config, None, None, Box::new(|_| None));
    (Arc::new(plugins), Arc::new(session))
}

/// `heavy_pages{check, mark}`: how many pages an earlier call left
/// changed, then every page changed.
fn check_and_mark(plugins: &Plugins, session: &Session) -> String {
    let call = ToolCall {
        call_id: "h".into(),
        tool: "heavy_pages".to_owned(),
        args: r#"{"check":true,"mark":true}"#.to_owned(),
    };
    let output = pipeline::call(plugins, session, &call).result.unwrap();
    assert!(!output.is_error, "{}", output.text());
    output.text()
}

/// A fresh instance per call stays the rule with copy-on-write memory
/// images and reused memory slots: a call that wrote every page of the
/// 16 MiB image leaves nothing for the next call to see, on one thread or
/// two at once (each slot reset to the image, not to what the last call
/// left).
#[test]
fn a_heavy_component_starts_every_call_from_its_image() {
    let root = tempfile::tempdir().unwrap();
    // Twice: the first session compiles the component, the second
    // deserializes it from the cache (the image then comes from there).
    for round in ["compiled", "from the cache"] {
        let (plugins, session) = heavy_session(root.path());
        for call in 0..3 {
            assert_eq!(
                check_and_mark(&plugins, &session),
                PRISTINE,
                "{round}, call {call}"
            );
        }
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        (0..3)
                            .map(|_| check_and_mark(&plugins, &session))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for thread in threads {
                assert_eq!(thread.join().unwrap(), [PRISTINE; 3], "{round}");
            }
        });
    }
}

/// A directory holding the heavy plugin's manifest and artifact, for
/// `wharf plugin add`.
fn heavy_source() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), HEAVY_MANIFEST).unwrap();
    std::fs::write(dir.path().join(HEAVY_ARTIFACT), heavy_wasm()).unwrap();
    dir
}

/// The compile cache's entry of the heavy plugin.
fn heavy_cache_entry(env: &Env) -> PathBuf {
    use sha2::Digest as _;
    let prefix = format!("{:x}-", sha2::Sha256::digest(heavy_wasm()));
    let dir = env.wharf_home().join("cache/wasm");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".cwasm")
        })
        .unwrap_or_else(|| panic!("no cache entry for {prefix} in {}", dir.display()))
}

/// `wharf tool list`'s row of `heavy_pages`, split in words.
fn heavy_row(stdout: &str) -> String {
    stdout
        .lines()
        .find(|line| line.starts_with("heavy_pages "))
        .unwrap_or_else(|| panic!("no heavy_pages row in:\n{stdout}"))
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Listings build the tools from what the first load recorded: with the
/// compiled entry replaced by junk, `tool list`, `plugin list` and
/// `features list` still show the plugin's tool and leave the junk as it
/// is — deserializing it would have failed its check and rewritten it. The
/// first call is what loads the component (and so rewrites the entry).
#[test]
fn listings_load_no_component_and_the_first_call_does() {
    let env = Env::new();
    let source = heavy_source();
    env.wharf(&["plugin", "add", &display(source.path())])
        .success();
    let entry = heavy_cache_entry(&env);
    let junk = b"not a compiled component".to_vec();
    std::fs::write(&entry, &junk).unwrap();

    let out = env.wharf(&["--enable", "heavy", "tool", "list"]).success();
    assert_eq!(
        heavy_row(&out.stdout),
        "heavy_pages heavy on",
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    env.wharf(&["--enable", "heavy", "plugin", "list"])
        .success();
    env.wharf(&["--enable", "heavy", "features", "list"])
        .success();
    assert_eq!(std::fs::read(&entry).unwrap(), junk, "a listing loaded it");

    let args = [
        "--enable",
        "heavy",
        "tool",
        "call",
        "heavy_pages",
        "--args",
        "{}",
    ];
    let out = env.wharf(&args).success();
    assert_eq!(out.stdout, format!("{PRISTINE}\n"));
    assert_ne!(
        std::fs::read(&entry).unwrap(),
        junk,
        "the call did not load it"
    );
}

/// A plugin whose feature is off is not read at all: with its artifact
/// gone, listings still show its tool (off) without a warning; on, the
/// same start reads it, and says why it cannot.
#[test]
fn a_plugin_whose_feature_is_off_is_not_read() {
    let env = Env::new();
    let source = heavy_source();
    env.wharf(&["plugin", "add", &display(source.path())])
        .success();
    let artifact = env.wharf_home().join("plugins/heavy").join(HEAVY_ARTIFACT);
    std::fs::remove_file(&artifact).unwrap();

    let out = env.wharf(&["tool", "list"]).success();
    assert_eq!(
        heavy_row(&out.stdout),
        "heavy_pages heavy off",
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    let out = env.wharf(&["plugin", "list"]).success();
    assert_eq!(out.stderr, "");

    let out = env.wharf(&["--enable", "heavy", "tool", "list"]).success();
    assert!(
        out.stderr.starts_with("warning: plugin `heavy` skipped: "),
        "{}",
        out.stderr
    );
}

/// A start remembers the digest of an unchanged artifact so as not to read
/// it again; a swap must still be refused at the next start: the same size,
/// its modification time put back, nothing else changed but the bytes.
#[test]
fn a_swapped_artifact_is_refused_though_its_digest_was_remembered() {
    let env = Env::new();
    let source = tempfile::tempdir().unwrap();
    let manifest = include_str!("../../../tests/guests/echo/plugin.toml");
    std::fs::write(source.path().join("plugin.toml"), manifest).unwrap();
    let wasm = std::fs::read(env!("WHARF_TEST_ECHO_WASM")).unwrap();
    std::fs::write(source.path().join("wharf_test_guest_echo.wasm"), &wasm).unwrap();
    env.wharf(&["plugin", "add", &display(source.path())])
        .success();
    let artifact = env
        .wharf_home()
        .join("plugins/echo/wharf_test_guest_echo.wasm");
    // Last modified a day ago: settled, so a start remembers its digest.
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    let set_past = || {
        std::fs::File::options()
            .write(true)
            .open(&artifact)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_modified(past))
            .unwrap();
    };
    set_past();
    let args = [
        "--enable",
        "echo",
        "tool",
        "call",
        "echo_text",
        "--args",
        r#"{"text":"hi"}"#,
    ];
    assert_eq!(env.wharf(&args).success().stdout, "hi\n");
    let remembered = std::fs::read_dir(env.wharf_home().join("cache/wasm"))
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".digest")
        })
        .count();
    assert_eq!(remembered, 1, "the start remembered no digest");
    assert_eq!(env.wharf(&args).success().stdout, "hi\n");

    let mut swapped = wasm.clone();
    *swapped.last_mut().unwrap() ^= 1;
    std::fs::write(&artifact, &swapped).unwrap();
    set_past();
    let out = env.wharf(&["--enable", "echo", "tool", "list"]).success();
    assert!(
        out.stderr
            .contains("warning: plugin `echo` skipped: sha256 mismatch: plugins.lock pins "),
        "{}",
        out.stderr
    );
    let out = env.wharf(&args).fails_with(2);
    assert!(out.stderr.contains("sha256 mismatch"), "{}", out.stderr);
}
