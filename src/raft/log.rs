//! The Raft log and vote, on a key-value engine of their own (RocksDB in `<data>/raft`, memory in
//! tests): column family `raft_log` holds each entry under its index (u64 BE) as JSON, and
//! `raft_state` the vote, the last committed id, the last purged id and the last entry's id, each
//! written in the same atomic batch as the change it describes. Appends and votes are synced
//! before openraft is told they are done; every engine call runs on the blocking pool.

use super::{io_error, LogId, NodeId, StorageError, TypeConfig};
use crate::store::engine::{Engine, Op};
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{Entry, LogState, RaftLogId, RaftLogReader, StorageIOError, Vote};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

/// The log's entries by index.
pub const CF_LOG: &str = "raft_log";
/// The vote and the log's bounds.
pub const CF_STATE: &str = "raft_state";
/// The column families of the Raft log's engine.
pub const LOG_CFS: [&str; 2] = [CF_LOG, CF_STATE];

const VOTE: &[u8] = b"vote";
const COMMITTED: &[u8] = b"committed";
const PURGED: &[u8] = b"purged";
const LAST: &[u8] = b"last";
const NODE_ID: &[u8] = b"node_id";
const ADMITTED: &[u8] = b"admitted";

/// The Raft log of one node (cheap to clone: readers share the engine).
#[derive(Clone)]
pub struct LogStore {
    engine: Arc<dyn Engine>,
}

impl LogStore {
    /// The log on `engine`, which must have the column families of [`LOG_CFS`].
    pub fn on(engine: Arc<dyn Engine>) -> Self {
        LogStore { engine }
    }

    /// Opens (creating if needed) the log's RocksDB at `path`.
    pub fn open(path: &Path) -> Result<Self, crate::store::StoreError> {
        let engine = crate::store::engine::rocks::RocksEngine::open(path, &LOG_CFS, 64)?;
        Ok(LogStore::on(Arc::new(engine)))
    }

    /// A log in memory (tests).
    pub fn memory() -> Self {
        LogStore::on(Arc::new(crate::store::engine::memory::MemoryEngine::new(&LOG_CFS)))
    }

    /// Records that this log is node `id`'s, or refuses if it is another node's: a node id is
    /// never reused with another log (a wiped node rejoins under a new id).
    pub fn claim_node_id(&self, id: super::NodeId) -> Result<(), String> {
        let found = self.engine.get(CF_STATE, NODE_ID).map_err(|e| e.to_string())?;
        match found {
            Some(v) if v != id.to_be_bytes() => {
                let other = <[u8; 8]>::try_from(v.as_slice()).map(u64::from_be_bytes).unwrap_or_default();
                Err(format!("this Raft log is node {other}'s, not node {id}'s: a node keeps its id for life"))
            }
            Some(_) => Ok(()),
            None => self
                .engine
                .write(vec![Op::Put { cf: CF_STATE, key: NODE_ID.to_vec(), value: id.to_be_bytes().to_vec() }], true)
                .map_err(|e| e.to_string()),
        }
    }

    /// Whether this node was admitted to a cluster (it initialised one, or a leader admitted it
    /// before adding it): until then it takes no Raft traffic.
    pub fn admitted(&self) -> Result<bool, String> {
        Ok(self.engine.get(CF_STATE, ADMITTED).map_err(|e| e.to_string())?.is_some())
    }

    /// Records, durably, that this node was admitted.
    pub fn admit(&self) -> Result<(), String> {
        let op = Op::Put { cf: CF_STATE, key: ADMITTED.to_vec(), value: vec![1] };
        self.engine.write(vec![op], true).map_err(|e| e.to_string())
    }

    /// Runs `f` on the blocking pool with the engine.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Engine) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || f(engine.as_ref()))
            .await
            .map_err(|e| StorageIOError::read_logs(io_error(e)))?
    }
}

fn key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("raft types serialise")
}

fn state<T: serde::de::DeserializeOwned>(engine: &dyn Engine, k: &[u8]) -> Result<Option<T>, StorageError> {
    let Some(v) = engine.get(CF_STATE, k).map_err(|e| StorageIOError::read_logs(io_error(e)))? else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_slice(&v).map_err(|e| StorageIOError::read_logs(io_error(e)))?))
}

