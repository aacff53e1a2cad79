//! `wharf plugin new` writes a project that builds as generated, and the
//! steps it prints work as pasted: build, `plugin dev` (which installs
//! nothing), `plugin add`, `tool call`.

use std::path::PathBuf;

use crate::Env;

/// Where cargo and rustup live for whoever runs the tests: the steps run
/// with wharf's test environment, whose `$HOME` is a temporary one.
fn toolchain_vars() -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut vars = vec![
        (
            "CARGO_HOME".to_owned(),
            std::env::var("CARGO_HOME").unwrap_or(format!("{home}/.cargo")),
        ),
        (
            "RUSTUP_HOME".to_owned(),
            std::env::var("RUSTUP_HOME").unwrap_or(format!("{home}/.rustup")),
        ),
    ];
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        vars.push(("RUSTUP_TOOLCHAIN".to_owned(), toolchain));
    }
    vars
}

/// Runs `lines` as one shell script in the test's working directory, with
/// the wharf under test first on `PATH`.
fn run_steps(env: &Env, lines: &[&str]) -> crate::Output {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_wharf"));
    let path = format!(
        "{}:{}",
        exe.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("set -ex\n{}\n", lines.join("\n"));
    let output = env
        .command("sh")
        .args(["-c", &script])
        .env("PATH", path)
        .envs(toolchain_vars())
        .output()
        .unwrap();
    crate::Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn the_printed_steps_build_try_and_install_a_rust_plugin() {
    let env = Env::new();
    let api = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin-api");
    let created = env
        .wharf(&["plugin", "new", "line-count", "--api-path", api])
        .success();
    let project = env.cwd().join("line-count");
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "plugin.toml",
        ".cargo/config.toml",
        "README.md",
    ] {
        assert!(project.join(file).is_file(), "{file}: {}", created.stdout);
    }
    let manifest = std::fs::read_to_string(project.join("plugin.toml")).unwrap();
    assert!(manifest.contains("[feature]") && manifest.contains("default_enabled = true"));
    // Its compiled dependencies are shared between runs: the project's
    // `target` is a link into this build's target directory.
    let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-new");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, project.join("target")).unwrap();

    let steps: Vec<&str> = created
        .stdout
        .lines()
        .skip_while(|line| *line != "next steps:")
        .skip(1)
        .filter(|line| !line.starts_with('#'))
        .collect();
    let dev = steps
        .iter()
        .position(|line| line.starts_with("wharf plugin dev"))
        .unwrap_or_else(|| panic!("no `plugin dev` step: {}", created.stdout));
    let (trying, installing) = steps.split_at(dev + 1);
    assert!(
        installing
            .iter()
            .any(|line| line.starts_with("wharf plugin add"))
    );

    let tried = run_steps(&env, trying);
    assert_eq!(tried.code, 0, "{}\n{}", tried.stdout, tried.stderr);
    assert!(
        tried.stdout.contains("test result: ok. 1 passed"),
        "{}",
        tried.stdout
    );
    let counted = tried.stdout.lines().last().unwrap_or_default().to_owned();
    assert!(
        counted.ends_with(" words") && counted.contains(" lines, "),
        "{}",
        tried.stdout
    );
    assert!(
        tried.stderr.contains("counting README.md"),
        "the tool's log line: {}",
        tried.stderr
    );
    // `plugin dev` installed nothing.
    let home = env.wharf_home();
    assert!(!home.join("plugins").exists() && !home.join("plugins.lock").exists());

    // A change to the source is built again by the next `plugin dev`.
    let lib = project.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        source.replace("{} lines, {} words", "{} lines; {} words"),
    )
    .unwrap();
    let again = run_steps(&env, &["cd line-count", steps[dev]]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout.trim_end(), counted.replace(", ", "; "));

    let installed = run_steps(&env, &[&["cd line-count"], installing].concat());
    assert_eq!(
        installed.code, 0,
        "{}\n{}",
        installed.stdout, installed.stderr
    );
    assert!(
        installed.stdout.contains("installed in"),
        "{}",
        installed.stdout
    );
    assert_eq!(
        installed.stdout.lines().last().unwrap_or_default(),
        counted.replace(", ", "; ")
    );
    assert!(home.join("plugins/line-count/plugin.toml").is_file());
}

