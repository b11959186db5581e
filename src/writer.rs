//! The single writer. Records arrive already decoded and signature-checked (in parallel, by the
//! handlers); this one thread takes them in arrival order, answers duplicates with their original
//! receipt, stamps sequence number and server time, runs the core's `apply` (which re-checks
//! everything that depends on order), and commits each group of records in one synced write
//! batch before any of them is acknowledged. Each accepted record is one leaf of the log: the
//! tree nodes its leaves complete go into the same batch, and after the commit the writer
//! publishes the new (synced) tree size on a watch channel for the checkpoint signer, which it
//! never waits for. While the disk is under its reserve, every group is refused whole
//! (UNAVAILABLE `DISK_RESERVE`) and nothing is written; once the log has halted, every group is
//! refused (FAILED_PRECONDITION, see [`crate::hold`]).

use crate::error::LedgerError;
use crate::hold::WriteHold;
use crate::pb;
use crate::store::keys::Meta;
use crate::store::overlay::Overlay;
use crate::store::{Batch, Store};
use crate::wire::entry::log_entry;
use crate::wire::views::ReceiptInfo;
use ebl_core::apply::{apply, Checked, Stamp};
use ebl_core::hash::Hash32;
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most records committed in one write batch.
pub const MAX_GROUP: usize = 512;

type Reply = oneshot::Sender<Result<pb::Receipt, LedgerError>>;

struct Job {
    rec: Checked,
    reply: Reply,
}

/// A cheap handle to submit checked records to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Job>,
    committed: watch::Receiver<u64>,
}

impl WriterHandle {
    /// The tree size after the writer's last synced commit (the log's synced size), updated after
    /// every commit that added records. Holding it does not keep the writer running.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    /// Queues a record and waits for its receipt (marked `duplicate` if it was already accepted).
    pub async fn submit(&self, rec: Checked) -> Result<pb::Receipt, LedgerError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { rec, reply })
            .await
            .map_err(|_| LedgerError::Unavailable("the writer has stopped".into()))?;
        rx.await.map_err(|_| LedgerError::Unavailable("the writer stopped before answering".into()))?
    }

    /// Queues several records in this order (records refused before the writer keep their
    /// error and their place), then waits for every answer.
    pub async fn submit_all(&self, recs: Vec<Result<Checked, LedgerError>>) -> Vec<Result<pb::Receipt, LedgerError>> {
        let mut waiting = Vec::with_capacity(recs.len());
        for r in recs {
            waiting.push(match r {
                Ok(rec) => {
                    let (reply, rx) = oneshot::channel();
                    match self.tx.send(Job { rec, reply }).await {
                        Ok(()) => Ok(rx),
                        Err(_) => Err(LedgerError::Unavailable("the writer has stopped".into())),
                    }
                }
                Err(e) => Err(e),
            });
        }
        let mut out = Vec::with_capacity(waiting.len());
        for w in waiting {
            out.push(match w {
                Ok(rx) => rx
                    .await
                    .unwrap_or_else(|_| Err(LedgerError::Unavailable("the writer stopped before answering".into()))),
                Err(e) => Err(e),
            });
        }
        out
    }
}

/// Starts the writer thread. It ends when every handle is dropped, after its last commit.
pub fn spawn(
    store: Arc<Store>,
    operator: PublicKey,
    hold: WriteHold,
) -> Result<(WriterHandle, std::thread::JoinHandle<()>), crate::store::StoreError> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_GROUP);
    // What is in the database at start was recovered from disk, so it is synced.
    let (size_tx, committed) = watch::channel(store.next_seq()?);
    let thread = std::thread::Builder::new()
        .name("ebl-writer".into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut jobs = vec![first];
                while jobs.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                if let Err(e) = hold.check() {
                    // Under the disk reserve nothing is written, so that RocksDB never runs out
                    // of space itself; the next group looks again. A halted log writes nothing.
                    for j in jobs {
                        let _ = j.reply.send(Err(e.clone()));
                    }
                    continue;
                }
                if let Some(size) = commit_group(&store, &operator, jobs) {
                    size_tx.send_replace(size);
                }
            }
        })
        .expect("spawn writer thread");
    Ok((WriterHandle { tx, committed }, thread))
}

/// An answer waiting for the group's commit (`durable` answers need none).
struct Outcome {
    reply: Reply,
    result: Result<pb::Receipt, LedgerError>,
    durable: bool,
}

