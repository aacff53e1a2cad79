use super::*;

fn parse(text: &str) -> Result<Requirements, ConfigError> {
    Requirements::parse(
        Path::new("/etc/wharf/requirements.toml"),
        text,
        Origin::File(PathBuf::from("/etc/wharf/requirements.toml")),
    )
}

#[test]
fn every_key_is_read() {
    let requirements = parse(
        r#"
allowed_approval_policies = ["untrusted", "on-request"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allow_native_plugins = false

[features]
web_search = false
unified_exec = true

[mcp_servers.docs.identity]
command = "docs-mcp"

[mcp_servers.tracker.identity]
url = "https://mcp.example.com/tracker"

[plugins.grep]
sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

[otel]
environment = "prod"
"#,
    )
    .unwrap();
    assert_eq!(
        requirements.allowed_approval_policies,
        Some(vec![ApprovalPolicy::Untrusted, ApprovalPolicy::OnRequest])
    );
    assert_eq!(
        requirements.allowed_sandbox_modes,
        Some(vec![SandboxMode::ReadOnly, SandboxMode::WorkspaceWrite])
    );
    assert!(!requirements.allow_native_plugins);
    assert_eq!(
        requirements.features,
        BTreeMap::from([
            ("unified_exec".to_owned(), true),
            ("web_search".to_owned(), false)
        ])
    );
    let servers = requirements.mcp_servers.unwrap();
    assert_eq!(servers["docs"], McpIdentity::Command("docs-mcp".to_owned()));
    assert_eq!(
        servers["tracker"],
        McpIdentity::Url("https://mcp.example.com/tracker".to_owned())
    );
    assert_eq!(
        requirements.plugins.unwrap()["grep"].sha256,
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
    );
    assert_eq!(
        requirements.otel.unwrap().environment.as_deref(),
        Some("prod")
    );
    assert!(requirements.origin.is_some());
}

#[test]
fn an_empty_file_requires_nothing_but_is_in_force() {
    let requirements = parse("").unwrap();
    assert!(!requirements.is_empty());
    assert_eq!(requirements.allowed_approval_policies, None);
    assert_eq!(requirements.mcp_servers, None);
    assert!(requirements.allow_native_plugins);
    assert!(Requirements::default().is_empty());
}

/// Fail closed: every mistake stops wharf, naming the place.
#[test]
fn mistakes_are_errors_with_their_place() {
    let cases: &[(&str, &str)] = &[
        (
            "allowed_approval_policies = [\"sometimes\"]",
            "/etc/wharf/requirements.toml:1:",
        ),
        (
            "allowed_sandbox_modes = \"read-only\"",
            "/etc/wharf/requirements.toml:1:",
        ),
        (
            "\n\nallow_native_plugin = false",
            "/etc/wharf/requirements.toml:3:1",
        ),
        (
            "[features]\nweb_search = \"off\"",
            "/etc/wharf/requirements.toml:2:",
        ),
        (
            "[mcp_servers.docs]\ncommand = \"x\"",
            "/etc/wharf/requirements.toml:",
        ),
        ("[mcp_servers.docs.identity]\n", "mcp_servers.docs.identity"),
        (
            "[mcp_servers.docs.identity]\ncommand = \"a\"\nurl = \"https://b\"",
            "exactly one of",
        ),
        ("[plugins.grep]\nsha256 = \"123\"", "plugins.grep.sha256"),
        ("[plugins.grep]\n", "/etc/wharf/requirements.toml:"),
        (
            "allowed_sandbox_modes = [",
            "/etc/wharf/requirements.toml:1:",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn the_source_is_the_built_in_then_the_system_file_then_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("requirements.toml");
    let mine = dir.path().join("mine.toml");
    // No system file: the variable's.
    assert_eq!(
        RequirementsSource::find(None, &system, Some(mine.clone())),
        RequirementsSource::File(mine.clone())
    );
    assert_eq!(
        RequirementsSource::find(None, &system, None),
        RequirementsSource::None
    );
    // A system file: the variable cannot replace it.
    std::fs::write(&system, "").unwrap();
    assert_eq!(
        RequirementsSource::find(None, &system, Some(mine.clone())),
        RequirementsSource::File(system.clone())
    );
    // Built in: above both.
    assert_eq!(
        RequirementsSource::find(Some(("acme", "")), &system, Some(mine)),
        RequirementsSource::BuiltIn {
            name: "acme".to_owned(),
            text: ""
        }
    );
}

#[test]
fn a_named_file_that_is_missing_fails() {
    let dir = tempfile::tempdir().unwrap();
    let missing = RequirementsSource::File(dir.path().join("missing.toml"));
    let err = missing.load().unwrap_err().to_string();
    assert!(err.contains("missing.toml"), "{err}");
    assert!(RequirementsSource::None.load().unwrap().is_empty());
    let built = RequirementsSource::BuiltIn {
        name: "acme-requirements.toml".to_owned(),
        text: "allow_native_plugins = false\nfeatures = 3\n",
    };
    let err = built.load().unwrap_err().to_string();
    assert!(err.starts_with("acme-requirements.toml:2:"), "{err}");
}
