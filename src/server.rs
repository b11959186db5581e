//! Wiring: `init` creates a ledger (database metadata and the ledger's own key); `Ledger::open`
//! opens one (checking its key and its stored checkpoints); `Ledger::serve` runs the writer, the
//! checkpoint signer, one pusher per witness and the gRPC server on an already bound listener
//! until the shutdown future resolves, then lets the writer finish its last commit and the signer
//! sign it.

use crate::api::LedgerService;
use crate::checkpoint::file::CHECKPOINT_FILE;
use crate::checkpoint::push::{self, WitnessTarget};
use crate::checkpoint::{self, signer, LogState, SignError, SignedCheckpoint};
use crate::hold::WriteHold;
use crate::net::NetLimits;
use crate::pb;
use crate::service::{replay::ReplayCache, Shared, MAX_MESSAGE_BYTES};
use crate::store::keys::Meta;
use crate::store::space::{Reserve, DEFAULT_DISK_RESERVE};
use crate::store::{Batch, Store};
use ebl_core::log::{KeyKind, VerifierKey};
use ebl_core::sig::PublicKey;
use ed25519_dalek::SigningKey;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;

/// File (in the data folder) holding the ledger's own Ed25519 secret key, hex, mode 0600.
pub const LEDGER_KEY_FILE: &str = "ledger.key";
/// Folder (in the data folder) holding the RocksDB database.
pub const DB_DIR: &str = "db";
/// How often an HTTP/2 ping checks that a quiet client is still there.
pub const KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a ping may go unanswered before the connection is closed.
pub const KEEPALIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long open calls may still run after the shutdown signal before the server closes them.
pub const DRAIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file could not be read or written.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        err: std::io::Error,
    },
    /// The configuration contradicts the ledger on disk.
    #[error("{0}")]
    Config(String),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The TLS certificate or key does not load.
    #[error(transparent)]
    Tls(#[from] crate::net::tls::TlsError),
    /// The stored checkpoints do not load or verify with the ledger's key.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] SignError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
    move |err| StartError::Io { path: path.to_path_buf(), err }
}

/// Writes a secret key file readable by its owner only.
pub fn write_secret_key(path: &Path, key: &SigningKey) -> Result<(), StartError> {
    Ok(crate::cli::keys::write_secret_key(path, key)?)
}

/// Reads a secret key file written by [`write_secret_key`] (or a legacy hex one); logs a warning
/// if others than its owner may read it.
pub fn read_secret_key(path: &Path) -> Result<SigningKey, StartError> {
    let key = crate::cli::keys::read_secret_key(path)?;
    if let Some(mode) = crate::cli::keys::readable_by_others(path) {
        tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), "secret key file readable by group or others: chmod 600 it");
    }
    Ok(key)
}

impl From<crate::cli::keys::KeyFileError> for StartError {
    fn from(e: crate::cli::keys::KeyFileError) -> Self {
        match e {
            crate::cli::keys::KeyFileError::Io { path, err } => StartError::Io { path, err },
            // ebld starts unattended: it has no passphrase to ask for.
            crate::cli::keys::KeyFileError::NoPassphrase(path) => StartError::Config(format!(
                "{}: the key is encrypted; ebld needs it unencrypted (PKCS#8 PEM, mode 0600)",
                path.display()
            )),
            e => StartError::Config(e.to_string()),
        }
    }
}

/// Creates a new ledger in `data_dir`: database, origin, operator key, and the ledger's own key.
/// Refuses if one is already there. Returns the ledger's public key.
pub fn init(data_dir: &Path, origin: &str, operator: PublicKey) -> Result<PublicKey, StartError> {
    init_with_key(data_dir, origin, operator, SigningKey::generate(&mut rand::rngs::OsRng))
}

