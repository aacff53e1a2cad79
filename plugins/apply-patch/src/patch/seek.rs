//! Finding a chunk's lines in a file (codex's `seek_sequence`).
//!
//! Models copy context from memory, so the lines of a chunk often differ from
//! the file in whitespace or in typographic punctuation. The search tries
//! increasingly lenient comparisons, each over the whole remaining file before
//! the next: a strict match anywhere beats a lenient one earlier in the file,
//! so leniency never moves a change that would have applied exactly.
//!
//! That order means a chunk that only matches leniently first scans the rest
//! of the file at every stricter level, once per chunk. To keep a many-chunk
//! patch on a large file fast, the scans compare precomputed line hashes
//! (built once per file and level, on first use) and compare text only where
//! the hash of the chunk's first line matches. Nothing allocates per line.

use std::cell::OnceCell;

/// How loosely two lines were compared, from strictest to loosest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Leniency {
    /// Byte for byte.
    Exact,
    /// Ignoring whitespace at the end of the lines.
    TrailingWhitespace,
    /// Ignoring whitespace at both ends (indentation included).
    SurroundingWhitespace,
    /// Ignoring surrounding whitespace, with typographic dashes, quotes and
    /// spaces read as their ASCII counterparts.
    Punctuation,
}

impl Leniency {
    const ALL: [Self; 4] = [
        Self::Exact,
        Self::TrailingWhitespace,
        Self::SurroundingWhitespace,
        Self::Punctuation,
    ];

    fn lines_match(self, file: &str, pattern: &str) -> bool {
        match self {
            Self::Exact => file == pattern,
            Self::TrailingWhitespace => file.trim_end() == pattern.trim_end(),
            Self::SurroundingWhitespace => file.trim() == pattern.trim(),
            Self::Punctuation => file
                .trim()
                .chars()
                .map(ascii_punctuation)
                .eq(pattern.trim().chars().map(ascii_punctuation)),
        }
    }

    /// A hash under which lines that match at this level are equal.
    fn hash(self, line: &str) -> u64 {
        let mut hasher = LineHasher::default();
        match self {
            Self::Exact => hasher.write(line.as_bytes()),
            Self::TrailingWhitespace => hasher.write(line.trim_end().as_bytes()),
            Self::SurroundingWhitespace => hasher.write(line.trim().as_bytes()),
            Self::Punctuation => {
                let line = line.trim();
                // Hash the normalized text's UTF-8 (so that a line and its
                // typographic twin hash alike), copying unchanged runs whole.
                // Only non-ASCII characters can change, so jump between them.
                let bytes = line.as_bytes();
                let mut buffer = [0; 4];
                let mut run_start = 0;
                let mut next = 0;
                while let Some(offset) = bytes
                    .get(next..)
                    .and_then(|rest| rest.iter().position(|byte| !byte.is_ascii()))
                {
                    let at = next + offset;
                    let Some(c) = line.get(at..).and_then(|rest| rest.chars().next()) else {
                        break;
                    };
                    next = at + c.len_utf8();
                    let ascii = ascii_punctuation(c);
                    if ascii != c {
                        hasher.write(bytes.get(run_start..at).unwrap_or_default());
                        hasher.write(ascii.encode_utf8(&mut buffer).as_bytes());
                        run_start = next;
                    }
                }
                hasher.write(bytes.get(run_start..).unwrap_or_default());
            }
        }
        hasher.finish()
    }
}

/// A small multiply-rotate hash over 8-byte words, fed in pieces. Collisions
/// only cost a text comparison, so speed matters more than quality.
#[derive(Default)]
struct LineHasher {
    hash: u64,
    pending: u64,
    pending_len: u32,
    len: u64,
}

