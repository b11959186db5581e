//! `ebl cluster status`: the cluster as the node asked sees it (docs/replication.md), from the
//! public GetClusterStatus: each member's role, client URL, replication and lag.

use super::output::{shown, Out};
use super::CliResult;
use crate::client::{Client, Servers};
use crate::pb;
use clap::Subcommand;
use serde_json::json;

/// `ebl cluster ...`.
#[derive(Subcommand, Debug)]
pub enum ClusterCmd {
    /// Each member's role, applied index and lag, as the node asked sees them (a single ledger
    /// says it is not a cluster).
    #[command(after_help = "Example:\n  ebl --server http://a:50051,http://b:50051 cluster status")]
    Status,
}

/// Runs `ebl cluster ...`.
pub async fn run(cmd: ClusterCmd, server: &Servers, out: &Out) -> CliResult {
    let ClusterCmd::Status = cmd;
    let mut c = Client::connect_to(server).await?;
    let s = c.grpc.get_cluster_status(pb::GetClusterStatusRequest {}).await?.into_inner();
    out.emit(to_json(&s), || describe(&s));
    Ok(())
}

fn to_json(s: &pb::ClusterStatus) -> serde_json::Value {
    if !s.clustered {
        return json!({ "clustered": false });
    }
    let members: Vec<_> = s
        .members
        .iter()
        .map(|m| {
            json!({ "node_id": m.node_id, "voter": m.voter, "api_url": m.api_url,
                    "matched_index": m.matched_index, "lag": m.lag })
        })
        .collect();
    json!({ "clustered": true, "node_id": s.node_id, "role": s.role, "term": s.term,
            "leader_id": (s.leader_id != 0).then_some(s.leader_id), "applied_index": s.applied_index,
            "last_log_index": s.last_log_index, "members": members })
}

/// The status as text: the answering node, then one line per member.
pub fn describe(s: &pb::ClusterStatus) -> String {
    if !s.clustered {
        return "not a cluster: a single ledger".into();
    }
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let leader = if s.leader_id == 0 { "none known".to_string() } else { format!("node {}", s.leader_id) };
    let mut text = format!(
        "node {} ({}), term {}, leader {leader}, applied {}, last log index {}\n  id  role     matched  lag  api",
        s.node_id,
        shown(&s.role),
        s.term,
        opt(s.applied_index),
        opt(s.last_log_index)
    );
    for m in &s.members {
        text += &format!(
            "\n  {:<3} {:<8} {:>7}  {:>3}  {}",
            m.node_id,
            if m.voter { "voter" } else { "learner" },
            opt(m.matched_index),
            opt(m.lag),
            shown(&m.api_url)
        );
    }
    text
}