/// Creates a ledger in `data_dir` like [`init`], with `key` as the ledger's key: a node that
/// joins a cluster is created with the cluster's log key (brought out of band) and the cluster's
/// origin and operator key, and receives everything else from the cluster.
pub fn init_with_key(
    data_dir: &Path,
    origin: &str,
    operator: PublicKey,
    key: SigningKey,
) -> Result<PublicKey, StartError> {
    if origin.is_empty() || origin.contains(char::is_whitespace) {
        return Err(StartError::Config(format!(
            "origin '{origin}' must be non-empty without spaces, e.g. ledger.example/ebl"
        )));
    }
    // The origin is also the name of the log's key in signed notes.
    ebl_core::log::key::check_key_name(origin).map_err(|e| StartError::Config(format!("origin: {e}")))?;
    operator.check_strong("operator").map_err(|e| StartError::Config(e.to_string()))?;
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let key_path = data_dir.join(LEDGER_KEY_FILE);
    let store = Store::open(&data_dir.join(DB_DIR))?;
    if store.meta(Meta::Origin)?.is_some() || key_path.exists() {
        return Err(StartError::Config(format!("{} already holds a ledger", data_dir.display())));
    }
    write_secret_key(&key_path, &key)?;
    let public = PublicKey(key.verifying_key().to_bytes());
    let mut b = Batch::new();
    b.meta(Meta::Origin, origin.as_bytes());
    b.meta(Meta::OperatorKey, &operator.0);
    b.meta(Meta::LedgerKey, &public.0);
    b.meta(Meta::SchemaVersion, &crate::store::SCHEMA_VERSION.to_be_bytes());
    store.commit(b)?;
    Ok(public)
}

/// An opened ledger, ready to serve.
pub struct Ledger {
    store: Arc<Store>,
    origin: String,
    operator: PublicKey,
    ledger_key: PublicKey,
    signing_key: SigningKey,
    verifier: VerifierKey,
    checkpoint_file: PathBuf,
    checkpoint_copy: Option<PathBuf>,
    /// Every checkpoint the log is known to have published: the data folder's file, the
    /// database's, and the copy outside the folder.
    published: Vec<SignedCheckpoint>,
    witnesses: Vec<WitnessTarget>,
    command_journal: Option<PathBuf>,
    limits: NetLimits,
    reserve: Reserve,
    tls: Option<Arc<crate::net::tls::Reloading>>,
    clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    metrics: Option<tokio::net::TcpListener>,
    data_dir: PathBuf,
    cluster: Option<ClusterSpec>,
}

pub use crate::raft::start::{ClusterSpec, RAFT_DIR, SIGNED_CHECKPOINTS_FILE, SNAPSHOT_DIR};

impl Ledger {
    /// Opens the ledger in `data_dir`. If `operator` is given it must be the key recorded at init.
    pub fn open(data_dir: &Path, operator: Option<PublicKey>) -> Result<Self, StartError> {
        if !data_dir.join(LEDGER_KEY_FILE).exists() {
            return Err(StartError::Config(format!("{} holds no ledger: run `ebld init` first", data_dir.display())));
        }
        let db = data_dir.join(DB_DIR);
        if !db.join("CURRENT").exists() {
            // Never a new empty database in a ledger's folder: that would be another ledger.
            let migrating = data_dir.join(crate::migrate::MIGRATING_DIR);
            let hint = if migrating.exists() {
                "an upgrade was interrupted: run `ebld migrate` again to finish it"
            } else {
                "restore it from a backup (docs/operations.md)"
            };
            return Err(StartError::Config(format!("{} has no database: {hint}", db.display())));
        }
        let store = Store::open(&db).map_err(|e| match e {
            e @ crate::store::StoreError::Format { .. } => StartError::Config(format!("{}: {e}", data_dir.display())),
            e => e.into(),
        })?;
        Self::open_on(data_dir, operator, store)
    }

