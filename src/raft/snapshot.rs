//! Snapshots: images of the ledger's column families ([`crate::store::image`]), never the Raft
//! log or vote, kept as files in `<data>/raft-snapshots`: `<id>.image` and its metadata
//! `<id>.meta` (JSON), only the latest. openraft streams one to a lagging node in chunks read from
//! the file, and the receiving node writes the chunks to a file of its own, checks the whole image
//! and only then puts it in place of its database.

use super::{io_error, LogId, Member, NodeId, StorageError, TypeConfig};
use crate::store::image;
use crate::store::keys::Meta;
use crate::store::{Batch, Store};
use openraft::{RaftSnapshotBuilder, Snapshot, SnapshotMeta, StorageIOError, StoredMembership};
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The snapshot files of one node.
#[derive(Clone)]
pub struct Snapshots {
    store: Arc<Store>,
    dir: PathBuf,
    receiving: Arc<Mutex<Option<PathBuf>>>,
}

type Meta_ = SnapshotMeta<NodeId, Member>;

fn write_err(e: impl std::fmt::Display) -> StorageError {
    StorageIOError::write_snapshot(None, io_error(e)).into()
}

fn read_err(e: impl std::fmt::Display) -> StorageError {
    StorageIOError::read_snapshot(None, io_error(e)).into()
}

/// A name no other file of this process takes.
fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{t}-{n}")
}

impl Snapshots {
    /// The snapshots of `store`, in folder `dir` (created if needed).
    pub fn new(store: Arc<Store>, dir: PathBuf) -> Result<Self, std::io::Error> {
        std::fs::create_dir_all(&dir)?;
        // Files left by a build or a transfer that did not finish.
        for item in std::fs::read_dir(&dir)? {
            let path = item?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("building-") || name.starts_with("incoming-") {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Snapshots { store, dir, receiving: Arc::default() })
    }

    fn image_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.image"))
    }

    fn meta_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.meta"))
    }

    /// Keeps `image` as the snapshot described by `meta`, removing every older one.
    fn keep(&self, image: &Path, meta: &Meta_) -> Result<(), StorageError> {
        let id = &meta.snapshot_id;
        std::fs::rename(image, self.image_path(id)).map_err(write_err)?;
        let text = serde_json::to_vec(meta).map_err(write_err)?;
        crate::checkpoint::file::write_atomic(&self.meta_path(id), std::str::from_utf8(&text).map_err(write_err)?)
            .map_err(write_err)?;
        for item in std::fs::read_dir(&self.dir).map_err(write_err)? {
            let path = item.map_err(write_err)?.path();
            let stem = path.file_stem().and_then(|n| n.to_str()).unwrap_or_default();
            let ext = path.extension().and_then(|n| n.to_str()).unwrap_or_default();
            if stem != id.as_str() && (ext == "image" || ext == "meta") {
                std::fs::remove_file(&path).map_err(write_err)?;
            }
        }
        Ok(())
    }

    /// The latest snapshot, if there is one.
    pub async fn current(&self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let this = self.clone();
        let found = tokio::task::spawn_blocking(move || -> Result<Option<Meta_>, StorageError> {
            let mut latest: Option<Meta_> = None;
            for item in std::fs::read_dir(&this.dir).map_err(read_err)? {
                let path = item.map_err(read_err)?.path();
                if path.extension().and_then(|e| e.to_str()) != Some("meta") {
                    continue;
                }
                let meta: Meta_ = serde_json::from_slice(&std::fs::read(&path).map_err(read_err)?).map_err(read_err)?;
                if latest.as_ref().is_none_or(|l| l.last_log_id < meta.last_log_id) {
                    latest = Some(meta);
                }
            }
            Ok(latest)
        })
        .await
        .map_err(read_err)??;
        let Some(meta) = found else { return Ok(None) };
        let file = tokio::fs::File::open(self.image_path(&meta.snapshot_id)).await.map_err(read_err)?;
        Ok(Some(Snapshot { meta, snapshot: Box::new(file) }))
    }

    /// A new file to receive a snapshot's chunks into.
    pub async fn receive(&self) -> Result<tokio::fs::File, StorageError> {
        let path = self.dir.join(format!("incoming-{}", unique()));
        let file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(write_err)?;
        let old = self.receiving.lock().expect("snapshot lock poisoned").replace(path);
        if let Some(old) = old {
            let _ = std::fs::remove_file(old);
        }
        Ok(file)
    }

    /// Checks the received image whole, puts it in place of the database, and keeps it as the
    /// latest snapshot.
    pub async fn install(&self, meta: &Meta_, file: tokio::fs::File) -> Result<(), StorageError> {
        let path = self.receiving.lock().expect("snapshot lock poisoned").take();
        let mut file = file.into_std().await;
        let this = self.clone();
        let meta = meta.clone();
        tokio::task::spawn_blocking(move || {
            file.sync_all().map_err(write_err)?;
            file.rewind().map_err(read_err)?;
            image::check(BufReader::new(&file)).map_err(read_err)?;
            file.rewind().map_err(read_err)?;
            this.store.replace_with_image(BufReader::new(&file)).map_err(write_err)?;
            let mut b = Batch::new();
            b.meta(Meta::RaftApplied, &serde_json::to_vec(&meta.last_log_id).map_err(write_err)?);
            b.meta(Meta::RaftMembership, &serde_json::to_vec(&meta.last_membership).map_err(write_err)?);
            this.store.commit(b).map_err(write_err)?;
            tracing::info!(snapshot = %meta.snapshot_id, "snapshot installed");
            match path {
                Some(path) => this.keep(&path, &meta),
                None => Ok(()),
            }
        })
        .await
        .map_err(write_err)?
    }

    /// Writes an image of the database as it is now and keeps it as the latest snapshot.
    fn build(&self) -> Result<Meta_, StorageError> {
        let path = self.dir.join(format!("building-{}", unique()));
        let file = std::fs::File::create(&path).map_err(write_err)?;
        let seen = self.store.write_image(&file, &[Meta::RaftApplied, Meta::RaftMembership]).map_err(write_err)?;
        file.sync_all().map_err(write_err)?;
        let parse = |v: &Option<Vec<u8>>| -> Result<Option<serde_json::Value>, StorageError> {
            v.as_deref().map(serde_json::from_slice).transpose().map_err(read_err)
        };
        let last_log_id: Option<LogId> = parse(&seen[0])?.map(serde_json::from_value).transpose().map_err(read_err)?;
        let last_membership: StoredMembership<NodeId, Member> =
            parse(&seen[1])?.map(serde_json::from_value).transpose().map_err(read_err)?.unwrap_or_default();
        let at = last_log_id.map(|l| format!("{}-{}", l.leader_id.term, l.index)).unwrap_or_else(|| "0-0".into());
        let meta = Meta_ { last_log_id, last_membership, snapshot_id: format!("{at}-{}", unique()) };
        self.keep(&path, &meta)?;
        Ok(meta)
    }
}

impl RaftSnapshotBuilder<TypeConfig> for Snapshots {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let this = self.clone();
        let meta = tokio::task::spawn_blocking(move || this.build()).await.map_err(write_err)??;
        tracing::info!(snapshot = %meta.snapshot_id, "snapshot built");
        let file = tokio::fs::File::open(self.image_path(&meta.snapshot_id)).await.map_err(read_err)?;
        Ok(Snapshot { meta, snapshot: Box::new(file) })
    }
}
