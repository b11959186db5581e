//! The state machine: the ledger's database, changed only by committed entries, each through
//! the one deterministic apply, with the entry's Raft log id in the same batch as its effects.
//!
//! - a command: [`apply_command`] at the next command index (commands are counted, not Raft
//!   entries, so that an existing ledger can become a cluster); the leader that proposed it hands
//!   its already checked records over ([`Pending`]), every other node decodes and checks the
//!   command's bytes again. Its answers go back to the proposer in the [`Outcome`];
//! - a checkpoint note: stored as `meta/checkpoint` if it verifies with the log key, names a
//!   size the tree has, with the tree's root there, and is not smaller than the stored one;
//!   otherwise it changes nothing but the applied id (the same on every node: same state);
//! - blank and membership entries: their log id, and the membership.
//!
//! A storage failure while applying is returned to openraft, which stops the node: a node that
//! cannot apply an entry must never go on without it. What apply changed is announced on a
//! watch channel ([`Progress`]) for the signer, the checkpoint publisher and the caches.

use super::snapshot::Snapshots;
use super::{io_error, LogId, Member, NodeId, Outcome, Proposal, StorageError, TypeConfig};
use crate::checkpoint::SignedCheckpoint;
use crate::error::LedgerError;
use crate::store::keys::Meta;
use crate::store::{Batch, Store};
use crate::writer::{apply_command, Command};
use ebl_core::hash::Hash32;
use ebl_core::log::VerifierKey;
use ebl_core::sig::PublicKey;
use openraft::storage::RaftStateMachine;
use openraft::{Entry, EntryPayload, Snapshot, SnapshotMeta, StorageIOError, StoredMembership};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Commands the leader proposed, already checked, by the SHA-256 of their bytes: apply takes
/// them instead of decoding and checking the bytes again.
#[derive(Clone, Default)]
pub struct Pending(Arc<Mutex<HashMap<Hash32, Command>>>);

impl Pending {
    /// The key of a command's bytes.
    pub fn key(bytes: &[u8]) -> Hash32 {
        Hash32(Sha256::digest(bytes).into())
    }

    /// Holds `cmd` (whose bytes hash to `key`) until apply takes it or [`Pending::forget`].
    pub fn hold(&self, key: Hash32, cmd: Command) {
        self.0.lock().expect("pending lock poisoned").insert(key, cmd);
    }

    /// Drops a command that apply did not take (its proposal failed).
    pub fn forget(&self, key: &Hash32) {
        self.0.lock().expect("pending lock poisoned").remove(key);
    }

    fn take(&self, key: &Hash32) -> Option<Command> {
        self.0.lock().expect("pending lock poisoned").remove(key)
    }
}

/// What the state machine has applied, as its watchers follow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The last log id applied.
    pub applied: Option<LogId>,
    /// The tree's size.
    pub size: u64,
    /// The last checkpoint note applied (or installed).
    pub checkpoint: Option<String>,
    /// How many snapshots this process installed (every cache must be dropped when it grows).
    pub installs: u64,
    /// This node's clock minus the time its leader stamped on the last command it applied, in
    /// milliseconds, when it applied it: the clock skew between them plus the replication delay.
    pub clock_offset_ms: Option<i64>,
}

/// What the state machine needs to apply.
#[derive(Clone)]
pub struct Ledger {
    /// The database.
    pub store: Arc<Store>,
    /// The operator's key (the rules need it).
    pub operator: PublicKey,
    /// The ledger's origin (commands from elsewhere are checked for it).
    pub origin: String,
    /// The log key's verifier (checkpoint entries are checked with it).
    pub verifier: VerifierKey,
}

/// The ledger's database as openraft's state machine.
pub struct Machine {
    ledger: Ledger,
    pending: Pending,
    snapshots: Snapshots,
    progress: watch::Sender<Progress>,
}

