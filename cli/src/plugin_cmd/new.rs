//! `wharf plugin new NAME`: a plugin project that builds as generated — a
//! working tool reading a file through the host, its unit test, plugin.toml
//! with every key explained — and the steps to build, try and install it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use wharf_runtime::plugin::manifest::PluginName;
use wharf_runtime::wasm::SUPPORTED_API_VERSIONS;

use crate::UsageError;

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with wharf-plugin-api, built with cargo for wasm32-wasip2.
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with componentize-js.
    Js,
}

/// The plugin-api crate of the checkout this wharf was built from: the
/// default of `--api-path`, while that checkout is still there.
const BUILT_FROM_API: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin-api");

const MANIFEST: &str = include_str!("templates/plugin.toml");
/// The WIT the Python and JavaScript projects build against, and its
/// version (their examples are 0.1.0 components; the Rust project targets
/// plugin-api's version, the latest).
const WIT: &str = include_str!("../../../wit/0.1.0/plugin.wit");
const WIT_API: &str = "0.1.0";
/// The Python and JavaScript projects' tools are the repository's examples
/// (built and called in CI), their tool renamed.
const PYTHON_EXAMPLE: &str = include_str!("../../../examples/python-word-count/app.py");
const JS_EXAMPLE: &str = include_str!("../../../examples/js-word-count/word-count.js");

/// `example`'s source with its tool's name, `tool`, as a placeholder.
fn from_example(example: &str, tool: &str) -> String {
    example.replace(tool, "{{tool}}")
}

/// A file of a project: its path under the project directory and its text.
type File = (&'static str, String);

pub(super) fn new(
    name: &str,
    lang: Lang,
    dir: Option<&Path>,
    api_path: Option<&Path>,
) -> anyhow::Result<()> {
    let name: PluginName = name
        .parse()
        .map_err(|err| UsageError(format!("{err}; the plugin's name is also its directory")))?;
    let dir = dir.map_or_else(|| PathBuf::from(name.as_str()), Path::to_path_buf);
    if dir.exists() && dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} already exists and is not empty; choose another NAME or --dir",
            dir.display()
        );
    }
    let tool = name.as_str().replace('-', "_");
    let vars = Vars {
        name: name.as_str(),
        tool: &tool,
    };
    let files = match lang {
        Lang::Rust => rust(&vars, &api_path_of(api_path)?),
        Lang::Python => python(&vars),
        Lang::Js => js(&vars),
    };
    for (path, text) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("created {} ({lang:?} plugin `{name}`)", dir.display());
    println!();
    println!("next steps:");
    for line in steps(lang, &dir, &tool) {
        println!("{line}");
    }
    Ok(())
}

/// `--api-path`, or the plugin-api this wharf was built from; absolute.
fn api_path_of(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = given.unwrap_or(Path::new(BUILT_FROM_API));
    let resolved = std::fs::canonicalize(path)
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file());
    match (resolved, given) {
        (Some(path), _) => Ok(path),
        (None, Some(given)) => Err(UsageError(format!(
            "--api-path {}: no Cargo.toml there; give the plugin-api directory of a wharf \
             checkout",
            given.display()
        ))
        .into()),
        (None, None) => Err(UsageError(format!(
            "wharf-plugin-api is not on crates.io and the checkout this wharf was built from \
             ({BUILT_FROM_API}) is gone; pass --api-path WHARF_CHECKOUT/plugin-api"
        ))
        .into()),
    }
}

struct Vars<'a> {
    name: &'a str,
    tool: &'a str,
}

impl Vars<'_> {
    fn fill(&self, template: &str, artifact: &str, description: &str) -> String {
        template
            .replace("{{name}}", self.name)
            .replace("{{tool}}", self.tool)
            .replace("{{key}}", self.tool)
            .replace(
                "{{api}}",
                SUPPORTED_API_VERSIONS.last().copied().unwrap_or("0.1.0"),
            )
            .replace("{{artifact}}", artifact)
            .replace("{{description}}", description)
    }
}

const DESCRIPTION: &str = "Counts the lines and words of a text file";

