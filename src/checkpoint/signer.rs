//! The checkpoint signer: a task beside the write path that signs a checkpoint over the synced
//! tree whenever it grew. It wakes on the writer's committed-size channel (the writer never
//! waits for it), signs at most once per [`MIN_INTERVAL`], and signs once more on shutdown.
//! Readers never cause a signature: they read the latest from [`LogState`].
//!
//! Refuse-to-fork rule: before signing size `n`, the signer reads the checkpoint file (the last
//! checkpoint signed, kept outside the database). It MUST NOT sign if the file's size is larger
//! than `n`, or if the tree's root at the file's size is not the file's root: the database is
//! then older than, or different from, what was already published. It logs the refusal, keeps
//! serving the last good checkpoint and shows the reason in `LedgerInfo`, and tries again on
//! every change. A new checkpoint goes to the file first, then to `meta/checkpoint`, and only
//! then is served.

use super::file::{read, write_atomic};
use super::{LogState, Refusal, SignError, SignedCheckpoint};
use crate::store::keys::Meta;
use crate::store::{Batch, Store};
use ebl_core::log::{Checkpoint, VerifierKey};
use ed25519_dalek::SigningKey;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The shortest time between two signing attempts: the checkpoint trails the tree by at most
/// about this much (plus the time to sign and sync) while records arrive.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// What the signer needs.
pub struct Signer {
    /// The database (read: tree; written: `meta/checkpoint` only).
    pub store: Arc<Store>,
    /// The ledger's key; its name is the origin.
    pub key: SigningKey,
    /// The ledger's verifier key (to open the checkpoint file).
    pub verifier: VerifierKey,
    /// The checkpoint file.
    pub file: PathBuf,
    /// Where the latest checkpoint is published.
    pub state: Arc<LogState>,
}

impl Signer {
    /// Signs the tree at `size` (synced, as the writer reported it) if it grew past the last
    /// checkpoint and agrees with it. Returns the new checkpoint, or `None` if nothing grew.
    pub fn sign(&self, size: u64) -> Result<Option<Arc<SignedCheckpoint>>, SignError> {
        let io = |err| SignError::Io { path: self.file.clone(), err };
        let on_file = read(&self.file).map_err(io)?.map(|t| SignedCheckpoint::open(&t, &self.verifier)).transpose()?;
        // The larger of the file's and the one served (the database's at start): without a file
        // (first start, or deleted) the database's last checkpoint is the guard.
        let last = match (on_file.map(Arc::new), self.state.latest()) {
            (Some(f), Some(s)) => Some(if s.size() > f.size() { s } else { f }),
            (f, s) => f.or(s),
        };
        if let Some(last) = &last {
            let cp = &last.checkpoint;
            if cp.size() > size {
                return Err(SignError::Behind { checkpoint: cp.size(), tree: size });
            }
            let root = self.store.tree_root(cp.size())?;
            if root != cp.root() {
                return Err(SignError::Diverges { size: cp.size(), checkpoint: cp.root(), tree: root });
            }
            if cp.size() == size {
                return Ok(None);
            }
        }
        let checkpoint = Checkpoint::new(self.verifier.name(), size, self.store.tree_root(size)?)?;
        let note = checkpoint.sign(&self.key)?.to_string();
        write_atomic(&self.file, &note).map_err(io)?;
        let mut b = Batch::new(&self.store);
        b.meta(Meta::Checkpoint, note.as_bytes());
        self.store.commit(b)?;
        let signed = Arc::new(SignedCheckpoint { note, checkpoint });
        self.state.publish(signed.clone());
        Ok(Some(signed))
    }

    /// One attempt, with its outcome logged (a refusal once, when it starts or changes).
    fn attempt(&self, size: u64) {
        match self.sign(size) {
            Ok(signed) => {
                if self.state.set_refusal(None) {
                    tracing::info!("checkpoint signing resumed");
                }
                if let Some(s) = signed {
                    tracing::debug!(size = s.size(), "checkpoint signed");
                }
            }
            Err(e) => {
                if self.state.set_refusal(Some(Refusal { reason: e.reason(), message: e.to_string() })) {
                    tracing::error!(reason = e.reason(), error = %e, "refusing to sign a checkpoint");
                }
            }
        }
    }
}

/// Runs the signer until `stop` fires (or the writer is gone), then makes one last attempt over
/// the final committed size.
pub fn spawn(
    signer: Signer,
    mut committed: watch::Receiver<u64>,
    mut stop: oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    let signer = Arc::new(signer);
    let attempt = move |size: u64| {
        let s = signer.clone();
        async move {
            if let Err(e) = tokio::task::spawn_blocking(move || s.attempt(size)).await {
                tracing::error!(error = %e, "checkpoint signer failed");
            }
        }
    };
    tokio::spawn(async move {
        // The first attempt covers records committed before a crash and never signed.
        committed.mark_changed();
        loop {
            tokio::select! {
                _ = &mut stop => break,
                changed = committed.changed() => if changed.is_err() { break },
            }
            let size = *committed.borrow_and_update();
            attempt(size).await;
            tokio::select! {
                _ = &mut stop => break,
                () = tokio::time::sleep(MIN_INTERVAL) => {}
            }
        }
        let size = *committed.borrow();
        attempt(size).await;
    })
}
