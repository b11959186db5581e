//! The witness's durable state: per log origin, the checkpoint it last cosigned, one file per
//! origin in the state folder, named by the SHA-256 of the origin (hex) and holding the
//! checkpoint's body (`<origin>\n<size>\n<base64 root>\n`). Each update replaces its file
//! atomically and durably (temporary file, fsync, rename, fsync of the folder) before the
//! witness answers, so a crash or restart never forgets a size it cosigned.

use crate::file::{read, write_atomic};
use ebl_core::log::witness::Cosigned;
use ebl_core::log::Checkpoint;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why the state cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file could not be read or written.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        err: std::io::Error,
    },
    /// A state file does not hold a checkpoint of its origin.
    #[error("{path}: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// What the witness cosigned, per origin, and where it keeps it.
#[derive(Debug)]
pub struct State {
    dir: PathBuf,
    latest: HashMap<String, Cosigned>,
}

impl State {
    /// Reads the state of `origins` from `dir` (created if missing); an origin without a file was
    /// never cosigned.
    pub fn open<'a>(dir: &Path, origins: impl IntoIterator<Item = &'a str>) -> Result<Self, StateError> {
        std::fs::create_dir_all(dir).map_err(|err| StateError::Io { path: dir.to_path_buf(), err })?;
        let mut latest = HashMap::new();
        for origin in origins {
            let path = file_of(dir, origin);
            let Some(text) = read(&path).map_err(|err| StateError::Io { path: path.clone(), err })? else {
                continue;
            };
            let corrupt = |why: String| StateError::Corrupt { path: path.clone(), why };
            let cp = Checkpoint::parse(&text).map_err(|e| corrupt(e.to_string()))?;
            if cp.origin() != origin {
                return Err(corrupt(format!("holds origin {:?}, not {origin:?}", cp.origin())));
            }
            latest.insert(origin.to_string(), Cosigned { size: cp.size(), root: cp.root() });
        }
        Ok(State { dir: dir.to_path_buf(), latest })
    }

    /// What was last cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Option<Cosigned> {
        self.latest.get(origin).copied()
    }

    /// Records `checkpoint` as the latest cosigned for its origin: on disk, durably, then here.
    /// Blocking: call it off the async runtime.
    pub fn record(&mut self, checkpoint: &Checkpoint) -> Result<(), StateError> {
        let path = file_of(&self.dir, checkpoint.origin());
        write_atomic(&path, &checkpoint.body()).map_err(|err| StateError::Io { path, err })?;
        let c = Cosigned { size: checkpoint.size(), root: checkpoint.root() };
        self.latest.insert(checkpoint.origin().to_string(), c);
        Ok(())
    }
}

/// The state file of `origin`: origins are URLs with `/`, so the file is named by their hash.
pub fn file_of(dir: &Path, origin: &str) -> PathBuf {
    dir.join(hex::encode(Sha256::digest(origin.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebl_core::hash::Hash32;

    #[test]
    fn records_survive_reopening_and_corruption_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State::open(dir.path(), ["a.example/log"]).unwrap();
        assert_eq!(s.latest("a.example/log"), None);
        let cp = Checkpoint::new("a.example/log", 7, Hash32([3; 32])).unwrap();
        s.record(&cp).unwrap();
        let s = State::open(dir.path(), ["a.example/log", "b.example/log"]).unwrap();
        assert_eq!(s.latest("a.example/log"), Some(Cosigned { size: 7, root: Hash32([3; 32]) }));
        assert_eq!(s.latest("b.example/log"), None);
        std::fs::write(file_of(dir.path(), "b.example/log"), cp.body()).unwrap();
        assert!(matches!(State::open(dir.path(), ["b.example/log"]), Err(StateError::Corrupt { .. })));
    }
}