impl LineHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }

    fn write(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        while self.pending_len > 0 {
            let Some((&byte, rest)) = bytes.split_first() else {
                return;
            };
            self.push_byte(byte);
            bytes = rest;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut array = [0; 8];
            array.copy_from_slice(word);
            self.mix(u64::from_le_bytes(array));
        }
        for &byte in words.remainder() {
            self.push_byte(byte);
        }
    }

    fn push_byte(&mut self, byte: u8) {
        self.pending |= u64::from(byte) << (8 * self.pending_len);
        self.pending_len += 1;
        if self.pending_len == 8 {
            let word = std::mem::take(&mut self.pending);
            self.pending_len = 0;
            self.mix(word);
        }
    }

    fn finish(mut self) -> u64 {
        let (pending, len) = (self.pending, self.len);
        self.mix(pending);
        self.mix(len);
        self.hash
    }
}

/// The lines of one file, with the per-level line hashes [`seek`] builds as
/// it needs them.
pub(super) struct Haystack<'a> {
    lines: &'a [&'a str],
    /// One slot per [`Leniency`], in order.
    hashes: [OnceCell<Vec<u64>>; 4],
}

impl<'a> Haystack<'a> {
    pub(super) fn new(lines: &'a [&'a str]) -> Self {
        Self {
            lines,
            hashes: Default::default(),
        }
    }

    /// The hash of every line at `leniency`'s level.
    fn hashes(&self, leniency: Leniency) -> &[u64] {
        let slot = match leniency {
            Leniency::Exact => &self.hashes[0],
            Leniency::TrailingWhitespace => &self.hashes[1],
            Leniency::SurroundingWhitespace => &self.hashes[2],
            Leniency::Punctuation => &self.hashes[3],
        };
        slot.get_or_init(|| self.lines.iter().map(|line| leniency.hash(line)).collect())
    }
}

/// Where [`seek`] found the lines, and how loosely it had to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub index: usize,
    pub leniency: Leniency,
}

/// Finds `pattern` in the file at or after line index `start`.
///
/// With `at_end`, the pattern must end the file (`*** End of File`); unlike
/// codex, that position must also be at or after `start`, so that a chunk can
/// never overlap the one before it. An empty pattern matches at `start`.
pub(super) fn seek(
    haystack: &Haystack<'_>,
    pattern: &[&str],
    start: usize,
    at_end: bool,
) -> Option<Found> {
    let lines = haystack.lines;
    let Some(&head) = pattern.first() else {
        return Some(Found {
            index: start.min(lines.len()),
            leniency: Leniency::Exact,
        });
    };
    let last = lines.len().checked_sub(pattern.len())?;
    let first = if at_end { last } else { start };
    if first > last || first < start {
        return None;
    }
    Leniency::ALL.into_iter().find_map(|leniency| {
        let window_matches = |index: usize| {
            lines
                .get(index..index + pattern.len())
                .is_some_and(|window| {
                    window
                        .iter()
                        .zip(pattern)
                        .all(|(file, pattern)| leniency.lines_match(file, pattern))
                })
        };
        let head = leniency.hash(head);
        let hashes = haystack.hashes(leniency);
        let mut from = first;
        let index = loop {
            let offset = find_hash(hashes.get(from..=last)?, head)?;
            let index = from + offset;
            if window_matches(index) {
                break index;
            }
            from = index + 1;
        };
        Some(Found { index, leniency })
    })
}

/// The position of the first `hash` in `hashes`. Blocks are tested without
/// branches first (hence `|`, not `||`), which the compiler can vectorize:
/// this scan is the inner loop of a lenient search.
fn find_hash(hashes: &[u64], hash: u64) -> Option<usize> {
    let mut base = 0;
    for block in hashes.chunks(16) {
        if block
            .iter()
            .fold(false, |found, &candidate| found | (candidate == hash))
        {
            return block
                .iter()
                .position(|&candidate| candidate == hash)
                .map(|offset| base + offset);
        }
        base += block.len();
    }
    None
}

/// Maps typographic punctuation to the ASCII a model is likely to have typed
/// instead (the same characters codex normalizes).
pub(super) fn ascii_punctuation(c: char) -> char {
    match c {
        // Hyphens, dashes, minus sign.
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        // Curly and low single quotes.
        '\u{2018}'..='\u{201B}' => '\'',
        // Curly and low double quotes.
        '\u{201C}'..='\u{201F}' => '"',
        // Non-breaking and fixed-width spaces.
        '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
        other => other,
    }
}
