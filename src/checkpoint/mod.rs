//! Checkpoints, beside the write path: the signer task that signs C2SP checkpoints over the
//! synced tree ([`signer`]), the checkpoint file outside the database ([`file`]), the tasks
//! that push each new checkpoint to the witnesses ([`push`]) and the cosignatures they gather
//! ([`cosigned`]), the ledger key's use for title statements ([`statement`]), and the state the
//! API serves from ([`LogState`]). Owns the refuse-to-fork rule; never writes a record, a tree
//! node or anything the writer writes (its only database write is `meta/checkpoint`).

pub mod cosigned;
pub use ebl_client::file;
pub mod push;
pub mod signer;
pub mod statement;

pub use cosigned::{Cosignature, Witnessed};

use crate::store::StoreError;
use ebl_core::log::{Checkpoint, NoteError, SignedNote, VerifierKey};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// How many recent checkpoints keep their cosignatures (what `min_cosignatures` can reach back
/// to: at one checkpoint per 250 ms under load, the last few seconds).
pub const RECENT_CHECKPOINTS: usize = 32;

/// Reason given while the tree is smaller than the checkpoint on file (an older database).
pub const LOG_BEHIND_CHECKPOINT: &str = "LOG_BEHIND_CHECKPOINT";
/// Reason given while the tree's root at the checkpoint's size is not the checkpoint's root.
pub const LOG_DIVERGES_FROM_CHECKPOINT: &str = "LOG_DIVERGES_FROM_CHECKPOINT";
/// Reason given while a checkpoint cannot be signed or stored for another cause (I/O, storage).
pub const CHECKPOINT_SIGNING_FAILED: &str = "CHECKPOINT_SIGNING_FAILED";
/// Reason given once a witness has cosigned a larger tree of this log than the tree holds.
pub const LOG_BEHIND_WITNESS: &str = "LOG_BEHIND_WITNESS";
/// Reason given once a witness has answered that a checkpoint contradicts what it cosigned.
pub const WITNESS_SEES_FORK: &str = "WITNESS_SEES_FORK";

/// A checkpoint signed by this ledger, as served: the signed note text exactly, and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The signed note: body, blank line, signature line(s).
    pub note: String,
    /// What the note says.
    pub checkpoint: Checkpoint,
}

impl SignedCheckpoint {
    /// Parses a stored note and verifies it with the ledger's verifier key.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Self, NoteError> {
        let opened = Checkpoint::open(&SignedNote::parse(note)?, key, &[])?;
        Ok(SignedCheckpoint { note: note.to_string(), checkpoint: opened.checkpoint })
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.checkpoint.size()
    }
}

/// Why the signer did not sign.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The tree is smaller than the last checkpoint signed: signing now would fork the log.
    #[error("the tree has {tree} leaves but checkpoint {checkpoint} was already signed (older database?)")]
    Behind {
        /// Size of the checkpoint on file.
        checkpoint: u64,
        /// Size of the tree.
        tree: u64,
    },
    /// The tree at the checkpoint's size has another root: signing would fork the log.
    #[error("the tree's root at size {size} is {tree} but the signed checkpoint says {checkpoint}")]
    Diverges {
        /// The checkpoint's size.
        size: u64,
        /// The checkpoint's root.
        checkpoint: ebl_core::hash::Hash32,
        /// The tree's root at that size.
        tree: ebl_core::hash::Hash32,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint file could not be read or written.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        err: std::io::Error,
    },
    /// A stored checkpoint does not parse or verify, or a new one cannot be formed.
    #[error("checkpoint: {0}")]
    Note(#[from] NoteError),
    /// The log has halted (see [`LogState::halted`]).
    #[error("{}", .0.message)]
    Halted(Refusal),
}

impl SignError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            SignError::Behind { .. } => LOG_BEHIND_CHECKPOINT,
            SignError::Diverges { .. } => LOG_DIVERGES_FROM_CHECKPOINT,
            SignError::Halted(r) => r.reason,
            _ => CHECKPOINT_SIGNING_FAILED,
        }
    }

    /// The refusal this error stands for.
    pub fn refusal(&self) -> Refusal {
        Refusal { reason: self.reason(), message: self.to_string() }
    }

    /// Whether the tree contradicts a published checkpoint (rather than failing to sign now).
    pub fn is_fork(&self) -> bool {
        matches!(self, SignError::Behind { .. } | SignError::Diverges { .. } | SignError::Halted(_))
    }
}

/// Whether the tree of `store` at `size` leaves is a consistent extension of `cp`: at least as
/// large, with `cp`'s root at `cp`'s size. Answers whether it is exactly `cp`.
pub fn extends(store: &crate::store::Store, cp: &Checkpoint, size: u64) -> Result<bool, SignError> {
    if cp.size() > size {
        return Err(SignError::Behind { checkpoint: cp.size(), tree: size });
    }
    let root = store.tree_root(cp.size())?;
    if root != cp.root() {
        return Err(SignError::Diverges { size: cp.size(), checkpoint: cp.root(), tree: root });
    }
    Ok(cp.size() == size)
}

/// Why signing is refused right now, as `LedgerInfo` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Machine-readable reason (one of the constants above).
    pub reason: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The latest good checkpoint, the cosignatures gathered for recent ones, and the signer's
/// refusal, if any: what the API reads and the witness pushers follow.
#[derive(Debug)]
pub struct LogState {
    // std RwLock: held only to clone or swap values, never across an await; many readers.
    inner: RwLock<Inner>,
    // The pushers wake on it; sending never waits for them.
    signed: watch::Sender<Option<Arc<SignedCheckpoint>>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Recent checkpoints, oldest first, the latest last.
    recent: VecDeque<Witnessed>,
    refusal: Option<Refusal>,
    /// Set once the tree is found not to extend what the log published; never cleared.
    halt: Option<Refusal>,
    /// When the latest checkpoint was published by this process.
    published_at: Option<std::time::SystemTime>,
}

