//! What the model reads: token estimates, middle truncation and the
//! response header, in codex's format.

use std::fmt;
use std::time::Duration;

use crate::SessionId;
use crate::buffer::Unread;

/// Tokens `bytes` of output are estimated to cost: one per four bytes,
/// rounded up (codex's estimate).
pub fn estimate_tokens(bytes: u64) -> u64 {
    bytes.div_ceil(4)
}

/// Output cut to at most about `max_tokens` tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncated {
    pub text: String,
    /// The token estimate of all the output, when some of it was left out.
    pub original_tokens: Option<u64>,
}

/// The marker that stands for `removed` tokens left out of the middle.
pub fn marker(removed: u64) -> String {
    format!("…{removed} tokens truncated…")
}

/// `unread` as text of at most `max_tokens` tokens (plus the marker): the
/// first and the last halves of the budget, with [`marker`] in the middle.
/// Bytes the buffer already dropped count as truncated too; they are in
/// the middle already.
pub fn truncate(unread: &Unread, max_tokens: u64) -> Truncated {
    let bytes = [unread.head.as_slice(), unread.tail.as_slice()].concat();
    let total = unread.total_len();
    if unread.dropped == 0 && estimate_tokens(total) <= max_tokens {
        return Truncated {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            original_tokens: None,
        };
    }
    let budget = usize::try_from(max_tokens.saturating_mul(4)).unwrap_or(usize::MAX);
    let want_head = budget / 2;
    let want_tail = budget - want_head;
    // With a gap, the marker goes where the gap is.
    let gap = unread.head.len();
    let (head_end, tail_start) = if unread.dropped == 0 {
        (want_head, bytes.len().saturating_sub(want_tail))
    } else {
        (
            want_head.min(gap),
            bytes.len().saturating_sub(want_tail).max(gap),
        )
    };
    let head_end = char_start(&bytes, head_end.min(bytes.len()));
    let tail_start = char_start(&bytes, tail_start.max(head_end));
    let kept = (head_end + bytes.len() - tail_start) as u64;
    let original = estimate_tokens(total);
    let removed = original.saturating_sub(estimate_tokens(kept));
    let text = format!(
        "{}{}{}",
        String::from_utf8_lossy(&bytes[..head_end]),
        marker(removed),
        String::from_utf8_lossy(&bytes[tail_start..]),
    );
    Truncated {
        text,
        original_tokens: Some(original),
    }
}

/// `at`, moved back to the start of the UTF-8 character it is inside (a
/// cut never splits a character; invalid UTF-8 moves at most 3 bytes).
fn char_start(bytes: &[u8], mut at: usize) -> usize {
    let is_continuation = |byte: u8| byte & 0b1100_0000 == 0b1000_0000;
    for _ in 0..3 {
        match bytes.get(at) {
            Some(&byte) if at > 0 && is_continuation(byte) => at -= 1,
            _ => break,
        }
    }
    at
}

/// Whether the process is still running after a call, and how to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It exited (a signal `n` is reported as `128 + n`, as shells do).
    Exited(i32),
    /// It still runs; `write_stdin` reaches it by this id.
    Running(SessionId),
}

/// The answer to `exec_command` or `write_stdin`. Its `Display` is what the
/// model reads:
///
/// ```text
/// Wall time: 0.0123 seconds
/// Process exited with code 0            (or: Process running with session ID 3)
/// Original token count: 25000           (only when output was truncated)
/// Output:
/// …the output…
/// Warning: …                            (only with 60 or more sessions open)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The program and its arguments the session runs (not shown to the
    /// model: the host shows it to people).
    pub argv: Vec<String>,
    pub wall_time: Duration,
    pub status: Status,
    pub original_token_count: Option<u64>,
    pub output: String,
    /// A note to the model after the output (too many open sessions).
    pub warning: Option<String>,
}

impl Response {
    /// The exit code, if the process exited.
    pub fn exit_code(&self) -> Option<i32> {
        match self.status {
            Status::Exited(code) => Some(code),
            Status::Running(_) => None,
        }
    }

    /// The session id, if the process still runs.
    pub fn session_id(&self) -> Option<SessionId> {
        match self.status {
            Status::Exited(_) => None,
            Status::Running(id) => Some(id),
        }
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Wall time: {:.4} seconds", self.wall_time.as_secs_f64())?;
        match self.status {
            Status::Exited(code) => writeln!(f, "Process exited with code {code}")?,
            Status::Running(id) => writeln!(f, "Process running with session ID {id}")?,
        }
        if let Some(tokens) = self.original_token_count {
            writeln!(f, "Original token count: {tokens}")?;
        }
        write!(f, "Output:\n{}", self.output)?;
        if let Some(warning) = &self.warning {
            let newline = if self.output.is_empty() || self.output.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            write!(f, "{newline}Warning: {warning}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unread(head: &str, tail: &str, dropped: u64) -> Unread {
        Unread {
            head: head.into(),
            tail: tail.into(),
            dropped,
        }
    }

    #[test]
    fn truncates_the_middle() {
        // (output, max tokens) → (text, original tokens)
        let cases = [
            (unread("", "", 0), 10, "", None),
            (unread("abcdefgh", "", 0), 2, "abcdefgh", None),
            (
                unread("abcdefghi", "", 0),
                2,
                "abcd…1 tokens truncated…fghi",
                Some(3),
            ),
            (
                unread("0123456789abcdefghij", "", 0),
                1,
                "01…4 tokens truncated…ij",
                Some(5),
            ),
            (
                unread("0123456789", "", 0),
                0,
                "…3 tokens truncated…",
                Some(3),
            ),
            // The buffer dropped 8 bytes between head and tail.
            (
                unread("abcd", "wxyz", 8),
                100,
                "abcd…2 tokens truncated…wxyz",
                Some(4),
            ),
            (
                unread("abcd", "wxyz", 8),
                1,
                "ab…3 tokens truncated…yz",
                Some(4),
            ),
            // A cut never splits a character.
            (unread("ééééé", "", 0), 1, "é…2 tokens truncated…é", Some(3)),
        ];
        for (output, max, text, original) in cases {
            let expected = Truncated {
                text: text.to_owned(),
                original_tokens: original,
            };
            assert_eq!(truncate(&output, max), expected, "{output:?} {max}");
        }
    }

    #[test]
    fn formats_the_header() {
        let cases = [
            (
                Response {
                    argv: Vec::new(),
                    wall_time: Duration::from_millis(1234),
                    status: Status::Exited(0),
                    original_token_count: None,
                    output: "hi\n".to_owned(),
                    warning: None,
                },
                "Wall time: 1.2340 seconds\nProcess exited with code 0\nOutput:\nhi\n",
            ),
            (
                Response {
                    argv: Vec::new(),
                    wall_time: Duration::from_micros(250_049),
                    status: Status::Running(SessionId(7)),
                    original_token_count: Some(12345),
                    output: "ab…3 tokens truncated…yz".to_owned(),
                    warning: Some("60 sessions are open.".to_owned()),
                },
                "Wall time: 0.2500 seconds\nProcess running with session ID 7\n\
                 Original token count: 12345\nOutput:\nab…3 tokens truncated…yz\n\
                 Warning: 60 sessions are open.",
            ),
        ];
        for (response, expected) in cases {
            assert_eq!(response.to_string(), expected);
        }
    }
}
