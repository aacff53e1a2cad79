//! Table-driven tests of the parser, the matcher and `compute`, plus codex's
//! conformance scenarios run against an in-memory tree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::seek::{Found, Haystack, Leniency, ascii_punctuation, seek};
use super::*;

/// codex's apply_patch scenarios (`input/`, `patch.txt`, `expected/`), kept in
/// the shared folder next to the workspace.
const CONFORMANCE_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/apply-patch-codex"
);

/// How many scenarios the folder holds; fewer means it was not found whole.
const CONFORMANCE_SCENARIOS: usize = 23;

// ---------------------------------------------------------------------------
// Helpers

/// An in-memory tree: path → bytes. A path is a directory when some file
/// lies below it.
#[derive(Default)]
struct MemFs(BTreeMap<String, Vec<u8>>);

impl MemFs {
    fn from_texts(files: &[(&str, &str)]) -> Self {
        Self(
            files
                .iter()
                .map(|(path, text)| ((*path).to_owned(), text.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn apply(&mut self, changes: &[FileChange]) {
        for change in changes {
            match change {
                FileChange::Add { path, contents } => {
                    self.0.insert(path.clone(), contents.clone().into_bytes());
                }
                FileChange::Delete { path } => {
                    self.0.remove(path);
                }
                FileChange::Update {
                    path,
                    move_to,
                    contents,
                } => {
                    let dest = move_to.as_ref().unwrap_or(path);
                    self.0.insert(dest.clone(), contents.clone().into_bytes());
                    if move_to.is_some() {
                        self.0.remove(path);
                    }
                }
            }
        }
    }

    fn texts(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(path, bytes)| (path.clone(), String::from_utf8_lossy(bytes).into_owned()))
            .collect()
    }
}

impl FileSource for MemFs {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        if let Some(bytes) = self.0.get(path) {
            return String::from_utf8(bytes.clone())
                .map(Some)
                .map_err(|_| "not valid UTF-8 text".to_owned());
        }
        let below = format!("{path}/");
        if self.0.keys().any(|key| key.starts_with(&below)) {
            return Err("it is a directory".to_owned());
        }
        Ok(None)
    }
}

/// One line per hunk and per chunk, for comparing parses as text.
fn render(hunks: &[Hunk<'_>]) -> String {
    let mut out = String::new();
    for hunk in hunks {
        let line = hunk.line();
        match hunk {
            Hunk::Add { path, contents, .. } => {
                writeln!(out, "{line}: add {path} {contents:?}").unwrap();
            }
            Hunk::Delete { path, .. } => writeln!(out, "{line}: delete {path}").unwrap(),
            Hunk::Update {
                path,
                move_to,
                chunks,
                ..
            } => {
                let dest = move_to
                    .map(|dest| format!(" -> {dest}"))
                    .unwrap_or_default();
                writeln!(out, "{line}: update {path}{dest}").unwrap();
                for chunk in chunks {
                    let eof = if chunk.end_of_file { " eof" } else { "" };
                    writeln!(
                        out,
                        "  {}: @@ {:?}{eof} old={:?} new={:?}",
                        chunk.line, chunk.context, chunk.old, chunk.new
                    )
                    .unwrap();
                }
            }
        }
    }
    out
}

fn parse_error(text: &str) -> PatchError {
    match parse(text) {
        Ok(hunks) => panic!("expected an error, parsed:\n{}", render(&hunks)),
        Err(error) => error,
    }
}

// ---------------------------------------------------------------------------
// Parser

#[test]
fn parser_accepts() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "add file",
            "*** Begin Patch\n*** Add File: a.txt\n+one\n+\n+two\n*** End Patch\n",
            "2: add a.txt \"one\\n\\ntwo\\n\"\n",
        ),
        (
            "add empty file",
            "*** Begin Patch\n*** Add File: empty\n*** End Patch",
            "2: add empty \"\"\n",
        ),
        (
            "every operation",
            "*** Begin Patch\n\
             *** Add File: path/add.py\n\
             +abc\n\
             *** Delete File: path/delete.py\n\
             *** Update File: path/update.py\n\
             *** Move to: path/update2.py\n\
             @@ def f():\n\
             -    pass\n\
             +    return 123\n\
             *** End Patch",
            "2: add path/add.py \"abc\\n\"\n\
             4: delete path/delete.py\n\
             5: update path/update.py -> path/update2.py\n  \
             7: @@ Some(\"def f():\") old=[\"    pass\"] new=[\"    return 123\"]\n",
        ),
        (
            "first chunk without @@",
            "*** Begin Patch\n*** Update File: f.py\n import foo\n+bar\n*** End Patch",
            "2: update f.py\n  3: @@ None old=[\"import foo\"] new=[\"import foo\", \"bar\"]\n",
        ),
        (
            "several chunks, blank lines between hunks and chunks",
            "*** Begin Patch\n\n*** Update File: m.txt\n@@\n-a\n+b\n\n@@ ctx\n-c\n+d\n\n*** Delete File: x\n\n*** End Patch",
            "3: update m.txt\n  \
             4: @@ None old=[\"a\", \"\"] new=[\"b\", \"\"]\n  \
             8: @@ Some(\"ctx\") old=[\"c\", \"\"] new=[\"d\", \"\"]\n\
             12: delete x\n",
        ),
        (
            "update followed by add",
            "*** Begin Patch\n*** Update File: f.py\n@@\n+line\n*** Add File: o.py\n+content\n*** End Patch",
            "2: update f.py\n  3: @@ None old=[] new=[\"line\"]\n5: add o.py \"content\\n\"\n",
        ),
        (
            "end of file marker",
            "*** Begin Patch\n*** Update File: t\n@@\n first\n-second\n+second updated\n*** End of File\n*** End Patch",
            "2: update t\n  3: @@ None eof old=[\"first\", \"second\"] new=[\"first\", \"second updated\"]\n",
        ),
        (
            "padded markers",
            "  *** Begin Patch \n\t*** Update File:   foo.txt  \n  *** Move to: bar.txt \n@@ \n-old\n+new\n*** End of File  \n   *** Add File: b\n+x\n *** End Patch\t",
            "2: update foo.txt -> bar.txt\n  4: @@ None eof old=[\"old\"] new=[\"new\"]\n8: add b \"x\\n\"\n",
        ),
        (
            "context keeps indentation after `@@ `",
            "*** Begin Patch\n*** Update File: f\n@@     fn inner()\n-a\n+b\n*** End Patch",
            "2: update f\n  3: @@ Some(\"    fn inner()\") old=[\"a\"] new=[\"b\"]\n",
        ),
        (
            "unified diff headers lose their line numbers",
            "*** Begin Patch\n*** Update File: f\n@@ -1,3 +1,4 @@ fn main()\n-a\n+b\n@@ -10 +11 @@\n-c\n+d\n*** End Patch",
            "2: update f\n  \
             3: @@ Some(\"fn main()\") old=[\"a\"] new=[\"b\"]\n  \
             6: @@ None old=[\"c\"] new=[\"d\"]\n",
        ),
        (
            "empty line inside a chunk is empty context",
            "*** Begin Patch\n*** Update File: f\n@@\n a\n\n-b\n*** End Patch",
            "2: update f\n  3: @@ None old=[\"a\", \"\", \"b\"] new=[\"a\", \"\"]\n",
        ),
        (
            "indented marker inside a chunk is a context line",
            "*** Begin Patch\n*** Update File: doc.md\n@@\n *** Update File: x\n-a\n+b\n*** End Patch",
            "2: update doc.md\n  3: @@ None old=[\"*** Update File: x\", \"a\"] new=[\"*** Update File: x\", \"b\"]\n",
        ),
        (
            "CRLF patch",
            "*** Begin Patch\r\n*** Update File: f\r\n@@\r\n-a\r\n+b\r\n*** End Patch\r\n",
            "2: update f\n  3: @@ None old=[\"a\"] new=[\"b\"]\n",
        ),
        (
            "heredoc with quoted delimiter, line numbers as sent",
            "<<'EOF'\n*** Begin Patch\n*** Delete File: gone\n*** End Patch\nEOF\n",
            "3: delete gone\n",
        ),
        (
            "heredoc with the command name and another delimiter",
            "apply_patch <<\"PATCH\"\n*** Begin Patch\n*** Delete File: gone\n*** End Patch\nPATCH",
            "3: delete gone\n",
        ),
        (
            "bare heredoc",
            "\n<<EOF\n\n*** Begin Patch\n*** Delete File: gone\n*** End Patch\n\nEOF\n\n",
            "5: delete gone\n",
        ),
        (
            "absolute paths and paths with spaces",
            "*** Begin Patch\n*** Delete File: /tmp/a b.txt\n*** End Patch",
            "2: delete /tmp/a b.txt\n",
        ),
    ];
    for (name, patch, expected) in cases {
        let hunks = parse(patch).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(render(&hunks), *expected, "{name}");
    }
}

