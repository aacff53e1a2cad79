//! The wharf terminal UI. It renders the host's event stream and sends ops; it owns no agent state. It arrives with the agent loop.

pub mod diff;
pub mod highlight;
pub mod markdown;
pub mod text;
pub mod theme;
pub mod transcript;
