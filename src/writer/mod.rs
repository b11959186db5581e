//! The single writer, in three stages. Records arrive already decoded and signature-checked (in
//! parallel, by the handlers); the writer thread takes them in arrival order and
//! - **sequences** them: the only place that decides order and time. Each group of waiting
//!   records (at most [`MAX_GROUP`], at most [`command::MAX_COMMAND_BYTES`] encoded) becomes one
//!   [`Command`] stamped with the wall clock's time and the next command index;
//! - **applies** the command ([`apply::apply_command`]): a deterministic function of the stored
//!   state and the command that answers every record (duplicates with their original place) and
//!   gathers the group's writes, the log's tree nodes and the command's index in one batch;
//! - **commits** the batch, synced before any record of it is acknowledged, then publishes the
//!   new (synced) tree size on a watch channel for the checkpoint signer, which it never waits
//!   for.
//!
//! While the disk is under its reserve, every group is refused whole (UNAVAILABLE
//! `DISK_RESERVE`) and nothing is written; once the log has halted, every group is refused
//! (FAILED_PRECONDITION, see [`crate::hold`]). The writer holds no protobuf types.

pub mod apply;
pub mod command;
mod reingest;

pub use apply::{apply_command, Answer, Applied, NotApplied};
pub use command::Command;
pub use reingest::{reingest, Acknowledged, ReingestError};

use crate::error::LedgerError;
use crate::hold::WriteHold;
use crate::store::Store;
use ebl_core::apply::Checked;
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most records committed in one write batch.
pub const MAX_GROUP: usize = 512;

type Reply = oneshot::Sender<Result<Answer, LedgerError>>;

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
    pub async fn submit(&self, rec: Checked) -> Result<Answer, LedgerError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { rec, reply })
            .await
            .map_err(|_| LedgerError::Unavailable("the writer has stopped".into()))?;
        rx.await.map_err(|_| LedgerError::Unavailable("the writer stopped before answering".into()))?
    }

    /// Queues several records in this order (records refused before the writer keep their
    /// error and their place), then waits for every answer.
    pub async fn submit_all(&self, recs: Vec<Result<Checked, LedgerError>>) -> Vec<Result<Answer, LedgerError>> {
        Self::answers(self.enqueue(recs).await).await
    }

    /// Queues several records in this order, without waiting for their answers: records queued
    /// by a later call are written after these.
    pub async fn enqueue(&self, recs: Vec<Result<Checked, LedgerError>>) -> Vec<Queued> {
        let mut queued = Vec::with_capacity(recs.len());
        for r in recs {
            queued.push(Queued(match r {
                Ok(rec) => {
                    let (reply, rx) = oneshot::channel();
                    match self.tx.send(Job { rec, reply }).await {
                        Ok(()) => Ok(rx),
                        Err(_) => Err(LedgerError::Unavailable("the writer has stopped".into())),
                    }
                }
                Err(e) => Err(e),
            }));
        }
        queued
    }

    /// The answers to records [`WriterHandle::enqueue`] queued, in their order.
    pub async fn answers(queued: Vec<Queued>) -> Vec<Result<Answer, LedgerError>> {
        let mut out = Vec::with_capacity(queued.len());
        for q in queued {
            out.push(q.answer().await);
        }
        out
    }
}

/// A record queued for the writer (or refused before it), its answer to come.
pub struct Queued(Result<oneshot::Receiver<Result<Answer, LedgerError>>, LedgerError>);

impl Queued {
    /// The writer's answer (or the refusal).
    pub async fn answer(self) -> Result<Answer, LedgerError> {
        match self.0 {
            Ok(rx) => {
                rx.await.unwrap_or_else(|_| Err(LedgerError::Unavailable("the writer stopped before answering".into())))
            }
            Err(e) => Err(e),
        }
    }
}

/// Where the writer's commands go: applied and committed here ([`Local`]), or proposed to a
/// cluster, whose state machine applies them with the same [`apply_command`]
/// (`crate::raft::node::Proposer`).
pub trait Commit: Send + 'static {
    /// Commits `cmd` (sequenced and stamped) and answers each of its records.
    fn commit(&mut self, cmd: &Command) -> Done;
}

