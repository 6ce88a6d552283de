//! One module per CLI command.
pub mod eval;
pub mod triage;
