//! Choosing a session's model against what the provider serves.
//!
//! Once a provider's `/models` list is known, a configured model it does
//! not list is worth a warning (the request would fail, or reach another
//! model than meant), and a provider that serves exactly one model needs no
//! `model` key at all. The built-in `openai` provider keeps the catalog's
//! choice unchecked: its list is long, changes often and is filtered per
//! account, and codex sends what is configured.

use super::{ModelInfo, Models, OPENAI_PROVIDER_ID};

/// How many of the provider's models a warning names.
const NAMED_MODELS: usize = 8;

/// The model a session uses, and what to tell the user about the choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub model: ModelInfo,
    /// How the model was chosen, when it was not configured and not the
    /// catalog's default (one line for stderr).
    pub note: Option<String>,
    /// Why the model may not be served (one line for stderr, after
    /// `warning: `).
    pub warning: Option<String>,
}

impl Models {
    /// The model for `configured` (the `model` key or `-m`), checked
    /// against the provider's list when it is known: a model the list lacks
    /// gets a warning naming the ones it has, and with no model configured
    /// a list of exactly one model chooses it. Without a list, or for the
    /// built-in `openai` provider, this is [`Models::resolve`].
    pub fn choose(&self, configured: Option<&str>) -> Choice {
        let served = self
            .served()
            .filter(|served| !served.is_empty() && self.provider() != OPENAI_PROVIDER_ID);
        let Some(served) = served else {
            return Choice {
                model: self.resolve(configured),
                note: None,
                warning: None,
            };
        };
        if let (None, [only]) = (configured, served) {
            return Choice {
                model: only.clone(),
                note: Some(format!(
                    "model {}: the only one provider `{}` serves",
                    only.slug,
                    self.provider()
                )),
                warning: None,
            };
        }
        let model = self.resolve(configured);
        let warning = (!serves(served, &model.slug)).then(|| {
            let names = served_names(served);
            match configured {
                Some(_) => format!(
                    "provider `{}` does not list the model {} (it serves {names}); the \
                     request may fail: check -m or `model`",
                    self.provider(),
                    model.slug
                ),
                None => format!(
                    "no model is configured and provider `{}` does not list the default, {} \
                     (it serves {names}); choose one with -m or `model`",
                    self.provider(),
                    model.slug
                ),
            }
        });
        Choice {
            model,
            note: None,
            warning,
        }
    }
}

/// Whether `slug` is in the list; `NAME` stands for `NAME:latest` (Ollama's
/// default tag).
fn serves(served: &[ModelInfo], slug: &str) -> bool {
    served.iter().any(|model| {
        model.slug == slug
            || model
                .slug
                .strip_suffix(":latest")
                .is_some_and(|name| name == slug)
    })
}

/// The first models of the list, by slug: `a, b, c` or `a, b, … (12 in all)`.
fn served_names(served: &[ModelInfo]) -> String {
    let names: Vec<&str> = served
        .iter()
        .take(NAMED_MODELS)
        .map(|model| model.slug.as_str())
        .collect();
    let names = names.join(", ");
    if served.len() > NAMED_MODELS {
        format!("{names}, … ({} in all)", served.len())
    } else {
        names
    }
}
