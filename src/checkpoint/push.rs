//! Pushing checkpoints to witnesses (c2sp.org/tlog-witness, the log's side): one task per
//! witness follows the latest signed checkpoint, sends it with the consistency proof from the
//! size that witness last cosigned, verifies the cosignature line it returns with the witness's
//! key, and adds it to [`LogState`] for GetCheckpoint to serve.
//!
//! The pushers MUST NOT slow the write path or the signer: they only read the published
//! checkpoint and the synced tree, each request is bounded by [`REQUEST_TIMEOUT`], and a failing
//! witness is retried with exponential backoff from [`BACKOFF_MIN`] to [`BACKOFF_MAX`], always
//! with the latest checkpoint (older ones are skipped). The witness's last size is learned from
//! its 409 answer (a fresh pusher starts from 0, as the spec allows) and kept in memory.
//!
//! What a witness knows also guards the log: a witness that has cosigned a larger tree of this
//! log than the ledger's latest checkpoint (a restore from before it), or that answers that a
//! checkpoint contradicts what it cosigned (409 for another root at its size, 422 for a proof
//! that does not verify), halts the log ([`LogState::halt`]).

use super::{Cosignature, LogState, Refusal, SignedCheckpoint, LOG_BEHIND_WITNESS, WITNESS_SEES_FORK};
use crate::store::Store;
use crate::witness::client::{self, ClientError, Endpoint};
use ebl_core::hash::Hash32;
use ebl_core::log::witness::{parse_cosignatures, parse_size, AddCheckpoint};
use ebl_core::log::{KeyKind, VerifierKey};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The longest one add-checkpoint exchange may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The first wait after a failed push.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
/// The longest wait between two attempts at a failing witness.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A witness the ledger pushes to: where it is and its cosigner verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessTarget {
    /// `http[s]://host:port[/prefix]`; requests go to `<url>/add-checkpoint`.
    pub url: Endpoint,
    /// The witness's verifier key (signature type 0x04).
    pub key: VerifierKey,
}

impl WitnessTarget {
    /// Parses `URL=VERIFIER_KEY` (split at the first `=`: a URL here has no query, and a key's
    /// base64 may end in `=`); an `https://` witness is trusted through the CA bundle `ca`, or
    /// else the system's roots.
    pub fn parse(s: &str, ca: Option<&std::path::Path>) -> Result<Self, String> {
        let (url, key) = s.split_once('=').ok_or_else(|| format!("witness {s:?}: expected URL=VERIFIER_KEY"))?;
        let ca = ca.filter(|_| url.starts_with("https://"));
        let url = Endpoint::new(url, ca).map_err(|e| e.to_string())?;
        let key = VerifierKey::parse(key).map_err(|e| format!("witness {url}: {e}"))?;
        if key.kind() != KeyKind::CosignatureV1 {
            return Err(format!("witness {url}: {key} is not a cosignature/v1 key (signature type 0x04)"));
        }
        Ok(WitnessTarget { url, key })
    }
}

/// Why one push did not bring a cosignature.
#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the witness last cosigned size {0}")]
    Stale(u64),
    #[error("the witness answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the witness's answer does not verify: {0}")]
    BadAnswer(String),
    #[error("consistency proof: {0}")]
    Proof(String),
}

/// Starts the pusher of one witness; it runs until `stop` holds `true` (or its sender is gone),
/// and then ends promptly, between two reads of the store (so the store can be closed after).
/// `first` fires once the witness has answered about the latest checkpoint (or could not be
/// reached, or there is none yet): by then a witness that has cosigned more of this log than
/// the tree holds, or that sees a fork, has halted the log.
///
/// In a cluster (`cluster`), a witness that has cosigned more than this node serves does not
/// halt it at once: a node that restarted behind the others catches up with the leader first,
/// and the log halts only if the cluster's committed checkpoint is still behind the witness.
pub fn spawn(
    target: WitnessTarget,
    store: Arc<Store>,
    log: Arc<LogState>,
    cluster: Option<Arc<crate::raft::node::Cluster>>,
    stop: watch::Receiver<bool>,
    first: tokio::sync::oneshot::Sender<()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(target, store, log, cluster, stop, first))
}