#[test]
fn parser_rejects() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "the patch is empty"),
        ("\n  \n", 1, "the patch is empty"),
        (
            "bad",
            1,
            "the first line must be `*** Begin Patch`, found `bad`",
        ),
        (
            "*** Begin Patch",
            1,
            "the last line must be `*** End Patch`",
        ),
        (
            "*** Begin Patch\nbad",
            2,
            "found `bad`; was the patch cut off?",
        ),
        (
            "*** Begin Patch\n*** End Patch",
            2,
            "the patch has no file operations",
        ),
        (
            "*** Begin Patch\n*** Frobnicate File: foo\n*** End Patch",
            2,
            "`*** Frobnicate File: foo` is not a valid file operation; expected `*** Add File: <path>`",
        ),
        (
            "\n\n*** Begin Patch\n*** Delete File: a\nnonsense\n*** End Patch",
            5,
            "`nonsense` is not a valid file operation",
        ),
        (
            "*** Begin Patch\n*** Add File: a\n+one\ntwo\n*** End Patch",
            4,
            "every line of an added file starts with '+'",
        ),
        (
            "*** Begin Patch\n*** Add File:\n+x\n*** End Patch",
            2,
            "`*** Add File:` needs a path",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n*** Move to:  \n@@\n-x\n*** End Patch",
            3,
            "`*** Move to:` needs a path",
        ),
        (
            "*** Begin Patch\n*** Update File: foo.txt\n*** End Patch",
            2,
            "`*** Update File: foo.txt` has no changes",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n*** Move to: b\n*** Delete File: c\n*** End Patch",
            2,
            "`*** Update File: a` has no changes",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\nstray\n*** End Patch",
            6,
            "expected `@@` to start the next change to a, found `stray`",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@\n@@\n-x\n*** End Patch",
            3,
            "the `@@` line of a change to a is not followed by any line",
        ),
        (
            "*** Begin Patch\n*** Update File: a\nstray\n*** End Patch",
            3,
            "unexpected line `stray` in a change to a; each line of a change starts with ' '",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@\n*** End Patch",
            3,
            "the `@@` line of a change to a is not followed by any line starting with ' '",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@ ctx\n*** Delete File: b\n*** End Patch",
            3,
            "the `@@` line of a change to a is not followed by any line",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@\n*** End of File\n*** End Patch",
            4,
            "`*** End of File` must follow the lines of a change",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n-x\n@@@ nope\n-y\n*** End Patch",
            4,
            "expected `@@` to start the next change to a, found `@@@ nope`",
        ),
        (
            "<<'EOF'\n*** Begin Patch\n*** Delete File: a\n*** End Patch",
            4,
            "the heredoc opened by `<<'EOF'` on line 1 is not closed by a `EOF` line",
        ),
        (
            "cd sub && apply_patch <<'EOF'\n*** Begin Patch\n*** Delete File: a\n*** End Patch\nEOF",
            1,
            "the first line must be `*** Begin Patch`",
        ),
    ];
    for (patch, line, message) in cases {
        let error = parse_error(patch);
        assert!(
            matches!(error, PatchError::Parse { .. }),
            "{patch:?}: {error:?}"
        );
        assert_eq!(error.line(), *line, "{patch:?}: {error}");
        assert!(
            error.message().contains(message),
            "{patch:?}: {error}\nexpected it to contain: {message}"
        );
    }
}

