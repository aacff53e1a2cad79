//! The compile cache uses an entry only when wharf wrote it for exactly
//! that artifact: tampered, swapped, truncated or planted files are
//! compiled again instead of being deserialized.

use std::fs;

use wasmtime::{Config, Engine};

use super::*;

/// A component holding one core module whose only function returns
/// `value`: two values make two artifacts whose compiled code differs.
fn component(value: u8) -> Vec<u8> {
    assert!(value < 64, "one byte of signed LEB128");
    let module = [
        &b"\0asm\x01\0\0\0"[..],
        &[1, 5, 1, 0x60, 0, 1, 0x7f],         // type: () -> i32
        &[3, 2, 1, 0],                        // one function of that type
        &[10, 6, 1, 4, 0, 0x41, value, 0x0b], // i32.const value; end
    ]
    .concat();
    let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
    bytes.push(1); // a core module section
    bytes.push(u8::try_from(module.len()).unwrap());
    bytes.extend_from_slice(&module);
    bytes
}

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
    cache: CompileCache,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).unwrap();
        let cache = CompileCache::new(dir.path().join("wasm"), &engine);
        Fixture {
            _dir: dir,
            engine,
            cache,
        }
    }

    /// Loads `bytes` through the cache: whether it came from there.
    fn load(&self, bytes: &[u8]) -> bool {
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        self.cache
            .get_or_compile(&self.engine, &sha256, bytes)
            .unwrap()
            .1
    }

    fn entry(&self, bytes: &[u8]) -> PathBuf {
        self.cache.entry(&Sha256::digest(bytes).into())
    }
}

#[test]
fn a_stored_entry_is_used_on_the_next_load() {
    let fx = Fixture::new();
    let a = component(1);
    assert!(!fx.load(&a), "the first load compiles");
    assert!(fx.load(&a), "the second load comes from the cache");
    let key = fs::metadata(fx.cache.dir.join(KEY_FILE)).unwrap();
    assert_eq!(key.mode() & 0o777, 0o600);
}

#[test]
fn entries_wharf_did_not_write_are_compiled_again() {
    type Tamper = fn(&Fixture, &[u8], &[u8]);
    let cases: &[(&str, Tamper)] = &[
        (
            "another artifact's valid entry copied over this name",
            |fx, a, b| {
                fs::copy(fx.entry(b), fx.entry(a)).unwrap();
            },
        ),
        ("one byte of the compiled code changed", |fx, a, _| {
            let mut bytes = fs::read(fx.entry(a)).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            fs::write(fx.entry(a), bytes).unwrap();
        }),
        ("the tag line rewritten for other bytes", |fx, a, b| {
            let other = fs::read(fx.entry(b)).unwrap();
            let mine = fs::read(fx.entry(a)).unwrap();
            let mut forged = mine[..=TAG_LEN].to_vec();
            forged.extend_from_slice(&other[TAG_LEN + 1..]);
            fs::write(fx.entry(a), forged).unwrap();
        }),
        ("a bare serialized component without a tag", |fx, a, b| {
            let other = fs::read(fx.entry(b)).unwrap();
            fs::write(fx.entry(a), &other[TAG_LEN + 1..]).unwrap();
        }),
        ("truncated", |fx, a, _| {
            let bytes = fs::read(fx.entry(a)).unwrap();
            fs::write(fx.entry(a), &bytes[..TAG_LEN / 2]).unwrap();
        }),
        ("a symlink to a valid entry", |fx, a, b| {
            fs::remove_file(fx.entry(a)).unwrap();
            std::os::unix::fs::symlink(fx.entry(b), fx.entry(a)).unwrap();
        }),
        ("a new key planted beside the entries", |fx, a, _| {
            let key = fx.cache.dir.join(KEY_FILE);
            fs::remove_file(&key).unwrap();
            fs::write(&key, [7u8; KEY_LEN]).unwrap();
            fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
            let _ = a;
        }),
    ];
    for (what, tamper) in cases {
        let fx = Fixture::new();
        let (a, b) = (component(1), component(2));
        fx.load(&a);
        fx.load(&b);
        tamper(&fx, &a, &b);
        // A fresh cache (the next start) reads the key again.
        let next = Fixture {
            _dir: tempfile::tempdir().unwrap(),
            engine: fx.engine.clone(),
            cache: CompileCache::new(fx.cache.dir.clone(), &fx.engine),
        };
        assert!(!next.load(&a), "{what}: the entry was used");
    }
}

#[test]
fn a_forged_tool_list_is_not_believed() {
    let fx = Fixture::new();
    let a = component(1);
    let sha256: [u8; 32] = Sha256::digest(&a).into();
    fx.load(&a);
    fx.cache.remember(&sha256, "0.1.0", &[]);
    assert!(fx.cache.known(&sha256).is_some());
    let path = fx.cache.known_entry(&sha256);
    let mut text = fs::read(&path).unwrap();
    text.extend_from_slice(b" ");
    fs::write(&path, &text).unwrap();
    assert!(fx.cache.known(&sha256).is_none());
    fs::write(&path, br#"{"api_version":"0.1.0","tools":[]}"#).unwrap();
    assert!(fx.cache.known(&sha256).is_none());
}

/// A start that did not read an artifact (its digest remembered) reads it
/// on the first call only when the compiled entry cannot be used, and then
/// compiles it only if it still has the digest its pins were checked
/// against: a changed artifact is refused, not compiled.
#[test]
fn an_artifact_read_at_its_first_call_must_still_have_the_checked_digest() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = super::super::WasmRuntime::new(Some(dir.path().join("cache"))).unwrap();
    let cache = runtime.cache.as_ref().unwrap();
    let artifact = dir.path().join("plugin.wasm");
    let checked = component(1);
    let sha256: [u8; 32] = Sha256::digest(&checked).into();
    // What a first load recorded; the compiled entry since replaced.
    cache.remember(&sha256, "0.1.0", &[]);
    fs::create_dir_all(&cache.dir).unwrap();
    fs::write(cache.entry(&sha256), b"not compiled code").unwrap();

    fs::write(&artifact, component(2)).unwrap();
    let plugin = runtime.load_unread("p", &artifact, sha256).unwrap();
    let err = plugin.prepare_now().err().unwrap();
    assert!(matches!(err, WasmError::ArtifactChanged { .. }), "{err}");

    // The artifact as checked: compiled (this test component exports no
    // `wharf:plugin/tool`, which is what stops it next).
    fs::write(&artifact, &checked).unwrap();
    let err = plugin.prepare_now().err().unwrap();
    assert!(matches!(err, WasmError::NotAPlugin), "{err}");
}