impl Machine {
    /// The state machine over `ledger`, keeping its snapshots in `snapshots`.
    pub fn new(ledger: Ledger, snapshots: Snapshots, pending: Pending) -> Result<Self, StorageError> {
        let store = &ledger.store;
        let read = |e: crate::store::StoreError| StorageError::from(StorageIOError::read_state_machine(io_error(e)));
        if store.is_half_installed().map_err(read)? {
            return Err(read(crate::store::StoreError::Corrupt {
                cf: crate::store::keys::CF_META,
                why: "a snapshot was being installed when the node stopped: the database is neither the old \
                      state nor the new one; wipe the node and rejoin it under a new node id (docs/replication.md)"
                    .into(),
            }));
        }
        let progress = Progress {
            applied: applied_id(store).map_err(read)?,
            size: store.next_seq().map_err(read)?,
            checkpoint: checkpoint_note(store).map_err(read)?,
            installs: 0,
            clock_offset_ms: None,
        };
        Ok(Machine { ledger, pending, snapshots, progress: watch::channel(progress).0 })
    }

    /// Follows what is applied.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Announces the store's state after entries were applied (the last command's stamp, if
    /// any) or a snapshot was installed.
    fn announce(
        &self,
        installed: bool,
        stamped: Option<ebl_core::time::Timestamp>,
    ) -> Result<(), crate::store::StoreError> {
        let store = &self.ledger.store;
        let before = self.progress.borrow().clone();
        let offset = stamped.map(|t| ebl_core::time::Timestamp::now().0 - t.0);
        let next = Progress {
            applied: applied_id(store)?,
            size: store.next_seq()?,
            checkpoint: checkpoint_note(store)?,
            installs: before.installs + u64::from(installed),
            clock_offset_ms: offset.or(before.clock_offset_ms),
        };
        self.progress.send_if_modified(|p| {
            let changed = *p != next;
            *p = next;
            changed
        });
        Ok(())
    }
}

fn applied_id(store: &Store) -> Result<Option<LogId>, crate::store::StoreError> {
    meta_json(store, Meta::RaftApplied)
}

fn checkpoint_note(store: &Store) -> Result<Option<String>, crate::store::StoreError> {
    Ok(store.meta(Meta::Checkpoint)?.and_then(|v| String::from_utf8(v).ok()))
}

fn meta_json<T: serde::de::DeserializeOwned>(store: &Store, m: Meta) -> Result<Option<T>, crate::store::StoreError> {
    let Some(v) = store.meta(m)? else { return Ok(None) };
    serde_json::from_slice(&v)
        .map(Some)
        .map_err(|e| crate::store::StoreError::Corrupt { cf: crate::store::keys::CF_META, why: e.to_string() })
}

