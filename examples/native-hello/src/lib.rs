//! A native wharf plugin (work in progress).