    /// Opens the ledger whose key, checkpoint file and database are in `data_dir`, reading and
    /// writing the database through `store` (the same database over another engine, e.g. one
    /// that injects failures in tests).
    pub fn open_on(data_dir: &Path, operator: Option<PublicKey>, store: Store) -> Result<Self, StartError> {
        store.check_schema().map_err(|e| StartError::Config(format!("{}: {e}", data_dir.display())))?;
        let missing = |what: &str| {
            StartError::Config(format!("{} is missing its {what}: not initialised by `ebld init`", data_dir.display()))
        };
        let origin = String::from_utf8(store.meta(Meta::Origin)?.ok_or_else(|| missing("origin"))?)
            .map_err(|_| missing("origin"))?;
        let key = |m: Meta, what: &str| -> Result<PublicKey, StartError> {
            PublicKey::from_slice(what, &store.meta(m)?.ok_or_else(|| missing(what))?).map_err(|_| missing(what))
        };
        // Every record is a leaf, committed with it: a database whose tree does not cover its
        // records predates the log (or is damaged) and cannot serve proofs.
        let size = store.next_seq()?;
        if let Err(e) = store.tree_root(size) {
            return Err(StartError::Config(format!(
                "{} holds {size} records but its log tree does not cover them ({e})",
                data_dir.display()
            )));
        }
        let recorded = key(Meta::OperatorKey, "operator key")?;
        let ledger_key = key(Meta::LedgerKey, "ledger key")?;
        if let Some(op) = operator {
            if op != recorded {
                return Err(StartError::Config(format!(
                    "--operator-key {} is not the operator key this ledger was created with ({})",
                    op.to_hex(),
                    recorded.to_hex()
                )));
            }
        }
        let signing_key = read_secret_key(&data_dir.join(LEDGER_KEY_FILE))?;
        if signing_key.verifying_key().to_bytes() != ledger_key.0 {
            return Err(StartError::Config(format!(
                "{} is not the key this ledger was created with ({})",
                data_dir.join(LEDGER_KEY_FILE).display(),
                ledger_key.to_hex()
            )));
        }
        let verifier = VerifierKey::from_signing_key(&origin, KeyKind::Ed25519, &signing_key)
            .map_err(|e| StartError::Config(format!("origin '{origin}' cannot name the log key: {e}")))?;
        let checkpoint_file = data_dir.join(CHECKPOINT_FILE);
        let mut published: Vec<_> = checkpoint::read_file(&checkpoint_file, &verifier)?.into_iter().collect();
        published.extend(checkpoint::read_meta(&store, &verifier)?);
        Ok(Ledger {
            store: Arc::new(store),
            origin,
            operator: recorded,
            ledger_key,
            signing_key,
            verifier,
            checkpoint_file,
            checkpoint_copy: None,
            published,
            witnesses: Vec::new(),
            command_journal: None,
            limits: NetLimits::default(),
            reserve: Reserve::new(data_dir, DEFAULT_DISK_RESERVE),
            tls: None,
            clients: None,
            metrics: None,
            data_dir: data_dir.to_path_buf(),
            cluster: None,
        })
    }

    /// Runs this ledger as a node of a cluster: its writes go through Raft.
    pub fn with_cluster(mut self, spec: ClusterSpec) -> Self {
        self.cluster = Some(spec);
        self
    }

    /// Writes every checkpoint to `path` too, before it is served: a file on another disk or host
    /// mount that backups of the data folder do not restore. At start the tree must extend the
    /// checkpoint it holds, or the log halts.
    pub fn with_checkpoint_copy(mut self, path: PathBuf) -> Result<Self, StartError> {
        self.published.extend(checkpoint::read_file(&path, &self.verifier)?);
        self.checkpoint_copy = Some(path);
        Ok(self)
    }

    /// Serves metrics on `listener` (`GET /metrics`, see [`crate::metrics`]), over TLS if the
    /// ledger serves TLS.
    pub fn with_metrics(mut self, listener: tokio::net::TcpListener) -> Self {
        self.metrics = Some(listener);
        self
    }

    /// Pushes every new checkpoint to these witnesses and serves their cosignatures.
    pub fn with_witnesses(mut self, witnesses: Vec<WitnessTarget>) -> Self {
        self.witnesses = witnesses;
        self
    }

    /// Refuses writes while the data folder's disk has less than `bytes` free.
    pub fn with_disk_reserve(mut self, bytes: u64) -> Self {
        self.reserve = self.reserve.with_min_free(bytes);
        self
    }

    /// Serves TLS with the certificate and key in `files`, reloaded when they change or on
    /// SIGHUP (a failure to load them now stops the start).
    pub fn with_tls(mut self, files: crate::net::tls::TlsFiles) -> Result<Self, StartError> {
        self.tls = Some(crate::net::tls::Reloading::new(files)?);
        Ok(self)
    }

