//! # ebl-core: the pure core of the eBL ledger
//!
//! Records, identities, hashing, strict signatures, DCSA documents, registry and title rules.
//! No I/O, no clock reads in the state machine, no transport, no storage: this crate MUST NOT
//! depend on tonic, prost or rocksdb (the root crate's `tests/core_walls.rs` enforces it).
//!
//! ## Layout
//! - [`hash`]: SHA-256 with domain tags, [`hash::Hash32`].
//! - [`time`]: canonical RFC 3339 timestamps and claimed-time windows.
//! - [`ids`]: party ids, bill ids (derived), chain ids.
//! - [`sig`]: Ed25519 keys and `verify_strict`.
//! - [`document`]: DCSA eBL 3.0 transport documents, validation and RFC 8785 checksum.
//! - [`record`]: the checked payload of a record, its hash and its signers.
//! - [`registry`]: parties, roles, keys and their validity by log position.
//! - [`delegation`]: agents signing title actions for a principal, and their grants.
//! - [`bill`]: a bill's title state.
//! - [`title`]: the title rules.
//! - [`route`]: a bill's legs across rail, river, sea, road and air, and their rules.
//! - [`custody`]: which carrier holds which containers where, and customs holds.
//! - [`custody_rules`]: departures, arrivals, co-signed handoffs, delivery, holds, re-routing.
//! - [`custody_check`]: whether a handoff or delivery would be refused now, asked by leg, place
//!   or container.
//! - [`log`]: the transparency log: RFC 9162 Merkle tree and proofs, signed notes, checkpoints,
//!   witness cosignatures and tlog-proofs.
//! - [`apply`]: the state machine: `prepare` (order-free) then `apply` (ordered) -> effects.
//! - [`memory`]: an in-memory state that records are applied to (offline replays).
//! - [`statement`]: signed title statements bound to a checkpoint.
//! - [`visibility`]: who may see a bill, for reads and writes alike.
//! - [`error`]: a rule's refusal (with status class and machine-readable reason), a read the
//!   storage could not answer, and the union of the two that apply returns.
//! - [`fuzzing`]: the bodies of the fuzz targets, shared by `fuzz/` and the corpus replay test.

pub mod apply;
pub mod bill;
pub mod custody;
pub mod custody_check;
pub mod custody_rules;
pub mod delegation;
pub mod document;
pub mod error;
pub mod fuzzing;
pub mod hash;
pub mod ids;
pub mod log;
pub mod memory;
pub mod record;
pub mod registry;
pub mod route;
pub mod sig;
pub mod statement;
pub mod time;
pub mod title;
pub mod visibility;

pub use error::{ApplyError, Kind, Result, RuleError, Unreadable};
