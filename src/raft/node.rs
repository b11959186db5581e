//! One node of a cluster: openraft started over the log store, the state machine and the peer
//! network, with what the rest of the server asks of it: propose a command and get apply's
//! answers ([`Cluster::propose`], behind the writer as a [`Proposer`]), wait until a read is
//! linearizable ([`Cluster::linearize`]), know the leader, and describe the cluster.

use super::machine::{Ledger, Machine, Pending, Progress};
use super::network::{Connector, Network};
use super::pb::peer_client::PeerClient;
use super::pb::{Empty, Json};
use super::snapshot::Snapshots;
use super::{log::LogStore, LogId, Member, NodeId, Outcome, Proposal, Raft};
use crate::error::LedgerError;
use crate::writer::{Command, Commit, Done};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{Config, ServerState, SnapshotPolicy};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tonic::transport::Channel;

/// The reason of every refusal a node gives because it is not the leader, or knows none:
/// always before it did anything with the request, so that clients may send it again.
pub use ebl_client::client::codes::NOT_LEADER;
/// How long a follower waits to apply up to the leader's read index before it gives up.
pub const READ_WAIT: Duration = Duration::from_secs(5);
/// How long a proposal may wait to be committed and applied: a leader cut off from its
/// majority answers UNAVAILABLE then instead of holding its writer (the entry may still be
/// committed later; the client's retry is answered as a duplicate).
pub const COMMIT_WAIT: Duration = Duration::from_secs(5);

/// The Raft settings an operator may change (docs/replication.md, "Settings").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// A follower that hears no leader for this long (up to twice as long, at random) stands
    /// for election.
    pub election_timeout: Duration,
    /// How often the leader sends heartbeats.
    pub heartbeat: Duration,
    /// A snapshot is built once this many entries were applied since the last one.
    pub snapshot_every: u64,
    /// How long sending one snapshot chunk may take.
    pub snapshot_timeout: Duration,
}

impl Default for Settings {
    /// Long enough that a loaded 2-core machine holding three nodes calls no spurious
    /// election (openraft's own 150-300 ms leave it little room), short enough to fail over
    /// within 3 s (docs/replication.md, "Figures").
    fn default() -> Self {
        Settings {
            election_timeout: Duration::from_millis(600),
            heartbeat: Duration::from_millis(100),
            snapshot_every: 20_000,
            snapshot_timeout: Duration::from_secs(30),
        }
    }
}

impl Settings {
    fn config(&self) -> Result<Config, String> {
        let ms = |d: Duration| d.as_millis() as u64;
        let config = Config {
            cluster_name: "ebl".into(),
            election_timeout_min: ms(self.election_timeout),
            election_timeout_max: 2 * ms(self.election_timeout),
            heartbeat_interval: ms(self.heartbeat),
            install_snapshot_timeout: ms(self.snapshot_timeout),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            snapshot_max_chunk_size: 1024 * 1024,
            max_payload_entries: 64,
            ..Config::default()
        };
        config.validate().map_err(|e| e.to_string())
    }
}

/// A running node.
pub struct Cluster {
    /// This node's id.
    pub id: NodeId,
    /// Its addresses.
    pub me: Member,
    /// The Raft.
    pub raft: Raft,
    /// The log's verifier key (a joining node must have the same).
    pub verifier: String,
    pending: Pending,
    progress: watch::Receiver<Progress>,
    connector: Connector,
    log: LogStore,
    admitted: std::sync::atomic::AtomicBool,
    operator: ebl_core::sig::PublicKey,
    leader_link: std::sync::Mutex<Option<LeaderLink>>,
    /// When this node last took an AppendEntries (a heartbeat or entries) from a leader.
    last_contact: std::sync::Mutex<Option<std::time::Instant>>,
}

/// The connection to the leader this node knows: its id and peer URL, and the client.
type LeaderLink = ((NodeId, String), PeerClient<Channel>);

/// Why a node cannot start.
#[derive(Debug, thiserror::Error)]
#[error("cluster: {0}")]
pub struct ClusterError(pub String);

