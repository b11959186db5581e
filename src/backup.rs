//! Backups that never fork the log and never lose an acknowledged record silently.
//!
//! `backup` writes a consistent copy of the database as of now (a RocksDB checkpoint, taken
//! while the ledger serves) with the ledger's key and its latest checkpoint, into a new folder.
//! `restore` puts a backup's database into a data folder, keeping the database it replaces
//! aside and the data folder's checkpoint file as it is (it records what the log published,
//! which the backup may predate). If the backup is older than what the log published, the
//! ledger then starts halted (nothing written, signed or proved) until `ebld recover` takes the
//! missing records back from a newer copy, such as the database kept aside.

use crate::checkpoint::{self, file::CHECKPOINT_FILE, SignedCheckpoint};
use crate::server::{read_secret_key, write_secret_key, StartError, DB_DIR, LEDGER_KEY_FILE};
use crate::store::keys::Meta;
use crate::store::{Store, StoreError};
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Records in the backup's database (its tree size).
    pub size: u64,
    /// The size of the latest checkpoint saved with it (0: none).
    pub checkpoint: u64,
}

/// Why a backup or a restore failed; the data folder's database was not replaced.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file or folder could not be read or written.
    #[error("{path}: {err}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The failure.
        err: std::io::Error,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger's files could not be read.
    #[error(transparent)]
    Start(#[from] StartError),
    /// What was asked contradicts what is there.
    #[error("{0}")]
    Refused(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |err| BackupError::Io { path: path.to_path_buf(), err }
}

/// Writes a backup of the ledger whose database is `store` and whose secret key is `key` into
/// `to`, a folder that must not exist yet: `to/db` (the database as of now), `to/ledger.key`
/// (mode 0600: a backup is as secret as the data folder) and `to/checkpoint` (the latest
/// checkpoint signed when the backup began, if any).
pub fn backup(
    store: &Store,
    key: &SigningKey,
    latest: Option<&SignedCheckpoint>,
    to: &Path,
) -> Result<BackupInfo, BackupError> {
    if to.exists() {
        return Err(BackupError::Refused(format!("{} already exists: a backup goes into a new folder", to.display())));
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    write_secret_key(&to.join(LEDGER_KEY_FILE), key)?;
    if let Some(cp) = latest {
        checkpoint::file::write_atomic(&to.join(CHECKPOINT_FILE), &cp.note).map_err(io(to))?;
    }
    store.backup(&to.join(DB_DIR))?;
    let size = Store::open_read_only(&to.join(DB_DIR))?.next_seq()?;
    Ok(BackupInfo { size, checkpoint: latest.map_or(0, |c| c.size()) })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Records in the restored database.
    pub size: u64,
    /// Where the database it replaced was moved (kept: it may hold records the backup lacks).
    pub kept: Option<PathBuf>,
    /// The largest checkpoint the log is known to have published, if the restored tree does not
    /// reach it: the ledger will start halted until `ebld recover`.
    pub behind: Option<u64>,
}

/// Restores the backup in `from` into `data_dir` (the ledger must not be running). A data folder
/// that holds a ledger must hold this one (same ledger key); its database is moved aside to
/// `db.replaced-<unix ms>` and its checkpoint file is kept. An empty or missing data folder gets
/// the backup's key and checkpoint too. `copy` is the checkpoint copy outside the folder, if the
/// ledger has one: it is read, never written.
pub fn restore(from: &Path, data_dir: &Path, copy: Option<&Path>) -> Result<Restored, BackupError> {
    if data_dir.join(crate::server::RAFT_DIR).exists() {
        // A member with an older database but its own Raft log and vote would rejoin as the
        // same voter and could lose committed entries.
        return Err(BackupError::Refused(format!(
            "{} is a cluster member's data folder: a member is never restored; wipe it, `ebld init` it \
             again and join it under a new node id (docs/replication.md)",
            data_dir.display()
        )));
    }
    let source = from.join(DB_DIR);
    let backup_key = read_secret_key(&from.join(LEDGER_KEY_FILE))?;
    let (size, origin) = {
        let s = Store::open_read_only(&source)?;
        s.check_schema().map_err(|e| BackupError::Refused(format!("{}: {e}", from.display())))?;
        let ledger_key = s.meta(Meta::LedgerKey)?;
        if ledger_key.as_deref() != Some(backup_key.verifying_key().as_bytes().as_slice()) {
            return Err(BackupError::Refused(format!("{}: its key is not its database's ledger key", from.display())));
        }
        let origin = s.meta(Meta::Origin)?.and_then(|o| String::from_utf8(o).ok());
        (s.next_seq()?, origin.ok_or_else(|| BackupError::Refused(format!("{}: no origin", from.display())))?)
    };
    let key_path = data_dir.join(LEDGER_KEY_FILE);
    let fresh = !key_path.exists();
    if !fresh && read_secret_key(&key_path)?.verifying_key() != backup_key.verifying_key() {
        return Err(BackupError::Refused(format!(
            "{} holds another ledger (another key): restore into an empty folder",
            data_dir.display()
        )));
    }
    // The copy is made beside the database first, so a failure leaves the data folder as it was.
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let restoring = data_dir.join(format!("{DB_DIR}.restoring"));
    if restoring.exists() {
        std::fs::remove_dir_all(&restoring).map_err(io(&restoring))?;
    }
    copy_tree(&source, &restoring)?;
    let mut kept = None;
    if !fresh {
        let db = data_dir.join(DB_DIR);
        if db.exists() {
            let millis =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
            let aside = data_dir.join(format!("{DB_DIR}.replaced-{millis}"));
            std::fs::rename(&db, &aside).map_err(io(&db))?;
            kept = Some(aside);
        }
    } else {
        write_secret_key(&key_path, &backup_key)?;
        if let Some(note) = checkpoint::file::read(&from.join(CHECKPOINT_FILE)).map_err(io(from))? {
            checkpoint::file::write_atomic(&data_dir.join(CHECKPOINT_FILE), &note).map_err(io(data_dir))?;
        }
    }
    std::fs::rename(&restoring, data_dir.join(DB_DIR)).map_err(io(&restoring))?;
    std::fs::File::open(data_dir).and_then(|d| d.sync_all()).map_err(io(data_dir))?;
    // What the log published, as far as the files outside the database say.
    let verifier = ebl_core::log::VerifierKey::from_signing_key(&origin, ebl_core::log::KeyKind::Ed25519, &backup_key)
        .map_err(|e| BackupError::Refused(format!("origin '{origin}': {e}")))?;
    let mut published = 0;
    for file in [Some(data_dir.join(CHECKPOINT_FILE)), copy.map(Path::to_path_buf)].into_iter().flatten() {
        let cp = checkpoint::read_file(&file, &verifier).map_err(|e| BackupError::Refused(e.to_string()))?;
        published = published.max(cp.map_or(0, |c| c.size()));
    }
    Ok(Restored { size, kept, behind: (published > size).then_some(published) })
}

/// Copies the folder `from` to `to` (which must not exist), file by file.
fn copy_tree(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::create_dir(to).map_err(io(to))?;
    for e in std::fs::read_dir(from).map_err(io(from))? {
        let e = e.map_err(io(from))?;
        let target = to.join(e.file_name());
        if e.file_type().map_err(io(&e.path()))?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target).map_err(io(&target))?;
            std::fs::File::open(&target).and_then(|f| f.sync_all()).map_err(io(&target))?;
        }
    }
    std::fs::File::open(to).and_then(|d| d.sync_all()).map_err(io(to))
}
