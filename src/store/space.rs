//! The disk reserve: writes are refused (UNAVAILABLE `DISK_RESERVE`) while the data folder's file
//! system has less free space than the reserve, well before RocksDB itself would fail; once space
//! returns they are taken again, with no restart. Reads go on meanwhile.

use crate::error::LedgerError;
use std::path::{Path, PathBuf};

/// Default reserve: 128 MiB.
pub const DEFAULT_DISK_RESERVE: u64 = 128 * 1024 * 1024;

/// The free space a data folder must keep.
#[derive(Debug, Clone)]
pub struct Reserve {
    path: PathBuf,
    min_free: u64,
}

impl Reserve {
    /// A reserve of `min_free` bytes on the file system holding `path`.
    pub fn new(path: &Path, min_free: u64) -> Self {
        Reserve { path: path.to_path_buf(), min_free }
    }

    /// The same file system with another reserve.
    pub fn with_min_free(self, min_free: u64) -> Self {
        Reserve { min_free, ..self }
    }

    /// Refuses when free space is under the reserve. A file system that cannot be asked does not
    /// stop writes: RocksDB's own errors still do.
    pub fn check(&self) -> Result<(), LedgerError> {
        match free_bytes(&self.path) {
            Ok(free) if free < self.min_free => Err(LedgerError::Refusing {
                reason: "DISK_RESERVE",
                why: format!(
                    "the ledger's disk has {} MiB free, under its reserve of {} MiB: writes resume once space is freed",
                    free / (1024 * 1024),
                    self.min_free / (1024 * 1024)
                ),
            }),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the data folder's free space");
                Ok(())
            }
        }
    }
}

/// Bytes available to an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "path holds a NUL byte"))?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `st` a valid out-parameter for the call's duration.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}
