//! One module per CLI command.
pub mod bench;
pub mod bench_encoder;
pub mod bench_limit;
pub mod bench_mail;
pub mod bench_routing;
pub mod bench_summary;
pub mod config;
pub mod embed_cache;
pub mod encoder_arg;
pub mod eval;
pub mod migrate_store;
pub mod model;
pub mod playbook;
pub mod serve;
pub mod serve_encoder;
pub mod serve_mail;
pub mod triage;