#[test]
fn parser_quotes_long_lines_shortened() {
    let long = "x".repeat(500);
    let error = parse_error(&format!("*** Begin Patch\n{long}\n*** End Patch"));
    assert!(error.message().len() < 300, "{error}");
    assert!(error.message().contains('…'), "{error}");
}

#[test]
fn error_display_names_the_line() {
    let error = parse_error("*** Begin Patch\n*** Nope\n*** End Patch");
    assert!(
        error
            .to_string()
            .starts_with("invalid patch, line 2: `*** Nope` is not a valid file operation"),
        "{error}"
    );
    let error = PatchError::Hunk {
        line: 7,
        path: "a".to_owned(),
        message: "cannot update a: no such file".to_owned(),
    };
    assert_eq!(
        error.to_string(),
        "patch line 7: cannot update a: no such file"
    );
}

// ---------------------------------------------------------------------------
// Matcher

#[test]
fn matcher() {
    use Leniency::*;
    type Case<'a> = (
        &'a str,
        &'a [&'a str],
        &'a [&'a str],
        usize,
        bool,
        Option<(usize, Leniency)>,
    );
    // (name, file lines, pattern, start, at_end, expected)
    #[rustfmt::skip]
    let cases: &[Case<'_>] = &[
        ("exact", &["foo", "bar", "baz"], &["bar", "baz"], 0, false, Some((1, Exact))),
        ("trailing whitespace in file", &["foo   ", "bar\t\t"], &["foo", "bar"], 0, false, Some((0, TrailingWhitespace))),
        ("trailing whitespace in pattern", &["foo"], &["foo  "], 0, false, Some((0, TrailingWhitespace))),
        ("indentation", &["    foo   ", "   bar\t"], &["foo", "bar"], 0, false, Some((0, SurroundingWhitespace))),
        ("en dash", &["x = a \u{2013} b"], &["x = a - b"], 0, false, Some((0, Punctuation))),
        ("minus sign and em dash", &["a \u{2212} b \u{2014} c"], &["a - b - c"], 0, false, Some((0, Punctuation))),
        ("curly quotes", &["say \u{201C}hi\u{201D}, it\u{2019}s"], &["say \"hi\", it's"], 0, false, Some((0, Punctuation))),
        ("non-breaking space", &["a\u{00A0}b"], &["a b"], 0, false, Some((0, Punctuation))),
        ("typography in the pattern", &["'q' - \"r\""], &["\u{2018}q\u{2019} \u{2013} \u{201C}r\u{201D}"], 0, false, Some((0, Punctuation))),
        ("punctuation and indentation together", &["    \u{201C}a\u{201D}"], &["\"a\""], 0, false, Some((0, Punctuation))),
        ("long line, several replacements", &["let long_name = \u{201C}some quoted text\u{201D} \u{2014} and more words"], &["let long_name = \"some quoted text\" - and more words"], 0, false, Some((0, Punctuation))),
        ("a strict match later beats a lenient one earlier", &["  foo", "foo"], &["foo"], 0, false, Some((1, Exact))),
        ("search starts at start", &["a", "b", "a"], &["a"], 1, false, Some((2, Exact))),
        ("nothing before start", &["a", "b"], &["a"], 1, false, None),
        ("start past the end", &["a"], &["a"], 5, false, None),
        ("no match", &["foo", "bar"], &["baz"], 0, false, None),
        ("half a window", &["a", "b", "a", "c"], &["a", "c"], 0, false, Some((2, Exact))),
        ("inner whitespace matters", &["foo bar"], &["foo  bar"], 0, false, None),
        ("other punctuation matters", &["a\u{2026}"], &["a..."], 0, false, None),
        ("pattern longer than file", &["one"], &["too", "many"], 0, false, None),
        ("empty pattern matches at start", &["a", "b"], &[], 1, false, Some((1, Exact))),
        ("empty pattern clamps to the end", &["a"], &[], 9, false, Some((1, Exact))),
        ("empty file", &[], &["a"], 0, false, None),
        ("eof anchors at the end", &["a", "b", "a"], &["a"], 0, true, Some((2, Exact))),
        ("eof rejects an earlier match", &["a", "b"], &["a"], 0, true, None),
        ("eof is lenient too", &["x", "b  "], &["b"], 0, true, Some((1, TrailingWhitespace))),
        ("eof before start", &["a", "b"], &["b"], 2, true, None),
        ("eof with a multi-line pattern", &["a", "b", "c"], &["b", "c"], 1, true, Some((1, Exact))),
    ];
    for (name, lines, pattern, start, at_end, expected) in cases {
        let found = seek(&Haystack::new(lines), pattern, *start, *at_end);
        let expected = expected.map(|(index, leniency)| Found { index, leniency });
        assert_eq!(found, expected, "{name}");
    }
}

