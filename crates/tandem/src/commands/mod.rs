//! One module per CLI command.
pub mod bench;
pub mod eval;
pub mod serve;
pub mod triage;
