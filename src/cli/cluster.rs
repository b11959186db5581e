//! `ebld` in a cluster (docs/replication.md): the flags that make `ebld serve` a node, and
//! `ebld cluster init|join|promote|remove|status`, which ask a node over its peer listener.

use crate::raft::network::{Connector, PeerTls};
use crate::raft::node::{Settings, Status};
use crate::raft::pb::{Empty, JoinRequest, NodeRef};
use crate::raft::Member;
use crate::server::ClusterSpec;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// The flags of a cluster node, and of the administrator's commands.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// This node's id in a cluster, for life (a wiped node rejoins under a new one): with it,
    /// `ebld serve` runs as a node of a cluster (needs --peer-listen).
    #[arg(long, env = "EBL_NODE_ID", global = true, requires = "peer_listen")]
    pub node_id: Option<u64>,
    /// The address of this node's peer listener (Raft traffic, forwarded writes, administration;
    /// never clients), e.g. 10.0.0.1:50061.
    #[arg(long, env = "EBL_PEER_LISTEN", global = true)]
    pub peer_listen: Option<String>,
    /// The URL other nodes reach this node's peer listener at (default: http(s)://PEER_LISTEN).
    #[arg(long, env = "EBL_ADVERTISE_PEER", global = true)]
    pub advertise_peer: Option<String>,
    /// The URL clients reach this node at (default: http(s)://LISTEN).
    #[arg(long, env = "EBL_ADVERTISE_API", global = true)]
    pub advertise_api: Option<String>,
    /// The local address this node's connections to its peers leave from (a host with a
    /// network of its own for the cluster); default: the system's choice.
    #[arg(long, env = "EBL_PEER_SOURCE_ADDRESS", global = true)]
    pub peer_source_address: Option<std::net::IpAddr>,
    /// This node's certificate (PEM) from the cluster CA, for mutual TLS on the peer channel
    /// (both ways); the administrator's commands present it too.
    #[arg(long, env = "EBL_PEER_CERT", global = true, requires_all = ["peer_key", "cluster_ca"])]
    pub peer_cert: Option<PathBuf>,
    /// Its key (PEM).
    #[arg(long, env = "EBL_PEER_KEY", global = true, requires = "peer_cert")]
    pub peer_key: Option<PathBuf>,
    /// The cluster CA bundle (PEM): the only issuer of peer certificates.
    #[arg(long, env = "EBL_CLUSTER_CA", global = true, requires = "peer_cert")]
    pub cluster_ca: Option<PathBuf>,
    /// Milliseconds a follower waits without hearing the leader (up to twice as long, at
    /// random) before it stands for election.
    #[arg(long, env = "EBL_ELECTION_TIMEOUT_MS", global = true, default_value_t = Settings::default().election_timeout.as_millis() as u64)]
    pub election_timeout_ms: u64,
    /// Milliseconds between the leader's heartbeats.
    #[arg(long, env = "EBL_HEARTBEAT_MS", global = true, default_value_t = Settings::default().heartbeat.as_millis() as u64)]
    pub heartbeat_ms: u64,
    /// A snapshot is built once this many Raft entries were applied since the last one.
    #[arg(long, env = "EBL_SNAPSHOT_EVERY", global = true, default_value_t = Settings::default().snapshot_every)]
    pub snapshot_every: u64,
    /// Milliseconds sending one snapshot chunk (1 MiB) may take.
    #[arg(long, env = "EBL_SNAPSHOT_TIMEOUT_MS", global = true, default_value_t = Settings::default().snapshot_timeout.as_millis() as u64)]
    pub snapshot_timeout_ms: u64,
}

/// `ebld cluster ...`.
#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Make the node at --peer a cluster of one, itself its leader; its ledger, whatever it
    /// holds, is its first snapshot, from which every node that joins starts.
    #[command(after_help = "Example:\n  ebld cluster init --peer http://127.0.0.1:50061")]
    Init,
    /// Add the node whose peer listener is at --node to the cluster whose leader is at --peer:
    /// refused if its log key differs or its id is already a member. It catches up (by
    /// snapshot if need be), then becomes a voter unless --learner.
    #[command(
        after_help = "Example:\n  ebld cluster join --peer http://127.0.0.1:50061 --node http://127.0.0.1:50062"
    )]
    Join {
        /// The joining node's peer URL.
        #[arg(long)]
        node: String,
        /// Keep it a learner (it replicates, does not vote); promote it later.
        #[arg(long)]
        learner: bool,
    },
    /// Make a learner a voter.
    #[command(after_help = "Example:\n  ebld cluster promote --peer http://127.0.0.1:50061 --id 2")]
    Promote {
        /// Its node id.
        #[arg(long)]
        id: u64,
    },
    /// Remove a node from the cluster.
    #[command(after_help = "Example:\n  ebld cluster remove --peer http://127.0.0.1:50061 --id 3")]
    Remove {
        /// Its node id.
        #[arg(long)]
        id: u64,
    },
    /// Each node's role, term, applied index and lag, as the node at --peer sees them.
    #[command(after_help = "Example:\n  ebld cluster status --peer http://127.0.0.1:50061 --json")]
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
}