/// The matcher's contract, written as plainly as possible: each level in
/// turn, every position in turn.
fn reference_seek(lines: &[&str], pattern: &[&str], start: usize, at_end: bool) -> Option<Found> {
    fn normalized(line: &str) -> String {
        line.trim().chars().map(ascii_punctuation).collect()
    }
    let same = |leniency: Leniency, a: &str, b: &str| match leniency {
        Leniency::Exact => a == b,
        Leniency::TrailingWhitespace => a.trim_end() == b.trim_end(),
        Leniency::SurroundingWhitespace => a.trim() == b.trim(),
        Leniency::Punctuation => normalized(a) == normalized(b),
    };
    if pattern.is_empty() {
        let index = start.min(lines.len());
        return Some(Found {
            index,
            leniency: Leniency::Exact,
        });
    }
    let last = lines.len().checked_sub(pattern.len())?;
    let positions: Vec<usize> = if at_end {
        vec![last]
    } else {
        (start..=last).collect()
    };
    let levels = [
        Leniency::Exact,
        Leniency::TrailingWhitespace,
        Leniency::SurroundingWhitespace,
        Leniency::Punctuation,
    ];
    for leniency in levels {
        for &index in positions.iter().filter(|&&index| index >= start) {
            if pattern
                .iter()
                .enumerate()
                .all(|(offset, line)| same(leniency, lines[index + offset], line))
            {
                return Some(Found { index, leniency });
            }
        }
    }
    None
}

