//! Bringing a stopped ledger's database from an older on-disk format to this build's
//! (`ebld migrate`). Format 1 kept records as the public `StoredRecord` protobuf and chain entries
//! as bare sequence numbers, and had no documents; format 2 has the store's own encodings
//! (`store::entry`) and the documents.
//!
//! Nothing is converted in place. The records are read from the old database and taken back, in
//! log order, into a new one beside it (`db.migrating`) through the writer's own path (every
//! order-free check and the rules at each record's place, with its original receipt), which
//! derives every state, index, document and tree node again. Then the new database must read
//! exactly as the old: each record's public form byte for byte, each chain entry, and every
//! state, index entry, tree node and metadata value unchanged. Only then is the old database
//! moved aside to `db.v<old version>` (kept: remove it once satisfied) and the new one put in its
//! place. A run interrupted before that leaves the data folder as it was; one interrupted
//! between the two renames is finished by running `ebld migrate` again.

use crate::recover::taken_back;
use crate::server::DB_DIR;
use crate::store::entry::decode_chain;
use crate::store::keys::{self, Meta, V1_CFS};
use crate::store::{Batch, Store, StoreError, SCHEMA_VERSION};
use crate::writer::{reingest, ReingestError};
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use prost::Message;
use std::path::{Path, PathBuf};

/// Where the new database is built, in the data folder.
pub const MIGRATING_DIR: &str = "db.migrating";

/// What a migration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The format version the database had (equal to [`SCHEMA_VERSION`]: nothing to do).
    pub from: u32,
    /// Records taken into the new database.
    pub records: u64,
    /// Where the old database is kept, if it was migrated.
    pub kept: Option<PathBuf>,
}

