//! The surface a wharf tool author depends on. It grows with the plugin runtime; nothing here yet.