#[test]
fn matcher_agrees_with_reference_on_generated_files() {
    // Few distinct words, so that lines repeat and windows half-match;
    // variants that only the lenient levels see through; long lines, so
    // that hashing crosses its 8-byte words.
    let words = [
        "x",
        "}",
        "",
        "let a = b - c;",
        "let a = b \u{2013} c;",
        "say(\"a quite long line of quoted text\");",
        "say(\u{201C}a quite long line of quoted text\u{201D});",
        "it\u{2019}s\u{00A0}fine",
        "it's fine",
    ];
    let decorate = ["", "  ", "\t", " \u{3000}"];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % bound as u64).unwrap()
    };
    for round in 0..400 {
        let owned: Vec<String> = (0..next(60))
            .map(|_| {
                let word = words[next(words.len())];
                format!("{}{word}{}", decorate[next(4)], decorate[next(4)])
            })
            .collect();
        let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
        let pattern_owned: Vec<String> = (0..next(4))
            .map(|_| format!("{}{}", decorate[next(2)], words[next(words.len())]))
            .collect();
        let pattern: Vec<&str> = pattern_owned.iter().map(String::as_str).collect();
        let start = next(lines.len() + 2);
        let at_end = next(5) == 0;
        assert_eq!(
            seek(&Haystack::new(&lines), &pattern, start, at_end),
            reference_seek(&lines, &pattern, start, at_end),
            "round {round}: {lines:?} / {pattern:?} from {start}, at_end {at_end}"
        );
    }
}

#[test]
fn matcher_finds_lines_past_the_first_blocks() {
    let owned: Vec<String> = (0..100)
        .map(|i| format!("    line {i} \u{2014} text"))
        .collect();
    let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
    let haystack = Haystack::new(&lines);
    for target in [0, 15, 16, 17, 63, 99] {
        let pattern = format!("line {target} - text");
        let found = seek(&haystack, &[pattern.as_str()], 0, false);
        assert_eq!(
            found,
            Some(Found {
                index: target,
                leniency: Leniency::Punctuation
            }),
            "{pattern}"
        );
    }
}

#[test]
fn punctuation_table() {
    let typographic = "\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2212}\
                       \u{2018}\u{2019}\u{201A}\u{201B}\u{201C}\u{201D}\u{201E}\u{201F}\
                       \u{00A0}\u{2002}\u{2003}\u{2009}\u{200A}\u{202F}\u{205F}\u{3000}";
    let ascii: String = typographic.chars().map(ascii_punctuation).collect();
    assert_eq!(ascii, "-------''''\"\"\"\"        ");
    assert_eq!(ascii_punctuation('é'), 'é');
    assert_eq!(ascii_punctuation('-'), '-');
}

// ---------------------------------------------------------------------------
// compute

struct ComputeCase<'a> {
    name: &'a str,
    files: &'a [(&'a str, &'a str)],
    patch: &'a str,
    /// The whole tree after applying the changes.
    expected: &'a [(&'a str, &'a str)],
    /// Patch line and part of the message of the expected error.
    error: Option<(usize, &'a str)>,
}

fn check_compute(case: &ComputeCase<'_>) {
    let mut fs = MemFs::from_texts(case.files);
    let applied = compute(case.patch, &fs);
    match (&applied.error, case.error) {
        (None, None) => {}
        (Some(error), Some((line, message))) => {
            assert_eq!(error.line(), line, "{}: {error}", case.name);
            assert!(
                error.message().contains(message),
                "{}: {error}\nexpected it to contain: {message}",
                case.name
            );
        }
        (error, expected) => panic!("{}: got {error:?}, expected {expected:?}", case.name),
    }
    fs.apply(&applied.changes);
    let expected: Vec<(String, String)> = case
        .expected
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect();
    assert_eq!(fs.texts(), expected, "{}", case.name);
}