#[test]
fn a_plugin_under_development_is_checked_and_a_bad_name_refused() {
    let env = Env::new();
    let out = env.wharf(&["plugin", "new", "Bad Name"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the plugin's name is also its directory"),
        "{}",
        out.stderr
    );
    std::fs::create_dir_all(env.cwd().join("taken")).unwrap();
    std::fs::write(env.cwd().join("taken/file"), "").unwrap();
    let out = env.wharf(&["plugin", "new", "taken", "--api-path", "/nonexistent"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("already exists and is not empty"),
        "{}",
        out.stderr
    );
    let out = env.wharf(&["plugin", "dev", "nowhere"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("nowhere"), "{}", out.stderr);
}

/// The build tools of the Python and JavaScript examples, as `cargo xtask
/// test` installs them (`target/language-examples/venv`,
/// `examples/js-word-count/node_modules`).
fn language_tools() -> (PathBuf, PathBuf) {
    let checkout = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| checkout.join("target"), PathBuf::from);
    let venv_bin = target.join("language-examples/venv/bin");
    let node_modules = checkout.join("examples/js-word-count/node_modules");
    assert!(
        venv_bin.join("componentize-py").is_file()
            && node_modules.join(".bin/componentize-js").exists(),
        "componentize-py or componentize-js is missing: run `cargo xtask language-examples`"
    );
    (venv_bin, node_modules)
}

#[test]
fn the_printed_steps_build_and_try_python_and_js_plugins() {
    let (venv_bin, node_modules) = language_tools();
    for lang in ["python", "js"] {
        let env = Env::new();
        let created = env
            .wharf(&["plugin", "new", "counter", "--lang", lang])
            .success();
        let project = env.cwd().join("counter");
        assert!(project.join("wit/plugin.wit").is_file());
        // What the `# once` and `npm install` steps would fetch from the
        // registries, already installed.
        if lang == "js" {
            std::os::unix::fs::symlink(&node_modules, project.join("node_modules")).unwrap();
        }
        let steps: Vec<String> = created
            .stdout
            .lines()
            .skip_while(|line| *line != "next steps:")
            .skip(1)
            .filter(|line| !line.starts_with('#') && *line != "npm install")
            .take_while(|line| !line.starts_with("wharf plugin add"))
            .map(|line| {
                line.replace(
                    "componentize-py ",
                    &format!("{}/componentize-py ", venv_bin.display()),
                )
            })
            .collect();
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        let tried = run_steps(&env, &steps);
        assert_eq!(tried.code, 0, "{lang}: {}\n{}", tried.stdout, tried.stderr);
        let counted = tried.stdout.lines().last().unwrap_or_default();
        assert!(counted.ends_with(" words"), "{lang}: {}", tried.stdout);
        assert!(!env.wharf_home().join("plugins").exists());
    }
}

#[test]
fn a_js_plugin_built_with_http_is_refused_naming_the_flag() {
    let (_, node_modules) = language_tools();
    let env = Env::new();
    env.wharf(&["plugin", "new", "counter", "--lang", "js"])
        .success();
    let project = env.cwd().join("counter");
    std::os::unix::fs::symlink(&node_modules, project.join("node_modules")).unwrap();
    // The build without `--disable http fetch-event`: the component
    // imports wasi:http.
    let built = run_steps(
        &env,
        &[
            "cd counter",
            "node_modules/.bin/componentize-js plugin.js --wit wit --world-name plugin \
             --out counter.wasm",
        ],
    );
    assert_eq!(built.code, 0, "{}", built.stderr);
    for command in ["add", "dev"] {
        let out = env.wharf(&["plugin", command, "counter"]);
        assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("the component imports `wasi:http/")
                && out.stderr.contains("pass `--disable http`"),
            "{}",
            out.stderr
        );
        assert!(!env.wharf_home().join("plugins").exists());
    }
}
