//! The file-descriptor budget: the process's open-file limit, raised to its hard limit, less a
//! reserve for what must never be starved of descriptors (RocksDB's files, the WAL, the
//! checkpoint file, witness connections, logs). Client connections get what is left.

/// Files RocksDB may keep open (its `max_open_files`).
pub const ROCKSDB_MAX_OPEN_FILES: i32 = 512;
/// Descriptors kept for everything else the ledger opens: the WAL and manifest, the checkpoint
/// file and its temporary copy, witness connections, the listener, logs.
pub const OTHER_RESERVE: u64 = 128;

/// The most client connections the open-file limit allows after the reserve, having raised the
/// soft limit to the hard one; `None` when not even a handful would fit.
pub fn fd_budget() -> Option<usize> {
    let limit = raise_nofile();
    let reserve = ROCKSDB_MAX_OPEN_FILES as u64 + OTHER_RESERVE;
    limit.checked_sub(reserve).filter(|n| *n >= 16).map(|n| n as usize)
}

/// Raises the soft open-file limit to the hard limit; returns the soft limit in force.
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    lim.rlim_cur
}
