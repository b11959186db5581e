//! Replication on openraft (docs/replication.md): the ledger's commands are the Raft log's
//! entries and the ledger's database is the state machine.
//!
//! - [`log`]: the Raft log and vote, in a RocksDB of their own (`<data>/raft`), never in the
//!   ledger's database, its snapshots or its backups;
//! - [`machine`]: the state machine: every committed entry goes through the writer's one
//!   deterministic apply ([`crate::writer::apply_command`]), its log id written in the same batch
//!   as its effects; snapshots are the ledger's column families, streamed from a file
//!   ([`snapshot`]).
//!
//! A node without cluster configuration never starts Raft: it is the single-process ledger, with
//! the same commands and the same apply.

// Storage results carry openraft's own error type, large as it is.
#![allow(clippy::result_large_err)]

pub mod log;
pub mod machine;
pub mod network;
pub mod node;
pub mod peer;
pub mod snapshot;
pub mod start;

/// The peer protocol's messages and service (`proto/ebl/cluster/v1/peer.proto`).
#[allow(missing_docs, clippy::all)]
pub mod pb {
    tonic::include_proto!("ebl.cluster.v1");
}

use crate::error::LedgerError;
use crate::writer::Answer;
use serde::{Deserialize, Serialize};

openraft::declare_raft_types!(
    /// The ledger's Raft types.
    pub TypeConfig:
        D = Proposal,
        R = Outcome,
        NodeId = u64,
        Node = Member,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A node's id in the cluster.
pub type NodeId = u64;
/// The Raft of the ledger.
pub type Raft = openraft::Raft<TypeConfig>;
/// A storage failure as openraft takes it.
pub type StorageError = openraft::StorageError<NodeId>;
/// A Raft log id.
pub type LogId = openraft::LogId<NodeId>;

/// A cluster member's addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its peer listener, `https://HOST:PORT` (or `http://` on loopback): Raft traffic only.
    pub peer: String,
    /// Its client API, as clients reach it (`ebl --server`).
    pub api: String,
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peer {} api {}", self.peer, self.api)
    }
}

/// What a log entry of the application carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Proposal {
    /// A command in its byte format ([`crate::writer::command`]): a group of records stamped by
    /// the leader that proposed it.
    Command(#[serde(with = "base64_bytes")] Vec<u8>),
    /// A checkpoint note signed with the log key by the leader, for a size it had applied.
    Checkpoint(String),
}

/// What applying an entry answered, on the node that applied it. Only the proposing leader
/// reads it (to answer its clients), so it never travels: it serialises as nothing.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each record's answer, for a command.
    pub answers: Vec<Result<Answer, LedgerError>>,
    /// The tree's size after the entry, if it added records.
    pub grown: Option<u64>,
    /// For a command, the time its leader stamped on it.
    pub stamped: Option<ebl_core::time::Timestamp>,
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <()>::deserialize(d)?;
        Ok(Outcome::default())
    }
}

/// Bytes as base64 text in JSON (commands are most of the Raft traffic).
mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <&str>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// A storage failure of `what` as openraft takes it.
fn io_error(what: impl std::fmt::Display) -> openraft::AnyError {
    openraft::AnyError::error(what.to_string())
}