impl Default for LogState {
    fn default() -> Self {
        Self::new(None)
    }
}

impl LogState {
    /// A state serving `latest` (the larger of the file's and the database's checkpoint).
    pub fn new(latest: Option<SignedCheckpoint>) -> Self {
        let latest = latest.map(Arc::new);
        let recent = latest.iter().cloned().map(Witnessed::new).collect();
        LogState { inner: RwLock::new(Inner { recent, ..Inner::default() }), signed: watch::channel(latest).0 }
    }

    /// The latest checkpoint signed (never smaller than the one on file).
    pub fn latest(&self) -> Option<Arc<SignedCheckpoint>> {
        self.inner.read().expect("log state lock poisoned").recent.back().map(|w| w.signed.clone())
    }

    /// The newest recent checkpoint with at least `min` cosignatures (0: the latest).
    pub fn witnessed(&self, min: usize) -> Option<Witnessed> {
        let inner = self.inner.read().expect("log state lock poisoned");
        inner.recent.iter().rev().find(|w| w.cosignatures.len() >= min).cloned()
    }

    /// The note of `signed` with every cosignature gathered for it so far (its own note if it is
    /// no longer recent).
    pub fn note_of(&self, signed: &SignedCheckpoint) -> String {
        let inner = self.inner.read().expect("log state lock poisoned");
        match inner.recent.iter().rev().find(|w| w.signed.checkpoint == signed.checkpoint) {
            Some(w) => w.note(),
            None => signed.note.clone(),
        }
    }

    /// Adds a witness's verified cosignature to the checkpoint it is for, if still recent.
    pub fn add_cosignature(&self, signed: &SignedCheckpoint, c: Cosignature) -> bool {
        let mut inner = self.inner.write().expect("log state lock poisoned");
        match inner.recent.iter_mut().rev().find(|w| w.signed.checkpoint == signed.checkpoint) {
            Some(w) => {
                w.add(c);
                true
            }
            None => false,
        }
    }

    /// When the latest checkpoint was signed by this process (`None` before its first).
    pub fn published_at(&self) -> Option<std::time::SystemTime> {
        self.inner.read().expect("log state lock poisoned").published_at
    }

    /// The time (Unix seconds) of the newest cosignature `witness` gave that is still held.
    pub fn last_cosigned(&self, witness: &str) -> Option<u64> {
        let inner = self.inner.read().expect("log state lock poisoned");
        inner.recent.iter().rev().find_map(|w| w.cosignatures.iter().find(|c| c.witness == witness).map(|c| c.time))
    }

    /// Follows new checkpoints (the current one is marked as seen).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<SignedCheckpoint>>> {
        self.signed.subscribe()
    }

    /// Why signing is refused, if it is.
    pub fn refusal(&self) -> Option<Refusal> {
        self.inner.read().expect("log state lock poisoned").refusal.clone()
    }

    /// Why the log has halted, if it has: the tree is not a consistent extension of a checkpoint
    /// this log published (or a witness cosigned). While halted the ledger writes nothing, signs
    /// nothing and proves nothing; only its operator can end it (`ebld recover`, or a new log).
    pub fn halted(&self) -> Option<Refusal> {
        self.inner.read().expect("log state lock poisoned").halt.clone()
    }

    /// Halts the log for `why` (the first reason is kept); says whether it was running until now.
    pub fn halt(&self, why: Refusal) -> bool {
        let mut inner = self.inner.write().expect("log state lock poisoned");
        if inner.halt.is_some() {
            return false;
        }
        tracing::error!(reason = why.reason, message = %why.message,
            "the log has halted: no record will be written or checkpoint signed until the operator acts");
        inner.refusal = Some(why.clone());
        inner.halt = Some(why);
        true
    }

    pub(crate) fn publish(&self, cp: Arc<SignedCheckpoint>) {
        {
            let mut inner = self.inner.write().expect("log state lock poisoned");
            inner.recent.push_back(Witnessed::new(cp.clone()));
            while inner.recent.len() > RECENT_CHECKPOINTS {
                inner.recent.pop_front();
            }
            inner.refusal = None;
            inner.published_at = Some(std::time::SystemTime::now());
        }
        self.signed.send_replace(Some(cp));
    }

    /// Sets or clears the refusal; says whether it changed. A halted log keeps its halt's.
    fn set_refusal(&self, refusal: Option<Refusal>) -> bool {
        let mut inner = self.inner.write().expect("log state lock poisoned");
        if inner.halt.is_some() {
            return false;
        }
        let changed = inner.refusal != refusal;
        inner.refusal = refusal;
        changed
    }
}

/// The checkpoint in a checkpoint file (none if there is no file yet), verified with the
/// ledger's key: a file that does not verify is an error, not ignored.
pub fn read_file(path: &std::path::Path, key: &VerifierKey) -> Result<Option<SignedCheckpoint>, SignError> {
    let text = file::read(path).map_err(|err| SignError::Io { path: path.to_path_buf(), err })?;
    Ok(text.map(|t| SignedCheckpoint::open(&t, key)).transpose()?)
}

/// The checkpoint the database holds (`meta/checkpoint`), verified with the ledger's key.
pub fn read_meta(store: &crate::store::Store, key: &VerifierKey) -> Result<Option<SignedCheckpoint>, SignError> {
    let Some(v) = store.meta(crate::store::keys::Meta::Checkpoint)? else { return Ok(None) };
    let text = String::from_utf8(v).map_err(|_| NoteError::MalformedNote { why: "not UTF-8".into() })?;
    Ok(Some(SignedCheckpoint::open(&text, key)?))
}
