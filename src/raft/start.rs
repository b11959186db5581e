//! Starting a node of a cluster: its Raft over the ledger's database (the Raft log and the
//! snapshots in folders of the data folder), and its peer listener.

use super::network::{Connector, PeerTls, MAX_PEER_MESSAGE_BYTES};
use super::node::{Cluster, Settings};
use super::{machine, Member, NodeId};
use crate::api::LedgerService;
use crate::net::NetLimits;
use crate::server::StartError;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How this node takes part in a cluster (docs/replication.md).
pub struct ClusterSpec {
    /// Its node id, for life.
    pub node_id: NodeId,
    /// Its addresses as the other nodes and clients reach them.
    pub me: Member,
    /// Its peer listener (Raft traffic, forwarded writes, administration; never clients).
    pub peer_listener: TcpListener,
    /// Mutual TLS on the peer channel, under the cluster CA (`None`: plaintext, loopback only).
    pub tls: Option<PeerTls>,
    /// Raft's timings and snapshot policy.
    pub settings: Settings,
    /// The local address peer connections leave from (`None`: the system's choice).
    pub source: Option<std::net::IpAddr>,
}

/// File (in the data folder) where a cluster node appends every checkpoint it signs.
pub const SIGNED_CHECKPOINTS_FILE: &str = "signed-checkpoints.jsonl";
/// Folder (in the data folder) of a cluster node's Raft log and vote.
pub const RAFT_DIR: &str = "raft";
/// Folder (in the data folder) of a cluster node's snapshots.
pub const SNAPSHOT_DIR: &str = "raft-snapshots";

/// Starts node `spec.node_id`'s Raft over `ledger`, its Raft log and snapshots in `data_dir`.
pub async fn start(spec: &ClusterSpec, ledger: machine::Ledger, data_dir: &Path) -> Result<Arc<Cluster>, StartError> {
    let connector =
        Connector::new(spec.tls.as_ref()).map_err(|e| StartError::Config(e.to_string()))?.from_source(spec.source);
    let raft_dir = data_dir.join(RAFT_DIR);
    let snapshots = data_dir.join(SNAPSHOT_DIR);
    let cluster =
        Cluster::start(spec.node_id, spec.me.clone(), &raft_dir, &snapshots, ledger, spec.settings, connector)
            .await
            .map_err(|e| StartError::Config(e.to_string()))?;
    tracing::info!(node = spec.node_id, peer = %spec.me.peer, "cluster node started");
    Ok(cluster)
}

/// Serves the peer protocol on the spec's listener (mutual TLS under the cluster CA if set).
pub fn serve_peers(
    cluster: Arc<Cluster>,
    spec: ClusterSpec,
    ledger: LedgerService,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let tls = match &spec.tls {
        Some(t) => {
            let files = crate::net::tls::TlsFiles { cert: t.cert.clone(), key: t.key.clone() };
            let certs = crate::net::tls::Reloading::new(files)?;
            certs.watch();
            Some(certs.server_config(Some(crate::net::tls::client_verifier(&t.ca)?), &[b"h2"])?)
        }
        None => None,
    };
    let peers = super::pb::peer_server::PeerServer::new(super::peer::PeerService { cluster, ledger })
        .max_decoding_message_size(MAX_PEER_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_PEER_MESSAGE_BYTES);
    let incoming = crate::net::incoming(spec.peer_listener, NetLimits::default(), tls);
    let serve = tonic::transport::Server::builder().add_service(peers).serve_with_incoming(incoming);
    Ok(tokio::spawn(async move {
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "the peer listener stopped");
        }
    }))
}
