//! # ebl-client: the eBL ledger's client side
//!
//! Everything that talks to a ledger or watches its log, and nothing that stores one: no
//! RocksDB (a test checks the dependency tree), so `cargo build -p ebl-client --bin ebl` takes
//! minutes, not the quarter hour RocksDB's C++ takes.
//!
//! - [`pb`]: the protobuf messages and the generated gRPC client (`proto/ebl/v1`).
//! - [`client`]: building and signing records and reads; the gRPC client (CLI, tests, demo).
//! - [`cli`]: the `ebl` command line.
//! - [`bench`]: `ebl bench`, the load generator (it starts `ebld` and measures it from outside).
//! - [`witness`]: the C2SP witness (`ebl witness`): add-checkpoint over HTTP, durable state,
//!   and the log's HTTP client for it.
//! - [`serve`]: a small HTTP/1.1 server (the witness, the ledger's metrics).
//! - [`tls`]: TLS for servers (a certificate reloaded from its files) and HTTP/1.1 clients.
//! - [`config`]: configuration files (TOML) for `ebld` and `ebl`, with `ebl`'s profiles.
//! - [`file`]: small text files replaced atomically (checkpoint, witness and monitor state).
//! - [`wire`], [`bundle`]: re-exported from ebl-verify.

pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod file;
pub mod pb;
pub mod serve;
pub mod tls;
pub mod witness;

pub use ebl_verify::{bundle, wire};
