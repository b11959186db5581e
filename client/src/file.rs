//! Small text files replaced atomically: the ledger's checkpoint file outside its database
//! (`data/checkpoint`, the latest signed checkpoint's note text, which outlives a restored
//! database and so lets the signer notice that the tree went back in time instead of signing a
//! fork), and the state files of a witness and a monitor.

use std::io::Write;
use std::path::Path;

/// File (in the data folder) holding the latest signed checkpoint note, exactly as served.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// The file's text, or `None` if there is no file yet.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the file with `text` so that a crash leaves either the old or the new text, both
/// durable: write a temporary file, fsync it, rename it over the file, fsync the folder.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent().ok_or_else(|| std::io::Error::other("checkpoint path has no folder"))? {
        d if d.as_os_str().is_empty() => Path::new("."),
        d => d,
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        assert_eq!(read(&p).unwrap(), None);
        write_atomic(&p, "a\n").unwrap();
        write_atomic(&p, "b\n").unwrap();
        assert_eq!(read(&p).unwrap().as_deref(), Some("b\n"));
        assert!(!p.with_extension("tmp").exists());
    }
}