fn rust(vars: &Vars<'_>, api_path: &Path) -> Vec<File> {
    let artifact = format!("target/wasm32-wasip2/release/{}.wasm", vars.tool);
    let api = api_path.display().to_string();
    vec![
        (
            "Cargo.toml",
            vars.fill(include_str!("templates/rust/Cargo.toml"), "", "")
                .replace("{{api_path}}", &api),
        ),
        (
            ".cargo/config.toml",
            include_str!("templates/rust/cargo-config.toml").to_owned(),
        ),
        (
            "src/lib.rs",
            vars.fill(include_str!("templates/rust/lib.rs"), "", ""),
        ),
        ("plugin.toml", vars.fill(MANIFEST, &artifact, DESCRIPTION)),
        (".gitignore", "/target\n".to_owned()),
        ("README.md", readme(vars, Lang::Rust)),
    ]
}

fn python(vars: &Vars<'_>) -> Vec<File> {
    vec![
        (
            "app.py",
            vars.fill(&from_example(PYTHON_EXAMPLE, "py_word_count"), "", ""),
        ),
        (
            "requirements.txt",
            include_str!("templates/python/requirements.txt").to_owned(),
        ),
        ("wit/plugin.wit", WIT.to_owned()),
        (
            "plugin.toml",
            vars.fill(
                &MANIFEST.replace("{{api}}", WIT_API),
                &format!("{}.wasm", vars.tool),
                DESCRIPTION,
            ),
        ),
        (".gitignore", format!("/{}.wasm\n__pycache__/\n", vars.tool)),
        ("README.md", readme(vars, Lang::Python)),
    ]
}

fn js(vars: &Vars<'_>) -> Vec<File> {
    vec![
        (
            "plugin.js",
            vars.fill(&from_example(JS_EXAMPLE, "js_word_count"), "", ""),
        ),
        (
            "package.json",
            vars.fill(include_str!("templates/js/package.json"), "", ""),
        ),
        ("wit/plugin.wit", WIT.to_owned()),
        (
            "plugin.toml",
            vars.fill(
                &MANIFEST.replace("{{api}}", WIT_API),
                &format!("{}.wasm", vars.tool),
                DESCRIPTION,
            ),
        ),
        (
            ".gitignore",
            format!("/{}.wasm\nnode_modules/\n", vars.tool),
        ),
        ("README.md", readme(vars, Lang::Js)),
    ]
}

/// The author's steps, one shell line each (comments start with `#`), run
/// from where `wharf plugin new` ran.
fn steps(lang: Lang, dir: &Path, tool: &str) -> Vec<String> {
    let dir = crate::terminal::safe(&dir.display().to_string()).into_owned();
    let build = match lang {
        Lang::Rust => vec![
            "# once: rustup target add wasm32-wasip2".to_owned(),
            "cargo test".to_owned(),
            "cargo build --target wasm32-wasip2 --release".to_owned(),
        ],
        Lang::Python => vec![
            "# once: python3 -m pip install -r requirements.txt".to_owned(),
            format!(
                "componentize-py --wit-path wit --world plugin componentize --python-path . app \
                 --output {tool}.wasm"
            ),
        ],
        Lang::Js => vec!["npm install".to_owned(), "npm run build".to_owned()],
    };
    let mut lines = vec![format!("cd {dir}")];
    lines.extend(build);
    lines.extend([
        "# build if needed, check and call it without installing it:".to_owned(),
        format!("wharf plugin dev . {tool} --args '{{\"path\": \"README.md\"}}'"),
        "# install it (checks it, shows what it asks for, pins its sha256):".to_owned(),
        "wharf plugin add .".to_owned(),
        format!("wharf tool call {tool} --args '{{\"path\": \"README.md\"}}'"),
        "# after a change: wharf plugin upgrade .".to_owned(),
    ]);
    lines
}

fn readme(vars: &Vars<'_>, lang: Lang) -> String {
    let steps = steps(lang, Path::new("."), vars.tool)
        .into_iter()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "# {name}\n\nA wharf plugin with one tool, `{tool}`: it counts the lines and words of \
         a text file.\n\n`plugin.toml` says what the plugin is and what it may touch; every \
         key is explained there.\n\n## Steps\n\n```sh\n{steps}\n```\n\n`wharf plugin dev` \
         prints the plugin's log lines and panics on stderr. Nothing is installed until \
         `wharf plugin add`.\n",
        name = vars.name,
        tool = vars.tool,
    )
}
