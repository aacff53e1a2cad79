//! What the pipeline knows of the model a call is made for: a [`ModelFit`],
//! built by whoever knows the model (the agent, from the model catalog), so
//! that the runtime needs no catalog and no wire API.

#[cfg(test)]
mod tests;

/// The text that replaces an image in what is sent to a model without image
/// input (codex's wording).
pub const IMAGE_PLACEHOLDER: &str = "image content omitted because you do not support image input";

/// The model a call is made for, as far as the pipeline cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFit {
    /// The model's name, for error messages.
    pub slug: String,
    /// Whether the model reads images.
    pub image_input: bool,
    /// How long a text it reads may be.
    pub truncation: Truncation,
}

/// A limit on the length of one text a model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    Bytes(u64),
    /// A token counts as four bytes.
    Tokens(u64),
}

impl ModelFit {
    /// Whether a tool whose manifest lists `requires` may be offered to this
    /// model. Known requirements: `image_input`. A requirement wharf does not
    /// know is not met, so a tool written for a newer host is not offered
    /// rather than offered to a model that cannot use it.
    pub fn offers(&self, requires: &[String]) -> bool {
        requires.iter().all(|requirement| self.meets(requirement))
    }

    /// Whether this model has the capability `requirement` names.
    pub fn meets(&self, requirement: &str) -> bool {
        match requirement {
            "image_input" => self.image_input,
            _ => false,
        }
    }

    /// `text` cut to the truncation limit: the head and the tail within the
    /// limit, with a marker in the middle saying how much was left out
    /// (`…N chars truncated…` for a byte limit, `…N tokens truncated…` for a
    /// token limit). Text within the limit is returned as it is; a cut never
    /// splits a character.
    pub fn truncate(&self, text: &str) -> String {
        let budget = match self.truncation {
            Truncation::Bytes(limit) => limit,
            Truncation::Tokens(limit) => limit.saturating_mul(4),
        };
        let budget = usize::try_from(budget).unwrap_or(usize::MAX);
        if text.len() <= budget {
            return text.to_owned();
        }
        let head_end = floor_char_boundary(text, budget / 2);
        let tail_start = ceil_char_boundary(text, text.len() - (budget - budget / 2));
        let head = text.get(..head_end).unwrap_or_default();
        let middle = text.get(head_end..tail_start).unwrap_or_default();
        let tail = text.get(tail_start..).unwrap_or_default();
        let marker = match self.truncation {
            Truncation::Bytes(_) => format!("…{} chars truncated…", middle.chars().count()),
            Truncation::Tokens(_) => {
                let removed = (middle.len() as u64).div_ceil(4);
                format!("…{removed} tokens truncated…")
            }
        };
        format!("{head}{marker}{tail}")
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}
