//! A change as a unified diff, for people to read.

use std::path::Path;

/// Files larger than this (either side) are not diffed, and no more than
/// one byte past it of the old contents is read.
pub(super) const MAX_BYTES: usize = 1 << 20;

/// The change from `old` to `new` of the file at `path` as a unified diff
/// (`---`/`+++` headers, `@@ -a,b +c,d @@` hunks with three lines of
/// context); `None` when either side is not UTF-8 text, is too large, or
/// nothing changed.
pub(super) fn unified(path: &Path, old: &[u8], new: &[u8]) -> Option<String> {
    if old.len() > MAX_BYTES || new.len() > MAX_BYTES || old == new {
        return None;
    }
    let old = std::str::from_utf8(old).ok()?;
    let new = std::str::from_utf8(new).ok()?;
    let name = path.display().to_string();
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string();
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::unified;
    use std::path::Path;

    #[test]
    fn hunks_carry_line_numbers_and_binary_or_equal_sides_have_none() {
        let path = Path::new("/w/a.txt");
        let diff = unified(path, b"one\ntwo\nthree\n", b"one\n2\nthree\nfour\n").unwrap();
        assert_eq!(
            diff,
            "--- /w/a.txt\n+++ /w/a.txt\n@@ -1,3 +1,4 @@\n one\n-two\n+2\n three\n+four\n"
        );
        let added = unified(path, b"", b"new\n").unwrap();
        assert!(added.contains("@@ -0,0 +1 @@\n+new\n"), "{added}");
        assert_eq!(unified(path, b"same\n", b"same\n"), None);
        assert_eq!(unified(path, b"\xff\xfe", b"text\n"), None);
    }
}
