//! The API in a cluster (docs/replication.md, "What a client sees"): a write that reaches a
//! follower goes to the leader over the peer channel and comes back as the leader answered it;
//! a read waits until this node has applied everything committed when it arrived, unless the
//! caller asks for a stale read (`ebl-read-consistency: stale`); and a record refused by the
//! checks before the writer is checked once more after that wait, so that no refusal is ever
//! answered from state this node has not yet applied.

use super::peer;
use crate::error::LedgerError;
use crate::net::tls::Peer;
use crate::pb;
use crate::raft::node::Cluster;
use crate::raft::peer::Forwarded;
use crate::service::Shared;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::{Request, Response, Status};
use tower::{Layer, Service};

/// The request metadata key by which a caller accepts a stale read from this node.
pub const READ_CONSISTENCY: &str = "ebl-read-consistency";
/// Its one value: answer from what this node has applied, without asking the leader.
pub const STALE: &str = "stale";
/// The request metadata key bounding a stale read: at most this many milliseconds behind.
pub const MAX_STALENESS: &str = "ebl-max-staleness-ms";
/// The bound when the request gives none.
pub const DEFAULT_MAX_STALENESS: std::time::Duration = std::time::Duration::from_secs(5);
/// The reason a stale read is refused: this node may be further behind than the caller accepts.
pub const READ_TOO_STALE: &str = "READ_TOO_STALE";
/// The answer's metadata key naming the last Raft index a stale read reflects.
pub const APPLIED_INDEX: &str = "ebl-applied-index";
/// The answer's metadata key saying how far behind (ms, at most) a stale read may be.
pub const STALENESS: &str = "ebl-staleness-ms";

/// The cluster, if this node is a follower that must hand `req`'s write to the leader; a write
/// already forwarded to it by a peer is refused instead (it is never forwarded twice).
pub fn follower_of<T>(shared: &Shared, req: &Request<T>) -> Result<Option<Arc<Cluster>>, Status> {
    let Some(c) = shared.cluster.as_ref().filter(|c| !c.is_leader()) else { return Ok(None) };
    if req.extensions().get::<Forwarded>().is_some() {
        return Err(c.not_leader().into());
    }
    Ok(Some(c.clone()))
}

/// Refuses to forward records acted by another party than the connection's client certificate
/// names (the leader only sees the peer channel's certificate).
fn bound_all<'a>(
    peer: &Peer,
    records: impl IntoIterator<Item = &'a pb::SignedRecord>,
    origin: &str,
) -> Result<(), Status> {
    if *peer == Peer::Anyone {
        return Ok(());
    }
    for rec in records {
        let arrived = crate::service::check::arrive(rec.clone(), origin)?;
        super::bound(peer, &arrived.payload.actor).map_err(LedgerError::from)?;
    }
    Ok(())
}

/// Sends a record to the leader.
pub async fn forward_submit(
    shared: &Shared,
    cluster: &Cluster,
    req: Request<pb::SignedRecord>,
) -> Result<Response<pb::Receipt>, Status> {
    bound_all(&peer(&req), [req.get_ref()], &shared.origin)?;
    let mut leader = cluster.leader_client()?;
    leader.submit(req.into_inner()).await.map_err(|s| unreached(cluster, s))
}

/// Sends a batch to the leader.
pub async fn forward_batch(
    shared: &Shared,
    cluster: &Cluster,
    req: Request<pb::SubmitBatchRequest>,
) -> Result<Response<pb::SubmitBatchResponse>, Status> {
    let peer = peer(&req);
    let results = forward_records(shared, cluster, &peer, req.into_inner().records).await?;
    Ok(Response::new(pb::SubmitBatchResponse { results }))
}

/// Sends records to the leader as one batch (a step of a SubmitStream to a follower): each
/// record's result in its place.
pub async fn forward_records(
    shared: &Shared,
    cluster: &Cluster,
    peer: &Peer,
    records: Vec<pb::SignedRecord>,
) -> Result<Vec<pb::SubmitResult>, Status> {
    bound_all(peer, &records, &shared.origin)?;
    let mut leader = cluster.leader_client()?;
    let answer = leader.submit_batch(pb::SubmitBatchRequest { records }).await.map_err(|s| unreached(cluster, s))?;
    Ok(answer.into_inner().results)
}

/// A forwarded write whose leader could not be reached, or whose connection broke before it
/// answered (the peer channel's own UNAVAILABLE, UNKNOWN "transport error" or CANCELLED, with no
/// reason of the ledger's), is answered NOT_LEADER: the leader is gone or going, and sending the
/// write again is safe (a record it did take comes back a duplicate).
fn unreached(cluster: &Cluster, s: Status) -> Status {
    use tonic::Code::{Cancelled, Unavailable, Unknown};
    use tonic_types::StatusExt;
    if matches!(s.code(), Unavailable | Unknown | Cancelled) && s.get_details_error_info().is_none() {
        return cluster.not_leader().into();
    }
    s
}

