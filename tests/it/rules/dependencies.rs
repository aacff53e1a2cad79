//! Dependency edges between the workspace's crates, read from `cargo
//! metadata`: the runtime knows no wire API, the model side knows no
//! plugin, only the agent (`wharf-host`, and the binary that embeds it)
//! joins them, and the small crates stay small.

use std::collections::{BTreeMap, BTreeSet};

/// Each workspace package's normal (not dev, not build) dependencies.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let metadata = super::metadata();
    let mut packages = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let normal = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| dep["kind"].is_null())
            .map(|dep| dep["name"].as_str().unwrap().to_owned())
            .collect();
        packages.insert(package["name"].as_str().unwrap().to_owned(), normal);
    }
    packages
}

/// (crate, dependencies it must not have, why).
const FORBIDDEN: &[(&str, &[&str], &str)] = &[
    (
        "wharf-config",
        &[
            "wharf-runtime",
            "wharf-model",
            "wharf-host",
            "wasmtime",
            "reqwest",
        ],
        "configuration is read before anything runs and knows neither plugins nor models",
    ),
    (
        "wharf-runtime",
        &["wharf-model", "wharf-host", "reqwest", "tokio-tungstenite"],
        // rustls is allowed: the runtime does the TLS of a plugin's
        // granted wasi:http requests itself (wasm/net/http.rs).
        "the plugin runtime knows no wire API: it takes a ModelFit",
    ),
    (
        "wharf-model",
        &[
            "wharf-runtime",
            "wharf-host",
            "wharf-plugin-api",
            "wasmtime",
            "wasmtime-wasi",
            "libloading",
        ],
        "the model side knows no plugin: tools reach it as specs in a prompt",
    ),
    (
        "wharf-plugin-mcp-client",
        &["wharf-runtime", "wharf-config", "wharf-model", "wharf-host"],
        "the MCP client speaks MCP and knows no host: wharf-mcp-adapter makes plugins of its servers",
    ),
    (
        "wharf-mcp-adapter",
        &["wharf-model", "wharf-host"],
        "the adapter makes plugins of MCP servers and knows no model or agent",
    ),
    (
        "wharf-sandbox",
        &[
            "wharf-config",
            "wharf-runtime",
            "wharf-model",
            "wharf-host",
            "wharf-plugin-api",
        ],
        "the sandbox is the bottom of the graph",
    ),
];

#[test]
fn crates_depend_only_downwards() {
    let packages = dependencies();
    let mut broken = Vec::new();
    for (name, forbidden, why) in FORBIDDEN {
        let deps = packages
            .get(*name)
            .unwrap_or_else(|| panic!("no package {name}"));
        for dep in *forbidden {
            if deps.contains(*dep) {
                broken.push(format!("{name} depends on {dep}, but {why}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn only_the_agent_joins_runtime_and_model() {
    let joining: Vec<String> = dependencies()
        .into_iter()
        .filter(|(_, deps)| deps.contains("wharf-runtime") && deps.contains("wharf-model"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(joining, ["wharf-cli", "wharf-host"]);
}

#[test]
fn the_plugin_api_stays_tiny() {
    let packages = dependencies();
    let deps: Vec<&String> = packages["wharf-plugin-api"].iter().collect();
    assert_eq!(deps, ["schemars", "serde", "serde_json", "wit-bindgen"]);
    // What every author compiles is the three; `schemars` only comes with
    // the feature of that name, for authors who derive input schemas.
    let metadata = super::metadata();
    let api = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|package| package["name"] == "wharf-plugin-api")
        .unwrap();
    let optional: Vec<&str> = api["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|dep| dep["kind"].is_null() && dep["optional"] == true)
        .map(|dep| dep["name"].as_str().unwrap())
        .collect();
    assert_eq!(optional, ["schemars"]);
}

#[test]
fn plugins_do_not_depend_on_the_host() {
    let mut broken = Vec::new();
    for (name, deps) in dependencies() {
        if name.starts_with("wharf-plugin-") && name != "wharf-plugin-api" {
            for dep in ["wharf-host", "wharf-model", "wharf-config"] {
                if deps.contains(dep) {
                    broken.push(format!("{name} depends on {dep}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_cancel_token_depends_on_nothing() {
    let packages = dependencies();
    assert!(
        packages["wharf-cancel"].is_empty(),
        "{:?}",
        packages["wharf-cancel"]
    );
}
