//! unified_exec and shell (work in progress).
