use super::*;

/// The row of `key` in `wharf features list`, as words.
fn row(list: &str, key: &str) -> Vec<String> {
    let line = list
        .lines()
        .find(|line| line.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no row for {key} in:\n{list}"));
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn list_shows_stage_state_and_source() {
    let env = Env::new();
    let path = env.write_config("[features]\nview_image = false\n");
    let out = env
        .wharf(&["--disable", "unified_exec", "features", "list"])
        .success();
    assert_eq!(row(&out.stdout, "KEY"), ["KEY", "STAGE", "STATE", "SOURCE"]);
    assert_eq!(
        row(&out.stdout, "unified_exec"),
        ["unified_exec", "stable", "off", "cli", "(--disable)"]
    );
    assert_eq!(
        row(&out.stdout, "view_image"),
        [
            "view_image",
            "stable",
            "off",
            "config",
            &format!("({}:2:1)", display(&path))
        ]
    );
    assert_eq!(
        row(&out.stdout, "hooks"),
        ["hooks", "experimental", "off", "default"]
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn list_as_json() {
    let env = Env::new();
    env.write_config("profile = \"fast\"\n[profiles.fast.features]\nhooks = true\n");
    let out = env.wharf(&["features", "list", "--json"]).success();
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let hooks = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == "hooks")
        .unwrap();
    assert_eq!(hooks["stage"], "experimental");
    assert_eq!(hooks["enabled"], true);
    assert_eq!(hooks["default_enabled"], false);
    assert_eq!(hooks["source"], "profile");
}

#[test]
fn unknown_feature_on_the_command_line_lists_the_known_keys() {
    let env = Env::new();
    let out = env
        .wharf(&["--enable", "no_such_flag", "features", "list"])
        .fails_with(2);
    assert_eq!(
        out.stderr,
        "error: unknown feature flag: no_such_flag; known: apply_patch, apply_patch_freeform, \
         hooks, mcp_client, plan_tool, responses_websockets, shell_tool, telemetry, unified_exec, \
         view_image\n"
    );
}

#[test]
fn unknown_feature_in_config_only_warns() {
    let env = Env::new();
    env.write_config("[features]\nno_such_flag = true\n");
    let out = env.wharf(&["features", "list"]).success();
    assert!(
        out.stderr
            .starts_with("warning: unknown feature flag `no_such_flag` in config ("),
        "{}",
        out.stderr
    );
}

#[test]
fn enable_and_disable_edit_config_toml_keeping_comments() {
    let env = Env::new();
    let path = env.write_config(
        "# my settings\nmodel = \"o3\" # pinned\n\n[features]\n# no images for now\nview_image = false\n",
    );
    let out = env.wharf(&["features", "enable", "view_image"]).success();
    assert_eq!(
        out.stdout,
        format!("enabled view_image in [features] of {}\n", display(&path))
    );
    env.wharf(&["--profile", "ci", "features", "disable", "unified_exec"])
        .success();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my settings\nmodel = \"o3\" # pinned\n\n[features]\n# no images for now\n\
         view_image = true\n\n[profiles.ci.features]\nunified_exec = false\n"
    );
    let out = env
        .wharf(&["--profile", "ci", "features", "list"])
        .success();
    assert_eq!(
        row(&out.stdout, "unified_exec")[..4],
        ["unified_exec", "stable", "off", "profile"]
    );
    assert_eq!(
        row(&out.stdout, "view_image")[..4],
        ["view_image", "stable", "on", "config"]
    );
}

#[test]
fn enable_creates_a_missing_config() {
    let env = Env::new();
    std::fs::remove_dir_all(env.wharf_home()).unwrap();
    env.wharf(&["features", "enable", "hooks"]).success();
    assert_eq!(
        std::fs::read_to_string(env.config_path()).unwrap(),
        "[features]\nhooks = true\n"
    );
}
