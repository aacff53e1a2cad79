//! `[shell_environment_policy]`: the environment every process a tool
//! starts gets, built from wharf's own in codex's order: `inherit`, the
//! default excludes (`*KEY*`, `*SECRET*`, `*TOKEN*`), `exclude`, `set`,
//! `include_only`.

use std::collections::BTreeMap;

use super::layer::{KeyPath, Layered};
use super::toml_types::{EnvInheritToml, ShellEnvironmentPolicyToml};
use super::{ConfigError, invalid_value};

/// The variables `inherit = "core"` keeps.
const CORE_VARS: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP",
];

/// Names that look like credentials, removed unless
/// `ignore_default_excludes = true`.
const DEFAULT_EXCLUDES: &[&str] = &["*KEY*", "*SECRET*", "*TOKEN*"];

/// The checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPolicy {
    pub inherit: EnvInheritToml,
    pub ignore_default_excludes: bool,
    pub exclude: Vec<String>,
    pub set: BTreeMap<String, String>,
    pub include_only: Vec<String>,
}

impl Default for EnvPolicy {
    /// codex's defaults: everything but the credential-looking names.
    fn default() -> EnvPolicy {
        EnvPolicy {
            inherit: EnvInheritToml::All,
            ignore_default_excludes: false,
            exclude: Vec::new(),
            set: BTreeMap::new(),
            include_only: Vec::new(),
        }
    }
}

impl EnvPolicy {
    /// The policy of `table` (absent: the defaults), its patterns and
    /// names checked.
    pub(super) fn resolve(
        table: Option<&ShellEnvironmentPolicyToml>,
        effective: &Layered,
    ) -> Result<EnvPolicy, ConfigError> {
        let Some(table) = table else {
            return Ok(EnvPolicy::default());
        };
        let policy = EnvPolicy {
            inherit: table.inherit.unwrap_or_default(),
            ignore_default_excludes: table.ignore_default_excludes.unwrap_or(false),
            exclude: table.exclude.clone().unwrap_or_default(),
            set: table.set.clone().unwrap_or_default(),
            include_only: table.include_only.clone().unwrap_or_default(),
        };
        let key = |field: &str| -> KeyPath {
            vec!["shell_environment_policy".to_owned(), field.to_owned()]
        };
        for (field, patterns) in [
            ("exclude", &policy.exclude),
            ("include_only", &policy.include_only),
        ] {
            for pattern in patterns {
                if let Some(problem) = name_problem(pattern) {
                    let key = key(field);
                    let message = format!(
                        "the pattern `{pattern}` {problem}; write a variable name with `*` and `?` as wildcards"
                    );
                    return Err(invalid_value(effective.sources.get(&key), &key, message));
                }
            }
        }
        for name in policy.set.keys() {
            if let Some(problem) = name_problem(name) {
                let mut key = key("set");
                key.push(name.clone());
                let message = format!("the variable name `{name}` {problem}; rename it");
                return Err(invalid_value(effective.sources.get(&key), &key, message));
            }
        }
        Ok(policy)
    }

    /// The environment of a process a tool starts, from `vars` (wharf's),
    /// sorted by name.
    pub fn apply(&self, vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
        let mut env: BTreeMap<String, String> = match self.inherit {
            EnvInheritToml::All => vars.collect(),
            EnvInheritToml::Core => vars
                .filter(|(name, _)| CORE_VARS.contains(&name.as_str()))
                .collect(),
            EnvInheritToml::None => BTreeMap::new(),
        };
        if !self.ignore_default_excludes {
            env.retain(|name, _| !matches_any(DEFAULT_EXCLUDES, name));
        }
        env.retain(|name, _| !matches_any(&self.exclude, name));
        env.extend(self.set.clone());
        if !self.include_only.is_empty() {
            env.retain(|name, _| matches_any(&self.include_only, name));
        }
        env.into_iter().collect()
    }

