//! The output a process produced since it was last read: the first and the
//! last [`HALF`] bytes, so that a flood cannot grow wharf's memory.

use std::collections::VecDeque;

/// How many bytes each end of the buffer keeps (512 KiB; 1 MiB in all).
pub const HALF: usize = 512 * 1024;

/// Unread output: a head that fills first, then a tail that keeps the most
/// recent bytes, and a count of what fell out between them.
#[derive(Debug)]
pub struct HeadTail {
    half: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
}

/// What [`HeadTail::take`] hands out: the bytes before and after the gap,
/// and how many bytes the gap stands for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unread {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    /// Bytes dropped between `head` and `tail` (0: `head` then `tail` is
    /// all the output).
    pub dropped: u64,
}

impl Unread {
    /// The number of bytes the process wrote, kept or not.
    pub fn total_len(&self) -> u64 {
        (self.head.len() + self.tail.len()) as u64 + self.dropped
    }
}

impl Unread {
    /// Adds what was read after `self`. Two gaps become one: the bytes
    /// between them count as dropped.
    pub fn append(&mut self, later: Unread) {
        if self.dropped == 0 {
            let tail = std::mem::take(&mut self.tail);
            self.head.extend(tail);
        }
        match (self.dropped, later.dropped) {
            (_, 0) => {
                let end = if self.dropped == 0 {
                    &mut self.head
                } else {
                    &mut self.tail
                };
                end.extend(later.head);
                end.extend(later.tail);
            }
            (0, _) => {
                self.head.extend(later.head);
                self.tail = later.tail;
                self.dropped = later.dropped;
            }
            (_, _) => {
                self.dropped += (self.tail.len() + later.head.len()) as u64 + later.dropped;
                self.tail = later.tail;
            }
        }
    }
}

impl Default for HeadTail {
    fn default() -> HeadTail {
        HeadTail::with_half(HALF)
    }
}

impl HeadTail {
    /// A buffer keeping `half` bytes at each end.
    pub fn with_half(half: usize) -> HeadTail {
        HeadTail {
            half,
            head: Vec::new(),
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        let room = self.half - self.head.len();
        if room > 0 {
            let (first, rest) = bytes.split_at(room.min(bytes.len()));
            self.head.extend_from_slice(first);
            bytes = rest;
        }
        if bytes.len() >= self.half {
            // Everything in the tail, and the start of `bytes`, falls out.
            let skip = bytes.len() - self.half;
            self.dropped += (self.tail.len() + skip) as u64;
            self.tail.clear();
            bytes = &bytes[skip..];
        } else {
            let overflow = (self.tail.len() + bytes.len()).saturating_sub(self.half);
            self.tail.drain(..overflow);
            self.dropped += overflow as u64;
        }
        self.tail.extend(bytes);
    }

    pub fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// Everything unread, leaving the buffer empty.
    pub fn take(&mut self) -> Unread {
        let head = std::mem::take(&mut self.head);
        let tail = Vec::from(std::mem::take(&mut self.tail));
        let dropped = std::mem::take(&mut self.dropped);
        Unread {
            head,
            tail,
            dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed(half: usize, chunks: &[&str]) -> Unread {
        let mut buffer = HeadTail::with_half(half);
        for chunk in chunks {
            buffer.push(chunk.as_bytes());
        }
        buffer.take()
    }

    fn unread(head: &str, tail: &str, dropped: u64) -> Unread {
        Unread {
            head: head.into(),
            tail: tail.into(),
            dropped,
        }
    }

    #[test]
    fn keeps_the_head_and_the_tail() {
        let cases: &[(&[&str], Unread)] = &[
            (&[], unread("", "", 0)),
            (&["ab"], unread("ab", "", 0)),
            (&["abcd"], unread("abcd", "", 0)),
            (&["abcdef"], unread("abcd", "ef", 0)),
            (&["abcdefgh"], unread("abcd", "efgh", 0)),
            (&["abcdefghij"], unread("abcd", "ghij", 2)),
            (&["abcdefghijklmnopqrstuvwxyz"], unread("abcd", "wxyz", 18)),
            (&["ab", "cd", "ef", "gh", "ij"], unread("abcd", "ghij", 2)),
            (&["abc", "defghi", "j", "k"], unread("abcd", "hijk", 3)),
        ];
        for (chunks, expected) in cases {
            let got = pushed(4, chunks);
            assert_eq!(&got, expected, "{chunks:?}");
            let written: usize = chunks.iter().map(|chunk| chunk.len()).sum();
            assert_eq!(got.total_len(), written as u64, "{chunks:?}");
        }
    }

    #[test]
    fn appends_later_output() {
        let cases = [
            (
                unread("ab", "", 0),
                unread("cd", "", 0),
                unread("abcd", "", 0),
            ),
            (
                unread("ab", "cd", 0),
                unread("ef", "gh", 0),
                unread("abcdefgh", "", 0),
            ),
            (
                unread("ab", "cd", 0),
                unread("ef", "gh", 3),
                unread("abcdef", "gh", 3),
            ),
            (
                unread("ab", "cd", 2),
                unread("ef", "", 0),
                unread("ab", "cdef", 2),
            ),
            (
                unread("ab", "cd", 2),
                unread("ef", "gh", 3),
                unread("ab", "gh", 9),
            ),
        ];
        for (mut first, later, expected) in cases {
            let total = first.total_len() + later.total_len();
            first.append(later);
            assert_eq!(first, expected);
            assert_eq!(first.total_len(), total);
        }
    }

    #[test]
    fn take_empties_the_buffer() {
        let mut buffer = HeadTail::with_half(2);
        buffer.push(b"abcdefg");
        assert_eq!(buffer.take(), unread("ab", "fg", 3));
        assert!(buffer.is_empty());
        buffer.push(b"xy");
        assert_eq!(buffer.take(), unread("xy", "", 0));
    }
}
