//! The shell splitting and the known-safe commands as tables: each row a
//! command line and what wharf makes of it, the tricks included.

use super::command::ShownCommand;
use super::safe::is_known_safe;
use super::shell::split_script;

mod mcp;

#[test]
fn scripts_split_into_commands_or_not_at_all() {
    // (script, its commands' words; None: not judgeable)
    let rows: &[(&str, Option<&[&[&str]]>)] = &[
        ("ls -la", Some(&[&["ls", "-la"]])),
        ("  ls   -la  ", Some(&[&["ls", "-la"]])),
        ("ls && pwd", Some(&[&["ls"], &["pwd"]])),
        (
            "ls&&pwd||true;echo a|wc -l",
            Some(&[&["ls"], &["pwd"], &["true"], &["echo", "a"], &["wc", "-l"]]),
        ),
        ("ls;", Some(&[&["ls"]])),
        ("ls\n\npwd\n", Some(&[&["ls"], &["pwd"]])),
        ("ls &&\n pwd", Some(&[&["ls"], &["pwd"]])),
        (
            "echo 'a b' \"c d\" e\\ f",
            Some(&[&["echo", "a b", "c d", "e f"]]),
        ),
        (
            "echo '$(rm x)' '>' '`x`'",
            Some(&[&["echo", "$(rm x)", ">", "`x`"]]),
        ),
        (
            "echo \"a\\\"b\" \"c\\d\"",
            Some(&[&["echo", "a\"b", "c\\d"]]),
        ),
        ("echo ''", Some(&[&["echo", ""]])),
        ("ec'ho' hi", Some(&[&["echo", "hi"]])),
        ("l\\\ns", Some(&[&["ls"]])),
        ("grep -n a#b", Some(&[&["grep", "-n", "a#b"]])),
        ("cat ~/notes.txt", Some(&[&["cat", "~/notes.txt"]])),
        // Redirections, substitutions, expansions.
        ("cat x > y", None),
        ("cat x>>y", None),
        ("cat < x", None),
        ("diff <(ls) y", None),
        ("cat <<EOF", None),
        ("ls 2>&1", None),
        ("echo $(rm x)", None),
        ("echo `rm x`", None),
        ("echo \"$(rm x)\"", None),
        ("echo \"`rm x`\"", None),
        ("echo $HOME", None),
        ("echo ${HOME}", None),
        ("echo \"$HOME\"", None),
        ("echo $((1+1))", None),
        ("ls *.rs", None),
        ("ls ?", None),
        ("ls [ab]", None),
        ("echo {a,b}", None),
        // Groups, subshells, background, comments.
        ("(rm x)", None),
        ("{ ls; }", None),
        ("ls & rm x", None),
        ("ls |& cat", None),
        ("ls # a comment", None),
        // Broken or empty.
        ("echo 'open", None),
        ("echo \"open", None),
        ("echo a\\", None),
        ("", None),
        ("   ", None),
        ("; ls", None),
        ("ls ;; pwd", None),
        ("ls &&", None),
        ("| ls", None),
        ("ls || ; pwd", None),
        ("ls\r", None),
        ("ls\u{0}", None),
    ];
    for (script, expected) in rows {
        let expected: Option<Vec<Vec<String>>> = expected.map(|commands| {
            commands
                .iter()
                .map(|words| words.iter().map(|w| (*w).to_owned()).collect())
                .collect()
        });
        assert_eq!(split_script(script), expected, "{script:?}");
    }
}