/// Waits until a read of `req` may be answered here: at once outside a cluster; for a stale read
/// (`ebl-read-consistency: stale`), at once if this node is at most `ebl-max-staleness-ms`
/// (default 5 s) behind the cluster, else UNAVAILABLE `READ_TOO_STALE` ([`StaleLayer`] marks the
/// answer); otherwise once this node has applied everything committed when it arrived.
pub async fn before_read<T>(shared: &Shared, req: &Request<T>) -> Result<(), LedgerError> {
    let Some(c) = &shared.cluster else { return Ok(()) };
    if req.metadata().get(READ_CONSISTENCY).and_then(|v| v.to_str().ok()) != Some(STALE) {
        return c.linearize().await;
    }
    let bound = match req.metadata().get(MAX_STALENESS) {
        None => DEFAULT_MAX_STALENESS,
        Some(v) => {
            v.to_str().ok().and_then(|v| v.parse().ok()).map(std::time::Duration::from_millis).ok_or_else(|| {
                LedgerError::Rule(ebl_core::RuleError::invalid(MAX_STALENESS, "expected a number of milliseconds"))
            })?
        }
    };
    match c.staleness() {
        Some(s) if s <= bound => Ok(()),
        s => Err(LedgerError::Refusing {
            reason: READ_TOO_STALE,
            why: format!(
                "this node may be {} behind the cluster, more than the {} ms accepted: ask without \
                 {READ_CONSISTENCY}, or another node",
                s.map_or("any time".to_string(), |s| format!("{} ms", s.as_millis())),
                bound.as_millis()
            ),
        }),
    }
}

/// A tower layer over the server that says in the answer to a stale read that it is one, the
/// Raft index this node had applied when the read arrived (the answer reflects at least that
/// much) and how far behind the cluster it may be (`ebl-staleness-ms`).
#[derive(Clone)]
pub struct StaleLayer {
    /// This node of a cluster (`None` outside a cluster: nothing is marked).
    pub cluster: Option<Arc<Cluster>>,
}

impl<S> Layer<S> for StaleLayer {
    type Service = Stale<S>;
    fn layer(&self, inner: S) -> Stale<S> {
        Stale { inner, cluster: self.cluster.clone() }
    }
}

/// The service the layer wraps around the server.
#[derive(Clone)]
pub struct Stale<S> {
    inner: S,
    cluster: Option<Arc<Cluster>>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> Service<http::Request<B>> for Stale<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let stale = req.headers().get(READ_CONSISTENCY).is_some_and(|v| v.as_bytes() == STALE.as_bytes());
        let index = self.cluster.as_ref().filter(|_| stale).map(|c| {
            let applied = c.progress().borrow().applied.map_or(0, |a| a.index);
            (applied, c.staleness().map(|s| s.as_millis() as u64))
        });
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut answer = fut.await?;
            if let Some((index, staleness)) = index {
                let headers = answer.headers_mut();
                headers.insert(READ_CONSISTENCY, http::HeaderValue::from_static(STALE));
                headers.insert(APPLIED_INDEX, http::HeaderValue::from(index));
                if let Some(ms) = staleness {
                    headers.insert(STALENESS, http::HeaderValue::from(ms));
                }
            }
            Ok(answer)
        })
    }
}

/// Whether a record refused before the writer should be checked again once this node has
/// caught up with the leader: only in a cluster, and only for refusals by the rules (a
/// signer's key unknown here may be known to the leader).
pub async fn recheck(shared: &Shared, refused: &Result<impl Sized, LedgerError>) -> Result<bool, LedgerError> {
    match (&shared.cluster, refused) {
        (Some(c), Err(LedgerError::Rule(_))) => {
            c.linearize().await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The cluster's status as GetClusterStatus answers it (no peer addresses).
pub fn status(cluster: &Cluster) -> pb::ClusterStatus {
    let s = cluster.status();
    pb::ClusterStatus {
        clustered: true,
        node_id: s.id,
        role: s.state,
        term: s.term,
        leader_id: s.leader.unwrap_or(0),
        applied_index: s.applied,
        last_log_index: s.last_log_index,
        members: s
            .nodes
            .into_iter()
            .map(|n| pb::ClusterMember {
                node_id: n.id,
                voter: n.voter,
                api_url: n.api,
                matched_index: n.matched,
                lag: n.lag,
            })
            .collect(),
    }
}
