//! `wharf config show`.

use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

use crate::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration and where each value came from.
    Show {
        /// Print JSON instead of TOML-like lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Shown<'a> {
    wharf_home: &'a std::path::Path,
    cwd: &'a std::path::Path,
    files: &'a [std::path::PathBuf],
    values: Vec<ShownValue<'a>>,
}

#[derive(Serialize)]
struct ShownValue<'a> {
    key: String,
    value: &'a toml::Value,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

pub fn run(command: ConfigCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Show { json } = command;
    let config = global.configure()?.config;
    let entries = config.effective.entries();
    if json {
        let shown = Shown {
            wharf_home: &config.wharf_home,
            cwd: &config.cwd,
            files: &config.files,
            values: entries
                .iter()
                .map(|entry| ShownValue {
                    key: entry.key.clone(),
                    value: entry.value,
                    source: entry.source.kind(),
                    detail: entry.source.detail(),
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("# wharf home: {}", config.wharf_home.display());
    println!("# working directory: {}", config.cwd.display());
    if config.files.is_empty() {
        println!("# files read: none");
    }
    for file in &config.files {
        println!("# file read: {}", file.display());
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|entry| format!("{} = {}", entry.key, entry.value))
        .collect();
    let width = lines.iter().map(String::len).max().unwrap_or(0);
    for (line, entry) in lines.iter().zip(&entries) {
        println!("{line:width$}  # {}", entry.source);
    }
    Ok(ExitCode::SUCCESS)
}
