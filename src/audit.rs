//! The audit: everything the ledger holds, derived again from its records alone and compared.
//!
//! The records are read in log order and taken, one by one, into a scratch database through the
//! writer's own path ([`crate::writer::reingest`]): every order-free check (bytes, hashes,
//! signatures) and the core's rules at each record's own place, with its original receipt. What
//! that builds (records with their receipts, chain and hash indexes, bill and custody states,
//! the registry, delegations, secondary indexes, the log's tree, the metadata) must equal what
//! is stored, key by key; then the tree must extend every checkpoint the log published. There is
//! no second copy of the rules here. The first fault is named; a damaged block (a failed
//! checksum) is a fault too. `ebld audit` runs it on a stopped ledger's folder or a backup; the
//! Audit RPC runs it, for auditors, on an online backup of the running ledger.

use crate::checkpoint::{self, SignedCheckpoint};
use crate::store::keys::{self, Meta, ALL_CFS};
use crate::store::{Store, StoreError};
use crate::writer::{reingest, ReingestError};
use ebl_core::sig::PublicKey;
use std::path::Path;

/// What a clean audit went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    /// Records re-verified and replayed.
    pub records: u64,
    /// Stored keys compared with what the records derive.
    pub keys: u64,
    /// The largest published checkpoint the tree was checked against (0: none).
    pub checkpoint: u64,
}

/// The first fault found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {what}")]
pub struct Fault {
    /// What kind of thing is wrong: `record`, `state`, `registry`, `index`, `tree`, `metadata`,
    /// `checkpoint` or `storage`.
    pub part: &'static str,
    /// Which one, and how (no server paths: an auditor reads it).
    pub what: String,
    /// Engine detail for the operator (file names, offsets), if any.
    pub detail: Option<String>,
}

impl Fault {
    fn new(part: &'static str, what: String) -> Self {
        Fault { part, what, detail: None }
    }
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Corrupt { cf, why } => Fault {
                part: part_of(cf),
                what: format!("a stored value in {cf} does not decode: {why}"),
                detail: None,
            },
            StoreError::Format { .. } => Fault { part: "metadata", what: e.to_string(), detail: None },
            e if e.is_damage() => Fault {
                part: "storage",
                what: "the database is damaged: a block fails its checksum or does not decode".into(),
                detail: Some(e.to_string()),
            },
            e => Fault { part: "storage", what: "the database cannot be read".into(), detail: Some(e.to_string()) },
        }
    }
}

/// The part a column family's faults are named by.
fn part_of(cf: &str) -> &'static str {
    match cf {
        keys::CF_RECORDS | keys::CF_BY_HASH | keys::CF_CHAINS => "record",
        keys::CF_BILLS | keys::CF_CUSTODY | keys::CF_DOCUMENTS => "state",
        keys::CF_PARTIES | keys::CF_KEYS | keys::CF_DELEGATIONS => "registry",
        keys::CF_INDEX => "index",
        keys::CF_TREE => "tree",
        _ => "metadata",
    }
}

/// A stored key, readable: numbers for records and tree nodes, text where it is text, hex else.
fn describe(cf: &str, key: &[u8]) -> String {
    match (cf, key.len()) {
        (keys::CF_RECORDS, 8) => format!("record {}", u64::from_be_bytes(key.try_into().expect("8 bytes"))),
        (keys::CF_TREE, 9) => {
            format!("node at level {} index {}", key[0], u64::from_be_bytes(key[1..].try_into().expect("8 bytes")))
        }
        _ => match std::str::from_utf8(key) {
            Ok(t) if t.chars().all(|c| c.is_ascii_graphic()) => format!("{cf} entry {t}"),
            _ => format!("{cf} entry {}", hex::encode(key)),
        },
    }
}

/// Audits `store` against `published` (every checkpoint the log is known to have published),
/// replaying into a new database under `scratch` (a folder that must not exist yet; removed
/// after). `origin` and `operator` are the ledger's (from its metadata).
pub fn audit(store: &Store, published: &[SignedCheckpoint], scratch: &Path) -> Result<Audited, Fault> {
    if scratch.exists() {
        return Err(Fault::new("storage", format!("the scratch folder {} already exists", scratch.display())));
    }
    let result = run(store, published, scratch);
    let _ = std::fs::remove_dir_all(scratch);
    result
}

