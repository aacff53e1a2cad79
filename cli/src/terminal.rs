//! Text from plugins, MCP servers and models, made safe to print on a
//! terminal.
//!
//! A tool's output is not trusted: printed as it is, `ESC ]0;…` retitles the
//! window, `ESC ]52;…` writes the clipboard, `\r` followed by `ESC [K`
//! erases a line so that the next one can forge a wharf message, and U+202E
//! reverses what follows. Human output passes such text through [`safe`];
//! `--json` output keeps it exactly as it was.

use std::fmt::Write as _;
use std::io::Write as _;

use wharf_runtime::pipeline::{ApprovalRequest, Approver, Decision};

/// `text` with every control character escaped, except newlines and tabs
/// (the TUI's one escaping policy, [`wharf_tui::text::escape`]).
pub use wharf_tui::text::escape as safe;

/// Asks the person at the terminal, y/N, on stderr and stdin; anything but
/// `y` or `yes` (an empty line, end of input, an error) declines.
pub struct TerminalApprover;

impl Approver for TerminalApprover {
    fn decide(&self, request: &ApprovalRequest) -> Decision {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{}", prompt(request));
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

/// What [`TerminalApprover`] shows: the call, the command it runs (else its
/// arguments), the patch, the model's justification, and a question that
/// says what yes does. Everything that came from the model or a tool is
/// shown [`safe`].
fn prompt(request: &ApprovalRequest) -> String {
    let mut text = format!(
        "`{}` (plugin `{}`) needs approval: {}\n",
        safe(&request.tool),
        safe(&request.plugin),
        safe(&request.reason),
    );
    match (&request.command, &request.patch) {
        (Some(command), _) => {
            let _ = writeln!(text, "  command: {}", safe(command));
        }
        (None, Some(_)) => {}
        (None, None) => {
            let _ = writeln!(text, "  arguments: {}", safe(&request.args));
        }
    }
    if let Some(patch) = &request.patch {
        text.push_str("  patch:\n");
        for line in patch.lines() {
            let _ = writeln!(text, "    {}", safe(line));
        }
    }
    if let Some(justification) = &request.justification {
        let _ = writeln!(text, "  justification: {}", safe(justification));
    }
    let question = if request.retry_without_sandbox {
        text.push_str("  it failed in the sandbox; yes runs it again without the sandbox\n");
        "run it again without the sandbox?"
    } else if request.justification.is_some() {
        text.push_str("  yes runs it without the sandbox\n");
        "run it outside the sandbox?"
    } else {
        "run it?"
    };
    let _ = write!(text, "{question} [y/N] ");
    text
}

#[cfg(test)]
mod tests {
    use super::{prompt, safe};
    use wharf_runtime::pipeline::ApprovalRequest;

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

    #[test]
    fn a_prompt_shows_what_the_request_carries() {
        let plain = ApprovalRequest {
            call_id: "c1".into(),
            tool: "exec_command".to_owned(),
            plugin: "unified-exec".to_owned(),
            args: r#"{"cmd":"touch x"}"#.to_owned(),
            reason: "it runs commands".to_owned(),
            command: None,
            patch: None,
            justification: None,
            retry_without_sandbox: false,
        };
        let command = ApprovalRequest {
            command: Some("touch x\x1b]0;pwned\x07".to_owned()),
            ..plain.clone()
        };
        let retry = ApprovalRequest {
            command: Some("touch x".to_owned()),
            reason:
                "`touch x` failed in the sandbox: touch: cannot touch 'x': Read-only file system"
                    .to_owned(),
            retry_without_sandbox: true,
            ..plain.clone()
        };
        let escalation = ApprovalRequest {
            command: Some("touch /x".to_owned()),
            reason: "the model asks to run it outside the sandbox".to_owned(),
            justification: Some("it writes /x".to_owned()),
            ..plain.clone()
        };
        let patch = ApprovalRequest {
            tool: "apply_patch".to_owned(),
            plugin: "apply-patch".to_owned(),
            reason: "it edits files".to_owned(),
            patch: Some("*** Begin Patch\n*** Add File: a\n+hi\n*** End Patch".to_owned()),
            ..plain.clone()
        };
        let cases = [
            (
                plain,
                "`exec_command` (plugin `unified-exec`) needs approval: it runs commands\n  \
                 arguments: {\"cmd\":\"touch x\"}\nrun it? [y/N] ",
            ),
            (
                command,
                "`exec_command` (plugin `unified-exec`) needs approval: it runs commands\n  \
                 command: touch x\\x1b]0;pwned\\x07\nrun it? [y/N] ",
            ),
            (
                retry,
                "`exec_command` (plugin `unified-exec`) needs approval: `touch x` failed in the \
                 sandbox: touch: cannot touch 'x': Read-only file system\n  command: touch x\n  \
                 it failed in the sandbox; yes runs it again without the sandbox\nrun it again \
                 without the sandbox? [y/N] ",
            ),
            (
                escalation,
                "`exec_command` (plugin `unified-exec`) needs approval: the model asks to run it \
                 outside the sandbox\n  command: touch /x\n  justification: it writes /x\n  yes \
                 runs it without the sandbox\nrun it outside the sandbox? [y/N] ",
            ),
            (
                patch,
                "`apply_patch` (plugin `apply-patch`) needs approval: it edits files\n  patch:\n    \
                 *** Begin Patch\n    *** Add File: a\n    +hi\n    *** End Patch\nrun it? [y/N] ",
            ),
        ];
        for (request, shown) in cases {
            assert_eq!(prompt(&request), shown);
        }
    }
}
