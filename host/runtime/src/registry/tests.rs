//! Discovery under requirements: which candidates stay, which are skipped
//! as blocked, and that the plugins built into the binary are not subject.

use std::path::Path;

use wharf_config::requirements::{Origin as RequirementsOrigin, Requirements};

use super::lock::{LOCK_FILE, Locked, PluginLock};
use super::*;
use crate::plugin::manifest::{PluginKind, Sha256};

/// Writes an installed plugin `name` of `kind` whose artifact is `bytes`.
fn install(plugins: &Path, name: &str, kind: &str, bytes: &[u8]) {
    let dir = plugins.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let api = if kind == "native" { "1" } else { "0.1.0" };
    let manifest = format!(
        "name = \"{name}\"\nversion = \"1\"\napi = \"{api}\"\nkind = \"{kind}\"\n\
         artifact = \"{name}.bin\"\n"
    );
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.join(format!("{name}.bin")), bytes).unwrap();
}

#[test]
fn requirements_block_installed_plugins_only() {
    let home = tempfile::tempdir().unwrap();
    let plugins = home.path().join("plugins");
    // (name, kind, the artifact plugins.lock records if any); each
    // artifact's bytes are its plugin's name.
    let installed = [
        ("listed", "wasm", Some("listed")),
        ("unlisted", "wasm", Some("unlisted")),
        ("native", "native", Some("native")),
        ("relocked", "wasm", Some("swapped")),
        ("by-hand", "wasm", None),
    ];
    let mut lock = PluginLock::default();
    for (name, kind, locked) in installed {
        install(&plugins, name, kind, name.as_bytes());
        if let Some(locked) = locked {
            let kind = if kind == "native" {
                PluginKind::Native
            } else {
                PluginKind::Wasm
            };
            let tools = vec![format!("{name}_tool")];
            let entry = Locked {
                kind,
                sha256: Sha256::of(locked.as_bytes()),
                tools,
            };
            lock.insert(&name.parse().unwrap(), entry);
        }
    }
    lock.write(&home.path().join(LOCK_FILE)).unwrap();
    let mut text = "allow_native_plugins = false\n[plugins]\n".to_owned();
    for name in ["listed", "native", "relocked", "by-hand"] {
        let sha = Sha256::of(name.as_bytes());
        text.push_str(&format!("{name}.sha256 = \"{sha}\"\n"));
    }
    let path = Path::new("/r.toml");
    let requirements =
        Requirements::parse(path, &text, RequirementsOrigin::File(path.to_path_buf())).unwrap();
    let embedded = [EmbeddedPlugin::wasm(
        "name = \"first\"\nversion = \"1\"\napi = \"0.1.0\"\nkind = \"wasm\"\n\
         artifact = \"first.wasm\"\n",
        b"not checked",
    )];

    let mut discovery = Discovery::find(&embedded, &plugins);
    discovery.require(&requirements);

    let kept: Vec<&str> = discovery
        .candidates
        .iter()
        .map(|candidate| candidate.manifest.name.as_str())
        .collect();
    // The hand-copied one is checked when its artifact is read.
    assert_eq!(kept, ["first", "by-hand", "listed"]);
    let skipped: Vec<(&str, bool, &str, &[String])> = discovery
        .skipped
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.blocked,
                s.reason.as_str(),
                s.tools.as_slice(),
            )
        })
        .collect();
    let swapped = Sha256::of(b"swapped");
    let pinned = Sha256::of(b"relocked");
    assert_eq!(
        skipped,
        [
            (
                "native",
                true,
                "blocked by requirements (/r.toml: allow_native_plugins = false): `native` is a \
                 native plugin, and no installed native plugin may load",
                &["native_tool".to_owned()][..]
            ),
            (
                "relocked",
                true,
                &*format!(
                    "blocked by requirements (/r.toml: plugins.relocked.sha256): the artifact is \
                     {swapped}, not the pinned {pinned}"
                ),
                &["relocked_tool".to_owned()][..]
            ),
            (
                "unlisted",
                true,
                "blocked by requirements (/r.toml: [plugins]): `unlisted` is not allowed (only \
                 the plugins listed there may load; ask your administrator to add it)",
                &["unlisted_tool".to_owned()][..]
            ),
        ]
    );
    assert!(
        discovery
            .check_requirements("listed", PluginKind::Wasm, &Sha256::of(b"listed"))
            .is_ok()
    );
    assert!(
        discovery
            .check_requirements("listed", PluginKind::Wasm, &Sha256::of(b"other"))
            .is_err()
    );
}