/// Commands applied to this node's store: the single-process ledger. Each command committed is
/// appended to the journal, if there is one (see [`command::frame`]).
pub struct Local {
    store: Arc<Store>,
    operator: PublicKey,
    index: u64,
    journal: Option<std::fs::File>,
}

impl Local {
    /// Commits to `store`, from the command after the last one it applied.
    pub fn new(
        store: Arc<Store>,
        operator: PublicKey,
        journal: Option<std::fs::File>,
    ) -> Result<Self, crate::store::StoreError> {
        let index = store.last_command()?;
        Ok(Local { store, operator, index, journal })
    }
}

impl Commit for Local {
    fn commit(&mut self, cmd: &Command) -> Done {
        let done = commit_command(&self.store, &self.operator, self.index + 1, cmd);
        if done.committed {
            self.index += 1;
            if let Some(file) = &mut self.journal {
                use std::io::Write;
                if let Err(e) = file.write_all(&command::frame(self.index, &cmd.encode())) {
                    tracing::error!(error = %e, "command journal not written; it is closed");
                    self.journal = None;
                }
            }
        }
        done
    }
}

/// Starts the writer thread, committing through `commit` from a tree of `size` records. It ends
/// when every handle is dropped, after its last commit. Each group that adds records is counted
/// in `metrics`.
pub fn spawn(
    mut commit: Box<dyn Commit>,
    size: u64,
    hold: WriteHold,
    metrics: Arc<crate::metrics::Metrics>,
) -> (WriterHandle, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Job>(4 * MAX_GROUP);
    // What is in the database at start was recovered from disk, so it is synced.
    let (size_tx, committed) = watch::channel(size);
    let thread = std::thread::Builder::new()
        .name("ebl-writer".into())
        .spawn(move || {
            let mut sequencer = Sequencer { rx, carried: None };
            while let Some(jobs) = sequencer.next_group() {
                if let Err(e) = hold.check() {
                    // Under the disk reserve nothing is written, so that RocksDB never runs out
                    // of space itself; the next group looks again. A halted log writes nothing.
                    for j in jobs {
                        let _ = j.reply.send(Err(e.clone()));
                    }
                    continue;
                }
                let (replies, records): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.reply, j.rec)).unzip();
                let cmd = Command { time: Timestamp::now(), records };
                let start = std::time::Instant::now();
                let done = commit.commit(&cmd);
                if done.grown.is_some() {
                    // A group that added records was synced before any of them is answered.
                    metrics.commit_group(cmd.records.len(), start.elapsed());
                }
                for (reply, answer) in replies.into_iter().zip(done.answers) {
                    let _ = reply.send(answer);
                }
                if let Some(size) = done.grown {
                    size_tx.send_replace(size);
                }
            }
        })
        .expect("spawn writer thread");
    (WriterHandle { tx, committed }, thread)
}

/// Sequencing's intake: groups the records waiting, in arrival order, within the bounds of one
/// command; a record that would overflow a command waits for the next.
struct Sequencer {
    rx: mpsc::Receiver<Job>,
    carried: Option<Job>,
}

impl Sequencer {
    /// The next group, waiting for its first record; `None` once every handle is gone.
    fn next_group(&mut self) -> Option<Vec<Job>> {
        let first = match self.carried.take() {
            Some(j) => j,
            None => self.rx.blocking_recv()?,
        };
        let mut bytes = command::record_bytes(&first.rec);
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            let Ok(j) = self.rx.try_recv() else { break };
            bytes += command::record_bytes(&j.rec);
            if !command::fits(bytes) {
                self.carried = Some(j);
                break;
            }
            jobs.push(j);
        }
        Some(jobs)
    }
}

/// A command's end: each record's answer, whether its batch was committed (so that its index is
/// used), and the new tree size if it added records.
#[derive(Debug)]
pub struct Done {
    /// Each record's answer, in the command's order.
    pub answers: Vec<Result<Answer, LedgerError>>,
    /// Whether the command's batch was committed.
    pub committed: bool,
    /// The tree's size after it, if it added records.
    pub grown: Option<u64>,
}

