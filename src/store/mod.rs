//! The typed store: the ledger's keys, encodings and indexes (see [`keys`]), typed reads, the
//! log's tree (`tree`), the digests, and one write batch per commit, over a key-value
//! [`engine`] (RocksDB for the ledger, memory for tests and simulations). Knows nothing of gRPC
//! or title rules.
//! Every call here blocks: async callers run them on the blocking pool.

pub mod access;
pub mod batch;
pub mod cache;
mod digest;
pub mod engine;
pub mod entry;
pub mod image;
pub mod keys;
pub mod overlay;
pub mod probe;
pub mod space;
pub mod tree;

use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::delegation::Grants;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId, PartyId};
use ebl_core::registry::{KeyRecord, Party};
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use engine::{Engine, EngineError};
use entry::StoredEntry;
use keys::*;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub use batch::Batch;

/// Storage failures. None of these is a client's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine failed (disk full, I/O error, lock held, a damaged block...).
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// A stored value does not decode: the database is damaged or from another version.
    #[error("corrupt value in {cf}: {why}")]
    Corrupt {
        /// Column family.
        cf: &'static str,
        /// What failed.
        why: String,
    },
    /// A read the core asked for failed (the failure as the core carried it back).
    #[error(transparent)]
    Unreadable(#[from] ebl_core::Unreadable),
    /// The database is in another on-disk format: it is not read.
    #[error("the database's on-disk format is version {found}, this ebld reads version {SCHEMA_VERSION}: {}", format_advice(*found))]
    Format {
        /// The version the database records.
        found: u32,
    },
}

/// What to do with a database of format version `found`.
fn format_advice(found: u32) -> &'static str {
    if found > SCHEMA_VERSION {
        "written by a newer ebld: run that version (or newer)"
    } else {
        "written by an older ebld: stop the ledger and run `ebld migrate` (docs/operations.md, \"Upgrades\")"
    }
}

impl StoreError {
    /// Whether the database says it is damaged (a block failing its checksum, a value that does
    /// not decode), as opposed to unable to answer for now.
    pub fn is_damage(&self) -> bool {
        match self {
            StoreError::Engine(e) => e.kind == engine::ErrorKind::Corruption,
            StoreError::Corrupt { .. } => true,
            StoreError::Unreadable(u) => u.damaged,
            StoreError::Format { .. } => false,
        }
    }
}

/// A storage failure as the core's views carry it.
impl From<StoreError> for ebl_core::Unreadable {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unreadable(u) => u,
            e => ebl_core::Unreadable { damaged: e.is_damage(), what: e.to_string() },
        }
    }
}

/// The version of the on-disk format (keys and value encodings, docs/architecture.md) this
/// build writes and reads. A database records its own in `meta/schema_version`; one of another
/// version is refused at start with a clear error, never read.
pub const SCHEMA_VERSION: u32 = 2;

pub use engine::Entry;

/// The smallest key greater than every key that starts with `prefix` (no prefix here is all
/// 0xff bytes).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            break;
        }
    }
    end
}

/// The ledger's database.
pub struct Store {
    engine: Box<dyn Engine>,
    reads: AtomicU64,
    decodes: AtomicU64,
    /// Keys whose own checks passed, decoded: every signature check of this ledger's records
    /// goes through it, so that a registered key is checked once, not per signature.
    strong_keys: ebl_core::sig::StrongKeys,
    /// The states apply reads, decoded (see [`cache`]).
    cache: cache::StateCache,
}

/// How much reading a store has done: values and index entries read, and values decoded. The
/// tests compare these around two requests to show that they did the same work (a bill the
/// caller may not see costs what a missing one costs), without timing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCounts {
    /// Point reads and iterator steps.
    pub reads: u64,
    /// Stored values decoded (JSON states, protobuf records).
    pub decodes: u64,
}

