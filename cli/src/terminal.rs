//! Text from plugins, MCP servers and models, made safe to print on a
//! terminal.
//!
//! A tool's output is not trusted: printed as it is, `ESC ]0;…` retitles the
//! window, `ESC ]52;…` writes the clipboard, `\r` followed by `ESC [K`
//! erases a line so that the next one can forge a wharf message, and U+202E
//! reverses what follows. Human output passes such text through [`safe`];
//! `--json` output keeps it exactly as it was.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

use wharf_runtime::pipeline::{ApprovalRequest, Approver, Decision};

/// `text` with every control character escaped, except newlines and tabs:
/// C0 controls (ESC, `\r`, BEL, backspace…) as `\x1b`-style escapes, DEL and
/// the C1 controls likewise, and the Unicode controls that reorder or hide
/// text (bidirectional overrides and isolates, zero-width marks) as
/// `<U+202E>`, so that a reader sees they were there.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !needs_escape(c) {
            shown.push(c);
        } else if u32::from(c) < 0x100 {
            let _ = write!(shown, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(shown, "<U+{:04X}>", u32::from(c));
        }
    }
    Cow::Owned(shown)
}

/// Asks the person at the terminal, y/N, on stderr and stdin; anything but
/// `y` or `yes` (an empty line, end of input, an error) declines.
pub struct TerminalApprover;

impl Approver for TerminalApprover {
    fn decide(&self, request: &ApprovalRequest) -> Decision {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "`{}` (plugin `{}`) needs approval: {}\n  arguments: {}",
            safe(&request.tool),
            safe(&request.plugin),
            request.reason,
            safe(&request.args),
        );
        let _ = write!(stderr, "run it? [y/N] ");
        let _ = stderr.flush();
        drop(stderr);
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return Decision::Deny { reason: None };
        }
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Decision::Approve
        } else {
            Decision::Deny { reason: None }
        }
    }
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        _ if c.is_control() => true,
        // Bidirectional embeddings, overrides and isolates; the marks; the
        // Arabic letter mark; zero-width characters that hide text.
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200B}'..='\u{200F}'
        | '\u{061C}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{FEFF}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        let cases = [
            ("plain text\n\tindented", "plain text\n\tindented"),
            ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
            ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
            ("\x1b[2J", "\\x1b[2J"),
            ("ok\r\x1b[Kerror: forged", "ok\\x0d\\x1b[Kerror: forged"),
            (
                "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
                "\\x1b]8;;http://evil\\x1b\\link\\x1b]8;;\\x1b\\",
            ),
            ("a\u{202E}txt.exe", "a<U+202E>txt.exe"),
            ("\u{9b}31m", "\\x9b31m"),
            ("del\u{7f}", "del\\x7f"),
            ("zero\u{200B}width", "zero<U+200B>width"),
            ("naïve café ✓", "naïve café ✓"),
        ];
        for (input, expected) in cases {
            assert_eq!(safe(input), expected, "{input:?}");
        }
    }
}