    /// Requires every client to present a TLS certificate from the CA bundle `ca` naming its
    /// party (mutual TLS: docs/operations.md); needs [`Ledger::with_tls`].
    pub fn with_client_ca(mut self, ca: &Path) -> Result<Self, StartError> {
        self.clients = Some(crate::net::tls::client_verifier(ca)?);
        Ok(self)
    }

    /// Whether it serves TLS.
    pub fn serves_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Guards the network edge with these limits (connections, timeouts, calls per connection).
    pub fn with_limits(mut self, limits: NetLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The ledger's checkpoint verifier key (signed-note format `<origin>+<key id>+<base64>`).
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.verifier
    }

    /// The ledger's own secret key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// Appends every command the writer commits to `path`, framed as `ebld apply-commands`
    /// reads them (a developer's record of exactly what was applied, in order; not synced, and
    /// not a backup).
    pub fn with_command_journal(mut self, path: PathBuf) -> Self {
        self.command_journal = Some(path);
        self
    }

    /// The database (tests compare its digest before and after a refusal).
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// The ledger's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The operator's public key.
    pub fn operator(&self) -> &PublicKey {
        &self.operator
    }

    /// Every checkpoint the log is known to have published (the data folder's file, the
    /// database's, the copy outside the folder if configured).
    pub fn published(&self) -> &[SignedCheckpoint] {
        &self.published
    }

