//! The way out of a halted log (`ebld recover`): when the database was restored from before a
//! checkpoint the log published, the acknowledged records it lacks are taken back from another
//! copy of this ledger's database (a newer backup, the old machine's disk) with their original
//! receipts, through the writer's own checks and rules ([`crate::writer::reingest`]). The ledger
//! may serve again only if the tree then extends every checkpoint the log published; if not,
//! this log cannot go on and its operator starts a new one under a new origin.

use crate::checkpoint::{self, SignError};
use crate::server::{Ledger, StartError, DB_DIR};
use crate::store::entry::StoredEntry;
use crate::store::keys::Meta;
use crate::store::{Store, StoreError};
use crate::writer::{reingest, Acknowledged, ReingestError};
use std::path::Path;

/// What a recovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Records taken back from the source.
    pub appended: u64,
    /// The tree's size now.
    pub size: u64,
    /// The largest checkpoint the log published, which the tree now extends (0: none).
    pub published: u64,
}

/// Why the ledger could not be recovered (what was appended before stays: each record in it
/// passed every check at its own place, with its own receipt).
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// The ledger or the source could not be opened.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The source is not a copy of this ledger.
    #[error("{0}")]
    Source(String),
    /// The source's history differs from the database's: it cannot fill the gap.
    #[error("the source's tree differs from the database's at size {size}: it is a copy of another history; {END}")]
    Diverges {
        /// The database's size.
        size: u64,
    },
    /// A record of the source could not be taken back.
    #[error("{0}; {END}")]
    Reingest(#[from] ReingestError),
    /// The rebuilt tree still does not extend what the log published.
    #[error(
        "after taking back {appended} records the tree still does not extend a published checkpoint ({why}); {END}"
    )]
    StillForked {
        /// Records taken back.
        appended: u64,
        /// What does not match.
        why: SignError,
    },
}

const END: &str = "recover from another copy, or end this log and start a new one under a new origin \
                   (docs/operations.md, \"Restore and recover\")";

/// A stored record (from a copy of this ledger, or from the database being audited) as the writer
/// takes it back: through every order-free check again (bytes, hash, signatures), at the place
/// and time its receipt gives. `seq` is where it was found.
pub fn acknowledged(seq: u64, stored: StoredEntry, origin: &str) -> Result<Acknowledged, ReingestError> {
    let rec = stored.signed_record().map_err(|why| ReingestError::Order { seq, why })?;
    taken_back(seq, stored.receipt.seq, stored.receipt.time, rec, origin)
}

/// A signed record found at `seq`, whose receipt gave it sequence number `at` and `time`, as the
/// writer takes it back (see [`acknowledged`]).
pub fn taken_back(
    seq: u64,
    at: u64,
    time: ebl_core::time::Timestamp,
    rec: crate::pb::SignedRecord,
    origin: &str,
) -> Result<Acknowledged, ReingestError> {
    let rec = crate::service::check_record(rec, origin).map_err(|err| ReingestError::Refused { seq, err })?;
    Ok(Acknowledged { rec, seq: at, time })
}

/// Takes back into `ledger`'s database the records of `from` (a data folder, a backup made by
/// `ebld backup`, or a database folder) that it lacks, then checks the tree against every
/// checkpoint the log published. The ledger must not be serving.
pub fn recover(ledger: &Ledger, from: &Path) -> Result<Recovered, RecoverError> {
    let path = if from.join(DB_DIR).is_dir() { from.join(DB_DIR) } else { from.to_path_buf() };
    let source = Store::open_read_only(&path).map_err(|e| RecoverError::Source(format!("{}: {e}", path.display())))?;
    source.check_schema().map_err(|e| RecoverError::Source(format!("{}: {e}", path.display())))?;
    let store = ledger.store();
    for (m, what) in [(Meta::Origin, "origin"), (Meta::LedgerKey, "ledger key")] {
        if source.meta(m)? != store.meta(m)? {
            return Err(RecoverError::Source(format!(
                "{} is not a copy of this ledger: its {what} differs",
                path.display()
            )));
        }
    }
    let size = store.next_seq()?;
    let available = source.next_seq()?;
    if available < size || source.tree_root(size)? != store.tree_root(size)? {
        return Err(RecoverError::Diverges { size });
    }
    let records = (size..available).map(|seq| {
        let stored = source.record(seq)?.ok_or_else(|| StoreError::Corrupt {
            cf: crate::store::keys::CF_RECORDS,
            why: format!("source record {seq} is missing"),
        })?;
        acknowledged(seq, stored, ledger.origin())
    });
    let appended = reingest(&store, ledger.operator(), records)?;
    let size = store.next_seq()?;
    let mut published = 0;
    for cp in ledger.published() {
        checkpoint::extends(&store, &cp.checkpoint, size).map_err(|why| RecoverError::StillForked { appended, why })?;
        published = published.max(cp.size());
    }
    Ok(Recovered { appended, size, published })
}
