//! The environment of a stdio server.

use std::collections::BTreeMap;

/// What a stdio server gets from wharf's environment without asking:
/// codex's list (`DEFAULT_ENV_VARS` in its rmcp client), enough for a
/// program to find its tools, home and locale, and no secrets.
pub const DEFAULT_ENV_VARS: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "__CF_USER_TEXT_ENCODING",
    "LANG",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TZ",
];

/// The whole environment of a stdio server: the [`DEFAULT_ENV_VARS`] that
/// `parent` has, then the variables named in `env_vars` (the config's
/// `env_vars`, copied from wharf's environment when set there), then
/// `env` (the config's `env`), which wins.
///
/// `parent` looks a variable up in wharf's environment; it is a parameter
/// so that callers and tests decide what that is.
pub fn stdio_env(
    parent: &dyn Fn(&str) -> Option<String>,
    env_vars: &[String],
    env: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let inherited = DEFAULT_ENV_VARS
        .iter()
        .copied()
        .chain(env_vars.iter().map(String::as_str))
        .filter_map(|name| parent(name).map(|value| (name.to_owned(), value)));
    let mut result: BTreeMap<String, String> = inherited.collect();
    result.extend(env.iter().map(|(key, value)| (key.clone(), value.clone())));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(name: &str) -> Option<String> {
        let vars = [
            ("HOME", "/home/u"),
            ("PATH", "/usr/bin"),
            ("TZ", "UTC"),
            ("SECRET_TOKEN", "s3cr3t"),
            ("AWS_PROFILE", "dev"),
        ];
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn only_the_allowlist_by_default() {
        let env = stdio_env(&parent, &[], &BTreeMap::new());
        assert_eq!(
            env,
            map(&[("HOME", "/home/u"), ("PATH", "/usr/bin"), ("TZ", "UTC")])
        );
    }

    #[test]
    fn env_vars_are_copied_when_set() {
        let names = ["AWS_PROFILE".to_owned(), "NOT_SET".to_owned()];
        let env = stdio_env(&parent, &names, &BTreeMap::new());
        assert_eq!(env.get("AWS_PROFILE").map(String::as_str), Some("dev"));
        assert!(!env.contains_key("NOT_SET"));
        assert!(!env.contains_key("SECRET_TOKEN"));
    }

    #[test]
    fn env_wins() {
        let names = ["AWS_PROFILE".to_owned()];
        let env = stdio_env(
            &parent,
            &names,
            &map(&[
                ("TZ", "Europe/Paris"),
                ("AWS_PROFILE", "prod"),
                ("EXTRA", "1"),
            ]),
        );
        assert_eq!(
            env,
            map(&[
                ("AWS_PROFILE", "prod"),
                ("EXTRA", "1"),
                ("HOME", "/home/u"),
                ("PATH", "/usr/bin"),
                ("TZ", "Europe/Paris"),
            ])
        );
    }

    #[test]
    fn an_empty_parent_gives_only_env() {
        let env = stdio_env(&|_| None, &["HOME".to_owned()], &map(&[("A", "b")]));
        assert_eq!(env, map(&[("A", "b")]));
    }
}
