//! # ebl-ledger: a ledger of electronic bills of lading
//!
//! Signed, hash-chained records over gRPC on RocksDB. The rules live in the pure `ebl-core`
//! crate; this crate converts, stores, sequences and serves.
//!
//! ## Layout
//! - [`pb`]: generated protobuf and gRPC types (`proto/ebl/v1`).
//! - [`wire`]: the edge: protobuf bytes -> checked domain types, canonical encoding enforced.
//! - [`store`]: RocksDB column families, keys, synced write batches, the ledger digest.
//! - [`writer`]: the single writer: duplicates, stamping, apply, group commit (records and log
//!   tree nodes in one synced batch).
//! - [`checkpoint`]: the checkpoint signer beside the write path, the checkpoint file, the
//!   refuse-to-fork rule.
//! - [`bundle`]: proof bundles: the file format and the offline verifier (`ebl verify`).
//! - [`replay`]: rebuilding a bill from its records and comparing with the stored state.
//! - [`api`]: the gRPC service, read authentication and visibility, error mapping.
//! - [`net`]: the network edge: connection limit and eviction, handshake and idle timeouts,
//!   accept back-off, the file-descriptor budget, calls per connection.
//! - [`server`]: `init`, `Ledger::open`, `Ledger::serve(listener, shutdown)`.
//! - [`witness`]: the C2SP witness (`ebl witness`): add-checkpoint over HTTP, durable state,
//!   and the log's HTTP client for it.
//! - [`client`]: building and signing records and reads (CLI, tests, demo).
//! - [`cli`]: the `ebl` command-line client.
//! - [`error`]: the server's error type.

pub mod api;
pub mod audit;
pub mod backup;
pub mod bundle;
pub mod checkpoint;
pub mod cli;
pub mod client;
pub mod error;
pub mod hold;
pub mod net;
pub mod pb;
pub mod recover;
pub mod replay;
pub mod server;
pub mod store;
pub mod wire;
pub mod witness;
pub mod writer;
