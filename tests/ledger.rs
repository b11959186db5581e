//! The integration tests that run the real server (and the doc-sync and wall checks), in one
//! binary so that RocksDB is linked once, not once per file: each file of tests/ is a module
//! here, named as before (`cargo test --test ledger journey` runs tests/journey.rs). The
//! hardening tests (which hold a thousand sockets) and the crash test (its own harness) run
//! alone, in binaries of their own.

#[path = "common/mod.rs"]
mod common;

#[path = "access_log.rs"]
mod access_log;
#[path = "agents.rs"]
mod agents;
#[path = "audit.rs"]
mod audit;
#[path = "bench.rs"]
mod bench;
#[path = "bundle.rs"]
mod bundle;
#[path = "checkpoints.rs"]
mod checkpoints;
#[path = "cli.rs"]
mod cli;
#[path = "cli_bank.rs"]
mod cli_bank;
#[path = "cli_bundle.rs"]
mod cli_bundle;
#[path = "cli_custody.rs"]
mod cli_custody;
#[path = "cli_exit.rs"]
mod cli_exit;
#[path = "cli_keys.rs"]
mod cli_keys;
#[path = "cli_log.rs"]
mod cli_log;
#[path = "cli_witness.rs"]
mod cli_witness;
#[path = "commands.rs"]
mod commands;
#[path = "config.rs"]
mod config;
#[path = "core_walls.rs"]
mod core_walls;
#[path = "custody_route.rs"]
mod custody_route;
#[path = "custody_rules.rs"]
mod custody_rules;
#[path = "documents.rs"]
mod documents;
#[path = "engines.rs"]
mod engines;
#[path = "failover.rs"]
mod failover;
#[path = "format.rs"]
mod format;
#[path = "journey.rs"]
mod journey;
#[path = "leaks.rs"]
mod leaks;
#[path = "log_rpc.rs"]
mod log_rpc;
#[path = "log_tree.rs"]
mod log_tree;
#[path = "metrics.rs"]
mod metrics;
#[path = "monitor.rs"]
mod monitor;
#[path = "multimodal.rs"]
mod multimodal;
#[path = "pledge.rs"]
mod pledge;
#[path = "race.rs"]
mod race;
#[path = "raft_store.rs"]
mod raft_store;
#[path = "readme.rs"]
mod readme;
#[path = "reads.rs"]
mod reads;
#[path = "refusal_precedence.rs"]
mod refusal_precedence;
#[path = "refusals.rs"]
mod refusals;
#[path = "reject.rs"]
mod reject;
#[path = "restore.rs"]
mod restore;
#[path = "routes_doc.rs"]
mod routes_doc;
#[path = "stream.rs"]
mod stream;
#[path = "surrender.rs"]
mod surrender;
#[path = "title_model_grpc.rs"]
mod title_model_grpc;
#[path = "title_rules_doc.rs"]
mod title_rules_doc;
#[path = "tls.rs"]
mod tls;
#[path = "transparency_doc.rs"]
mod transparency_doc;
#[path = "wire_format_doc.rs"]
mod wire_format_doc;
#[path = "wire_vectors.rs"]
mod wire_vectors;
#[path = "witnesses.rs"]
mod witnesses;