/// In a cluster, whether the witness's size `n` is past the checkpoint the cluster has
/// committed, once this node has applied everything committed; `None` while it cannot tell (no
/// leader reachable).
async fn cluster_behind(cluster: &crate::raft::node::Cluster, n: u64) -> Option<bool> {
    cluster.linearize().await.ok()?;
    let committed = cluster.progress().borrow().checkpoint.clone();
    let size = committed.as_deref().and_then(|note| note.lines().nth(1)).and_then(|l| l.parse::<u64>().ok());
    Some(size.unwrap_or(0) < n)
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn run(
    target: WitnessTarget,
    store: Arc<Store>,
    log: Arc<LogState>,
    cluster: Option<Arc<crate::raft::node::Cluster>>,
    mut stop: watch::Receiver<bool>,
    first: tokio::sync::oneshot::Sender<()>,
) {
    let mut first = Some(first);
    let mut answered = move || {
        if let Some(f) = first.take() {
            let _ = f.send(());
        }
    };
    let mut rx = log.subscribe();
    // What the witness last cosigned for this log, as far as this task knows (0 at first).
    let mut known = 0u64;
    // The checkpoint this witness last cosigned in this run.
    let mut done: Option<u64> = None;
    let mut backoff = BACKOFF_MIN;
    let mut stale_in_a_row = 0;
    loop {
        let latest = rx.borrow_and_update().clone();
        let Some(cp) = latest.filter(|c| done != Some(c.size())) else {
            answered();
            tokio::select! {
                () = stopped(&mut stop) => return,
                changed = rx.changed() => if changed.is_err() { return },
            }
            continue;
        };
        // The proof is read to the end (the store stays referenced only meanwhile); the exchange
        // is dropped as soon as the ledger stops.
        let pushed = match proof(&store, known, cp.size()).await {
            Ok(proof) => tokio::select! {
                () = stopped(&mut stop) => return,
                pushed = push(&target, &cp, known, &proof) => pushed,
            },
            Err(e) => Err(e),
        };
        let failure = match pushed {
            Ok(c) => {
                tracing::debug!(witness = %target.url, size = cp.size(), "cosigned");
                log.add_cosignature(&cp, c);
                (known, done, backoff, stale_in_a_row) = (cp.size(), Some(cp.size()), BACKOFF_MIN, 0);
                answered();
                continue;
            }
            Err(PushError::Stale(n)) if n > log.latest().map_or(0, |l| l.size()) => {
                let behind = match &cluster {
                    Some(c) => cluster_behind(c, n).await,
                    None => Some(true),
                };
                if behind != Some(true) {
                    // A node behind the others: once it has caught up it publishes the newer
                    // checkpoint (or, with no leader to ask, asks again after a while).
                    known = n;
                    answered();
                    tokio::select! {
                        () = stopped(&mut stop) => return,
                        _ = rx.changed() => {}
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
                // The witness has cosigned a larger tree of this log than any checkpoint this
                // ledger knows it signed: the database (and its checkpoint files) were restored
                // from before that checkpoint. Signing or writing on would fork the log.
                log.halt(Refusal {
                    reason: LOG_BEHIND_WITNESS,
                    message: format!(
                        "witness {} has cosigned a tree of {n} leaves of this log, but the ledger's latest \
                         checkpoint has {} (a restore from before that checkpoint?)",
                        target.url,
                        cp.size()
                    ),
                });
                (known, done) = (n, Some(cp.size()));
                answered();
                continue;
            }
            Err(PushError::Stale(n)) if n != known && stale_in_a_row < 3 => {
                (known, stale_in_a_row) = (n, stale_in_a_row + 1);
                continue;
            }
            Err(e) => e,
        };
        match &failure {
            // 409 without a size: the same size with another root; 422: no consistency proof
            // from what the witness cosigned leads here. Either way the log has forked.
            PushError::Refused { status: 409 | 422, .. } => {
                log.halt(Refusal {
                    reason: WITNESS_SEES_FORK,
                    message: format!(
                        "witness {} finds checkpoint {} inconsistent with what it cosigned ({failure})",
                        target.url,
                        cp.size()
                    ),
                });
                done = Some(cp.size());
                answered();
                continue;
            }
            _ => tracing::warn!(witness = %target.url, size = cp.size(), error = %failure, retry_in = ?backoff,
                "push to witness failed"),
        }
        answered();
        tokio::select! {
            () = stopped(&mut stop) => return,
            () = tokio::time::sleep(backoff) => {}
        }
        (backoff, stale_in_a_row) = ((backoff * 2).min(BACKOFF_MAX), 0);
    }
}

/// The consistency proof from `old` to `size`, read off the async runtime.
async fn proof(store: &Arc<Store>, old: u64, size: u64) -> Result<Vec<Hash32>, PushError> {
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.consistency_proof(old, size))
        .await
        .map_err(|e| PushError::Proof(e.to_string()))?
        .map_err(|e| PushError::Proof(e.to_string()))
}

/// One add-checkpoint exchange from `old`.
async fn push(
    target: &WitnessTarget,
    cp: &SignedCheckpoint,
    old: u64,
    proof: &[Hash32],
) -> Result<Cosignature, PushError> {
    let body = AddCheckpoint::body(old, proof, &cp.note);
    let a = client::add_checkpoint(&target.url, body, REQUEST_TIMEOUT).await?;
    match a.status {
        200 => {
            let lines = parse_cosignatures(&cp.checkpoint.body(), &a.body, &target.key)
                .map_err(|e| PushError::BadAnswer(e.to_string()))?;
            // One key, one line: the note refuses two lines from one key.
            let line = lines.into_iter().next().ok_or_else(|| PushError::BadAnswer("no line".into()))?;
            Cosignature::from_line(line).ok_or_else(|| PushError::BadAnswer("not a cosignature line".into()))
        }
        409 => match parse_size(a.content_type.as_deref(), &a.body) {
            Some(n) => Err(PushError::Stale(n)),
            None => Err(PushError::Refused { status: 409, body: quoted(&a.body) }),
        },
        status => Err(PushError::Refused { status, body: quoted(&a.body) }),
    }
}

/// At most the first 200 characters of a witness's answer, for logs and refusals.
fn quoted(body: &str) -> String {
    body.trim_end().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn key(kind: KeyKind) -> String {
        VerifierKey::from_signing_key("witness.example/w1", kind, &SigningKey::from_bytes(&[4; 32]))
            .unwrap()
            .to_string()
    }

    #[test]
    fn targets_parse_url_and_cosigner_key() {
        let k = key(KeyKind::CosignatureV1);
        let t = WitnessTarget::parse(&format!("http://127.0.0.1:7380/w1={k}"), None).unwrap();
        assert_eq!((t.url.to_string().as_str(), t.key.to_string()), ("http://127.0.0.1:7380/w1", k.clone()));
        for bad in [
            format!("http://127.0.0.1:7380 {k}"),
            format!("ftp://w.example={k}"),
            format!("http://127.0.0.1:1/?a=1={k}"),
            format!("127.0.0.1:7380={k}"),
            "http://127.0.0.1:7380=not-a-key".to_string(),
            format!("http://127.0.0.1:7380={}", key(KeyKind::Ed25519)),
        ] {
            assert!(WitnessTarget::parse(&bad, None).is_err(), "{bad}");
        }
    }
}