/// Why a database could not be migrated (the data folder is then as it was).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A folder could not be moved or read.
    #[error("{path}: {err}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The failure.
        err: std::io::Error,
    },
    /// The database cannot be migrated by this build.
    #[error("{0}")]
    Refused(String),
    /// A record of the old database could not be taken back.
    #[error("{0}")]
    Reingest(#[from] ReingestError),
    /// The new database does not read as the old one: nothing was replaced.
    #[error("the migrated database differs from the old one ({0}); nothing was replaced")]
    Differs(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MigrateError + '_ {
    move |err| MigrateError::Io { path: path.to_path_buf(), err }
}

/// Migrates the database in `data_dir` (the ledger stopped) to [`SCHEMA_VERSION`].
pub fn migrate(data_dir: &Path) -> Result<Migrated, MigrateError> {
    let db = data_dir.join(DB_DIR);
    let building = data_dir.join(MIGRATING_DIR);
    if !db.exists() && building.exists() {
        return finish(data_dir, &building);
    }
    let from =
        Store::format_of(&db)?.ok_or_else(|| MigrateError::Refused(format!("{} holds no database", db.display())))?;
    if from == SCHEMA_VERSION {
        return Ok(Migrated { from, records: 0, kept: None });
    }
    if from != 1 {
        return Err(StoreError::Format { found: from }.into());
    }
    let kept = kept_dir(data_dir, from);
    if kept.exists() {
        return Err(MigrateError::Refused(format!(
            "{} already exists (a database kept by an earlier migration): move it away first",
            kept.display()
        )));
    }
    // Opened for writing (nothing is written) so that its lock keeps a serving ledger out.
    let old = Store::open_any_format(&db, &V1_CFS).map_err(|e| match e {
        StoreError::Engine(e) if e.to_string().contains("lock") => MigrateError::Refused(format!(
            "{}: the database is in use (is the ledger running? stop it first)",
            db.display()
        )),
        e => e.into(),
    })?;
    if building.exists() {
        // What an interrupted run left: never in use, rebuilt from the start.
        std::fs::remove_dir_all(&building).map_err(io(&building))?;
    }
    let records = build(&old, &building)?;
    drop(old);
    finish(data_dir, &building).map(|m| Migrated { records, ..m })
}

/// `db.v<version>`: where the old database is kept.
fn kept_dir(data_dir: &Path, version: u32) -> PathBuf {
    data_dir.join(format!("{DB_DIR}.v{version}"))
}

/// Builds the new database at `to` from `old` (format 1) and checks it reads as `old`.
fn build(old: &Store, to: &Path) -> Result<u64, MigrateError> {
    let new = Store::open(to)?;
    let meta = |m: Meta| -> Result<Vec<u8>, MigrateError> {
        old.meta(m)?.ok_or_else(|| {
            MigrateError::Refused(format!("no {} in the database: not a ledger's", String::from_utf8_lossy(m.key())))
        })
    };
    let origin =
        String::from_utf8(meta(Meta::Origin)?).map_err(|_| MigrateError::Refused("origin is not UTF-8".into()))?;
    let operator = PublicKey::from_slice("operator key", &meta(Meta::OperatorKey)?)
        .map_err(|e| MigrateError::Refused(e.to_string()))?;
    let mut b = Batch::new();
    for m in [Meta::Origin, Meta::OperatorKey, Meta::LedgerKey] {
        b.meta(m, &meta(m)?);
    }
    b.meta(Meta::SchemaVersion, &SCHEMA_VERSION.to_be_bytes());
    new.commit(b)?;

    let mut expected = 0u64;
    let records = old.entries(keys::CF_RECORDS).map(|item| {
        let (k, v) = item?;
        let seq = keys::be_u64(&k)
            .filter(|s| *s == expected)
            .ok_or_else(|| corrupt(format!("record {expected} is missing")))?;
        expected += 1;
        let stored = crate::pb::StoredRecord::decode(&*v).map_err(|e| corrupt(format!("record {seq}: {e}")))?;
        let (Some(rec), Some(receipt)) = (stored.record, stored.receipt) else {
            return Err(corrupt(format!("record {seq} lacks its record or receipt")));
        };
        let time = Timestamp::parse("server_time", &receipt.server_time)
            .map_err(|e| corrupt(format!("record {seq}'s time: {e}")))?;
        taken_back(seq, receipt.seq, time, rec, &origin)
    });
    let taken = reingest(&new, &operator, records)?;
    // The bookkeeping is where the old ledger stood, not where the replay did.
    let mut b = Batch::new();
    for m in [Meta::Checkpoint, Meta::LastCommand] {
        if let Some(v) = old.meta(m)? {
            b.meta(m, &v);
        }
    }
    new.commit(b)?;
    same_reading(old, &new)?;
    new.flush()?;
    Ok(taken)
}

fn corrupt(why: String) -> ReingestError {
    ReingestError::Store(StoreError::Corrupt { cf: keys::CF_RECORDS, why })
}

/// Whether `new` (this format) reads exactly as `old` (format 1), column family by column
/// family: records in their public form byte for byte, chain entries by sequence number,
/// everything else as stored (the metadata but for its format version).
fn same_reading(old: &Store, new: &Store) -> Result<(), MigrateError> {
    // The format version is how the rest is stored, not what; the bookkeeping was copied.
    let compared = |cf: &'static str, k: &[u8]| {
        !(cf == keys::CF_META && (k == Meta::SchemaVersion.key() || Meta::is_bookkeeping(k)))
    };
    for cf in V1_CFS {
        let mut theirs = old.entries(cf).filter(|i| !matches!(i, Ok((k, _)) if !compared(cf, k)));
        let mut ours = new.entries(cf).filter(|i| !matches!(i, Ok((k, _)) if !compared(cf, k)));
        loop {
            let (a, b) = (theirs.next().transpose()?, ours.next().transpose()?);
            let ((ka, va), (kb, vb)) = match (a, b) {
                (None, None) => break,
                (Some((k, _)), None) | (None, Some((k, _))) => {
                    return Err(MigrateError::Differs(format!("{cf} entry {} is in one only", hex::encode(k))))
                }
                (Some(a), Some(b)) => (a, b),
            };
            let differs = |what: &str| MigrateError::Differs(format!("{cf} entry {}: {what}", hex::encode(&ka)));
            if ka != kb {
                return Err(differs("the keys differ"));
            }
            let same = match cf {
                keys::CF_RECORDS => {
                    let seq = keys::be_u64(&kb).ok_or_else(|| differs("not a sequence number"))?;
                    let entry = crate::store::entry::decode_record(seq, &vb).map_err(|e| differs(&e))?;
                    entry.to_pb().map_err(|e| differs(&e))?.encode_to_vec() == *va
                }
                keys::CF_CHAINS => keys::be_u64(&va) == Some(decode_chain(&vb).map_err(|e| differs(&e))?.0),
                _ => va == vb,
            };
            if !same {
                return Err(differs("the values differ"));
            }
        }
    }
    Ok(())
}

/// Puts the built database in place: the old one aside to `db.v1`, the new one to `db`.
fn finish(data_dir: &Path, building: &Path) -> Result<Migrated, MigrateError> {
    let db = data_dir.join(DB_DIR);
    if Store::format_of(building)? != Some(SCHEMA_VERSION) {
        return Err(MigrateError::Refused(format!("{} is not a finished migration: remove it", building.display())));
    }
    let kept = kept_dir(data_dir, 1);
    if db.exists() {
        std::fs::rename(&db, &kept).map_err(io(&db))?;
    } else if !kept.exists() {
        return Err(MigrateError::Refused(format!(
            "{} is missing and no old database is kept beside it: restore from a backup",
            db.display()
        )));
    }
    std::fs::rename(building, &db).map_err(io(building))?;
    std::fs::File::open(data_dir).and_then(|d| d.sync_all()).map_err(io(data_dir))?;
    Ok(Migrated { from: 1, records: Store::open_read_only(&db)?.next_seq()?, kept: Some(kept) })
}