impl Cluster {
    /// Starts node `id` (addresses `me`) with its Raft log in `raft_dir` and snapshots in
    /// `snapshot_dir`, over `ledger`'s database. Refuses a Raft log of another node id, and a
    /// database that was a member's without its Raft log (a restored or copied member).
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        id: NodeId,
        me: Member,
        raft_dir: &Path,
        snapshot_dir: &Path,
        ledger: Ledger,
        settings: Settings,
        connector: Connector,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let err = |e: &dyn std::fmt::Display| ClusterError(e.to_string());
        let fresh = !raft_dir.join("CURRENT").exists();
        let member_before = ledger.store.meta(crate::store::keys::Meta::RaftApplied).map_err(|e| err(&e))?.is_some();
        if fresh && member_before {
            return Err(ClusterError(format!(
                "{} holds the database of a cluster member but no Raft log: a restored or copied member \
                 would rejoin with an older log; wipe the data folder, `ebld init` it again and join it \
                 under a new node id (docs/replication.md)",
                raft_dir.parent().unwrap_or(raft_dir).display()
            )));
        }
        let log = LogStore::open(raft_dir).map_err(|e| err(&e))?;
        log.claim_node_id(id).map_err(|e| err(&e))?;
        let admitted = std::sync::atomic::AtomicBool::new(log.admitted().map_err(|e| err(&e))?);
        let verifier = ledger.verifier.to_string();
        let operator = ledger.operator;
        let snapshots = Snapshots::new(ledger.store.clone(), snapshot_dir.to_path_buf()).map_err(|e| err(&e))?;
        let pending = Pending::default();
        let machine = Machine::new(ledger, snapshots, pending.clone()).map_err(|e| err(&e))?;
        let progress = machine.progress();
        let config = Arc::new(settings.config().map_err(|e| err(&e))?);
        let network = Network { connector: connector.clone() };
        let raft = Raft::new(id, config, network, log.clone(), machine).await.map_err(|e| err(&e))?;
        let (leader_link, last_contact) = (std::sync::Mutex::new(None), std::sync::Mutex::new(None));
        Ok(Arc::new(Cluster {
            id,
            me,
            raft,
            verifier,
            pending,
            progress,
            connector,
            log,
            admitted,
            operator,
            leader_link,
            last_contact,
        }))
    }

    /// Whether this node takes Raft traffic: once it initialised a cluster or a leader admitted it.
    pub fn admitted(&self) -> bool {
        self.admitted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Admits this node (durably first).
    pub fn admit(&self) -> Result<(), LedgerError> {
        self.log.admit().map_err(LedgerError::Unavailable)?;
        self.admitted.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Follows what the state machine applies.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// Follows the tree's size as this node applies (what its checkpoint signer signs over).
    pub fn applied_size(&self) -> watch::Receiver<u64> {
        let mut progress = self.progress.clone();
        let (tx, rx) = watch::channel(progress.borrow().size);
        tokio::spawn(async move {
            while progress.changed().await.is_ok() {
                let size = progress.borrow_and_update().size;
                tx.send_if_modified(|s| std::mem::replace(s, size) != size);
                if tx.is_closed() {
                    return;
                }
            }
        });
        rx
    }

    /// The leader this node knows of, and its addresses.
    pub fn leader(&self) -> Option<(NodeId, Member)> {
        // Read in place: every write and read asks, and the metrics hold the whole membership.
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let id = m.current_leader?;
        let member = m.membership_config.membership().get_node(&id)?.clone();
        Some((id, member))
    }

    /// Whether this node leads now (as far as it knows).
    pub fn is_leader(&self) -> bool {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.id)
    }

    /// The refusal for a write or a read this node cannot take as a non-leader.
    pub fn not_leader(&self) -> LedgerError {
        let why = match self.leader() {
            Some((id, m)) if id != self.id => {
                format!("this node is not the cluster's leader; node {id} is, at {}: ask it", m.api)
            }
            _ => "this node knows no leader of the cluster now (an election is under way): ask again shortly".into(),
        };
        LedgerError::Refusing { reason: NOT_LEADER, why }
    }

    /// Notes that a leader's AppendEntries was taken now.
    pub fn heard_from_leader(&self) {
        *self.last_contact.lock().expect("contact lock poisoned") = Some(std::time::Instant::now());
    }

    /// How far behind the cluster this node's state may be, at most: for the leader, the time
    /// since a quorum last acknowledged it; for a follower, the time since its leader last
    /// reached it. `None` if it has never been in touch.
    pub fn staleness(&self) -> Option<Duration> {
        if self.is_leader() {
            return self.raft.metrics().borrow().millis_since_quorum_ack.map(Duration::from_millis);
        }
        self.last_contact.lock().expect("contact lock poisoned").map(|t| t.elapsed())
    }

    /// The operator key this node's ledger was created with (a joining node must have the same).
    pub fn operator(&self) -> &ebl_core::sig::PublicKey {
        &self.operator
    }

    /// How this node reaches its peers.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// A client of the leader's peer listener.
    /// One connection per leader is kept and used by every forwarded write and read index.
    pub fn leader_client(&self) -> Result<PeerClient<Channel>, LedgerError> {
        let (id, m) = match self.leader() {
            Some((id, m)) if id != self.id => (id, m),
            _ => return Err(self.not_leader()),
        };
        let mut cached = self.leader_link.lock().expect("leader link lock poisoned");
        if let Some((at, client)) = cached.as_ref() {
            if *at == (id, m.peer.clone()) {
                return Ok(client.clone());
            }
        }
        let client = self.connector.client(&m.peer).map_err(|e| LedgerError::Unavailable(e.to_string()))?;
        *cached = Some(((id, m.peer), client.clone()));
        Ok(client)
    }

    /// Proposes `cmd` and waits until it is committed and applied here: apply's answers.
    pub async fn propose(&self, cmd: &Command) -> Result<Outcome, LedgerError> {
        let bytes = cmd.encode();
        let key = Pending::key(&bytes);
        self.pending.hold(key, cmd.clone());
        let written = tokio::time::timeout(COMMIT_WAIT, self.raft.client_write(Proposal::Command(bytes))).await;
        self.pending.forget(&key);
        match written {
            Ok(w) => w.map(|r| r.data).map_err(|e| self.write_error(e)),
            Err(_) => Err(self.uncommitted()),
        }
    }

    /// Proposes a checkpoint note (the leader's, signed with the log key) and waits until it is
    /// committed and applied here.
    pub async fn propose_checkpoint(&self, note: String) -> Result<(), LedgerError> {
        match tokio::time::timeout(COMMIT_WAIT, self.raft.client_write(Proposal::Checkpoint(note))).await {
            Ok(w) => w.map(|_| ()).map_err(|e| self.write_error(e)),
            Err(_) => Err(self.uncommitted()),
        }
    }

    fn uncommitted(&self) -> LedgerError {
        LedgerError::Refusing {
            reason: NOT_LEADER,
            why: format!(
                "the cluster did not commit the write within {COMMIT_WAIT:?} (this node may be cut off from its \
                 majority): send it again, to another node if need be; a write committed meanwhile is answered \
                 as a duplicate"
            ),
        }
    }

    fn write_error(&self, e: RaftError<NodeId, ClientWriteError<NodeId, Member>>) -> LedgerError {
        match e {
            RaftError::APIError(ClientWriteError::ForwardToLeader(_)) => self.not_leader(),
            e => LedgerError::Unavailable(format!("the cluster did not commit the write: {e}")),
        }
    }

    /// Waits until this node has applied every entry committed when it was called, so that a
    /// read sees every write acknowledged before it: the leader confirms its leadership with a
    /// quorum (a read index); a follower asks the leader for that index and waits to apply it.
    pub async fn linearize(&self) -> Result<(), LedgerError> {
        let index: Option<LogId> = if self.is_leader() {
            match tokio::time::timeout(READ_WAIT, self.raft.ensure_linearizable()).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(RaftError::APIError(_))) | Err(_) => return Err(self.not_leader()),
                Ok(Err(e)) => return Err(LedgerError::Unavailable(format!("read index: {e}"))),
            }
        } else {
            let mut leader = self.leader_client()?;
            let mut ask = tonic::Request::new(Empty {});
            ask.set_timeout(READ_WAIT);
            let answer = leader
                .read_index(ask)
                .await
                .map_err(|s| LedgerError::Unavailable(format!("the leader's read index: {}", s.message())))?;
            serde_json::from_slice(&answer.into_inner().json).map_err(|e| LedgerError::Internal(e.to_string()))?
        };
        let Some(index) = index else { return Ok(()) };
        let mut progress = self.progress.clone();
        let caught_up = progress.wait_for(|p| p.applied.is_some_and(|a| a.index >= index.index));
        let waited = tokio::time::timeout(READ_WAIT, caught_up).await.map(|r| r.is_ok());
        match waited {
            Ok(true) => Ok(()),
            _ => Err(LedgerError::Refusing {
                reason: NOT_LEADER,
                why: format!("this node has not caught up with the leader's log in {READ_WAIT:?}: ask the leader"),
            }),
        }
    }

    /// The cluster as this node sees it (`ebld cluster status`, `ebl cluster status`).
    pub fn status(&self) -> Status {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        let matched = m.replication.clone().unwrap_or_default();
        let last = m.last_log_index.unwrap_or(0);
        let nodes = membership
            .nodes()
            .map(|(id, member)| {
                let applied = if *id == self.id {
                    m.last_applied.map(|l| l.index)
                } else {
                    matched.get(id).cloned().flatten().map(|l| l.index)
                };
                NodeStatus {
                    id: *id,
                    voter: voters.contains(id),
                    peer: member.peer.clone(),
                    api: member.api.clone(),
                    matched: applied,
                    lag: applied.map(|a| last.saturating_sub(a)),
                }
            })
            .collect();
        Status {
            id: self.id,
            state: format!("{:?}", m.state),
            term: m.current_term,
            leader: m.current_leader,
            last_log_index: m.last_log_index,
            applied: m.last_applied.map(|l| l.index),
            snapshot: m.snapshot.map(|l| l.index),
            nodes,
        }
    }

    /// The status as JSON, for the peer protocol.
    pub fn status_json(&self) -> Json {
        Json { json: serde_json::to_vec(&self.status()).expect("status serialises") }
    }
}