#[test]
fn known_safe_command_lines() {
    // (command line as a shell runs it, safe)
    let rows: &[(&str, bool)] = &[
        ("ls", true),
        ("ls -la src", true),
        ("pwd", true),
        ("cat Cargo.toml", true),
        ("echo hello", true),
        ("head -n 5 a.txt", true),
        ("tail -n 20 log.txt", true),
        ("wc -l src/lib.rs", true),
        ("grep -rn 'fn main' src", true),
        ("rg -n TODO", true),
        ("rg --files", true),
        ("find . -name '*.rs' -type f", true),
        ("git status", true),
        ("git log --oneline -5", true),
        ("git diff HEAD~1 -- src", true),
        ("git show HEAD:Cargo.toml", true),
        ("git branch", true),
        ("git branch -a -v", true),
        ("git branch --list 'feat*'", true),
        ("sed -n 1,20p src/lib.rs", true),
        ("sed -n '5p' a.txt", true),
        ("sed -n '10,$p' a.txt", true),
        ("nl -ba a.txt", true),
        ("cut -d: -f1 a.txt", true),
        ("sort a.txt", true),
        ("sort -u -k2 a.txt", true),
        ("uniq -c a.txt", true),
        ("which cargo", true),
        ("file a.bin", true),
        ("stat a.txt", true),
        ("true", true),
        ("cd src && ls", true),
        ("ls && pwd || echo none; wc -l a | head -1", true),
        ("cat a.txt | grep x | sort | uniq -c | head", true),
        ("echo '$(rm x)' '>' y", true),
        ("echo \"quoted; rm -rf x\"", true),
        ("bash -lc 'ls -la'", true),
        ("sh -c \"git status && ls\"", true),
        // Joined with something that is not safe.
        ("ls; rm -rf x", false),
        ("ls && rm -rf x", false),
        ("cat a | sh", false),
        ("ls || curl http://x", false),
        ("bash -lc 'ls; rm x'", false),
        // Shell syntax that does more than run words.
        ("echo $(rm x)", false),
        ("echo `rm x`", false),
        ("echo \"$(rm x)\"", false),
        ("cat x > y", false),
        ("cat x >> y", false),
        ("echo hi > /etc/passwd", false),
        ("cat < /dev/zero", false),
        ("echo $PATH", false),
        ("ls *", false),
        ("FOO=1 ls", false),
        ("(ls)", false),
        ("ls &", false),
        ("echo 'unclosed", false),
        ("", false),
        // Options that write files or run programs.
        ("find . -delete", false),
        ("find . -name x -exec rm {} ;", false),
        ("find . -execdir rm x ;", false),
        ("find . -ok rm x ;", false),
        ("find . -fprint out", false),
        ("find . -fprintf out %p", false),
        ("find . -fls out", false),
        ("git -c core.pager=evil log", false),
        ("git -C /elsewhere status", false),
        ("git --git-dir=x log", false),
        ("git log --output=x", false),
        ("git log --output x", false),
        ("git diff --out=x", false),
        ("git diff --ext-diff", false),
        ("git branch evil", false),
        ("git branch -D main", false),
        ("git branch -m a b", false),
        ("git checkout main", false),
        ("git push", false),
        ("git commit -m x", false),
        ("git reset --hard", false),
        ("git", false),
        ("sed -i s/a/b/ x", false),
        ("sed -n 1p -i x", false),
        ("sed -n 's/a/b/w out' x", false),
        ("sed -n '1e rm x' a", false),
        ("sed -n 1p --in-place x", false),
        ("sed 1p x", false),
        ("sort -o out a", false),
        ("sort -uo out a", false),
        ("sort --output=out a", false),
        ("sort --out=out a", false),
        ("sort --compress-program=sh a", false),
        ("uniq a b", false),
        ("rg --pre ./evil x", false),
        ("rg --pre=./evil x", false),
        ("rg -z x", false),
        ("rg -iz x", false),
        ("rg --search-zip x", false),
        ("rg --hostname-bin=./evil x", false),
        ("file -C -m magic", false),
        ("file --compile -m magic", false),
        // Not on the list, or not by their bare name.
        ("rm -rf x", false),
        ("./ls", false),
        ("/tmp/ls", false),
        ("/bin/ls", false),
        ("python3 -c 'print(1)'", false),
        ("awk '{print}' a", false),
        ("xargs rm", false),
        ("env ls", false),
        ("tee out", false),
        ("bash", false),
        ("bash -lc", false),
        ("bash -lc ls extra", false),
        ("curl http://x", false),
    ];
    for (line, safe) in rows {
        let command = ShownCommand::Line((*line).to_owned());
        assert_eq!(is_known_safe(&command), *safe, "{line:?}");
    }
}

#[test]
fn known_safe_argv() {
    // (argv run without a shell, exact, safe)
    let rows: &[(&[&str], bool, bool)] = &[
        (&["ls", "-la"], true, true),
        // Without a shell, shell syntax is plain text.
        (&["echo", "$(rm x)", ">", "y"], true, true),
        (&["grep", "a|b", "x"], true, true),
        (&["bash", "-lc", "git status"], true, true),
        (&["/bin/sh", "-c", "ls && pwd"], true, true),
        (&["bash", "-lc", "ls > x"], true, false),
        (&["bash", "-lc", "rm x"], true, false),
        (&["bash", "-x", "ls"], true, false),
        (&["rm", "x"], true, false),
        (&["find", ".", "-delete"], true, false),
        (&["git", "-c", "core.pager=evil", "log"], true, false),
        (&[], true, false),
        // A word that was not a string: shown, never judged.
        (&["ls", "1"], false, false),
    ];
    for (words, exact, safe) in rows {
        let command = ShownCommand::Words {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            exact: *exact,
        };
        assert_eq!(is_known_safe(&command), *safe, "{words:?}");
    }
}
