//! The commands that run without asking under `approval_policy =
//! "untrusted"`: programs that only read and print, with none of the
//! options that make them write a file or run another program.
//!
//! A command line is judged as the shell would run it ([`super::shell`]):
//! every command it joins must be on the list; `bash -lc "…"` and `sh -c
//! "…"` are judged by their script. Only bare program names count (`./ls`
//! or `/tmp/ls` could be anything). The list errs towards asking: an
//! option it does not know to be harmless, in a program that has harmful
//! ones, makes the call ask.

use super::command::ShownCommand;
use super::shell::split_script;

/// Programs that read and print whatever their arguments.
const READ_ONLY: &[&str] = &[
    "basename", "cat", "cd", "cut", "dirname", "echo", "egrep", "false", "fgrep", "grep", "head",
    "id", "ls", "nl", "pwd", "readlink", "realpath", "rev", "seq", "stat", "tail", "tr", "true",
    "wc", "which", "whoami",
];

/// The shells whose `-c` script is judged in their place.
const SHELLS: &[&str] = &[
    "bash",
    "sh",
    "zsh",
    "dash",
    "/bin/bash",
    "/bin/sh",
    "/bin/zsh",
    "/bin/dash",
    "/usr/bin/bash",
    "/usr/bin/sh",
    "/usr/bin/zsh",
    "/usr/bin/dash",
];

/// `find`'s actions that run programs, delete or write files.
const FIND_ACTIONS: &[&str] = &[
    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0", "-fprintf",
];

/// `rg`'s options that run programs (preprocessors, decompressors).
const RG_RUNS: &[&str] = &["--pre", "--pre-glob", "--search-zip", "--hostname-bin"];

/// The `git` subcommands that only read, and the options of `git branch`
/// that list.
const GIT_READS: &[&str] = &["status", "log", "diff", "show", "branch"];
const GIT_BRANCH_LISTS: &[&str] = &[
    "-a",
    "--all",
    "-r",
    "--remotes",
    "-v",
    "-vv",
    "--verbose",
    "--show-current",
    "-l",
    "--list",
    "--no-color",
];

/// Whether `command` only reads and prints, so that it may run without
/// asking.
pub(super) fn is_known_safe(command: &ShownCommand) -> bool {
    match command {
        ShownCommand::Line(line) => is_safe_script(line),
        ShownCommand::Words { words, exact: true } => is_safe_words(words),
        ShownCommand::Words { exact: false, .. } => false,
    }
}

/// Whether the command line `script` joins only safe commands.
fn is_safe_script(script: &str) -> bool {
    split_script(script).is_some_and(|commands| commands.iter().all(|words| is_safe_words(words)))
}

/// Whether the program and arguments `words` only read: a safe program, or
/// a shell running a safe script.
fn is_safe_words(words: &[String]) -> bool {
    if let [shell, flag, script] = words
        && SHELLS.contains(&shell.as_str())
        && matches!(flag.as_str(), "-c" | "-lc")
    {
        return is_safe_script(script);
    }
    let Some((program, args)) = words.split_first() else {
        return false;
    };
    match program.as_str() {
        program if READ_ONLY.contains(&program) => true,
        // `file -C` compiles a magic file, writing it.
        "file" => !args
            .iter()
            .any(|arg| is_long_option(arg, "--compile") || is_short_cluster_with(arg, 'C')),
        "find" => !args.iter().any(|arg| FIND_ACTIONS.contains(&arg.as_str())),
        "rg" => !args.iter().any(|arg| {
            RG_RUNS.iter().any(|option| is_long_option(arg, option))
                || is_short_cluster_with(arg, 'z')
        }),
        // `sort -o FILE` writes; `--compress-program` runs a program.
        "sort" => !args.iter().any(|arg| {
            is_long_option(arg, "--output")
                || is_long_option(arg, "--compress-program")
                || is_short_cluster_with(arg, 'o')
        }),
        // `uniq IN OUT` writes OUT: one file at most.
        "uniq" => args.iter().filter(|arg| !arg.starts_with('-')).count() <= 1,
        "sed" => is_sed_print(args),
        "git" => is_git_read(args),
        _ => false,
    }
}

/// `arg` names the long option `option`, abbreviated or not, with or
/// without `=value` (GNU and git parsers take any unambiguous prefix), or
/// an option whose name starts with it.
fn is_long_option(arg: &str, option: &str) -> bool {
    let name = arg.split('=').next().unwrap_or(arg);
    name.len() > 2
        && name.starts_with("--")
        && (option.starts_with(name) || name.starts_with(option))
}

/// `-xyz`: a cluster of short options that holds `option`.
fn is_short_cluster_with(arg: &str, option: char) -> bool {
    arg.strip_prefix('-')
        .is_some_and(|flags| !flags.starts_with('-') && flags.contains(option))
}

/// `sed -n 'N[,M]p' [FILE…]`: printing lines, nothing else (`sed` scripts
/// can write files and run commands).
fn is_sed_print(args: &[String]) -> bool {
    let [flag, script, files @ ..] = args else {
        return false;
    };
    let address =
        |part: &str| part == "$" || (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    let prints_lines = script.strip_suffix('p').is_some_and(|range| {
        let mut parts = range.splitn(2, ',');
        parts.next().is_some_and(address) && parts.next().is_none_or(address)
    });
    flag == "-n" && prints_lines && files.iter().all(|file| !file.starts_with('-'))
}

/// `git status|log|diff|show|branch …` with the subcommand first (no `-c
/// name=value`, `-C dir` or `--git-dir` before it), no `--output` file and
/// no external diff program; `git branch` only listing.
fn is_git_read(args: &[String]) -> bool {
    let Some((subcommand, args)) = args.split_first() else {
        return false;
    };
    if !GIT_READS.contains(&subcommand.as_str()) {
        return false;
    }
    let harmless =
        |arg: &String| !is_long_option(arg, "--output") && !is_long_option(arg, "--ext-diff");
    if !args.iter().all(harmless) {
        return false;
    }
    if subcommand == "branch" {
        // Without a listing option, a name creates a branch.
        let lists = args.iter().any(|arg| arg == "-l" || arg == "--list");
        return args.iter().all(|arg| {
            GIT_BRANCH_LISTS.contains(&arg.as_str()) || (lists && !arg.starts_with('-'))
        });
    }
    true
}