#[test]
fn compute_cases() {
    let cases = [
        ComputeCase {
            name: "add, update and delete",
            files: &[("a", "one\ntwo\n"), ("b", "bye\n")],
            patch: "*** Begin Patch\n*** Add File: c\n+new\n*** Update File: a\n@@\n-two\n+2\n*** Delete File: b\n*** End Patch",
            expected: &[("a", "one\n2\n"), ("c", "new\n")],
            error: None,
        },
        ComputeCase {
            name: "@@ context picks the second of two lookalikes",
            files: &[("f.rs", "fn a() {\n    x\n}\nfn b() {\n    x\n}\n")],
            patch: "*** Begin Patch\n*** Update File: f.rs\n@@ fn b() {\n-    x\n+    y\n*** End Patch",
            expected: &[("f.rs", "fn a() {\n    x\n}\nfn b() {\n    y\n}\n")],
            error: None,
        },
        ComputeCase {
            name: "chunks apply in order, each after the previous",
            files: &[("f", "x\nx\nx\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-x\n+1\n@@\n-x\n+2\n@@\n-x\n+3\n*** End Patch",
            expected: &[("f", "1\n2\n3\n")],
            error: None,
        },
        ComputeCase {
            name: "context line not found",
            files: &[("f", "a\nb\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-a\n+A\n@@ class Missing\n-b\n+B\n*** End Patch",
            expected: &[("f", "a\nb\n")],
            error: Some((
                6,
                "cannot update f: the context line `@@ class Missing` was not found after line 1",
            )),
        },
        ComputeCase {
            name: "lines not found",
            files: &[("f", "a\nb\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n a\n-c\n+C\n*** End Patch",
            expected: &[("f", "a\nb\n")],
            error: Some((
                3,
                "cannot update f: the lines to change were not found:\na\nc\nre-read the file",
            )),
        },
        ComputeCase {
            name: "End of File anchors at the end",
            files: &[("f", "x\ny\nx\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-x\n+z\n*** End of File\n*** End Patch",
            expected: &[("f", "x\ny\nz\n")],
            error: None,
        },
        ComputeCase {
            name: "End of File refuses lines that do not end the file",
            files: &[("f", "x\ny\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-x\n+z\n*** End of File\n*** End Patch",
            expected: &[("f", "x\ny\n")],
            error: Some((3, "were not found at the end of the file")),
        },
        ComputeCase {
            name: "pure addition goes to the end",
            files: &[("f", "a\nb\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n+c\n*** End Patch",
            expected: &[("f", "a\nb\nc\n")],
            error: None,
        },
        ComputeCase {
            name: "pure addition goes before a final blank line",
            files: &[("f", "a\n\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n+b\n*** End Patch",
            expected: &[("f", "a\nb\n\n")],
            error: None,
        },
        ComputeCase {
            name: "pure addition after an @@ context line",
            files: &[("f.py", "def f():\n    return 1\n\ndef g():\n    return 2\n")],
            patch: "*** Begin Patch\n*** Update File: f.py\n@@ def f():\n+    \"\"\"doc\"\"\"\n*** End Patch",
            expected: &[(
                "f.py",
                "def f():\n    \"\"\"doc\"\"\"\n    return 1\n\ndef g():\n    return 2\n",
            )],
            error: None,
        },
        ComputeCase {
            name: "pure addition into an empty file",
            files: &[("f", "")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n+first\n*** End Patch",
            expected: &[("f", "first\n")],
            error: None,
        },
        ComputeCase {
            name: "end insertion landing inside a replaced range goes after it",
            files: &[("f", "a\nb\n\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-b\n-\n+B\n@@\n+tail\n*** End Patch",
            expected: &[("f", "a\nB\ntail\n")],
            error: None,
        },
        ComputeCase {
            name: "a trailing blank context line is retried without",
            files: &[("f", "a\nb\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n a\n-b\n+c\n\n*** End Patch",
            expected: &[("f", "a\nc\n")],
            error: None,
        },
        ComputeCase {
            name: "several trailing blank lines are retried without",
            files: &[("f", "a\nb\nc\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n a\n-b\n+B\n\n\n*** End Patch",
            expected: &[("f", "a\nB\nc\n")],
            error: None,
        },
        ComputeCase {
            name: "blank lines that do match are kept",
            files: &[("f", "a\n\n\nb\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-a\n+A\n\n\n*** End Patch",
            expected: &[("f", "A\n\n\nb\n")],
            error: None,
        },
        ComputeCase {
            name: "deleting every line leaves an empty file",
            files: &[("f", "a\nb")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-a\n-b\n*** End Patch",
            expected: &[("f", "")],
            error: None,
        },
        ComputeCase {
            name: "a missing final newline is added",
            files: &[("f", "a\nb")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-a\n+A\n*** End Patch",
            expected: &[("f", "A\nb\n")],
            error: None,
        },
        ComputeCase {
            name: "CRLF files stay CRLF",
            files: &[("f", "a\r\nb\r\nc\r\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n a\n-b\n+B\n+B2\n*** End Patch",
            expected: &[("f", "a\r\nB\r\nB2\r\nc\r\n")],
            error: None,
        },
        ComputeCase {
            name: "untouched lines keep their own endings",
            files: &[("f", "a\r\nb\nc\r\nd")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-c\n+C\n*** End Patch",
            expected: &[("f", "a\r\nb\nC\r\nd\r\n")],
            error: None,
        },
        ComputeCase {
            name: "a byte-order mark does not hide the first line",
            files: &[("f", "\u{feff}first\nsecond\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-first\n+1st\n*** End Patch",
            expected: &[("f", "\u{feff}1st\nsecond\n")],
            error: None,
        },
        ComputeCase {
            name: "whitespace-lenient match writes the patch's lines",
            files: &[("f", "    if x:   \n        go()\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n if x:\n-    go()\n+    stop()\n*** End Patch",
            expected: &[("f", "if x:\n    stop()\n")],
            error: None,
        },
        ComputeCase {
            name: "unicode punctuation match",
            files: &[("f", "// a \u{2014} b\nlet s = \u{201C}x\u{201D};\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@ // a - b\n-let s = \"x\";\n+let s = \"y\";\n*** End Patch",
            expected: &[("f", "// a \u{2014} b\nlet s = \"y\";\n")],
            error: None,
        },
        ComputeCase {
            name: "a later hunk sees an earlier update of the same file",
            files: &[("f", "a\nb\n")],
            patch: "*** Begin Patch\n*** Update File: f\n@@\n-a\n+A\n*** Update File: f\n@@\n A\n-b\n+B\n*** End Patch",
            expected: &[("f", "A\nB\n")],
            error: None,
        },
        ComputeCase {
            name: "update a file added earlier, under another spelling",
            files: &[],
            patch: "*** Begin Patch\n*** Add File: d/n.txt\n+one\n*** Update File: ./d//n.txt\n@@\n-one\n+two\n*** End Patch",
            expected: &[("./d//n.txt", "two\n"), ("d/n.txt", "one\n")],
            error: None,
        },
        ComputeCase {
            name: "delete then add the same path",
            files: &[("f", "old\n")],
            patch: "*** Begin Patch\n*** Delete File: f\n*** Add File: f\n+new\n*** End Patch",
            expected: &[("f", "new\n")],
            error: None,
        },
        ComputeCase {
            name: "a deleted file cannot be deleted again",
            files: &[("f", "old\n")],
            patch: "*** Begin Patch\n*** Delete File: f\n*** Delete File: f\n*** End Patch",
            expected: &[],
            error: Some((3, "cannot delete f: no such file")),
        },
        ComputeCase {
            name: "move, then update the destination",
            files: &[("a", "1\n")],
            patch: "*** Begin Patch\n*** Update File: a\n*** Move to: b\n@@\n-1\n+2\n*** Update File: b\n@@\n-2\n+3\n*** Update File: a\n@@\n-1\n+x\n*** End Patch",
            expected: &[("b", "3\n")],
            error: Some((11, "cannot update a: no such file")),
        },
        ComputeCase {
            name: "a move onto itself is an update",
            files: &[("a", "1\n")],
            patch: "*** Begin Patch\n*** Update File: a\n*** Move to: ./a\n@@\n-1\n+2\n*** End Patch",
            expected: &[("a", "2\n")],
            error: None,
        },
        ComputeCase {
            name: "update of a missing file keeps earlier changes",
            files: &[],
            patch: "*** Begin Patch\n*** Add File: made\n+hi\n*** Update File: missing.txt\n@@\n-old\n+new\n*** Add File: never\n+x\n*** End Patch",
            expected: &[("made", "hi\n")],
            error: Some((
                4,
                "cannot update missing.txt: no such file; to create it, use `*** Add File: missing.txt`",
            )),
        },
        ComputeCase {
            name: "update of a directory",
            files: &[("d/x", "1\n")],
            patch: "*** Begin Patch\n*** Update File: d\n@@\n-1\n+2\n*** End Patch",
            expected: &[("d/x", "1\n")],
            error: Some((2, "cannot update d: it is a directory")),
        },
        ComputeCase {
            name: "delete of a directory",
            files: &[("d/x", "1\n")],
            patch: "*** Begin Patch\n*** Delete File: d\n*** End Patch",
            expected: &[("d/x", "1\n")],
            error: Some((2, "cannot delete d: it is a directory")),
        },
        ComputeCase {
            name: "a parse error changes nothing",
            files: &[("f", "a\n")],
            patch: "*** Begin Patch\n*** Add File: g\n+x\n*** Bogus\n*** End Patch",
            expected: &[("f", "a\n")],
            error: Some((4, "`*** Bogus` is not a valid file operation")),
        },
    ];
    for case in &cases {
        check_compute(case);
    }
}

#[test]
fn compute_reports_unreadable_files() {
    let mut fs = MemFs::default();
    fs.0.insert("bin".to_owned(), vec![0xff, 0xfe, b'\n']);
    let applied = compute(
        "*** Begin Patch\n*** Update File: bin\n@@\n-x\n+y\n*** End Patch",
        &fs,
    );
    assert!(applied.changes.is_empty());
    let error = applied.error.unwrap();
    assert_eq!(error.message(), "cannot update bin: not valid UTF-8 text");
    assert!(matches!(error, PatchError::Hunk { ref path, .. } if path == "bin"));
}

#[test]
fn compute_returns_paths_as_written() {
    let fs = MemFs::from_texts(&[("/abs/old.txt", "a\n")]);
    let applied = compute(
        "*** Begin Patch\n*** Update File: /abs/old.txt\n*** Move to: rel/new.txt\n@@\n-a\n+b\n*** Add File: ../up.txt\n+u\n*** End Patch",
        &fs,
    );
    assert_eq!(applied.error, None);
    assert_eq!(
        applied.changes,
        vec![
            FileChange::Update {
                path: "/abs/old.txt".to_owned(),
                move_to: Some("rel/new.txt".to_owned()),
                contents: "b\n".to_owned(),
            },
            FileChange::Add {
                path: "../up.txt".to_owned(),
                contents: "u\n".to_owned(),
            },
        ]
    );
}

#[test]
fn summary_lists_added_modified_deleted() {
    let changes = [
        FileChange::Delete {
            path: "gone".to_owned(),
        },
        FileChange::Update {
            path: "m".to_owned(),
            move_to: None,
            contents: String::new(),
        },
        FileChange::Add {
            path: "new".to_owned(),
            contents: String::new(),
        },
        FileChange::Update {
            path: "old".to_owned(),
            move_to: Some("moved".to_owned()),
            contents: String::new(),
        },
        FileChange::Update {
            path: "m".to_owned(),
            move_to: None,
            contents: String::new(),
        },
    ];
    assert_eq!(
        summary(&changes),
        "Success. Updated the following files:\nA new\nM m\nM moved\nD gone\n"
    );
}

// ---------------------------------------------------------------------------
// Conformance scenarios

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, prefix: &str, tree: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
            .map(|entry| entry.unwrap())
            .collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name().into_string().unwrap();
            let key = format!("{prefix}{name}");
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &format!("{key}/"), tree);
            } else {
                tree.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut tree = BTreeMap::new();
    if root.is_dir() {
        walk(root, "", &mut tree);
    }
    tree
}

#[test]
fn conformance_scenarios() {
    let dir = Path::new(CONFORMANCE_DIR);
    let mut scenarios: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("conformance folder {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    scenarios.sort();
    assert!(
        scenarios.len() >= CONFORMANCE_SCENARIOS,
        "{} holds {} scenarios, expected at least {CONFORMANCE_SCENARIOS}",
        dir.display(),
        scenarios.len()
    );
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let name = scenario.file_name().unwrap().to_string_lossy().into_owned();
        let patch = std::fs::read_to_string(scenario.join("patch.txt")).unwrap();
        let mut fs = MemFs(read_tree(&scenario.join("input")));
        let applied = compute(&patch, &fs);
        fs.apply(&applied.changes);
        let expected = read_tree(&scenario.join("expected"));
        if fs.0 != expected {
            let show = |tree: &BTreeMap<String, Vec<u8>>| -> Vec<(String, String)> {
                tree.iter()
                    .map(|(path, bytes)| {
                        (path.clone(), String::from_utf8_lossy(bytes).into_owned())
                    })
                    .collect()
            };
            failures.push(format!(
                "{name}: error {:?}\n  got      {:?}\n  expected {:?}",
                applied.error.map(|error| error.to_string()),
                show(&fs.0),
                show(&expected)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "failing scenarios:\n{}",
        failures.join("\n")
    );
}
