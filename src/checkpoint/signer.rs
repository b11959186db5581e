//! The checkpoint signer: a task beside the write path that signs a checkpoint over the synced
//! tree whenever it grew. It wakes on the writer's committed-size channel (the writer never
//! waits for it), signs at most once per [`MIN_INTERVAL`], and signs once more on shutdown.
//! Readers never cause a signature: they read the latest from [`LogState`].
//!
//! Refuse-to-fork rule: before signing size `n`, the signer reads the checkpoint files (the last
//! checkpoint signed, kept outside the database: the copy outside the data folder, if one is
//! configured, and the data folder's own). It MUST NOT sign if one is larger than `n`, or if the
//! tree's root at its size is not its root: the database is then older than, or different from,
//! what was already published. The log then halts ([`LogState::halt`]): nothing more is written,
//! signed or proved until the operator acts. A new checkpoint goes to the files first (the copy
//! first), then to `meta/checkpoint`, and only then is served.

use super::file::write_atomic;
use super::{LogState, SignError, SignedCheckpoint};
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
    /// Where each checkpoint is written before it is served, in this order: the copy outside
    /// the data folder, if configured, then the data folder's checkpoint file.
    pub files: Vec<PathBuf>,
    /// Where the latest checkpoint is published.
    pub state: Arc<LogState>,
    /// In a cluster: the node. Only its leader signs, and it proposes each checkpoint as a log
    /// entry instead of publishing it; every node publishes it once applied ([`publish_applied`]).
    pub cluster: Option<Arc<crate::raft::node::Cluster>>,
    /// In a cluster: the file where each checkpoint this node signs is appended (JSON lines),
    /// before it is proposed.
    pub journal: Option<PathBuf>,
}

impl Signer {
    /// Signs the tree at `size` (synced, as the writer reported it) if it grew past the last
    /// checkpoint and agrees with it. Returns the new checkpoint, or `None` if nothing grew.
    pub fn sign(&self, size: u64) -> Result<Option<Arc<SignedCheckpoint>>, SignError> {
        if let Some(h) = self.state.halted() {
            return Err(SignError::Halted(h));
        }
        if self.cluster.as_ref().is_some_and(|c| !c.is_leader()) {
            return Ok(None);
        }
        // Every checkpoint this log is known to have published: the files (the copy outside the
        // data folder, then the folder's own) and the one served (the database's at start).
        let mut known = Vec::new();
        for file in &self.files {
            known.extend(super::read_file(file, &self.verifier)?);
        }
        known.extend(self.state.latest().map(|s| (*s).clone()));
        let mut current = false;
        for cp in &known {
            current |= super::extends(&self.store, &cp.checkpoint, size)?;
        }
        if current {
            return Ok(None);
        }
        let checkpoint = Checkpoint::new(self.verifier.name(), size, self.store.tree_root(size)?)?;
        let note = checkpoint.sign(&self.key)?.to_string();
        if let Some(cluster) = &self.cluster {
            return self.propose(cluster, note, checkpoint);
        }
        for file in &self.files {
            write_atomic(file, &note).map_err(|err| SignError::Io { path: file.clone(), err })?;
        }
        let mut b = Batch::new();
        b.meta(Meta::Checkpoint, note.as_bytes());
        self.store.commit(b)?;
        let signed = Arc::new(SignedCheckpoint { note, checkpoint });
        self.state.publish(signed.clone());
        Ok(Some(signed))
    }

    /// A leader's checkpoint: journaled, then proposed; published by [`publish_applied`] once
    /// applied, never before it is committed.
    fn propose(
        &self,
        cluster: &crate::raft::node::Cluster,
        note: String,
        checkpoint: Checkpoint,
    ) -> Result<Option<Arc<SignedCheckpoint>>, SignError> {
        if let Some(path) = &self.journal {
            use std::io::Write;
            let line = serde_json::json!({ "size": checkpoint.size(), "note": note }).to_string() + "\n";
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|err| SignError::Io { path: path.clone(), err })?;
            file.write_all(line.as_bytes())
                .and_then(|_| file.sync_data())
                .map_err(|err| SignError::Io { path: path.clone(), err })?;
        }
        match tokio::runtime::Handle::current().block_on(cluster.propose_checkpoint(note.clone())) {
            Ok(()) => Ok(Some(Arc::new(SignedCheckpoint { note, checkpoint }))),
            Err(e) => {
                // Leadership moved on: the next leader signs.
                tracing::info!(error = %e, size = checkpoint.size(), "checkpoint not committed");
                Ok(None)
            }
        }
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
            Err(e) if e.is_fork() => {
                self.state.halt(e.refusal());
            }
            Err(e) => {
                if self.state.set_refusal(Some(e.refusal())) {
                    tracing::error!(reason = e.reason(), error = %e, "refusing to sign a checkpoint");
                }
            }
        }
    }
}

/// Runs the signer until `stop` fires (or the writer is gone), then makes one last attempt over
/// the final committed size.
pub fn spawn(
    signer: Arc<Signer>,
    mut committed: watch::Receiver<u64>,
    mut stop: oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
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

/// In a cluster, every node publishes each checkpoint its state machine applies (the one
/// replicated `meta/checkpoint`): to the checkpoint files, then to [`LogState`], for the API and
/// the witness pushers. Runs until `progress` ends.
pub fn publish_applied(
    signer: Arc<Signer>,
    mut progress: watch::Receiver<crate::raft::machine::Progress>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        progress.mark_changed();
        while progress.changed().await.is_ok() {
            let Some(note) = progress.borrow_and_update().checkpoint.clone() else { continue };
            let s = signer.clone();
            let published = tokio::task::spawn_blocking(move || s.publish(&note)).await;
            if let Ok(Err(e)) = published {
                tracing::error!(error = %e, "an applied checkpoint could not be published");
            }
        }
    })
}

impl Signer {
    /// Publishes an applied checkpoint note if it is newer than the one served.
    fn publish(&self, note: &str) -> Result<(), SignError> {
        let signed = SignedCheckpoint::open(note, &self.verifier)?;
        if self.state.latest().is_some_and(|l| l.size() >= signed.size()) {
            return Ok(());
        }
        for file in &self.files {
            write_atomic(file, note).map_err(|err| SignError::Io { path: file.clone(), err })?;
        }
        self.state.publish(Arc::new(signed));
        Ok(())
    }
}
