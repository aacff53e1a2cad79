//! What a running session refuses because of the requirements: the
//! switches a front end offers (`/approvals`, `/features`).

use wharf_config::features::FeatureRegistry;
use wharf_config::requirements::RequirementsSource;
use wharf_config::{ApprovalPolicy, ConfigOptions};

use super::{Configured, Host};

const REQUIREMENTS: &str = "allowed_approval_policies = [\"untrusted\", \"on-request\"]\n\
                            [features]\nunified_exec = false\nhooks = true\n";

fn host(dir: &tempfile::TempDir) -> Host {
    let cwd = dir.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let options = ConfigOptions {
        wharf_home: dir.path().join("home"),
        cwd,
        requirements: RequirementsSource::BuiltIn {
            name: "acme".to_owned(),
            text: REQUIREMENTS,
        },
        ..ConfigOptions::default()
    };
    let registry = FeatureRegistry::from_toml(include_str!("../../../cli/features.toml")).unwrap();
    let configured = Configured::load(options, registry, &[]).unwrap();
    configured
        .session()
        .approval_policy(Some(ApprovalPolicy::OnRequest))
        .build()
        .unwrap()
}

#[test]
fn a_disallowed_approval_policy_is_refused_with_the_requirement() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = host(&dir);
    let cases = [
        (ApprovalPolicy::Untrusted, Ok(())),
        (
            ApprovalPolicy::Never,
            Err("blocked by requirements (acme (built into this wharf): \
                 allowed_approval_policies): approval policy `never` is not allowed (allowed: \
                 untrusted, on-request)"),
        ),
        (ApprovalPolicy::OnRequest, Ok(())),
        (
            ApprovalPolicy::OnFailure,
            Err("blocked by requirements (acme (built into this wharf): \
                 allowed_approval_policies): approval policy `on-failure` is not allowed \
                 (allowed: untrusted, on-request)"),
        ),
    ];
    for (policy, expected) in cases {
        let before = host.session().approval_policy;
        let result = host.set_approval_policy(policy);
        assert_eq!(result, expected.map_err(str::to_owned), "{policy:?}");
        let now = host.session().approval_policy;
        match result {
            Ok(()) => assert_eq!(now, Some(policy)),
            Err(_) => assert_eq!(now, before, "a refused policy changes nothing"),
        }
    }
}

#[test]
fn a_pinned_feature_is_locked_and_its_toggle_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = host(&dir);
    let cases = [
        (
            "unified_exec",
            true,
            Some(
                "blocked by requirements (acme (built into this wharf): [features]): feature \
                 `unified_exec` is pinned off, so it cannot be turned on",
            ),
        ),
        (
            "hooks",
            false,
            Some(
                "blocked by requirements (acme (built into this wharf): [features]): feature \
                 `hooks` is pinned on, so it cannot be turned off",
            ),
        ),
        ("apply_patch_freeform", true, None),
    ];
    for (key, enabled, locked) in cases {
        assert_eq!(host.feature_locked(key).as_deref(), locked, "{key}");
        let result = host.set_feature(key, enabled);
        assert_eq!(
            result,
            locked.map_or(Ok(()), |reason| Err(reason.to_owned()))
        );
        let now = host.session().features.enabled(key);
        assert_eq!(
            now,
            if locked.is_some() { !enabled } else { enabled },
            "{key}"
        );
    }
}