/// Applies one entry to the database, its log id in the same batch as its effects.
fn apply_entry(ledger: &Ledger, pending: &Pending, entry: &Entry<TypeConfig>) -> Result<Outcome, StorageError> {
    let id = entry.log_id;
    let failed = |e: &dyn std::fmt::Display| StorageError::from(StorageIOError::apply(id, io_error(e)));
    let store = &ledger.store;
    let mut outcome = Outcome::default();
    let (mut batch, sync) = match &entry.payload {
        EntryPayload::Blank => (Batch::new(), false),
        EntryPayload::Membership(m) => {
            let mut b = Batch::new();
            b.meta(Meta::RaftMembership, &json(&StoredMembership::new(Some(id), m.clone())));
            (b, true)
        }
        EntryPayload::Normal(Proposal::Command(bytes)) => {
            let cmd = match pending.take(&Pending::key(bytes)) {
                Some(cmd) => Ok(cmd),
                None => Command::decode_with(bytes, &ledger.origin, store.strong_keys()),
            };
            match cmd {
                Ok(cmd) => {
                    outcome.stamped = Some(cmd.time);
                    let index = store.last_command().map_err(|e| failed(&e))? + 1;
                    let applied = apply_command(store, &ledger.operator, index, &cmd).map_err(|e| failed(&e))?;
                    outcome.answers = applied.answers.into_iter().map(|a| a.map_err(LedgerError::from)).collect();
                    outcome.grown = applied.grew.then_some(applied.size);
                    (applied.batch, applied.grew)
                }
                Err(e) => {
                    // Only a faulty leader proposes bytes that are not a command: every node
                    // refuses them the same way, and nothing but the applied id changes.
                    tracing::error!(index = id.index, error = %e, "a committed entry is not a command; skipped");
                    (Batch::new(), false)
                }
            }
        }
        EntryPayload::Normal(Proposal::Checkpoint(note)) => {
            let mut b = Batch::new();
            match acceptable_checkpoint(ledger, note).map_err(|e| failed(&e))? {
                Ok(()) => b.meta(Meta::Checkpoint, note.as_bytes()),
                Err(why) => tracing::warn!(index = id.index, %why, "a committed checkpoint is not taken"),
            }
            (b, true)
        }
    };
    batch.meta(Meta::RaftApplied, &json(&id));
    store.commit_with(batch, sync).map_err(|e| failed(&e))?;
    Ok(outcome)
}

/// Whether the checkpoint `note` may be stored: signed with the log key, for a size the tree has
/// and the tree's root there, not smaller than the stored checkpoint. `Err` only for storage.
fn acceptable_checkpoint(ledger: &Ledger, note: &str) -> Result<Result<(), String>, crate::store::StoreError> {
    let signed = match SignedCheckpoint::open(note, &ledger.verifier) {
        Ok(s) => s,
        Err(e) => return Ok(Err(format!("it does not verify with the log key: {e}"))),
    };
    let store = &ledger.store;
    let size = store.next_seq()?;
    if signed.size() > size {
        return Ok(Err(format!("it is for {} records, the tree has {size}", signed.size())));
    }
    if store.tree_root(signed.size())? != signed.checkpoint.root() {
        return Ok(Err("its root is not the tree's at its size".into()));
    }
    if let Some(current) = checkpoint_note(store)?.and_then(|n| SignedCheckpoint::open(&n, &ledger.verifier).ok()) {
        if current.size() > signed.size() {
            return Ok(Err(format!("it is smaller than the stored checkpoint ({})", current.size())));
        }
    }
    Ok(Ok(()))
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("raft types serialise")
}

impl RaftStateMachine<TypeConfig> for Machine {
    type SnapshotBuilder = Snapshots;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership<NodeId, Member>), StorageError> {
        let store = self.ledger.store.clone();
        tokio::task::spawn_blocking(move || {
            let read =
                |e: crate::store::StoreError| StorageError::from(StorageIOError::read_state_machine(io_error(e)));
            let applied = applied_id(&store).map_err(read)?;
            let membership = meta_json(&store, Meta::RaftMembership).map_err(read)?.unwrap_or_default();
            Ok((applied, membership))
        })
        .await
        .map_err(|e| StorageIOError::read_state_machine(io_error(e)))?
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        let (ledger, pending) = (self.ledger.clone(), self.pending.clone());
        let outcomes = tokio::task::spawn_blocking(move || {
            entries.iter().map(|e| apply_entry(&ledger, &pending, e)).collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| StorageIOError::write_state_machine(io_error(e)))??;
        let stamped = outcomes.iter().rev().find_map(|o| o.stamped);
        self.announce(false, stamped).map_err(|e| StorageIOError::read_state_machine(io_error(e)))?;
        Ok(outcomes)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.snapshots.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        Ok(Box::new(self.snapshots.receive().await?))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Member>,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError> {
        self.snapshots.install(meta, *snapshot).await?;
        self.announce(true, None).map_err(|e| StorageIOError::read_state_machine(io_error(e)))?;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        self.snapshots.current().await
    }
}
