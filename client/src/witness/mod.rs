//! The witness (c2sp.org/tlog-witness): `ebl witness` serves `POST /add-checkpoint` for the logs
//! it knows, checks each new checkpoint against the one it last cosigned for that log, keeps that
//! durably, and answers with its tlog-cosignature/v1 line. The protocol's checks and answers are
//! `ebl_core::log::witness`'s; this module owns the clock, the lock and the state ([`state`]),
//! and the HTTP edges ([`http`] serves, [`client`] is the log's side).
//!
//! A witness MUST NOT cosign two checkpoints of one log that are not consistent: check, persist
//! and answer run under one lock, and the new size and root are on disk before the answer leaves.

pub mod client;
pub mod http;
pub mod state;

use ebl_core::log::witness::{answer, check};
use ebl_core::log::{KeyKind, NoteError, VerifierKey};
use ed25519_dalek::SigningKey;
use state::{State, StateError};
use std::path::Path;
use std::sync::Arc;

/// Why a witness cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The state folder cannot be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// A key or name is unusable.
    #[error("{0}")]
    Key(#[from] NoteError),
    /// The configuration is incomplete.
    #[error("{0}")]
    Config(String),
}

/// One HTTP answer: status, content type, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The Content-Type.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

/// A witness: its name and key, the logs it knows, what it cosigned.
pub struct Witness {
    name: String,
    key: SigningKey,
    logs: Vec<VerifierKey>,
    // tokio Mutex, owned guard: held across the blocking state write, so that checking `old`,
    // persisting the new checkpoint and answering are one step (the spec's atomicity rule).
    // Requests come at the pace of checkpoints, a few per second per log: contention is nil.
    state: Arc<tokio::sync::Mutex<State>>,
}

impl Witness {
    /// A witness named `name` with `key`, for the logs whose (Ed25519 note) verifier keys are
    /// `logs`, keeping its state in `state_dir`.
    pub fn open(name: &str, key: SigningKey, logs: Vec<VerifierKey>, state_dir: &Path) -> Result<Self, WitnessError> {
        // Checks the name as a key name.
        VerifierKey::from_signing_key(name, KeyKind::CosignatureV1, &key)?;
        if logs.is_empty() {
            return Err(WitnessError::Config("a witness needs at least one --log key".into()));
        }
        if let Some(k) = logs.iter().find(|k| k.kind() != KeyKind::Ed25519) {
            return Err(WitnessError::Config(format!("--log {k}: a log key has signature type 0x01 (Ed25519)")));
        }
        let state = State::open(state_dir, logs.iter().map(|k| k.name()))?;
        Ok(Witness { name: name.to_string(), key, logs, state: Arc::new(tokio::sync::Mutex::new(state)) })
    }

    /// The witness's verifier key (cosignature/v1 form), what logs and verifiers configure.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey::from_signing_key(&self.name, KeyKind::CosignatureV1, &self.key)
            .expect("the name was checked at open")
    }

    /// Answers one `add-checkpoint` request body.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let mut state = self.state.clone().lock_owned().await;
        let cp = match check(body, &self.logs, |origin| state.latest(origin)) {
            Ok(cp) => cp,
            Err(refusal) => {
                // A fork or a bad proof from a correctly signed checkpoint is evidence against the log.
                if matches!(refusal.status(), 409 | 422) {
                    tracing::warn!(status = refusal.status(), %refusal, "add-checkpoint refused");
                } else {
                    tracing::info!(status = refusal.status(), %refusal, "add-checkpoint refused");
                }
                return Answer { status: refusal.status(), content_type: refusal.content_type(), body: refusal.body() };
            }
        };
        let unchanged = state.latest(cp.origin()).is_some_and(|c| c.size == cp.size());
        let recorded = if unchanged {
            Ok(())
        } else {
            let cp = cp.clone();
            let joined = tokio::task::spawn_blocking(move || {
                let r = state.record(&cp);
                (state, r)
            })
            .await;
            match joined {
                Ok((s, r)) => {
                    state = s;
                    r.map_err(|e| e.to_string())
                }
                Err(e) => return internal(&format!("state write failed: {e}")),
            }
        };
        if let Err(e) = recorded {
            return internal(&e);
        }
        let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let body = match answer(&cp, &self.name, &self.key, time) {
            Ok(line) => line,
            Err(e) => return internal(&e.to_string()),
        };
        drop(state);
        tracing::info!(origin = cp.origin(), size = cp.size(), "cosigned");
        Answer { status: 200, content_type: "text/plain; charset=utf-8", body }
    }
}

fn internal(why: &str) -> Answer {
    tracing::error!(error = why, "add-checkpoint failed");
    Answer { status: 500, content_type: "text/plain; charset=utf-8", body: format!("{why}\n") }
}

/// Serves `witness` on `listener` (over TLS with `tls`) until `shutdown` resolves (see
/// [`http::serve`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Witness,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    http::serve(listener, Arc::new(witness), tls, shutdown).await
}