/// The cluster as one node sees it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Status {
    /// The node answering.
    pub id: NodeId,
    /// Its role: Leader, Follower, Candidate or Learner.
    pub state: String,
    /// Its term.
    pub term: u64,
    /// The leader it knows.
    pub leader: Option<NodeId>,
    /// Its last log index.
    pub last_log_index: Option<u64>,
    /// The last index it applied.
    pub applied: Option<u64>,
    /// The index its latest snapshot covers.
    pub snapshot: Option<u64>,
    /// Every member.
    pub nodes: Vec<NodeStatus>,
}

/// One member, as the answering node sees it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NodeStatus {
    /// Its id.
    pub id: NodeId,
    /// A voter (or a learner).
    pub voter: bool,
    /// Its peer URL.
    pub peer: String,
    /// Its client URL.
    pub api: String,
    /// On the leader, the last index known replicated to it (its own: applied); elsewhere,
    /// only the answering node's own.
    pub matched: Option<u64>,
    /// How far behind the answering node's last log index that is.
    pub lag: Option<u64>,
}

/// The writer's commits as proposals to the cluster: the writer thread waits for each.
pub struct Proposer {
    /// The node.
    pub cluster: Arc<Cluster>,
    /// The runtime the Raft runs on.
    pub runtime: tokio::runtime::Handle,
}

impl Commit for Proposer {
    fn commit(&mut self, cmd: &Command) -> Done {
        match self.runtime.block_on(self.cluster.propose(cmd)) {
            Ok(outcome) => Done { answers: outcome.answers, committed: true, grown: outcome.grown },
            Err(e) => {
                Done { answers: cmd.records.iter().map(|_| Err(e.clone())).collect(), committed: false, grown: None }
            }
        }
    }
}