impl ClusterArgs {
    /// The peer channel's TLS files, if given.
    pub fn tls(&self) -> Option<PeerTls> {
        match (&self.peer_cert, &self.peer_key, &self.cluster_ca) {
            (Some(cert), Some(key), Some(ca)) => Some(PeerTls { cert: cert.clone(), key: key.clone(), ca: ca.clone() }),
            _ => None,
        }
    }

    /// The Raft settings.
    pub fn settings(&self) -> Settings {
        Settings {
            election_timeout: Duration::from_millis(self.election_timeout_ms),
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            snapshot_every: self.snapshot_every,
            snapshot_timeout: Duration::from_millis(self.snapshot_timeout_ms),
        }
    }

    /// The node's spec, once its peer listener is bound; `api` is the client listener's address
    /// and scheme. `None` without --node-id.
    pub async fn spec(
        &self,
        api: (&str, std::net::SocketAddr),
        insecure_plaintext: bool,
    ) -> Result<Option<(ClusterSpec, std::net::SocketAddr)>, Box<dyn std::error::Error>> {
        let Some(node_id) = self.node_id else { return Ok(None) };
        let listen = self.peer_listen.as_deref().ok_or("--node-id needs --peer-listen")?;
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let at = listener.local_addr()?;
        let tls = self.tls();
        ebl_client::tls::plaintext_allowed("ebld --peer-listen", at, tls.is_some(), insecure_plaintext)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let me = Member {
            peer: self.advertise_peer.clone().unwrap_or_else(|| format!("{scheme}://{at}")),
            api: self.advertise_api.clone().unwrap_or_else(|| format!("{}://{}", api.0, api.1)),
        };
        let settings = self.settings();
        let source = self.peer_source_address;
        let spec = ClusterSpec { node_id, me, peer_listener: listener, tls, settings, source };
        Ok(Some((spec, at)))
    }
}

/// Runs `ebld cluster ...` against the node at `peer`.
pub async fn run(args: &ClusterArgs, peer: &str, command: ClusterCommand) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Connector::new(args.tls().as_ref())?.from_source(args.peer_source_address).client(peer)?;
    let failed = |s: tonic::Status| format!("{peer}: {}", s.message());
    let json = match command {
        ClusterCommand::Init => client.init(Empty {}).await.map_err(failed)?,
        ClusterCommand::Join { node, learner } => {
            client.join(JoinRequest { peer_url: node, learner }).await.map_err(failed)?
        }
        ClusterCommand::Promote { id } => client.promote(NodeRef { node_id: id }).await.map_err(failed)?,
        ClusterCommand::Remove { id } => client.remove(NodeRef { node_id: id }).await.map_err(failed)?,
        ClusterCommand::Status { json: true } => {
            let status = client.status(Empty {}).await.map_err(failed)?.into_inner();
            println!("{}", String::from_utf8_lossy(&status.json));
            return Ok(());
        }
        ClusterCommand::Status { json: false } => client.status(Empty {}).await.map_err(failed)?,
    };
    let status: Status = serde_json::from_slice(&json.into_inner().json)?;
    print!("{}", describe(&status));
    Ok(())
}

/// The status as a table.
pub fn describe(s: &Status) -> String {
    let leader = s.leader.map_or("none known".to_string(), |l| format!("node {l}"));
    let mut out = format!(
        "node {} ({}), term {}, leader {leader}, applied {}, last log index {}\n",
        s.id,
        s.state,
        s.term,
        s.applied.map_or("-".into(), |a| a.to_string()),
        s.last_log_index.map_or("-".into(), |a| a.to_string()),
    );
    out.push_str("  id  role     matched  lag  peer / api\n");
    for n in &s.nodes {
        out.push_str(&format!(
            "  {:<3} {:<8} {:>7}  {:>3}  {} / {}\n",
            n.id,
            if n.voter { "voter" } else { "learner" },
            n.matched.map_or("-".into(), |m| m.to_string()),
            n.lag.map_or("-".into(), |l| l.to_string()),
            n.peer,
            n.api
        ));
    }
    out
}