    /// [`EnvPolicy::apply`] to wharf's own environment (variables that are
    /// not UTF-8 are left out).
    pub fn environment(&self) -> Vec<(String, String)> {
        self.apply(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }
}

/// Why `name` can never name a variable, if it cannot.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains(['=', '\0']) {
        Some("contains `=` or a NUL byte, which no variable name has")
    } else {
        None
    }
}

fn matches_any<S: AsRef<str>>(patterns: &[S], name: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| glob_matches(pattern.as_ref().as_bytes(), name.as_bytes()))
}

/// Whether `name` matches `pattern` (`*`: any run, `?`: any one byte),
/// ASCII case-insensitively.
fn glob_matches(pattern: &[u8], name: &[u8]) -> bool {
    // Greedy with backtracking to the last `*`: linear in practice.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&name[n]) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<(String, String)> {
        [
            ("HOME", "/home/u"),
            ("PATH", "/bin"),
            ("OPENAI_API_KEY", "sk-test"),
            ("my_secret", "x"),
            ("GH_TOKEN", "t"),
            ("EDITOR", "vi"),
            ("CARGO_HOME", "/c"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    fn policy(toml: &str) -> EnvPolicy {
        let table: ShellEnvironmentPolicyToml = toml::from_str(toml).unwrap();
        EnvPolicy::resolve(Some(&table), &Layered::default()).unwrap()
    }

    #[test]
    fn policies_build_environments() {
        let cases: &[(&str, &str)] = &[
            ("", "CARGO_HOME EDITOR HOME PATH"),
            (r#"inherit = "core""#, "HOME PATH"),
            (r#"inherit = "none""#, ""),
            (
                "ignore_default_excludes = true",
                "CARGO_HOME EDITOR GH_TOKEN HOME OPENAI_API_KEY PATH my_secret",
            ),
            (r#"exclude = ["cargo_*", "ED?TOR"]"#, "HOME PATH"),
            (
                r#"inherit = "none"
set = { A = "1", API_KEY = "set" }"#,
                "A API_KEY",
            ),
            (
                r#"set = { PATH = "/x" }
include_only = ["PATH", "H*"]"#,
                "HOME PATH",
            ),
            (r#"include_only = ["*KEY*"]"#, ""),
            (
                r#"ignore_default_excludes = true
include_only = ["*key*"]"#,
                "OPENAI_API_KEY",
            ),
            (
                r#"exclude = ["*"]
set = { B = "2" }"#,
                "B",
            ),
        ];
        for (toml, expected) in cases {
            let env = policy(toml).apply(vars().into_iter());
            let names: Vec<&str> = env.iter().map(|(name, _)| name.as_str()).collect();
            assert_eq!(names.join(" "), *expected, "policy: {toml}");
        }
        let env = policy(r#"set = { PATH = "/x" }"#).apply(vars().into_iter());
        assert!(env.contains(&("PATH".to_owned(), "/x".to_owned())));
    }

    #[test]
    fn globs_match_case_insensitively() {
        let cases: &[(&str, &str, bool)] = &[
            ("*KEY*", "openai_api_key", true),
            ("*KEY*", "KEYS", true),
            ("*KEY*", "KY", false),
            ("A?C", "abc", true),
            ("A?C", "ac", false),
            ("*", "", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("PATH", "PATHS", false),
            ("**", "x", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                glob_matches(pattern.as_bytes(), name.as_bytes()),
                *expected,
                "{pattern} ~ {name}"
            );
        }
    }

    #[test]
    fn bad_patterns_and_names_name_their_key() {
        let cases: &[(&str, &str)] = &[
            (r#"exclude = [""]"#, "shell_environment_policy.exclude"),
            (
                r#"include_only = ["A=B"]"#,
                "shell_environment_policy.include_only",
            ),
            (r#"set = { "A=B" = "1" }"#, "shell_environment_policy.set"),
        ];
        for (toml, key) in cases {
            let table: ShellEnvironmentPolicyToml = toml::from_str(toml).unwrap();
            let err = EnvPolicy::resolve(Some(&table), &Layered::default()).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
    }
}