impl Store {
    /// Opens (creating if needed) the RocksDB database at `path` with every column family. A
    /// database of another format version is refused before anything in it is opened for writing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Store::check_format(path)?;
        // Bounded, so that client connections can never take the store's descriptors.
        let max = crate::net::fds::ROCKSDB_MAX_OPEN_FILES;
        Ok(Store::on(Box::new(engine::rocks::RocksEngine::open(path, &SERVED_CFS, max)?)))
    }

    /// Opens the RocksDB database at `path` with column families `cfs`, whatever its format
    /// version: only for `ebld migrate`, which reads older ones and holds their lock meanwhile.
    pub fn open_any_format(path: &Path, cfs: &[&'static str]) -> Result<Self, StoreError> {
        let max = crate::net::fds::ROCKSDB_MAX_OPEN_FILES;
        Ok(Store::on(Box::new(engine::rocks::RocksEngine::open(path, cfs, max)?)))
    }

    /// Opens the RocksDB database at `path` to read only (a backup, a copy, or one being
    /// audited): it must exist, be of this format version, and nothing in its folder is changed.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        Store::check_format(path)?;
        Store::open_read_only_with(path, &ALL_CFS)
    }

    /// Opens the RocksDB database at `path` to read only, with column families `cfs`, whatever
    /// its format version (`ebld migrate` reads older ones with it).
    pub fn open_read_only_with(path: &Path, cfs: &[&'static str]) -> Result<Self, StoreError> {
        let max = crate::net::fds::ROCKSDB_MAX_OPEN_FILES;
        Ok(Store::on(Box::new(engine::rocks::RocksEngine::open_read_only(path, cfs, max)?)))
    }

    /// The format version of the RocksDB database at `path` (a database from before versions
    /// were recorded is version 1), read without opening it for writing; `None` if there is no
    /// database there yet.
    pub fn format_of(path: &Path) -> Result<Option<u32>, StoreError> {
        if !path.join("CURRENT").exists() {
            return Ok(None);
        }
        let meta = Store::open_read_only_with(path, &[CF_META])?;
        Ok(Some(meta.schema_version()?.unwrap_or(1)))
    }

    /// Refuses a database at `path` of another format version than this build's.
    fn check_format(path: &Path) -> Result<(), StoreError> {
        match Store::format_of(path)? {
            Some(found) if found != SCHEMA_VERSION => Err(StoreError::Format { found }),
            _ => Ok(()),
        }
    }

    /// An empty store in memory (nothing durable: tests and simulations).
    pub fn memory() -> Self {
        Store::on(Box::new(engine::memory::MemoryEngine::new(&SERVED_CFS)))
    }

    /// The store over `engine`, which must have every column family of [`ALL_CFS`] (and of
    /// [`SERVED_CFS`] to keep an access log).
    pub fn on(engine: Box<dyn Engine>) -> Self {
        Store {
            engine,
            reads: AtomicU64::new(0),
            decodes: AtomicU64::new(0),
            strong_keys: Default::default(),
            cache: Default::default(),
        }
    }

    /// The states apply reads, decoded: for the apply path alone (see [`cache`]).
    pub fn state_cache(&self) -> &cache::StateCache {
        &self.cache
    }

    /// The keys already checked (see [`ebl_core::sig::StrongKeys`]).
    pub fn strong_keys(&self) -> &ebl_core::sig::StrongKeys {
        &self.strong_keys
    }

    /// A copy of the whole database in memory, as of now.
    pub fn memory_copy(&self) -> Result<Store, StoreError> {
        let copy = Store::memory();
        let snapshot = self.engine.snapshot()?;
        for cf in ALL_CFS {
            let mut ops = Vec::new();
            for item in snapshot.scan(cf, b"", None) {
                let (key, value) = item?;
                ops.push(engine::Op::Put { cf, key: key.into_vec(), value: value.into_vec() });
            }
            copy.engine.write(ops, false)?;
        }
        Ok(copy)
    }

    /// Writes a consistent copy of the whole database, as of now, to `to` (a folder that must not
    /// exist yet; files are hard-linked where `to` is on the same file system). The database may
    /// be written meanwhile: the copy holds every batch committed before it, whole, and none after.
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        Ok(self.engine.backup(to)?)
    }

    /// The reads and decodes done so far.
    pub fn read_counts(&self) -> ReadCounts {
        ReadCounts { reads: self.reads.load(Ordering::Relaxed), decodes: self.decodes.load(Ordering::Relaxed) }
    }

    fn count_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    fn count_decode(&self) {
        self.decodes.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.count_read();
        Ok(self.engine.get(cf, key)?)
    }

    /// The entries of `cf` from `from` on, before `until` if given, in key order.
    fn scan<'a>(
        &'a self,
        cf: &'static str,
        from: &[u8],
        until: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<Entry, StoreError>> + 'a {
        self.engine.scan(cf, from, until).map(|item| Ok(item?))
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, cf: &'static str, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.get(cf, key)?.map(|v| self.decode_json(cf, &v)).transpose()
    }

    fn decode_json<T: serde::de::DeserializeOwned>(&self, cf: &'static str, v: &[u8]) -> Result<T, StoreError> {
        self.count_decode();
        serde_json::from_slice(v).map_err(|e| StoreError::Corrupt { cf, why: e.to_string() })
    }

    /// A metadata value.
    pub fn meta(&self, m: Meta) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(CF_META, m.key())
    }

    /// The next global sequence number (the log's size).
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        Ok(self.meta(Meta::NextSeq)?.and_then(|v| be_u64(&v)).unwrap_or(0))
    }

    /// The index of the last command applied (0: none yet).
    pub fn last_command(&self) -> Result<u64, StoreError> {
        Ok(self.meta(Meta::LastCommand)?.and_then(|v| be_u64(&v)).unwrap_or(0))
    }

    /// The last server time stamped.
    pub fn last_time(&self) -> Result<Timestamp, StoreError> {
        Ok(Timestamp(self.meta(Meta::LastTime)?.and_then(|v| be_u64(&v)).unwrap_or(0) as i64))
    }

    /// The registry chain's head.
    pub fn registry_head(&self) -> Result<Option<(u64, Hash32)>, StoreError> {
        Ok(self.meta(Meta::RegistryHead)?.and_then(|v| registry_head(&v)))
    }

    /// The sequence number of an accepted record, by hash.
    pub fn seq_of(&self, hash: &Hash32) -> Result<Option<u64>, StoreError> {
        Ok(self.get(CF_BY_HASH, &hash.0)?.and_then(|v| be_u64(&v)))
    }

    /// A stored record by sequence number.
    pub fn record(&self, seq: u64) -> Result<Option<StoredEntry>, StoreError> {
        self.get(CF_RECORDS, &seq_key(seq))?
            .map(|v| {
                self.count_decode();
                entry::decode_record(seq, &v).map_err(|why| StoreError::Corrupt { cf: CF_RECORDS, why })
            })
            .transpose()
    }

    /// A bill's transport document, exactly as issued.
    pub fn document(&self, id: &BillId) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(CF_DOCUMENTS, &id.0 .0)
    }

    /// A bill's state.
    pub fn bill(&self, id: &BillId) -> Result<Option<BillState>, StoreError> {
        self.get_json(CF_BILLS, &id.0 .0)
    }

    /// A party.
    pub fn party(&self, id: &PartyId) -> Result<Option<Party>, StoreError> {
        self.get_json(CF_PARTIES, id.as_str().as_bytes())
    }

    /// A key.
    pub fn key(&self, k: &PublicKey) -> Result<Option<KeyRecord>, StoreError> {
        self.get_json(CF_KEYS, &k.0)
    }

    /// A bill's custody state.
    pub fn custody(&self, id: &BillId) -> Result<Option<CustodyState>, StoreError> {
        self.get_json(CF_CUSTODY, &id.0 .0)
    }

    /// The record hash at `position` of a chain.
    pub fn chain_hash(&self, chain: &ChainId, position: u64) -> Result<Option<Hash32>, StoreError> {
        let Some(v) = self.get(CF_CHAINS, &chain_key(chain, position))? else { return Ok(None) };
        Ok(Some(entry::decode_chain(&v).map_err(|why| StoreError::Corrupt { cf: CF_CHAINS, why })?.1))
    }

    /// Every delegation `principal` made to `agent`.
    pub fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Result<Grants, StoreError> {
        Ok(self.get_json(CF_DELEGATIONS, &delegation_key(principal.as_str(), agent.as_str()))?.unwrap_or_default())
    }

    /// The bills indexed under `key` after the bill id `after` (from the first if `None`), in
    /// bill-id order.
    pub fn indexed_bills<'a>(
        &'a self,
        key: IndexKey,
        after: Option<&BillId>,
    ) -> impl Iterator<Item = Result<BillId, StoreError>> + 'a {
        let prefix = key.prefix();
        let start = match after {
            // The smallest key past `after`'s entry: its key with a 0 byte added.
            Some(b) => [key.entry(b), vec![0]].concat(),
            None => prefix.clone(),
        };
        // The bound stops the scan at the prefix's end without reading the key after it, whose
        // presence would otherwise tell in the read counts.
        self.scan(CF_INDEX, &start, Some(&prefix_end(&prefix))).inspect(|_| self.count_read()).map_while(move |item| {
            match item {
                Err(e) => Some(Err(e)),
                Ok((k, _)) if !k.starts_with(&prefix) => None,
                Ok((k, _)) => Some(
                    Hash32::from_slice(&k[prefix.len()..])
                        .map(BillId)
                        .ok_or(StoreError::Corrupt { cf: CF_INDEX, why: "index key does not end in a bill id".into() }),
                ),
            }
        })
    }

    /// Whether `bill` is indexed under `key`.
    pub fn is_indexed(&self, key: IndexKey, bill: &BillId) -> Result<bool, StoreError> {
        Ok(self.get(CF_INDEX, &key.entry(bill))?.is_some())
    }

    /// The parties that have a delegation in force to `agent` (whose bills it may see).
    pub fn principals_of(&self, agent: &PartyId) -> Result<Vec<PartyId>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan(CF_DELEGATIONS, b"", None) {
            self.count_read();
            let (k, v) = item?;
            let Some(sep) = k.iter().position(|b| *b == 0) else { continue };
            if &k[sep + 1..] != agent.as_str().as_bytes() {
                continue;
            }
            let grants: Grants = self.decode_json(CF_DELEGATIONS, &v)?;
            if grants.current().is_some() {
                let principal = std::str::from_utf8(&k[..sep])
                    .ok()
                    .and_then(|p| PartyId::parse("delegation", p).ok())
                    .ok_or(StoreError::Corrupt { cf: CF_DELEGATIONS, why: "key is not a party id".into() })?;
                out.push(principal);
            }
        }
        Ok(out)
    }

    /// The sequence numbers of a chain's records from `from` on, in chain order.
    pub fn chain_seqs(&self, chain: &ChainId, from: u64) -> Result<Vec<u64>, StoreError> {
        let prefix = chain_prefix(chain);
        let start = chain_key(chain, from);
        let mut out = Vec::new();
        for item in self.scan(CF_CHAINS, &start, Some(&prefix_end(&prefix))) {
            let (_, v) = item?;
            out.push(entry::decode_chain(&v).map_err(|why| StoreError::Corrupt { cf: CF_CHAINS, why })?.0);
        }
        Ok(out)
    }

    /// The database's on-disk format version; `None` for a database from before versions were
    /// recorded, which is version 1.
    pub fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        let Some(v) = self.meta(Meta::SchemaVersion)? else { return Ok(None) };
        let v = <[u8; 4]>::try_from(v.as_slice())
            .map_err(|_| StoreError::Corrupt { cf: CF_META, why: "schema_version is not a u32".into() })?;
        Ok(Some(u32::from_be_bytes(v)))
    }

    /// Whether this build can read the database: its format version must be [`SCHEMA_VERSION`]
    /// (a database without one is version 1). Says what to do otherwise.
    pub fn check_schema(&self) -> Result<(), String> {
        let found = self.schema_version().map_err(|e| e.to_string())?.unwrap_or(1);
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        Err(StoreError::Format { found }.to_string())
    }

    /// Every key and value of column family `name`, in key order (what an audit compares).
    pub fn entries(&self, name: &'static str) -> impl Iterator<Item = Result<Entry, StoreError>> + '_ {
        self.scan(name, b"", None)
    }

    /// How many times the engine has synced its write-ahead log since it was opened (`None` for
    /// an engine that keeps none).
    pub fn wal_syncs(&self) -> Option<u64> {
        self.engine.wal_syncs()
    }

    /// Writes every column family's memtable to its files, so that the next open replays no
    /// log (done at a graceful stop).
    pub fn flush(&self) -> Result<(), StoreError> {
        Ok(self.engine.flush()?)
    }

    /// Writes a batch durably (WAL synced before this returns).
    pub fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.commit_with(batch, true)
    }

    /// Writes a batch whole; with `sync`, durably before this returns. Without, it is durable
    /// with the next synced commit (the log is written in order), or lost whole with a crash
    /// before it: only for batches whose loss acknowledges nothing.
    pub fn commit_with(&self, batch: Batch, sync: bool) -> Result<(), StoreError> {
        let (ops, states) = batch.into_parts();
        if let Err(e) = self.engine.write(ops, sync) {
            // A failed write may still have reached the engine in part: apply reads the store
            // afresh from here on.
            self.cache.clear();
            return Err(e.into());
        }
        if let Some(states) = states {
            self.cache.absorb(states);
        }
        Ok(())
    }
}
