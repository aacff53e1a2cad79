use super::*;

/// The names the macro matches are the names serde writes.
#[test]
fn enum_names_round_trip() {
    fn round_trip<T>(values: &[T])
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        for value in values {
            let text = toml::Value::try_from(value).unwrap();
            assert_eq!(&text.try_into::<T>().unwrap(), value);
        }
    }
    round_trip(&[
        SandboxModeToml::ReadOnly,
        SandboxModeToml::WorkspaceWrite,
        SandboxModeToml::DangerFullAccess,
    ]);
    round_trip(&[
        ReadOnlyAccessKind::FullAccess,
        ReadOnlyAccessKind::Restricted,
    ]);
    round_trip(&[
        ApprovalPolicy::Untrusted,
        ApprovalPolicy::OnFailure,
        ApprovalPolicy::OnRequest,
        ApprovalPolicy::Never,
    ]);
    round_trip(&[
        Personality::None,
        Personality::Friendly,
        Personality::Pragmatic,
    ]);
    round_trip(&[WireApi::Responses, WireApi::Chat]);
    for effort in [
        ReasoningEffort::None,
        ReasoningEffort::Minimal,
        ReasoningEffort::Low,
        ReasoningEffort::Medium,
        ReasoningEffort::High,
        ReasoningEffort::Xhigh,
    ] {
        round_trip(&[effort]);
        assert_eq!(
            toml::Value::try_from(effort).unwrap().as_str(),
            Some(effort.as_str())
        );
    }
    for summary in [
        ReasoningSummary::Auto,
        ReasoningSummary::Concise,
        ReasoningSummary::Detailed,
        ReasoningSummary::None,
    ] {
        round_trip(&[summary]);
        assert_eq!(
            toml::Value::try_from(summary).unwrap().as_str(),
            Some(summary.as_str())
        );
    }
    for verbosity in [Verbosity::Low, Verbosity::Medium, Verbosity::High] {
        round_trip(&[verbosity]);
        assert_eq!(
            toml::Value::try_from(verbosity).unwrap().as_str(),
            Some(verbosity.as_str())
        );
    }
    assert_eq!(ReasoningEffort::NAMES.len(), 6);
    assert_eq!(ReasoningSummary::NAMES.len(), 4);
    assert_eq!(Verbosity::NAMES.len(), 3);
    round_trip(&[
        McpOAuthCredentialsStore::Auto,
        McpOAuthCredentialsStore::Keyring,
        McpOAuthCredentialsStore::File,
    ]);
    round_trip(&[TrustLevel::Trusted, TrustLevel::Untrusted]);
    round_trip(&[
        EnvInheritToml::All,
        EnvInheritToml::Core,
        EnvInheritToml::None,
    ]);
    for level in [TrustLevel::Trusted, TrustLevel::Untrusted] {
        assert_eq!(
            toml::Value::try_from(level).unwrap().as_str(),
            Some(level.as_str())
        );
    }
    assert_eq!(McpOAuthCredentialsStore::NAMES.len(), 3);
    for store in McpOAuthCredentialsStore::NAMES {
        let parsed: McpOAuthCredentialsStore =
            toml::Value::String((*store).to_owned()).try_into().unwrap();
        assert_eq!(parsed.as_str(), *store);
    }
    assert_eq!(SandboxModeToml::NAMES.len(), 3);
    assert_eq!(ReadOnlyAccessKind::NAMES.len(), 2);
    assert_eq!(ApprovalPolicy::NAMES.len(), 4);
    assert_eq!(Personality::NAMES.len(), 3);
    assert_eq!(WireApi::NAMES.len(), 2);
    for policy in [
        ApprovalPolicy::Untrusted,
        ApprovalPolicy::OnFailure,
        ApprovalPolicy::OnRequest,
        ApprovalPolicy::Never,
    ] {
        assert_eq!(
            toml::Value::try_from(policy).unwrap().as_str(),
            Some(policy.as_str())
        );
    }
    for personality in [
        Personality::None,
        Personality::Friendly,
        Personality::Pragmatic,
    ] {
        assert_eq!(
            toml::Value::try_from(personality).unwrap().as_str(),
            Some(personality.as_str())
        );
    }
    for wire in [WireApi::Responses, WireApi::Chat] {
        assert_eq!(
            toml::Value::try_from(wire).unwrap().as_str(),
            Some(wire.as_str())
        );
    }
}
