use insta::assert_snapshot;
use ratatui::style::Color;
use ratatui::text::Line;

use super::{Hunk, parse_hunk, patch_lines, unified_diff_lines};
use crate::theme::Theme;

fn rows(lines: &[Line<'_>]) -> String {
    let rows: Vec<String> = lines
        .iter()
        .map(|line| line.to_string().trim_end().to_owned())
        .collect();
    rows.join("\n")
}

#[test]
fn hunk_headers() {
    let cases = [
        ("@@ -1,3 +1,4 @@", Some((1, 3, 1, 4))),
        ("@@ -7 +7,2 @@ fn main() {", Some((7, 1, 7, 2))),
        ("@@ -0,0 +1 @@", Some((0, 0, 1, 1))),
        ("@@ -x,1 +1 @@", None),
        ("@@@ -1 +1 @@@", None),
    ];
    for (line, expected) in cases {
        let expected = expected.map(|(old, old_len, new, new_len)| Hunk {
            old,
            old_len,
            new,
            new_len,
        });
        assert_eq!(parse_hunk(line), expected, "{line}");
    }
}

#[test]
fn a_hunk_line_that_looks_like_a_header_is_content() {
    // A removed line `-- x` reads `--- x` in the diff: it is in the hunk.
    let diff = "--- a/f\n+++ b/f\n@@ -1,2 +1,1 @@\n--- x\n keep\n";
    let theme = Theme::new(true);
    let lines = unified_diff_lines(diff, &theme, 40);
    assert_snapshot!(rows(&lines), @r"
    --- a/f
    +++ b/f
    @@ -1,2 +1,1 @@
    1   --- x
    2 1  keep
    ");
    let removed = &lines[3].spans[1];
    assert_eq!(removed.style.fg, Some(Color::Red));
}

#[test]
fn an_apply_patch_text() {
    let patch = "*** Begin Patch\n*** Update File: src/main.rs\n@@ fn main() {\n-    old();\n+    new();\n     same();\n*** Add File: notes.txt\n+hello\n*** Delete File: gone.rs\n*** Update File: a.rs\n*** Move to: b.rs\n*** End Patch\n";
    let theme = Theme::new(true);
    let lines = patch_lines(patch, &theme, 30);
    assert_snapshot!(rows(&lines));
    let styles: Vec<Option<Color>> = lines
        .iter()
        .map(|line| line.spans.first().and_then(|span| span.style.fg))
        .collect();
    assert_eq!(styles[3], Some(Color::Red));
    assert_eq!(styles[4], Some(Color::Green));
}
