//! The peer listener's service (`ebl.cluster.v1.Peer`): openraft's RPCs, writes a follower
//! forwards to this node as leader, read indexes, and the cluster's administration.

use super::node::Cluster;
use super::pb::peer_client::PeerClient;
use super::pb::peer_server::Peer;
use super::pb::{Empty, JoinRequest, Json, NodeHello, NodeRef};
use super::{Member, NodeId};
use crate::api::LedgerService;
use crate::pb;
use crate::pb::ledger_server::Ledger as _;
use openraft::ChangeMembers;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Marks a request a peer forwarded: it is answered here or refused, never forwarded again.
#[derive(Debug, Clone, Copy)]
pub struct Forwarded;

/// The peer service of one node.
pub struct PeerService {
    /// The node.
    pub cluster: Arc<Cluster>,
    /// The ledger's service, which answers forwarded writes.
    pub ledger: LedgerService,
}

fn json<T: serde::Serialize>(v: &T) -> Result<Response<Json>, Status> {
    Ok(Response::new(Json { json: serde_json::to_vec(v).map_err(|e| Status::internal(e.to_string()))? }))
}

fn parse<T: serde::de::DeserializeOwned>(req: Request<Json>) -> Result<T, Status> {
    serde_json::from_slice(&req.into_inner().json)
        .map_err(|e| Status::invalid_argument(format!("not a Raft message: {e}")))
}

/// A refusal for an administrative change asked of a node that is not the leader.
fn not_leader(cluster: &Cluster) -> Status {
    Status::failed_precondition(cluster.not_leader().to_string())
}

impl PeerService {
    /// Refuses Raft traffic to a node not admitted to a cluster.
    fn admitted(&self) -> Result<(), Status> {
        if self.cluster.admitted() {
            return Ok(());
        }
        Err(Status::failed_precondition(format!(
            "node {} was not admitted to a cluster: it takes no Raft traffic (a wiped node rejoins under a new \
             node id: `ebld cluster join`)",
            self.cluster.id
        )))
    }

    fn leading(&self) -> Result<(), Status> {
        if self.cluster.is_leader() {
            Ok(())
        } else {
            Err(not_leader(&self.cluster))
        }
    }

    /// The membership change's answer: the cluster's status once it is committed.
    fn changed<E: std::fmt::Display>(&self, r: Result<impl Sized, E>) -> Result<Response<Json>, Status> {
        r.map_err(|e| Status::failed_precondition(format!("the membership change failed: {e}")))?;
        json(&self.cluster.status())
    }
}

#[tonic::async_trait]
impl Peer for PeerService {
    async fn append_entries(&self, req: Request<Json>) -> Result<Response<Json>, Status> {
        self.admitted()?;
        let answer = self.cluster.raft.append_entries(parse(req)?).await;
        if answer.as_ref().is_ok_and(|a| a.is_success()) {
            self.cluster.heard_from_leader();
        }
        json(&answer)
    }

    async fn vote(&self, req: Request<Json>) -> Result<Response<Json>, Status> {
        self.admitted()?;
        json(&self.cluster.raft.vote(parse(req)?).await)
    }

    async fn install_snapshot(&self, req: Request<Json>) -> Result<Response<Json>, Status> {
        self.admitted()?;
        json(&self.cluster.raft.install_snapshot(parse(req)?).await)
    }

    async fn submit(&self, req: Request<pb::SignedRecord>) -> Result<Response<pb::Receipt>, Status> {
        let mut req = Request::new(req.into_inner());
        req.extensions_mut().insert(Forwarded);
        self.ledger.submit(req).await
    }

    async fn submit_batch(
        &self,
        req: Request<pb::SubmitBatchRequest>,
    ) -> Result<Response<pb::SubmitBatchResponse>, Status> {
        let mut req = Request::new(req.into_inner());
        req.extensions_mut().insert(Forwarded);
        self.ledger.submit_batch(req).await
    }

    async fn read_index(&self, _: Request<Empty>) -> Result<Response<Json>, Status> {
        self.leading()?;
        let index = self.cluster.raft.ensure_linearizable().await.map_err(|_| not_leader(&self.cluster))?;
        json(&index)
    }

    async fn hello(&self, _: Request<Empty>) -> Result<Response<NodeHello>, Status> {
        let c = &self.cluster;
        Ok(Response::new(NodeHello {
            node_id: c.id,
            peer_url: c.me.peer.clone(),
            api_url: c.me.api.clone(),
            log_verifier_key: c.verifier.clone(),
            operator_public_key: c.operator().0.to_vec(),
        }))
    }

