//! `[hooks]`: commands run around a session's events, in codex's format
//! (`[[hooks.PreToolUse]]` groups of `[[hooks.PreToolUse.hooks]]`
//! handlers). Unlike other keys, hooks from every file add up: the
//! project's (read only from a trusted project, like its other keys) and
//! the user's all run, lowest layer first, so the user's own hooks see
//! what a project's rewrote; profiles and `-c` add theirs last. An event
//! wharf does not have (codex's `Stop`, `PermissionRequest`, …) and a
//! handler type other than `command` are skipped with a warning.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::layer::{FileLayer, KeyPath, Layered};
use crate::toml_types::hooks::{HookGroupToml, HookHandlerKind, HooksToml};
use crate::{ConfigError, Location, invalid_value};

/// How long a command hook may take unless its `timeout` says.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// The events `[hooks]` names, codex's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEventName {
    PreToolUse,
    PostToolUse,
    SessionStart,
    /// wharf's addition: codex has no `SessionEnd`.
    SessionEnd,
    UserPromptSubmit,
}

impl HookEventName {
    pub const ALL: [HookEventName; 5] = [
        HookEventName::PreToolUse,
        HookEventName::PostToolUse,
        HookEventName::SessionStart,
        HookEventName::SessionEnd,
        HookEventName::UserPromptSubmit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookEventName::PreToolUse => "PreToolUse",
            HookEventName::PostToolUse => "PostToolUse",
            HookEventName::SessionStart => "SessionStart",
            HookEventName::SessionEnd => "SessionEnd",
            HookEventName::UserPromptSubmit => "UserPromptSubmit",
        }
    }

    fn parse(name: &str) -> Option<HookEventName> {
        HookEventName::ALL
            .into_iter()
            .find(|event| event.as_str() == name)
    }
}

/// One command hook, as configured.
#[derive(Debug, Clone)]
pub struct CommandHookConfig {
    pub event: HookEventName,
    /// The whole tool name (or session source) must match; `None` matches
    /// everything.
    pub matcher: Option<regex::Regex>,
    pub command: String,
    pub timeout: Duration,
    pub required: bool,
    /// Its `name`, else its command.
    pub name: String,
    /// Where it is configured (`file:line:col`, or the `-c` argument).
    pub origin: String,
}

impl CommandHookConfig {
    /// Whether the hook is for `name` (a tool, or a session's source).
    pub fn matches(&self, name: &str) -> bool {
        self.matcher.as_ref().is_none_or(|m| m.is_match(name))
    }
}

/// The effective `[hooks]`: every command hook, in the order they run.
#[derive(Debug, Clone, Default)]
pub struct HooksConfig {
    pub commands: Vec<CommandHookConfig>,
}

/// The `[hooks]` of one file, taken out before the files are merged (a
/// higher file's table would replace a lower one's).
pub(crate) struct FileHooks {
    hooks: toml::Value,
    locations: BTreeMap<KeyPath, Location>,
}

/// Takes `[hooks]` out of each of `files`, in their order.
pub(crate) fn take_from_files(files: &mut [FileLayer]) -> Vec<FileHooks> {
    files
        .iter_mut()
        .filter_map(|file| {
            let hooks = file.layered.remove("hooks")?;
            Some(FileHooks {
                hooks,
                locations: file.key_locations.clone(),
            })
        })
        .collect()
}

impl HooksConfig {
    /// The hooks of `files` (lowest first), then those of the merged
    /// profile and `-c` layers (`rest`, whose sources `effective` holds).
    pub(crate) fn resolve(
        files: Vec<FileHooks>,
        rest: &HooksToml,
        effective: &Layered,
        warnings: &mut Vec<String>,
    ) -> Result<HooksConfig, ConfigError> {
        let mut config = HooksConfig::default();
        for file in files {
            // Each file was checked against the schema when it was read.
            let table: HooksToml =
                file.hooks
                    .try_into()
                    .map_err(|err: toml::de::Error| ConfigError::Value {
                        key: "hooks".to_owned(),
                        message: err.message().trim_end().to_owned(),
                    })?;
            for (event, groups) in &table {
                let key = event_key(event);
                let at = file.locations.get(&key).map(ToString::to_string);
                let place = |message: String| match file.locations.get(&key) {
                    Some(at) => ConfigError::Invalid {
                        at: at.clone(),
                        key: crate::display_key(&key),
                        message,
                    },
                    None => ConfigError::Value {
                        key: crate::display_key(&key),
                        message,
                    },
                };
                config.add(event, groups, at, &place, warnings)?;
            }
        }
        for (event, groups) in rest {
            let key = event_key(event);
            let source = effective.sources.get(&key);
            let at = source.map(ToString::to_string);
            let place = |message: String| invalid_value(source, &key, message);
            config.add(event, groups, at, &place, warnings)?;
        }
        Ok(config)
    }

    fn add(
        &mut self,
        event: &str,
        groups: &[HookGroupToml],
        at: Option<String>,
        place: &dyn Fn(String) -> ConfigError,
        warnings: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        let origin = at.unwrap_or_else(|| format!("hooks.{event}"));
        let Some(name) = HookEventName::parse(event) else {
            let known: Vec<&str> = HookEventName::ALL.iter().map(|e| e.as_str()).collect();
            warnings.push(format!(
                "{origin}: `hooks.{event}`: wharf has no `{event}` event (ignored; its events are \
                 {})",
                known.join(", ")
            ));
            return Ok(());
        };
        for group in groups {
            let matcher = matcher(group.matcher.as_deref()).map_err(place)?;
            for handler in &group.hooks {
                if handler.kind != HookHandlerKind::Command {
                    warnings.push(format!(
                        "{origin}: `hooks.{event}`: only `type = \"command\"` hooks run in wharf \
                         (this one is skipped)"
                    ));
                    continue;
                }
                let Some(command) = handler.command.clone().filter(|c| !c.trim().is_empty()) else {
                    return Err(place(
                        "a command hook needs `command` (the shell command to run)".to_owned(),
                    ));
                };
                let timeout = match handler.timeout {
                    None => DEFAULT_HOOK_TIMEOUT,
                    Some(0) => {
                        return Err(place(
                            "`timeout` is in seconds and must be at least 1".to_owned(),
                        ));
                    }
                    Some(seconds) => Duration::from_secs(seconds),
                };
                if handler.run_async == Some(true) {
                    warnings.push(format!(
                        "{origin}: `hooks.{event}`: `async` is not supported (the hook runs to its \
                         answer before the event goes on)"
                    ));
                }
                self.commands.push(CommandHookConfig {
                    event: name,
                    matcher: matcher.clone(),
                    name: handler.name.clone().unwrap_or_else(|| command.clone()),
                    command,
                    timeout,
                    required: handler.required.unwrap_or(false),
                    origin: origin.clone(),
                });
            }
        }
        Ok(())
    }
}

fn event_key(event: &str) -> KeyPath {
    vec!["hooks".to_owned(), event.to_owned()]
}

/// `matcher` as a regular expression the whole name must match; `None`
/// for one that matches everything.
fn matcher(matcher: Option<&str>) -> Result<Option<regex::Regex>, String> {
    match matcher.map(str::trim) {
        None | Some("" | "*") => Ok(None),
        Some(pattern) => regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(Some)
            .map_err(|err| {
                format!(
                    "`matcher` is not a regular expression ({err}); write e.g. `read_file|grep`"
                )
            }),
    }
}