fn put_state<T: serde::Serialize>(k: &[u8], v: &T) -> Op {
    Op::Put { cf: CF_STATE, key: k.to_vec(), value: json(v) }
}

/// The entries with indexes in `range`, in order.
fn entries(engine: &dyn Engine, range: impl RangeBounds<u64>) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
    let from = match range.start_bound() {
        Bound::Included(i) => *i,
        Bound::Excluded(i) => i.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let until = match range.end_bound() {
        Bound::Included(i) => i.checked_add(1),
        Bound::Excluded(i) => Some(*i),
        Bound::Unbounded => None,
    };
    if until.is_some_and(|u| u <= from) {
        return Ok(Vec::new());
    }
    let until = until.map(key);
    let mut out = Vec::new();
    for item in engine.scan(CF_LOG, &key(from), until.as_ref().map(|u| &u[..])) {
        let (_, v) = item.map_err(|e| StorageIOError::read_logs(io_error(e)))?;
        out.push(serde_json::from_slice(&v).map_err(|e| StorageIOError::read_logs(io_error(e)))?);
    }
    Ok(out)
}

/// Deletes every entry from index `from` (inclusive) to `until` (exclusive, or the end).
fn delete_entries(engine: &dyn Engine, from: u64, until: Option<u64>, ops: &mut Vec<Op>) -> Result<(), StorageError> {
    let until = until.map(key);
    for item in engine.scan(CF_LOG, &key(from), until.as_ref().map(|u| &u[..])) {
        let (k, _) = item.map_err(|e| StorageIOError::write_logs(io_error(e)))?;
        ops.push(Op::Delete { cf: CF_LOG, key: k.into_vec() });
    }
    Ok(())
}

fn write(engine: &dyn Engine, ops: Vec<Op>) -> Result<(), StorageError> {
    engine.write(ops, true).map_err(|e| StorageIOError::write_logs(io_error(e)).into())
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
        let bounds = (range.start_bound().cloned(), range.end_bound().cloned());
        self.blocking(move |e| entries(e, bounds)).await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        self.blocking(|e| {
            let purged: Option<LogId> = state(e, PURGED)?;
            let last: Option<LogId> = state(e, LAST)?;
            Ok(LogState { last_purged_log_id: purged, last_log_id: last.max(purged) })
        })
        .await
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        let op = put_state(VOTE, vote);
        self.blocking(move |e| e.write(vec![op], true).map_err(|e| StorageIOError::write_vote(io_error(e)).into()))
            .await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.blocking(|e| state(e, VOTE)).await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let op = put_state(COMMITTED, &committed);
        self.blocking(move |e| write(e, vec![op])).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        self.blocking(|e| Ok(state::<Option<LogId>>(e, COMMITTED)?.flatten())).await
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut ops = Vec::new();
        let mut last = None;
        for entry in entries {
            last = Some(*entry.get_log_id());
            ops.push(Op::Put { cf: CF_LOG, key: key(entry.get_log_id().index).to_vec(), value: json(&entry) });
        }
        let Some(last) = last else {
            callback.log_io_completed(Ok(()));
            return Ok(());
        };
        ops.push(put_state(LAST, &last));
        let result = self.blocking(move |e| write(e, ops)).await;
        callback.log_io_completed(result.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())));
        result
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.blocking(move |e| {
            let mut ops = Vec::new();
            delete_entries(e, log_id.index, None, &mut ops)?;
            // The last entry is now the one before the first removed, or the last purged.
            let before = match log_id.index.checked_sub(1) {
                Some(i) => entries(e, i..=i)?.first().map(|en| *en.get_log_id()),
                None => None,
            };
            let purged: Option<LogId> = state(e, PURGED)?;
            ops.push(match before.max(purged) {
                Some(last) => put_state(LAST, &last),
                None => Op::Delete { cf: CF_STATE, key: LAST.to_vec() },
            });
            write(e, ops)
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.blocking(move |e| {
            let mut ops = Vec::new();
            delete_entries(e, 0, log_id.index.checked_add(1), &mut ops)?;
            ops.push(put_state(PURGED, &log_id));
            let last: Option<LogId> = state(e, LAST)?;
            if last < Some(log_id) {
                ops.push(put_state(LAST, &log_id));
            }
            write(e, ops)
        })
        .await
    }
}
