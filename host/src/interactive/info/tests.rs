//! What `/status` and `/mcp` are told about the requirements.

use wharf_config::features::FeatureRegistry;
use wharf_config::requirements::RequirementsSource;
use wharf_config::{ApprovalPolicy, ConfigOptions};

use super::session_info;
use crate::ops::PluginState;
use crate::session::Configured;

#[test]
fn blocked_mcp_servers_and_the_requirements_origin_are_in_the_session_info() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cwd = dir.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(
        home.join("config.toml"),
        "[mcp_servers.docs2]\ncommand = \"docs-mcp\"\n",
    )
    .unwrap();
    let registry =
        FeatureRegistry::from_toml(include_str!("../../../../cli/features.toml")).unwrap();
    let cases = [
        (RequirementsSource::None, None, None),
        (
            RequirementsSource::BuiltIn {
                name: "acme".to_owned(),
                text: "[mcp_servers.docs.identity]\ncommand = \"docs-mcp\"\n",
            },
            Some("acme (built into this wharf)"),
            Some(
                "blocked by requirements (acme (built into this wharf): [mcp_servers]): `docs2` \
                 is not an allowed MCP server (allowed: docs)",
            ),
        ),
    ];
    for (requirements, origin, blocked) in cases {
        let options = ConfigOptions {
            wharf_home: home.clone(),
            cwd: cwd.clone(),
            requirements,
            ..ConfigOptions::default()
        };
        let host = Configured::load(options, registry.clone(), &[])
            .unwrap()
            .session()
            .approval_policy(Some(ApprovalPolicy::OnRequest))
            .build()
            .unwrap();
        let info = session_info(&host, &[], "test", None);
        assert_eq!(info.requirements.as_deref(), origin);
        let mcp: Vec<&PluginState> = info.plugins.iter().filter(|p| p.kind == "mcp").collect();
        match blocked {
            None => assert!(mcp.is_empty(), "{mcp:?}"),
            Some(reason) => {
                assert_eq!(mcp.len(), 1, "{mcp:?}");
                assert_eq!(mcp[0].name, "docs2");
                assert_eq!(mcp[0].unavailable.as_deref(), Some(reason));
            }
        }
    }
}
