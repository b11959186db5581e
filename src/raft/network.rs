//! The peer channel: gRPC clients of the other nodes' peer listeners (`ebl.cluster.v1.Peer`),
//! over mutual TLS under the cluster CA (plaintext only where the cluster runs on loopback), and
//! openraft's network over them: its requests and answers travel as JSON.

use super::pb::peer_client::PeerClient;
use super::pb::Json;
use super::{Member, NodeId, TypeConfig};
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Largest peer message: a command is at most 8 MiB, a third more as base64 in JSON.
pub const MAX_PEER_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// How long connecting to a peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The files of a node's mutual TLS on the peer channel.
#[derive(Debug, Clone)]
pub struct PeerTls {
    /// This node's certificate chain (PEM), from the cluster CA: presented to peers both ways.
    pub cert: PathBuf,
    /// Its key (PEM).
    pub key: PathBuf,
    /// The cluster CA bundle (PEM): the only issuer of peers' certificates.
    pub ca: PathBuf,
}

/// Connects to peers.
#[derive(Debug, Clone, Default)]
pub struct Connector {
    tls: Option<ClientTlsConfig>,
    source: Option<std::net::IpAddr>,
}

/// Why a peer cannot be reached.
#[derive(Debug, thiserror::Error)]
#[error("peer {url}: {why}")]
pub struct PeerError {
    url: String,
    why: String,
}

impl Connector {
    /// Connects with `tls` (plaintext without).
    pub fn new(tls: Option<&PeerTls>) -> Result<Self, PeerError> {
        let Some(t) = tls else { return Ok(Connector::default()) };
        let read =
            |p: &PathBuf| std::fs::read(p).map_err(|e| PeerError { url: p.display().to_string(), why: e.to_string() });
        let config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&t.ca)?))
            .identity(Identity::from_pem(read(&t.cert)?, read(&t.key)?));
        Ok(Connector { tls: Some(config), source: None })
    }

    /// Connections leave from `source` (a multi-homed host's peer network), not the address
    /// the system picks.
    pub fn from_source(mut self, source: Option<std::net::IpAddr>) -> Self {
        self.source = source;
        self
    }

    /// A client of the peer listener at `url` (connected on first use).
    pub fn client(&self, url: &str) -> Result<PeerClient<Channel>, PeerError> {
        let fail = |why: String| PeerError { url: url.to_string(), why };
        let mut endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| fail(e.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .local_address(self.source)
            .tcp_nodelay(true);
        match (&self.tls, url.starts_with("https://")) {
            (Some(tls), true) => endpoint = endpoint.tls_config(tls.clone()).map_err(|e| fail(e.to_string()))?,
            (None, false) => {}
            (Some(_), false) => return Err(fail("the cluster uses TLS: peer URLs are https://".into())),
            (None, true) => return Err(fail("an https:// peer needs the cluster's TLS files".into())),
        }
        Ok(PeerClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_PEER_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_PEER_MESSAGE_BYTES))
    }
}

/// openraft's network: one client per peer.
#[derive(Clone)]
pub struct Network {
    /// How peers are reached.
    pub connector: Connector,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerLink;

    async fn new_client(&mut self, target: NodeId, node: &Member) -> PeerLink {
        PeerLink { target, client: self.connector.client(&node.peer).map_err(|e| e.to_string()) }
    }
}

/// The link to one peer.
pub struct PeerLink {
    target: NodeId,
    client: Result<PeerClient<Channel>, String>,
}

type Rpc<T, E = RaftError<NodeId>> = Result<T, RPCError<NodeId, Member, E>>;

/// An error as text, for openraft's error wrappers.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Text(String);

impl PeerLink {
    /// Sends `req` to the peer's `rpc`, within the option's hard time to live.
    async fn call<Q, A, E>(&mut self, rpc: &'static str, req: &Q, option: &RPCOption) -> Rpc<A, E>
    where
        Q: serde::Serialize,
        A: serde::de::DeserializeOwned,
        E: std::error::Error + serde::de::DeserializeOwned,
    {
        let client = match &self.client {
            Ok(c) => c.clone(),
            Err(e) => return Err(RPCError::Unreachable(Unreachable::new(&Text(e.clone())))),
        };
        let json = serde_json::to_vec(req).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        if json.len() > MAX_PEER_MESSAGE_BYTES {
            return Err(RPCError::Network(NetworkError::new(&Text(format!("{rpc} of {} bytes", json.len())))));
        }
        let mut c = client;
        let request = tonic::Request::new(Json { json });
        let sent = async {
            match rpc {
                "append" => c.append_entries(request).await,
                "vote" => c.vote(request).await,
                _ => c.install_snapshot(request).await,
            }
        };
        let answer = match tokio::time::timeout(option.hard_ttl(), sent).await {
            Err(_) => return Err(RPCError::Unreachable(Unreachable::new(&Text(format!("{rpc}: no answer in time"))))),
            Ok(Err(status)) => return Err(RPCError::Unreachable(Unreachable::new(&Text(status.to_string())))),
            Ok(Ok(a)) => a.into_inner(),
        };
        let result: Result<A, E> =
            serde_json::from_slice(&answer.json).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerLink {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Rpc<AppendEntriesResponse<NodeId>> {
        if rpc.entries.len() > 1 {
            // Far more entries than fit in one message: openraft sends fewer on this hint.
            let bytes: usize = rpc.entries.iter().map(entry_bytes).sum();
            if bytes > MAX_PEER_MESSAGE_BYTES / 2 {
                let fit = (rpc.entries.len() * MAX_PEER_MESSAGE_BYTES / 2 / bytes).max(1);
                return Err(RPCError::PayloadTooLarge(openraft::error::PayloadTooLarge::new_entries_hint(fit as u64)));
            }
        }
        self.call("append", &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Rpc<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>> {
        self.call("snapshot", &rpc, &option).await
    }

    async fn vote(&mut self, rpc: VoteRequest<NodeId>, option: RPCOption) -> Rpc<VoteResponse<NodeId>> {
        self.call("vote", &rpc, &option).await
    }
}

/// About the bytes an entry takes in a message.
fn entry_bytes(e: &openraft::Entry<TypeConfig>) -> usize {
    match &e.payload {
        openraft::EntryPayload::Normal(super::Proposal::Command(b)) => b.len() * 4 / 3 + 64,
        openraft::EntryPayload::Normal(super::Proposal::Checkpoint(n)) => n.len() + 64,
        _ => 256,
    }
}