    /// Serves gRPC on `listener` until `shutdown` resolves; the writer then finishes its last
    /// commit before this returns.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), StartError> {
        let budget = crate::net::fd_budget().ok_or_else(|| {
            StartError::Config("the open-file limit (ulimit -n) leaves no room for client connections after the store's reserve; raise it to at least 1024".into())
        })?;
        let limits = NetLimits { max_connections: self.limits.max_connections.min(budget), ..self.limits };
        if limits.max_connections < self.limits.max_connections {
            tracing::warn!(max_connections = limits.max_connections, "the open-file limit lowers the connection limit");
        }
        // The log halts before anything is written if the tree does not extend every checkpoint
        // it is known to have published, or if a witness has cosigned more of it.
        let latest = self.published.iter().max_by_key(|c| c.size()).cloned();
        let log = Arc::new(LogState::new(latest.clone()));
        let size = self.store.next_seq()?;
        for cp in &self.published {
            match checkpoint::extends(&self.store, &cp.checkpoint, size) {
                Err(e) if e.is_fork() => {
                    log.halt(e.refusal());
                }
                other => {
                    other?;
                }
            }
        }
        if let (Some(copy), Some(latest), None) = (&self.checkpoint_copy, &latest, log.halted()) {
            // A new copy starts from the latest checkpoint known, not from the next one signed.
            if checkpoint::file::read(copy).map_err(io(copy))?.as_deref() != Some(latest.note.as_str()) {
                checkpoint::file::write_atomic(copy, &latest.note).map_err(io(copy))?;
            }
        }
        if self.checkpoint_copy.is_none() {
            tracing::warn!("no --checkpoint-copy: a restore of the whole data folder would not be noticed");
        }
        // A node of a cluster starts Raft before its witnesses are asked: a node that restarted
        // behind the others must catch up with the leader before it can tell whether a witness
        // that cosigned more than it serves means the cluster's log was restored.
        let spec = self.cluster.take();
        let cluster = match &spec {
            Some(spec) => {
                let ledger = crate::raft::machine::Ledger {
                    store: self.store.clone(),
                    operator: self.operator,
                    origin: self.origin.clone(),
                    verifier: self.verifier.clone(),
                };
                Some(crate::raft::start::start(spec, ledger, &self.data_dir).await?)
            }
            None => None,
        };
        let (stop_pushers, pushers_stop) = tokio::sync::watch::channel(false);
        let (pushers, answered): (Vec<_>, Vec<_>) = self
            .witnesses
            .iter()
            .map(|w| {
                let (first, answered) = tokio::sync::oneshot::channel();
                let pusher = push::spawn(
                    w.clone(),
                    self.store.clone(),
                    log.clone(),
                    cluster.clone(),
                    pushers_stop.clone(),
                    first,
                );
                (pusher, answered)
            })
            .unzip();
        // A witness that is down delays the start by at most its request timeout (twice: it may
        // first answer with its size), and afterwards only its own cosignature, never a record
        // or a checkpoint: the pushers read what the signer published and nothing waits for them.
        let first_answers = futures::future::join_all(answered);
        if tokio::time::timeout(2 * push::REQUEST_TIMEOUT + std::time::Duration::from_secs(1), first_answers)
            .await
            .is_err()
        {
            tracing::warn!("a witness has not answered; starting without its word");
        }
        let hold = WriteHold::new(self.reserve.clone(), log.clone());
        let journal = match &self.command_journal {
            Some(path) => Some(std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io(path))?),
            None => None,
        };
        let witness_names = self.witnesses.iter().map(|w| w.key.name().to_string()).collect();
        let metrics = Arc::new(crate::metrics::Metrics::new(witness_names));
        let commit: Box<dyn crate::writer::Commit> = match &cluster {
            Some(c) => {
                Box::new(crate::raft::node::Proposer { cluster: c.clone(), runtime: tokio::runtime::Handle::current() })
            }
            None => Box::new(crate::writer::Local::new(self.store.clone(), self.operator, journal)?),
        };
        let (writer, writer_thread) =
            crate::writer::spawn(commit, self.store.next_seq()?, hold.clone(), metrics.clone());
        let (stop_signer, stop_rx) = tokio::sync::oneshot::channel();
        let signer = signer::Signer {
            store: self.store.clone(),
            key: self.signing_key.clone(),
            verifier: self.verifier.clone(),
            files: self.checkpoint_copy.iter().chain([&self.checkpoint_file]).cloned().collect(),
            state: log.clone(),
            cluster: cluster.clone(),
            journal: cluster.as_ref().map(|_| self.data_dir.join(SIGNED_CHECKPOINTS_FILE)),
        };
        // A node signs over the tree it applied: in a cluster every node applies, and only the
        // leader signs; every node publishes what it applied.
        let (committed, publisher) = match &cluster {
            Some(c) => (c.applied_size(), Some(c.progress())),
            None => (writer.committed(), None),
        };
        let signer = Arc::new(signer);
        let publisher = publisher.map(|p| signer::publish_applied(signer.clone(), p));
        let signer_task = signer::spawn(signer, committed, stop_rx);
        let shared = Arc::new(Shared {
            store: self.store.clone(),
            writer,
            origin: self.origin.clone(),
            operator: self.operator,
            ledger_key: self.ledger_key,
            replay: ReplayCache::new(ebl_core::time::Timestamp::now()),
            log: log.clone(),
            hold: hold.clone(),
            verifier_key: self.verifier.to_string(),
            statements: crate::checkpoint::statement::StatementSigner::new(self.signing_key.clone()),
            ledger_secret: self.signing_key.clone(),
            auditing: Default::default(),
            gate: Default::default(),
            metrics: metrics.clone(),
            started: std::time::SystemTime::now(),
            cluster: cluster.clone(),
        });
        let peer_task = match (&cluster, spec) {
            (Some(c), Some(spec)) => {
                Some(crate::raft::start::serve_peers(c.clone(), spec, LedgerService::new(shared.clone()))?)
            }
            _ => None,
        };
        let ledger = pb::ledger_server::LedgerServer::new(LedgerService::new(shared.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let (health_reporter, health) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<pb::ledger_server::LedgerServer<LedgerService>>().await;
        let health_task = tokio::spawn(crate::hold::write_health(health_reporter.clone(), hold));
        // Reflection as v1 and as v1alpha, which many tools still ask for.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1alpha =
            reflection().build_v1alpha().map_err(|e| StartError::Config(format!("reflection: {e}")))?;
        let reflection = reflection().build_v1().map_err(|e| StartError::Config(format!("reflection: {e}")))?;
        tracing::info!(addr = ?listener.local_addr().ok(), origin = %self.origin, "serving");
        // Once `shutdown` fires, open connections get DRAIN_DEADLINE to finish their calls; a client
        // that never answers the HTTP/2 goodbye does not keep the server up.
        let (fired_tx, fired_rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = fired_tx.send(());
        };
        if self.clients.is_some() && self.tls.is_none() {
            return Err(StartError::Config("a client CA needs TLS: give the server's certificate and key too".into()));
        }
        let tls = match &self.tls {
            Some(certs) => {
                certs.watch();
                Some(certs.server_config(self.clients.clone(), &[b"h2"])?)
            }
            None => None,
        };
        let metrics_task = match self.metrics.take() {
            Some(listener) => {
                let tls = match &self.tls {
                    Some(certs) => Some(certs.server_config(None, &[b"http/1.1"])?),
                    None => None,
                };
                let serve = crate::metrics::http::serve(listener, metrics.clone(), shared, tls, std::future::pending());
                Some(tokio::spawn(serve))
            }
            None => {
                // The shared state holds a handle of the writer: none may outlive the service.
                drop(shared);
                None
            }
        };
        let incoming = crate::net::incoming(listener, limits, tls);
        let serve = tonic::transport::Server::builder()
            // Dead peers are found by pings; idle live ones by the connection guard.
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            // Past this a client's extra streams wait in its own queue; below it, calls past the
            // per-connection limit are refused (CallsLayer), so both bound a connection's work.
            .max_concurrent_streams(Some(2 * limits.max_calls_per_connection as u32))
            .layer(crate::net::calls::CallsLayer { max: limits.max_calls_per_connection })
            .layer(tower::util::MapResponseLayer::new(crate::api::status::transport_status))
            .layer(crate::metrics::layer::TimingLayer { metrics })
            .layer(crate::api::cluster::StaleLayer { cluster: cluster.clone() })
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(ledger)
            .serve_with_incoming_shutdown(incoming, shutdown);
        let deadline = async {
            match fired_rx.await {
                Ok(()) => tokio::time::sleep(DRAIN_DEADLINE).await,
                Err(_) => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            result = serve => result,
            () = deadline => {
                tracing::warn!(deadline = ?DRAIN_DEADLINE, "connections still open at the drain deadline; closing them");
                Ok(())
            }
        };
        // The metrics endpoint holds the shared state, and with it a handle of the writer: it
        // stops first, so that the writer can end.
        if let Some(task) = metrics_task {
            task.abort();
            let _ = task.await;
        }
        // Every acknowledged record is already synced. The writer finishes the group it holds and
        // stops once the last handle is gone; connections cut at the deadline may still hold one,
        // so the wait is bounded too.
        let joined = tokio::task::spawn_blocking(move || writer_thread.join());
        if tokio::time::timeout(DRAIN_DEADLINE, joined).await.is_err() {
            tracing::warn!("writer still busy at the drain deadline; stopping without it");
        }
        // The signer signs once more over the final synced tree, then ends.
        let _ = stop_signer.send(());
        if tokio::time::timeout(DRAIN_DEADLINE, signer_task).await.is_err() {
            tracing::warn!("checkpoint signer still busy at the drain deadline; stopping without it");
        }
        if let Some(task) = publisher {
            task.abort();
        }
        if let Some(task) = peer_task {
            task.abort();
            let _ = task.await;
        }
        if let Some(c) = &cluster {
            if let Err(e) = c.raft.shutdown().await {
                tracing::warn!(error = %e, "Raft did not shut down cleanly");
            }
        }
        // The pushers end at their next await; once they have, no task holds the store.
        let _ = stop_pushers.send(true);
        if tokio::time::timeout(DRAIN_DEADLINE, futures::future::join_all(pushers)).await.is_err() {
            tracing::warn!("witness pushers still busy at the drain deadline; stopping without them");
        }
        health_task.abort();
        // The next start then replays no write-ahead log.
        if let Err(e) = self.store.flush() {
            tracing::warn!(error = %e, "could not flush the database at stop");
        }
        tracing::info!("stopped");
        Ok(result?)
    }
}

pub use crate::hold::WRITE_HEALTH;
