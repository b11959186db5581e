//! # ebl-verify: what anyone needs to check the ledger's answers, offline
//!
//! The wire format of signed records and reads, the proof bundle format and the offline
//! verifier, over the pure `ebl-core` (rules, title statements, log proofs). No network, no
//! database, no async runtime: it builds for `wasm32-unknown-unknown`, for a browser page, and
//! for the fuzz targets. A bank that only verifies bundles builds this crate alone.
//!
//! - [`pb`]: the generated protobuf message types (`proto/ebl/v1`).
//! - [`wire`]: protobuf bytes -> checked domain types, canonical encoding enforced; views and
//!   receipts back to protobuf.
//! - [`bundle`]: proof bundles: the file format and the offline verifier (`ebl verify`).

pub mod bundle;
pub mod pb;
pub mod wire;