/// Applies and commits the command at `index` (the one way commands are committed: by the
/// writer, and by `ebld apply-commands`). If the command cannot be applied or committed, every
/// record that needed the commit gets the failure and nothing is written.
pub fn commit_command(store: &Store, operator: &PublicKey, index: u64, cmd: &Command) -> Done {
    let fail = |e: LedgerError| {
        tracing::error!(error = %e, index, "command not applied");
        Done { answers: cmd.records.iter().map(|_| Err(e.clone())).collect(), committed: false, grown: None }
    };
    let applied = match apply_command(store, operator, index, cmd) {
        Ok(a) => a,
        Err(NotApplied::Store(e)) => return fail(e.into()),
        Err(e) => return fail(LedgerError::Internal(e.to_string())),
    };
    let Applied { answers, batch, size, grew } = applied;
    let first_new = size - answers.iter().filter(|a| matches!(a, Ok(Answer::Accepted(_)))).count() as u64;
    let answers: Vec<_> = answers.into_iter().map(|a| a.map_err(LedgerError::from)).collect();
    match store.commit_with(batch, grew) {
        Ok(()) => Done { answers, committed: true, grown: grew.then_some(size) },
        Err(e) => {
            let e = LedgerError::from(e);
            tracing::error!(error = %e, index, "command not committed");
            // Refusals, and duplicates of records committed before, hold whatever the commit did.
            let answers = answers
                .into_iter()
                .map(|a| match a {
                    Ok(Answer::Duplicate(seq)) if seq < first_new => a,
                    Err(LedgerError::Rule(_)) => a,
                    _ => Err(e.clone()),
                })
                .collect();
            Done { answers, committed: false, grown: None }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{payload, register_party, sign, Identity, Link};
    use ebl_core::ids::{PartyId, OPERATOR};

    /// A checked record whose payload bytes are padded to `len` (sequencing only counts bytes).
    fn record_of(len: usize) -> Checked {
        let op = Identity { party: PartyId::operator(), key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]) };
        let action = register_party("cq-mto", "Chongqing MTO", crate::pb::Role::Carrier, &[], vec![]);
        let p = payload("test.example/ebl", None, Link::default(), OPERATOR, None, Timestamp(0), action);
        let mut rec = crate::service::check_record(sign(&p, &[&op]), "test.example/ebl").unwrap();
        rec.bytes.resize(len, 0);
        rec
    }

    #[test]
    fn sequencing_keeps_each_command_within_its_byte_bound_and_loses_no_record() {
        let (tx, rx) = mpsc::channel(64);
        for _ in 0..20 {
            tx.try_send(Job { rec: record_of(1024 * 1024), reply: oneshot::channel().0 }).unwrap();
        }
        drop(tx);
        let mut sequencer = Sequencer { rx, carried: None };
        let mut sizes = Vec::new();
        while let Some(jobs) = sequencer.next_group() {
            let cmd = Command { time: Timestamp(0), records: jobs.into_iter().map(|j| j.rec).collect() };
            assert!(cmd.encoded_len() <= command::MAX_COMMAND_BYTES, "a command of {} bytes", cmd.encoded_len());
            sizes.push(cmd.records.len());
        }
        // Seven records of 1 MiB fit in 8 MiB with their framing, the eighth waits for the next;
        // all twenty are sequenced, in three commands.
        assert_eq!(sizes, [7, 7, 6]);
        // Small records are grouped up to the record bound instead.
        let (tx, rx) = mpsc::channel(2 * MAX_GROUP);
        for _ in 0..MAX_GROUP + 3 {
            tx.try_send(Job { rec: record_of(200), reply: oneshot::channel().0 }).unwrap();
        }
        drop(tx);
        let mut sequencer = Sequencer { rx, carried: None };
        let sizes: Vec<_> = std::iter::from_fn(|| sequencer.next_group().map(|g| g.len())).collect();
        assert_eq!(sizes, [MAX_GROUP, 3]);
    }
}
