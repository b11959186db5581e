//! # ebl-ledger: a ledger of electronic bills of lading
//!
//! Signed, hash-chained records over gRPC on RocksDB: the server, `ebld`. The rules live in the
//! pure `ebl-core` crate; the wire format and the offline verifier in `ebl-verify`; the client,
//! the `ebl` command line, the witness and the monitor in `ebl-client` (re-exported here as
//! [`wire`], [`bundle`], [`client`], [`witness`] and, with `ebld`'s own, [`cli`]). This crate
//! stores, sequences and serves.
//!
//! ## Layout
//! - [`pb`]: the protobuf messages and gRPC client (from ebl-client) and the gRPC service.
//! - [`store`]: the typed store over a key-value engine (RocksDB, memory), the digests.
//! - [`writer`]: the single writer: sequencing into commands, deterministic apply, commit
//!   (records and log tree nodes in one synced batch).
//! - [`raft`]: replication on openraft: the Raft log store, the state machine over the store.
//! - [`checkpoint`]: the checkpoint signer beside the write path, the refuse-to-fork rule, the
//!   witness pushers.
//! - [`replay`]: rebuilding a bill from its records and comparing with the stored state.
//! - [`api`]: the gRPC service, read authentication and visibility, error mapping.
//! - [`net`]: the network edge: connection limit and eviction, handshake and idle timeouts,
//!   accept back-off, the file-descriptor budget, calls per connection.
//! - [`server`]: `init`, `Ledger::open`, `Ledger::serve(listener, shutdown)`.
//! - [`hold`], [`backup`], [`recover`], [`audit`], [`migrate`]: whether writes may go on;
//!   backups and restores; ending a halt; the audit; upgrading an older on-disk format.
//! - [`error`]: the server's error type.

pub mod api;
pub mod audit;
pub mod backup;
pub mod checkpoint;
pub mod cli;
pub mod error;
pub mod hold;
pub mod metrics;
pub mod migrate;
pub mod net;
pub mod pb;
pub mod raft;
pub mod recover;
pub mod replay;
pub mod server;
pub mod service;
pub mod store;
pub mod writer;

pub use ebl_client::{client, witness};
pub use ebl_verify::{bundle, wire};
