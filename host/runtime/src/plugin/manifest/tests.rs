use std::path::{Path, PathBuf};

use super::*;

const PATH: &str = "/plugins/grep/plugin.toml";

/// The required keys, one per line (lines 1 to 5).
const BASE: &[(&str, &str)] = &[
    ("name", r#""grep""#),
    ("version", r#""0.1.0""#),
    ("api", r#""0.1.0""#),
    ("kind", r#""wasm""#),
    ("artifact", r#""grep.wasm""#),
];

/// [`BASE`] changed by `changes`, one per line: `key = value` replaces that
/// key's line in place when it is a base key and is appended otherwise;
/// `-key` drops a base key.
fn manifest_text(changes: &str) -> String {
    let mut lines: Vec<(String, String)> = BASE
        .iter()
        .map(|(key, value)| ((*key).to_owned(), format!("{key} = {value}")))
        .collect();
    for change in changes.lines() {
        if let Some(key) = change.strip_prefix('-') {
            lines.retain(|(base, _)| base != key);
            continue;
        }
        let key = change.split('=').next().unwrap_or("").trim();
        match lines.iter_mut().find(|(base, _)| base == key) {
            Some(line) => line.1 = change.to_owned(),
            None => lines.push((String::new(), change.to_owned())),
        }
    }
    let mut text: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
    text.push(String::new());
    text.join("\n")
}

fn parse(changes: &str) -> Result<(Manifest, Vec<String>), ManifestError> {
    Manifest::parse(Path::new(PATH), &manifest_text(changes))
}

#[test]
fn invalid_manifests_name_file_line_column_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            r#"kind = "elf""#,
            "4:8: kind: unknown variant `elf`, expected `wasm` or `native`",
        ),
        (
            r#"kind = "mcp""#,
            "4:8: kind: unknown variant `mcp`, expected `wasm` or `native`",
        ),
        (
            r#"name = "Grep!""#,
            "1:8: name: `Grep!` is not a valid plugin name (use a-z, 0-9, `_` and `-`)",
        ),
        (r#"name = """#, "1:8: name: a plugin name must not be empty"),
        (
            &format!("name = \"{}\"", "a".repeat(65)),
            &format!(
                "1:8: name: `{}` is too long for a plugin name (at most 64 characters)",
                "a".repeat(65)
            ),
        ),
        (
            r#"artifact = "../grep.wasm""#,
            "5:12: artifact: `../grep.wasm` must stay inside the plugin directory (write a path relative to plugin.toml, without `..` leaving it)",
        ),
        (
            r#"artifact = "lib/../../grep.wasm""#,
            "5:12: artifact: `lib/../../grep.wasm` must stay inside the plugin directory (write a path relative to plugin.toml, without `..` leaving it)",
        ),
        (
            r#"artifact = "/usr/lib/grep.wasm""#,
            "5:12: artifact: `/usr/lib/grep.wasm` must stay inside the plugin directory (write a path relative to plugin.toml, without `..` leaving it)",
        ),
        (
            r#"artifact = "lib/..""#,
            "5:12: artifact: must name the artifact file, relative to plugin.toml",
        ),
        (r#"version = " ""#, "2:11: version: must not be empty"),
        ("-api", "1:1: missing key `api`"),
        ("-name\n-kind", "1:1: missing keys `name`, `kind`"),
        (
            r#"sha256 = "abc""#,
            "6:10: sha256: `abc` is not a sha256 digest (expected 64 lowercase hex digits)",
        ),
        (
            &format!("sha256 = \"{}\"", "AB".repeat(32)),
            &format!(
                "6:10: sha256: `{}` is not a sha256 digest (expected 64 lowercase hex digits)",
                "AB".repeat(32)
            ),
        ),
        (
            "required = \"yes\"",
            "6:12: required: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "[feature]\nstage = \"beta\"",
            "7:9: feature.stage: unknown variant `beta`, expected one of `under_development`, `experimental`, `stable`, `deprecated`, `removed`",
        ),
        (
            "[feature]\nkey = \"my key\"",
            "7:7: feature.key: `my key` is not a valid key (use letters, digits, `_` and `-`)",
        ),
        (
            "[capabilities]\nfs.read = [\"workspace\", \"src\"]",
            "7:25: capabilities.fs.read.1: `src` is not a path request (use `workspace`, `cwd`, an absolute path or `~/...`)",
        ),
        (
            "[capabilities]\nfs.write = [\"~user/x\"]",
            "7:13: capabilities.fs.write.0: `~user/x` is not a path request (use `workspace`, `cwd`, an absolute path or `~/...`)",
        ),
        (
            "[capabilities]\nnetwork = [\"example.com\"]",
            "7:12: capabilities.network.0: `example.com` is not a network entry: the port is missing (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "[capabilities]\nnetwork = [\"example.com:0\"]",
            "7:12: capabilities.network.0: `example.com:0` is not a network entry: the port must be a number from 1 to 65535 (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "[capabilities]\nnetwork = [\"example.com:65536\"]",
            "7:12: capabilities.network.0: `example.com:65536` is not a network entry: the port must be a number from 1 to 65535 (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "[capabilities]\nnetwork = [\":443\"]",
            "7:12: capabilities.network.0: `:443` is not a network entry: the host is empty (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "[capabilities]\nnetwork = [\"::1:443\"]",
            "7:12: capabilities.network.0: `::1:443` is not a network entry: the host is not a host name or address (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "api = \"0.2.0\"\n[capabilities]\nnetwork = [\"a.*.example.com:443\"]",
            "7:12: capabilities.network.0: `a.*.example.com:443` is not a network entry: `*` is only allowed as a whole first label (`*.example.com:443`) (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "api = \"0.2.0\"\n[capabilities]\nnetwork = [\"*example.com:443\"]",
            "7:12: capabilities.network.0: `*example.com:443` is not a network entry: `*` is only allowed as a whole first label (`*.example.com:443`) (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "api = \"0.2.0\"\n[capabilities]\nnetwork = [\"*.:443\"]",
            "7:12: capabilities.network.0: `*.:443` is not a network entry: the host has an empty label (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "api = \"0.2.0\"\n[capabilities]\nnetwork = [\"a..example.com:443\"]",
            "7:12: capabilities.network.0: `a..example.com:443` is not a network entry: the host has an empty label (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "api = \"0.2.0\"\n[capabilities]\nnetwork = [\"[example.com]:443\"]",
            "7:12: capabilities.network.0: `[example.com]:443` is not a network entry: the brackets hold no IPv6 address (write `host:port`, e.g. `api.example.com:443`)",
        ),
        (
            "[capabilities]\nnetwork = [\"api.example.com:443\"]",
            "7:11: capabilities.network: the plugin `grep` targets wharf:plugin@0.1.0, which has no network access; set `api = \"0.2.0\"` and rebuild it against wit/0.2.0/plugin.wit to ask for hosts",
        ),
        (
            "[capabilities]\nenv = [\"LANG\", \"1X\"]",
            "7:16: capabilities.env.1: `1X` is not an environment variable name (use letters, digits and `_`, not starting with a digit)",
        ),
        (
            "[capabilities]\nexec = \"no\"",
            "7:8: capabilities.exec: invalid type: string \"no\", expected a boolean",
        ),
        (
            "[limits]\ntimeout_ms = 0",
            "7:14: limits.timeout_ms: must be at least 1",
        ),
        (
            "[limits]\nmemory_mb = -1",
            "7:13: limits.memory_mb: invalid value: integer `-1`, expected u64",
        ),
        (
            "requires = [\"image input\"]",
            "6:13: requires.0: `image input` is not a valid key (use letters, digits, `_` and `-`)",
        ),
        (
            "name = ",
            "1:8: string values must be quoted, expected literal string",
        ),
    ];
    let mut failures = Vec::new();
    for (changes, expected) in cases {
        let expected = format!("{PATH}:{expected}");
        let actual = match parse(changes) {
            Ok(_) => "parsed".to_owned(),
            Err(err) => err.to_string(),
        };
        if actual != expected {
            failures.push(format!(
                "{changes:?}\n  expected: {expected}\n  actual:   {actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_full_manifest_parses_into_every_field() {
    let text = r#"name = "grep"
version = "0.1.0"
api = "0.2.0"
kind = "wasm"
artifact = "./bin/../grep.wasm"
sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
description = "Searches files"
required = true
requires = ["image_input"]

[feature]
key = "grep_tool"
stage = "stable"
default_enabled = true
replaced_by = "super_grep"

[capabilities]
fs.read = ["workspace", "/data", "~/notes"]
fs.write = ["cwd"]
network = ["api.example.com:443", "[::1]:8080"]
env = ["LANG", "TZ"]
exec = true
requires = ["image_input", "tools"]

[limits]
timeout_ms = 5000
memory_mb = 64
"#;
    let (manifest, warnings) = Manifest::parse(Path::new(PATH), text).unwrap();
    assert_eq!(warnings, Vec::<String>::new());
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::try_from(i % 16).unwrap() * 0x11;
    }
    let expected = Manifest {
        name: "grep".parse().unwrap(),
        version: "0.1.0".to_owned(),
        api: "0.2.0".to_owned(),
        kind: PluginKind::Wasm,
        artifact: PathBuf::from("/plugins/grep/grep.wasm"),
        sha256: Some(Sha256(digest)),
        description: Some("Searches files".to_owned()),
        required: true,
        feature: FeatureDecl {
            key: "grep_tool".to_owned(),
            stage: Stage::Stable,
            default_enabled: true,
            replaced_by: Some("super_grep".to_owned()),
        },
        capabilities: Capabilities {
            fs_read: vec![
                PathRequest::Workspace,
                PathRequest::Path(PathBuf::from("/data")),
                PathRequest::Path(PathBuf::from("~/notes")),
            ],
            fs_write: vec![PathRequest::Cwd],
            network: vec![
                HostPort {
                    host: "api.example.com".to_owned(),
                    port: 443,
                },
                HostPort {
                    host: "::1".to_owned(),
                    port: 8080,
                },
            ],
            env: vec!["LANG".to_owned(), "TZ".to_owned()],
            exec: true,
        },
        requires: vec!["image_input".to_owned(), "tools".to_owned()],
        limits: LimitWishes {
            timeout_ms: Some(5000),
            memory_mb: Some(64),
        },
        hooks: None,
        path: PathBuf::from(PATH),
    };
    assert_eq!(manifest, expected);
    assert_eq!(
        manifest.describe_capabilities(),
        [
            "reads: the workspace, /data, ~/notes",
            "writes: the working directory",
            "network: api.example.com:443, [::1]:8080",
            "environment: LANG, TZ",
            "runs commands: yes",
            "needs a model with: image_input, tools",
        ]
    );
}

#[test]
fn a_minimal_manifest_asks_for_nothing() {
    let (manifest, warnings) = parse("").unwrap();
    assert!(warnings.is_empty());
    assert_eq!(manifest.name.as_str(), "grep");
    assert_eq!(manifest.artifact, Path::new("/plugins/grep/grep.wasm"));
    assert_eq!(
        manifest.feature,
        FeatureDecl {
            key: "grep".to_owned(),
            stage: Stage::Experimental,
            default_enabled: false,
            replaced_by: None,
        }
    );
    assert!(!manifest.required);
    assert_eq!(manifest.sha256, None);
    assert_eq!(manifest.capabilities, Capabilities::default());
    assert_eq!(manifest.limits, LimitWishes::default());
    assert_eq!(
        manifest.describe_capabilities(),
        [
            "reads: nothing",
            "writes: nothing",
            "network: none",
            "environment: none",
            "runs commands: no",
        ]
    );
}

#[test]
fn unknown_keys_warn_with_their_location() {
    let (_, warnings) =
        parse("entry = \"main\"\n[capabilities]\nfs.exec = []\n[extra]\na = 1").unwrap();
    assert_eq!(
        warnings,
        [
            format!("{PATH}:6:1: unknown key `entry` (ignored)"),
            format!("{PATH}:8:4: unknown key `capabilities.fs.exec` (ignored)"),
            format!("{PATH}:9:2: unknown key `extra` (ignored)"),
        ]
    );
}

#[test]
fn a_relative_manifest_path_gives_an_absolute_artifact() {
    let (manifest, _) = Manifest::parse(Path::new("plugin.toml"), &manifest_text("")).unwrap();
    assert!(manifest.artifact.is_absolute(), "{manifest:?}");
    assert!(manifest.artifact.ends_with("grep.wasm"));
}

#[test]
fn values_parse_and_print_the_way_they_are_written() {
    let hex = "ff".repeat(32);
    let digest: Sha256 = hex.parse().unwrap();
    assert_eq!(digest, Sha256([0xff; 32]));
    assert_eq!(digest.to_string(), hex);
    assert_eq!(digest.to_hex(), hex);

    for ok in [
        "a",
        "grep",
        "apply_patch",
        "view-image",
        "x9",
        &"a".repeat(64),
    ] {
        let name: PluginName = ok.parse().unwrap();
        assert_eq!(name.to_string(), ok);
        assert_eq!(PluginName::try_from(ok.to_owned()).unwrap(), name);
    }
    for bad in ["", "Grep", "a b", "a.b", "ä", &"a".repeat(65)] {
        assert!(bad.parse::<PluginName>().is_err(), "{bad:?}");
    }

    for (entry, host, port, shown) in [
        ("example.com:443", "example.com", 443, "example.com:443"),
        ("127.0.0.1:1", "127.0.0.1", 1, "127.0.0.1:1"),
        ("[::1]:65535", "::1", 65535, "[::1]:65535"),
        ("*.example.com:80", "*.example.com", 80, "*.example.com:80"),
    ] {
        let parsed: HostPort = entry.parse().unwrap();
        assert_eq!(
            parsed,
            HostPort {
                host: host.to_owned(),
                port
            }
        );
        assert_eq!(parsed.to_string(), shown);
    }
    for bad in ["[::1]", "[::1:443", "a b:1", "host:x", "http://h:1", ""] {
        assert!(bad.parse::<HostPort>().is_err(), "{bad:?}");
    }

    for (entry, request) in [
        ("workspace", PathRequest::Workspace),
        ("cwd", PathRequest::Cwd),
        ("~", PathRequest::Path(PathBuf::from("~"))),
        ("/etc", PathRequest::Path(PathBuf::from("/etc"))),
    ] {
        assert_eq!(entry.parse::<PathRequest>().unwrap(), request);
        assert_eq!(request.to_string(), entry);
    }
    assert_eq!(PluginKind::Native.to_string(), "native");
}

/// Writes `plugins/<dir>/plugin.toml` for each `(dir, text)`.
fn plugins_dir(plugins: &[(&str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in plugins {
        let plugin = dir.path().join(name);
        fs::create_dir_all(&plugin).unwrap();
        if let Some(text) = text {
            fs::write(plugin.join(MANIFEST_FILE), text).unwrap();
        }
    }
    dir
}

#[test]
fn discover_loads_each_plugin_directory_in_name_order() {
    let named = |name: &str| manifest_text(&format!("name = \"{name}\""));
    let zeta = named("zeta");
    let alpha = format!("{}unknown = 1\n", named("alpha"));
    let other = named("other");
    let dir = plugins_dir(&[
        ("zeta", Some(&zeta)),
        ("alpha", Some(&alpha)),
        ("beta", Some(&other)),
        ("gamma", Some("name = ")),
        ("empty", None),
        // A plugin being staged by `wharf plugin add`: not one yet.
        (".adding-x1y2", Some(&other)),
    ]);
    fs::write(dir.path().join("notes.txt"), "not a plugin").unwrap();

    let results: Vec<String> = discover(dir.path())
        .into_iter()
        .map(|result| match result {
            Ok(found) => format!(
                "ok {} {} warnings={:?}",
                found.manifest.name,
                found
                    .manifest
                    .artifact
                    .strip_prefix(dir.path())
                    .unwrap()
                    .display(),
                found.warnings.len()
            ),
            Err((plugin_dir, err)) => format!(
                "err {}: {}",
                plugin_dir.strip_prefix(dir.path()).unwrap().display(),
                err.to_string()
                    .replace(&dir.path().display().to_string(), "$P")
            ),
        })
        .collect();
    assert_eq!(
        results,
        [
            "ok alpha alpha/grep.wasm warnings=1",
            "err beta: $P/beta/plugin.toml:1:8: name: the plugin `other` is in the directory `beta` (rename the directory to `other` or change the name)",
            "err gamma: $P/gamma/plugin.toml:1:8: string values must be quoted, expected literal string",
            "ok zeta zeta/grep.wasm warnings=0",
        ]
    );
}

#[test]
fn discover_finds_nothing_in_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    assert!(discover(&dir.path().join("plugins")).is_empty());
}

#[test]
fn from_file_reports_a_missing_file_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MANIFEST_FILE);
    let err = Manifest::from_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read {}: No such file or directory (os error 2)",
            path.display()
        )
    );
    fs::write(&path, manifest_text("")).unwrap();
    let manifest = Manifest::from_file(&path).unwrap();
    assert_eq!(manifest.path, path);
    assert_eq!(manifest.artifact, dir.path().join("grep.wasm"));
}
