//! The model as the runtime's pipeline sees it: what the agent, which knows
//! both, hands down from the model catalog.

use wharf_model::models::{ModelInfo, TruncationMode};
use wharf_runtime::pipeline::{ModelFit, Truncation};

/// What the pipeline must know of `model`.
pub fn model_fit(model: &ModelInfo) -> ModelFit {
    let policy = model.truncation_policy;
    ModelFit {
        slug: model.slug.clone(),
        image_input: model.supports_image_input(),
        truncation: match policy.mode {
            TruncationMode::Bytes => Truncation::Bytes(policy.limit),
            TruncationMode::Tokens => Truncation::Tokens(policy.limit),
        },
    }
}