/// Commits one group and answers it; returns the new tree size if the commit added records.
fn commit_group(store: &Store, operator: &PublicKey, jobs: Vec<Job>) -> Option<u64> {
    let mut grown = None;
    let outcomes = match build_group(store, operator, jobs) {
        Ok((outcomes, batch, size)) => {
            let committed = if batch.is_empty() { Ok(()) } else { store.commit(batch) };
            if committed.is_ok() {
                grown = size;
            }
            finish(outcomes, committed.map_err(LedgerError::from))
        }
        Err((replies, e)) => {
            replies.into_iter().map(|reply| Outcome { reply, result: Err(e.clone()), durable: true }).collect()
        }
    };
    for o in outcomes {
        if let Err(e) = &o.result {
            if !matches!(e, LedgerError::Rule(_)) {
                tracing::error!(error = %e, "record not committed");
            }
        }
        let _ = o.reply.send(o.result);
    }
    grown
}

/// Turns answers that waited on the commit into failures if the commit failed.
fn finish(outcomes: Vec<Outcome>, committed: Result<(), LedgerError>) -> Vec<Outcome> {
    match committed {
        Ok(()) => outcomes,
        Err(e) => {
            outcomes.into_iter().map(|o| if o.durable { o } else { Outcome { result: Err(e.clone()), ..o } }).collect()
        }
    }
}

type GroupFailure = (Vec<Reply>, LedgerError);

/// The group's answers and its batch, with the tree size after it if it adds records.
fn build_group<'a>(
    store: &'a Store,
    operator: &PublicKey,
    jobs: Vec<Job>,
) -> Result<(Vec<Outcome>, Batch<'a>, Option<u64>), GroupFailure> {
    let start = (|| Ok::<_, crate::store::StoreError>((store.next_seq()?, store.last_time()?, Overlay::new(store)?)))();
    let (mut next_seq, last_time, mut overlay) = match start {
        Ok(s) => s,
        Err(e) => return Err((jobs.into_iter().map(|j| j.reply).collect(), e.into())),
    };
    // Server time never runs backwards, whatever the wall clock does.
    let time = Timestamp::now().max(last_time);
    let first_seq = next_seq;
    let mut batch = Batch::new(store);
    let mut leaves = Vec::new();
    let mut pending: HashMap<Hash32, pb::Receipt> = HashMap::new();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for Job { rec, reply } in jobs {
        let (result, durable) = if let Some(r) = pending.get(&rec.hash) {
            (Ok(pb::Receipt { duplicate: true, ..r.clone() }), false)
        } else {
            match original_receipt(store, &rec.hash) {
                Ok(Some(r)) => (Ok(r), true),
                Err(e) => (Err(e), true),
                Ok(None) => {
                    let stamp = Stamp { seq: next_seq, time };
                    match stage(&mut batch, &mut overlay, &rec, stamp, operator) {
                        Err(e) => (Err(e), true),
                        Ok((receipt, leaf)) => {
                            leaves.push(leaf);
                            pending.insert(rec.hash, receipt.clone());
                            next_seq += 1;
                            (Ok(receipt), false)
                        }
                    }
                }
            }
        };
        outcomes.push(Outcome { reply, result, durable });
    }
    if pending.is_empty() {
        return Ok((outcomes, batch, None));
    }
    // The leaves' tree nodes, computed from the stored right edge of the tree: the tree then has
    // exactly `next_seq` leaves, like the records.
    match store.tree_append(first_seq, &leaves) {
        Ok(appended) => batch.tree_nodes(&appended.nodes),
        Err(e) => return Ok((finish(outcomes, Err(e.into())), Batch::new(store), None)),
    }
    batch.meta(Meta::NextSeq, &next_seq.to_be_bytes());
    batch.meta(Meta::LastTime, &(time.0 as u64).to_be_bytes());
    Ok((outcomes, batch, Some(next_seq)))
}