    async fn admit(&self, req: Request<NodeRef>) -> Result<Response<Empty>, Status> {
        let id = req.into_inner().node_id;
        if id != self.cluster.id {
            return Err(Status::invalid_argument(format!("this is node {}, not node {id}", self.cluster.id)));
        }
        self.cluster.admit()?;
        Ok(Response::new(Empty {}))
    }

    async fn init(&self, _: Request<Empty>) -> Result<Response<Json>, Status> {
        let c = &self.cluster;
        c.admit()?;
        let members = BTreeMap::from([(c.id, c.me.clone())]);
        c.raft
            .initialize(members)
            .await
            .map_err(|e| Status::failed_precondition(format!("the cluster cannot be initialised here: {e}")))?;
        // Every node that joins later starts from a snapshot of the whole ledger, whatever it
        // held before the cluster began: the log before it is purged.
        let mut metrics = self.cluster.raft.metrics();
        let applied = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let m = metrics.borrow_and_update().clone();
                if m.current_leader == Some(c.id) && m.last_applied.is_some() {
                    return m.last_applied;
                }
                if metrics.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| Status::unavailable("this node did not become the leader of its new cluster"))?;
        let fatal = |e: openraft::error::Fatal<NodeId>| Status::internal(e.to_string());
        c.raft.trigger().snapshot().await.map_err(fatal)?;
        c.raft
            .wait(Some(Duration::from_secs(60)))
            .metrics(|m| m.snapshot.is_some_and(|s| s.index >= applied.index), "the first snapshot")
            .await
            .map_err(|e| Status::unavailable(format!("the first snapshot: {e}")))?;
        c.raft.trigger().purge_log(applied.index).await.map_err(fatal)?;
        json(&c.status())
    }

    async fn join(&self, req: Request<JoinRequest>) -> Result<Response<Json>, Status> {
        self.leading()?;
        let JoinRequest { peer_url, learner } = req.into_inner();
        let c = &self.cluster;
        let mut joining: PeerClient<_> =
            c.connector().client(&peer_url).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let hello = joining
            .hello(Empty {})
            .await
            .map_err(|s| {
                Status::unavailable(format!("the joining node at {peer_url} does not answer: {}", s.message()))
            })?
            .into_inner();
        if hello.log_verifier_key != c.verifier {
            return Err(Status::permission_denied(format!(
                "the node at {peer_url} holds another log key ({}) than this cluster's ({}): the log key reaches a \
                 joining node out of band, with `ebld init --ledger-key-file`",
                hello.log_verifier_key, c.verifier
            )));
        }
        if hello.operator_public_key != c.operator().0 {
            // Apply judges registry records by the operator's key: another one would make the
            // node's ledger diverge from the cluster's.
            return Err(Status::permission_denied(format!(
                "the node at {peer_url} was created with another operator key ({}) than this cluster's ({})",
                hex::encode(&hello.operator_public_key),
                c.operator().to_hex()
            )));
        }
        let known = c.raft.metrics().borrow().membership_config.membership().get_node(&hello.node_id).is_some();
        if known || hello.node_id == c.id {
            return Err(Status::already_exists(format!(
                "node {} is already a member: a wiped or restored node rejoins under a new node id",
                hello.node_id
            )));
        }
        joining.admit(NodeRef { node_id: hello.node_id }).await.map_err(|s| {
            Status::unavailable(format!("the joining node did not take its admission: {}", s.message()))
        })?;
        let member = Member { peer: hello.peer_url, api: hello.api_url };
        let added = c.raft.add_learner(hello.node_id, member, true).await;
        if learner || added.is_err() {
            return self.changed(added);
        }
        self.changed(c.raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([hello.node_id])), false).await)
    }

    async fn promote(&self, req: Request<NodeRef>) -> Result<Response<Json>, Status> {
        self.leading()?;
        let id = req.into_inner().node_id;
        self.changed(self.cluster.raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false).await)
    }

    async fn remove(&self, req: Request<NodeRef>) -> Result<Response<Json>, Status> {
        self.leading()?;
        let id = req.into_inner().node_id;
        let raft = &self.cluster.raft;
        let voter = raft.metrics().borrow().membership_config.membership().voter_ids().any(|v| v == id);
        if voter {
            let r = raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false).await;
            r.map_err(|e| Status::failed_precondition(format!("the membership change failed: {e}")))?;
        }
        self.changed(self.cluster.raft.change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false).await)
    }

    async fn status(&self, _: Request<Empty>) -> Result<Response<Json>, Status> {
        Ok(Response::new(self.cluster.status_json()))
    }
}
