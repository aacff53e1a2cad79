//! `wharf config import-codex`: a codex config.toml becomes wharf's, with
//! its comments, and the written file loads in wharf without a warning.

use super::*;

/// A codex user's file, written from codex's documentation of each key.
const CODEX_CONFIG: &str = r#"# My codex setup.
model = "o3" # the model I use
model_reasoning_effort = "high"
approval_policy = "on-request"
# Freeform patches, please.
experimental_use_freeform_apply_patch = true
chatgpt_base_url = "https://chatgpt.example/backend-api/"

[sandbox_workspace_write]
# Tests fetch packages.
network_access = true

[notice]
hide_full_access_warning = true

[features]
view_image_tool = false
web_search_request = true
skills = true

[profiles.fast]
model = "o4-mini"
model_personality = "pragmatic"
review_model = "o4-mini"
"#;

fn write_codex_config(dir: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_codex_file_becomes_wharfs_with_its_comments() {
    let env = Env::new();
    let from = write_codex_config(&env.home().join(".codex"), CODEX_CONFIG);
    let out = env.wharf(&["config", "import-codex"]).success();
    let dest = env.config_path();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    let last = lines.pop().unwrap();
    assert_eq!(
        last,
        format!("wrote {} from {}", dest.display(), from.display())
    );
    assert_eq!(
        lines,
        [
            "kept     approval_policy",
            "kept     features.view_image_tool",
            "kept     model",
            "kept     model_reasoning_effort",
            "kept     profiles.fast.model",
            "kept     sandbox_workspace_write.network_access",
            "changed  experimental_use_freeform_apply_patch → features.apply_patch_freeform \
             (wharf turns tools on and off with feature flags)",
            "changed  features.web_search_request → tools.web_search (the provider's hosted web \
             search is `tools.web_search` in wharf)",
            "changed  profiles.fast.model_personality → profiles.fast.personality (codex's older \
             name)",
            "dropped  chatgpt_base_url (wharf has no ChatGPT sign-in: providers read API keys \
             from the environment (`env_key`))",
            "dropped  features.skills (wharf has no skills)",
            "dropped  notice (wharf shows none of codex's in-product notices)",
            "dropped  profiles.fast.review_model (wharf has no /review command)",
            "6 kept, 3 changed, 4 dropped",
        ],
        "{}",
        out.stdout
    );
    let written = std::fs::read_to_string(&dest).unwrap();
    for comment in [
        "# My codex setup.",
        "model = \"o3\" # the model I use",
        "# Freeform patches, please.\napply_patch_freeform = true",
        "# Tests fetch packages.\nnetwork_access = true",
    ] {
        assert!(written.contains(comment), "{comment:?} in:\n{written}");
    }
    assert!(!written.contains("chatgpt"), "{written}");

    // The file loads in wharf with no warning, each value where it belongs.
    let show = env
        .wharf(&["--profile", "fast", "config", "show"])
        .success();
    assert_eq!(show.stderr, "", "{}", show.stderr);
    let squeeze = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown: Vec<String> = show.stdout.lines().map(squeeze).collect();
    for expected in [
        "features.apply_patch_freeform = true # config",
        "features.view_image_tool = false # config",
        "model = \"o4-mini\" # profile",
        "model_reasoning_effort = \"high\" # config",
        "personality = \"pragmatic\" # profile",
        "tools.web_search = true # config",
    ] {
        assert!(
            shown.iter().any(|line| line.starts_with(expected)),
            "{expected:?} in:\n{}",
            show.stdout
        );
    }
    let features = env.wharf(&["features", "list"]).success();
    let view_image = features
        .stdout
        .lines()
        .find(|line| line.starts_with("view_image "))
        .unwrap();
    assert!(view_image.contains(" off "), "{}", features.stdout);
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let env = Env::new();
    let codex_home = env.home().join("elsewhere");
    write_codex_config(&codex_home, "model = \"o3\"\n");
    env.write_config("model = \"mine\"\n");
    let vars = [("CODEX_HOME", codex_home.to_str().unwrap())];
    let refused = env.wharf_with_vars(&["config", "import-codex"], &vars);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "error: {} exists; nothing was written (`--force` replaces it",
            env.config_path().display()
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.config_path()).unwrap(),
        "model = \"mine\"\n"
    );

    env.wharf_with_vars(&["config", "import-codex", "--force"], &vars)
        .success();
    let written = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(written.ends_with("model = \"o3\"\n"), "{written}");
    let backup = env.wharf_home().join("config.toml.bak");
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        "model = \"mine\"\n"
    );
}

#[test]
fn from_names_the_file_and_a_missing_one_is_an_error() {
    let env = Env::new();
    let from = write_codex_config(
        &env.cwd().join("codex"),
        "sandbox_mode = \"workspace-write\"\n",
    );
    let out = env
        .wharf(&["config", "import-codex", "--from", from.to_str().unwrap()])
        .success();
    assert!(
        out.stdout.contains("kept     sandbox_mode\n"),
        "{}",
        out.stdout
    );

    let missing = env.cwd().join("nope.toml");
    let out = env.wharf(&[
        "config",
        "import-codex",
        "--from",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!(
            "cannot read the codex configuration {}",
            missing.display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_value_wharf_cannot_take_is_dropped_with_the_reason() {
    let env = Env::new();
    let from = write_codex_config(
        &env.cwd().join("codex"),
        "model = \"o3\"\nproject_doc_max_bytes = \"lots\"\n",
    );
    let out = env
        .wharf(&["config", "import-codex", "--from", from.to_str().unwrap()])
        .success();
    assert!(
        out.stdout
            .contains("dropped  project_doc_max_bytes (wharf cannot take this value: invalid type"),
        "{}",
        out.stdout
    );
    let written = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(!written.contains("project_doc_max_bytes"), "{written}");
    env.wharf(&["config", "show"]).success();
}

/// `[features.NAME]` as a table, for a feature wharf keeps elsewhere: the
/// moved key takes the table's `enabled`.
#[test]
fn a_feature_table_moved_out_of_features_keeps_its_enabled() {
    let env = Env::new();
    let from = write_codex_config(
        &env.cwd().join("codex"),
        "[features.web_search_request]\nenabled = true\n",
    );
    let out = env
        .wharf(&["config", "import-codex", "--from", from.to_str().unwrap()])
        .success();
    assert!(
        out.stdout
            .contains("changed  features.web_search_request → tools.web_search"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("dropped  "), "{}", out.stdout);
    let show = env.wharf(&["config", "show"]).success();
    assert_eq!(show.stderr, "", "{}", show.stderr);
    assert!(
        show.stdout.lines().any(|line| line
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .starts_with("tools.web_search = true # config")),
        "{}",
        show.stdout
    );
}