/// Applies `rec` at `stamp` over `overlay` and, if the rules accept it, stages it into `batch`
/// (the stored record with its receipt, and its effects) and into `overlay` for the records after
/// it. Returns its receipt and its leaf hash. Nothing is staged if it is refused.
fn stage(
    batch: &mut Batch,
    overlay: &mut Overlay,
    rec: &Checked,
    stamp: Stamp,
    operator: &PublicKey,
) -> Result<(pb::Receipt, Hash32), LedgerError> {
    let effects = apply(overlay, rec, stamp, operator)?;
    let receipt = ReceiptInfo {
        hash: rec.hash,
        chain: rec.payload.chain,
        position: rec.payload.position,
        seq: stamp.seq,
        time: stamp.time,
        action: rec.payload.action.name(),
    }
    .to_pb(false);
    let stored = pb::StoredRecord {
        record: Some(pb::SignedRecord {
            payload: rec.bytes.clone(),
            signatures: rec.signatures.iter().map(crate::wire::payload::encode_signature).collect(),
        }),
        receipt: Some(receipt.clone()),
    };
    let signatures = &stored.record.as_ref().expect("built above").signatures;
    let leaf = log_entry(rec.hash, signatures, stamp.seq, stamp.time).leaf_hash();
    batch.record(&stored, &rec.hash, &rec.payload.chain, rec.payload.position, stamp.seq);
    for e in &effects {
        batch.effect(e);
    }
    overlay.absorb(&effects);
    overlay.took(rec.payload.chain, rec.payload.position, rec.hash);
    Ok((receipt, leaf))
}

/// Why records from elsewhere could not be taken back (see [`reingest`]).
#[derive(Debug, thiserror::Error)]
pub enum ReingestError {
    /// A record is not the next one, or its receipt is missing.
    #[error("record {seq}: {why}")]
    Order {
        /// The record's sequence number in the source.
        seq: u64,
        /// What is wrong.
        why: String,
    },
    /// A record fails its order-free checks (bytes, signatures) or the rules at its place.
    #[error("record {seq} is refused at its original place: {err}")]
    Refused {
        /// The record's sequence number.
        seq: u64,
        /// The refusal.
        err: LedgerError,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Appends records acknowledged elsewhere (a backup, another copy of this ledger) at their
/// original receipts: each must be the next sequence number, passes every check again (bytes,
/// signatures, the rules at its own place), and is committed with its original time, so that the
/// tree grows exactly as it did when the record was first accepted. Commits in groups of
/// [`MAX_GROUP`]; stops at the first record that does not fit, keeping those before it. Returns
/// how many were appended. Only for a ledger that is not serving (`ebld recover`).
pub fn reingest(
    store: &Store,
    operator: &PublicKey,
    origin: &str,
    records: impl IntoIterator<Item = Result<pb::StoredRecord, crate::store::StoreError>>,
) -> Result<u64, ReingestError> {
    let mut records = records.into_iter().peekable();
    let mut appended = 0;
    while records.peek().is_some() {
        let first = store.next_seq()?;
        let mut last_time = store.last_time()?;
        let mut overlay = Overlay::new(store)?;
        let mut batch = Batch::new(store);
        let mut leaves = Vec::new();
        for stored in records.by_ref().take(MAX_GROUP) {
            let stored = stored?;
            let seq = first + leaves.len() as u64;
            let order = |why: String| ReingestError::Order { seq, why };
            let receipt = stored.receipt.clone().ok_or_else(|| order("it has no receipt".into()))?;
            if receipt.seq != seq {
                return Err(order(format!("its receipt says sequence number {}, not the next one", receipt.seq)));
            }
            let time = Timestamp::parse("server_time", &receipt.server_time)
                .map_err(|e| order(format!("its receipt's time: {e}")))?;
            if time < last_time {
                return Err(order(format!("its time {} is before the record before it", receipt.server_time)));
            }
            let refused = |err| ReingestError::Refused { seq, err };
            let rec = stored.record.ok_or_else(|| order("it holds no signed record".into()))?;
            let rec = crate::api::check::check_record(rec, origin).map_err(refused)?;
            let (_, leaf) = stage(&mut batch, &mut overlay, &rec, Stamp { seq, time }, operator).map_err(refused)?;
            leaves.push(leaf);
            last_time = time;
        }
        let next = first + leaves.len() as u64;
        batch.tree_nodes(&store.tree_append(first, &leaves)?.nodes);
        batch.meta(Meta::NextSeq, &next.to_be_bytes());
        batch.meta(Meta::LastTime, &(last_time.0 as u64).to_be_bytes());
        store.commit(batch)?;
        appended += leaves.len() as u64;
    }
    Ok(appended)
}

/// The receipt an already accepted record got, marked as a duplicate.
fn original_receipt(store: &Store, hash: &Hash32) -> Result<Option<pb::Receipt>, LedgerError> {
    let Some(seq) = store.seq_of(hash)? else { return Ok(None) };
    let stored =
        store.record(seq)?.ok_or_else(|| LedgerError::Internal(format!("record {seq} indexed but missing")))?;
    let receipt = stored.receipt.ok_or_else(|| LedgerError::Internal(format!("record {seq} has no receipt")))?;
    Ok(Some(pb::Receipt { duplicate: true, ..receipt }))
}
