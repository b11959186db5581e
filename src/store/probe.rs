//! This machine's disk limit for the ledger's commits, measured the way the writer commits: synced
//! RocksDB write batches in a scratch database (`ebld probe-disk`, read by `ebl bench`).

use super::engine::rocks::RocksEngine;
use super::engine::{Engine, EngineError, Op};
use std::path::Path;
use std::time::{Duration, Instant};

/// Synced write batches a second, for two batch shapes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct DiskProbe {
    /// Batches of one 100-byte value.
    pub small_batches_per_s: f64,
    /// Batches of 64 records' worth of writes (1,024 values of 100 bytes, about 130 KB).
    pub group_batches_per_s: f64,
}

/// Measures synced batches in a new database at `dir` (which must not exist; it is removed
/// afterwards), for about `seconds` in all.
pub fn probe(dir: &Path, seconds: f64) -> Result<DiskProbe, EngineError> {
    let engine = RocksEngine::open(dir, &["probe"], 64)?;
    let half = Duration::from_secs_f64(seconds / 2.0);
    let mut key = 0u64;
    let mut rate = |values: usize| -> Result<f64, EngineError> {
        let (start, mut n) = (Instant::now(), 0u64);
        while start.elapsed() < half {
            let ops = (0..values)
                .map(|_| {
                    key += 1;
                    Op::Put { cf: "probe", key: key.to_be_bytes().to_vec(), value: vec![0x5a; 100] }
                })
                .collect();
            engine.write(ops, true)?;
            n += 1;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    };
    let small = rate(1)?;
    let group = rate(1024)?;
    drop(engine);
    let _ = std::fs::remove_dir_all(dir);
    Ok(DiskProbe { small_batches_per_s: small, group_batches_per_s: group })
}
