use super::*;

#[test]
fn show_attributes_every_value() {
    let env = Env::new();
    let path =
        env.write_config("model = \"o3\"\n[sandbox_workspace_write]\nnetwork_access = true\n");
    let project = env.cwd().join(".wharf/config.toml");
    std::fs::create_dir_all(project.parent().unwrap()).unwrap();
    std::fs::write(
        &project,
        "model = \"project\"\nsandbox_mode = \"workspace-write\"\n",
    )
    .unwrap();
    env.wharf(&["trust"]).success();
    let out = env
        .wharf(&[
            "-c",
            "sandbox_workspace_write.exclude_slash_tmp=true",
            "config",
            "show",
        ])
        .success();
    let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    let squeeze = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines: Vec<String> = lines.into_iter().map(squeeze).collect();
    let path = display(&path);
    let project = display(&project);
    let root = display(&env.cwd().canonicalize().unwrap());
    assert_eq!(
        lines,
        [
            format!("approval_policy = \"on-request\" # trust (the project {root} is trusted)"),
            format!("model = \"o3\" # config ({path}:1:1)"),
            "model_provider = \"openai\" # default".to_owned(),
            "personality = \"none\" # default".to_owned(),
            "project_doc_fallback_filenames = [] # default".to_owned(),
            "project_doc_max_bytes = 32768 # default".to_owned(),
            "read_only_access.type = \"full-access\" # default".to_owned(),
            "sandbox_linux.namespaces = true # default".to_owned(),
            format!("sandbox_mode = \"workspace-write\" # project ({project}:2:1)"),
            "sandbox_workspace_write.exclude_slash_tmp = true # cli (-c sandbox_workspace_write.exclude_slash_tmp=true)".to_owned(),
            "sandbox_workspace_write.exclude_tmpdir_env_var = false # default".to_owned(),
            format!("sandbox_workspace_write.network_access = true # config ({path}:3:1)"),
            "sandbox_workspace_write.writable_roots = [] # default".to_owned(),
            "suppress_unstable_features_warning = false # default".to_owned(),
        ]
    );
    assert!(
        out.stdout
            .contains(&format!("# file read: {project}\n# file read: {path}\n")),
        "{}",
        out.stdout
    );
}

#[test]
fn show_as_json() {
    let env = Env::new();
    let out = env
        .wharf(&["-s", "workspace-write", "config", "show", "--json"])
        .success();
    let shown: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mode = shown["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|value| value["key"] == "sandbox_mode")
        .unwrap();
    assert_eq!(mode["value"], "workspace-write");
    assert_eq!(mode["source"], "cli");
    assert_eq!(mode["detail"], "--sandbox");
    assert_eq!(shown["wharf_home"], display(&env.wharf_home()));
}

#[test]
fn a_type_error_names_file_line_column_and_key() {
    let env = Env::new();
    let path = env.write_config("# settings\nsandbox_mode = 3\n");
    let out = env.wharf(&["config", "show"]).fails_with(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: {}:2:16: sandbox_mode: invalid type: integer `3`, expected one of \
             \"read-only\", \"workspace-write\", \"danger-full-access\"\n",
            display(&path)
        )
    );
}

#[test]
fn an_unknown_key_only_warns() {
    let env = Env::new();
    let path = env.write_config("model = \"o3\"\nmodel_temperature = 2\n");
    let out = env.wharf(&["config", "show"]).success();
    assert_eq!(
        out.stderr,
        format!(
            "warning: {}:2:1: unknown key `model_temperature` (ignored)\n",
            display(&path)
        )
    );
    assert!(out.stdout.contains("model = \"o3\""), "{}", out.stdout);
}