fn run(store: &Store, published: &[SignedCheckpoint], scratch: &Path) -> Result<Audited, Fault> {
    let meta = |m: Meta| -> Result<Vec<u8>, Fault> {
        store.meta(m)?.ok_or_else(|| Fault::new("metadata", format!("no {}", String::from_utf8_lossy(m.key()))))
    };
    let origin =
        String::from_utf8(meta(Meta::Origin)?).map_err(|_| Fault::new("metadata", "origin is not UTF-8".into()))?;
    let operator = PublicKey::from_slice("operator key", &meta(Meta::OperatorKey)?)
        .map_err(|e| Fault::new("metadata", e.to_string()))?;
    let replay = Store::open(scratch).map_err(|e| Fault::new("storage", format!("scratch database: {e}")))?;
    let mut b = crate::store::Batch::new();
    for m in [Meta::Origin, Meta::OperatorKey, Meta::LedgerKey] {
        b.meta(m, &meta(m)?);
    }
    // The format version is not made by records either; a database from before it was recorded
    // has none.
    if let Some(v) = store.meta(Meta::SchemaVersion)? {
        b.meta(Meta::SchemaVersion, &v);
    }
    replay.commit(b)?;

    // Every record, in log order, through the writer's checks and the rules.
    let mut expected = 0u64;
    let records = store.entries(keys::CF_RECORDS).map(|item| {
        let (k, v) = item?;
        let seq = <[u8; 8]>::try_from(&*k).map(u64::from_be_bytes).unwrap_or(u64::MAX);
        if seq != expected {
            return Err(ReingestError::Store(StoreError::Corrupt {
                cf: keys::CF_RECORDS,
                why: format!("{} where record {expected} was expected", describe(keys::CF_RECORDS, &k)),
            }));
        }
        expected += 1;
        let stored = crate::store::entry::decode_record(seq, &v).map_err(|e| {
            ReingestError::Store(StoreError::Corrupt { cf: keys::CF_RECORDS, why: format!("record {seq}: {e}") })
        })?;
        crate::recover::acknowledged(seq, stored, &origin)
    });
    let replayed = reingest(&replay, &operator, records).map_err(|e| match e {
        ReingestError::Store(s) => Fault::from(s),
        e => Fault::new("record", e.to_string()),
    })?;

    // What the records derive, key by key, against what is stored.
    let mut compared = 0;
    for cf in ALL_CFS {
        let mut stored =
            store.entries(cf).filter(|i| !matches!(i, Ok((k, _)) if cf == keys::CF_META && Meta::is_bookkeeping(k)));
        let mut derived =
            replay.entries(cf).filter(|i| !matches!(i, Ok((k, _)) if cf == keys::CF_META && Meta::is_bookkeeping(k)));
        loop {
            let (s, d) = (stored.next().transpose()?, derived.next().transpose()?);
            let fault = |what: String| Err(Fault::new(part_of(cf), what));
            match (s, d) {
                (None, None) => break,
                (Some((k, _)), None) => return fault(format!("{} is stored but no record makes it", describe(cf, &k))),
                (None, Some((k, _))) => return fault(format!("{} is missing: the records make it", describe(cf, &k))),
                (Some((sk, _)), Some((dk, _))) if sk != dk => {
                    let (first, how) = if sk < dk {
                        (sk, "is stored but no record makes it")
                    } else {
                        (dk, "is missing: the records make it")
                    };
                    return fault(format!("{} {how}", describe(cf, &first)));
                }
                (Some((k, sv)), Some((_, dv))) if sv != dv => {
                    return fault(format!("{} differs from what the records make", describe(cf, &k)))
                }
                _ => compared += 1,
            }
        }
    }

    // The tree extends every checkpoint the log published.
    let mut largest = 0;
    for cp in published {
        checkpoint::extends(store, &cp.checkpoint, replayed)
            .map_err(|e| Fault::new("checkpoint", format!("checkpoint {}: {e}", cp.size())))?;
        largest = largest.max(cp.size());
    }
    Ok(Audited { records: replayed, keys: compared, checkpoint: largest })
}

/// Audits a stopped ledger's data folder or a backup (the same layout: `db/`, `checkpoint`),
/// opened read-only, against its checkpoint file, its database's checkpoint and `copy` (the
/// checkpoint copy outside the folder, if any); each must verify with the ledger's key.
pub fn audit_folder(folder: &Path, copy: Option<&Path>, scratch: &Path) -> Result<Audited, Fault> {
    let store = Store::open_read_only(&folder.join(crate::server::DB_DIR))?;
    store.check_schema().map_err(|e| Fault::new("metadata", e))?;
    let meta = |m: Meta| store.meta(m).map_err(Fault::from);
    let origin = meta(Meta::Origin)?.and_then(|o| String::from_utf8(o).ok());
    let key = meta(Meta::LedgerKey)?.and_then(|k| <[u8; 32]>::try_from(k).ok());
    let (Some(origin), Some(key)) = (origin, key) else {
        return Err(Fault::new("metadata", "no origin or ledger key: not a ledger's database".into()));
    };
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
        .map_err(|e| Fault::new("metadata", format!("ledger key: {e}")))?;
    let verifier = ebl_core::log::VerifierKey::new(&origin, ebl_core::log::KeyKind::Ed25519, key)
        .map_err(|e| Fault::new("metadata", format!("origin: {e}")))?;
    let bad = |e: checkpoint::SignError| Fault::new("checkpoint", e.to_string());
    let mut published: Vec<_> = checkpoint::read_meta(&store, &verifier).map_err(bad)?.into_iter().collect();
    let files = [Some(folder.join(checkpoint::file::CHECKPOINT_FILE)), copy.map(Path::to_path_buf)];
    for file in files.into_iter().flatten() {
        published.extend(checkpoint::read_file(&file, &verifier).map_err(bad)?);
    }
    audit(&store, &published, scratch)
}

/// A scratch folder name under the system's temporary folder, new to this process and call.
pub fn scratch_folder() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("ebl-audit-{}-{nanos}", std::process::id()))
}
