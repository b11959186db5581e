//! The key-value engine under the typed store: named column families, point reads, ordered
//! range scans, atomic write batches with a sync flag, and snapshots, every method returning a
//! `Result`. The typed store ([`super::Store`]: the ledger's keys, encodings and indexes) is
//! written once over this trait; RocksDB ([`rocks`]) serves the ledger, memory ([`memory`])
//! serves tests and simulations, and [`faulty`] wraps either to inject failures. The
//! conformance suite (`tests/engines.rs`) holds every engine to the same behaviour.

pub mod faulty;
pub mod memory;
pub mod rocks;

use std::path::Path;

/// What kind of failure an engine met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The engine says its data is damaged (a block failing its checksum).
    Corruption,
    /// Reading or writing failed (I/O, disk full, the database locked by another process...).
    Io,
    /// Anything else the engine refused.
    Other,
}

/// An engine's failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what}")]
pub struct EngineError {
    /// Its kind.
    pub kind: ErrorKind,
    /// The engine's own words.
    pub what: String,
}

impl EngineError {
    /// A failure of `kind`.
    pub fn new(kind: ErrorKind, what: impl Into<String>) -> Self {
        EngineError { kind, what: what.into() }
    }
}

/// A stored key and its value.
pub type Entry = (Box<[u8]>, Box<[u8]>);

/// Entries in key order; an item that fails ends nothing by itself (the caller stops).
pub type Scan<'a> = Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a>;

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets `key` of column family `cf` to `value`.
    Put {
        /// Column family.
        cf: &'static str,
        /// Key.
        key: Vec<u8>,
        /// Value.
        value: Vec<u8>,
    },
    /// Removes `key` of column family `cf` (nothing if absent).
    Delete {
        /// Column family.
        cf: &'static str,
        /// Key.
        key: Vec<u8>,
    },
}

/// Reads, of an engine or of one of its snapshots.
pub trait Read {
    /// The value of `key` in `cf`.
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError>;

    /// The entries of `cf` with `from <= key < until` (to the end without `until`), in key
    /// order. An engine never reads a key at or past `until` to answer.
    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a>;
}

/// A key-value engine with the column families it was opened with.
pub trait Engine: Read + Send + Sync {
    /// Applies every op of `ops`, in order, as one atomic write: afterwards a reader sees all of
    /// them or, if this fails, none. With `sync`, durable before this returns.
    fn write(&self, ops: Vec<Op>, sync: bool) -> Result<(), EngineError>;

    /// A read view that keeps seeing the database as it is now, whatever is written later.
    fn snapshot(&self) -> Result<Box<dyn Read + '_>, EngineError>;

    /// Makes everything written durable in the engine's files (a graceful stop).
    fn flush(&self) -> Result<(), EngineError>;

    /// Writes a consistent copy of the whole database to `to`, a folder that must not exist yet,
    /// which [`rocks::RocksEngine::open`] opens. Engines without files refuse.
    fn backup(&self, to: &Path) -> Result<(), EngineError>;

    /// How many times the engine has synced its write-ahead log since it was opened, if it
    /// keeps one and counts (RocksDB's `rocksdb.wal.synced`).
    fn wal_syncs(&self) -> Option<u64> {
        None
    }
}
