//! The RocksDB engine: one column family per name, reads bounded by an upper key so that a scan
//! never reads past its range, writes as one `WriteBatch` (synced when asked), snapshots and
//! checkpoints (backups) as RocksDB makes them.

use super::{Engine, EngineError, ErrorKind, Op, Read, Scan};
use rocksdb::{ColumnFamilyDescriptor, Direction, IteratorMode, Options, ReadOptions, WriteBatch, DB};
use std::path::Path;

impl From<rocksdb::Error> for EngineError {
    fn from(e: rocksdb::Error) -> Self {
        let kind = match e.kind() {
            rocksdb::ErrorKind::Corruption => ErrorKind::Corruption,
            rocksdb::ErrorKind::IOError | rocksdb::ErrorKind::Busy | rocksdb::ErrorKind::TimedOut => ErrorKind::Io,
            _ => ErrorKind::Other,
        };
        EngineError { kind, what: format!("rocksdb: {e}") }
    }
}

/// Most bytes of write-ahead log kept before the column families holding the oldest are flushed.
pub const MAX_TOTAL_WAL_BYTES: u64 = 64 << 20;

/// A RocksDB database.
pub struct RocksEngine {
    db: DB,
    cfs: Vec<&'static str>,
    // The options the database was opened with: they hold its statistics (tickers only).
    opts: Options,
}

impl RocksEngine {
    /// Opens (creating if needed) the database at `path` with column families `cfs`, keeping at
    /// most `max_open_files` files open.
    pub fn open(path: &Path, cfs: &[&'static str], max_open_files: i32) -> Result<Self, EngineError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_open_files(max_open_files);
        // The write-ahead log is kept until every column family with data in it has flushed that
        // data. Column families written rarely (parties, keys, delegations) would keep every log
        // file alive for ever: past this total, RocksDB flushes them so the oldest file can go.
        opts.set_max_total_wal_size(MAX_TOTAL_WAL_BYTES);
        // RocksDB's own text log (LOG, LOG.old.*): a few bounded files, not one per start.
        opts.set_max_log_file_size(8 << 20);
        opts.set_keep_log_file_num(4);
        opts.enable_statistics();
        opts.set_statistics_level(rocksdb::statistics::StatsLevel::ExceptHistogramOrTimers);
        let descriptors = cfs.iter().map(|n| ColumnFamilyDescriptor::new(*n, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, descriptors)?;
        Ok(RocksEngine { db, cfs: cfs.to_vec(), opts })
    }

    /// Opens the database at `path` to read only: it must exist, and nothing in its folder is
    /// changed. Writes are refused.
    pub fn open_read_only(path: &Path, cfs: &[&'static str], max_open_files: i32) -> Result<Self, EngineError> {
        let mut opts = Options::default();
        opts.set_max_open_files(max_open_files);
        let db = DB::open_cf_for_read_only(&opts, path, cfs, false)?;
        Ok(RocksEngine { db, cfs: cfs.to_vec(), opts })
    }

    fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, EngineError> {
        self.db.cf_handle(name).ok_or_else(|| EngineError::new(ErrorKind::Other, format!("no column family {name}")))
    }
}

/// The read options of a scan that stops before `until`.
fn bounded(until: Option<&[u8]>) -> ReadOptions {
    let mut opts = ReadOptions::default();
    if let Some(u) = until {
        opts.set_iterate_upper_bound(u.to_vec());
    }
    opts
}

fn scan_of<'a, I>(items: I) -> Scan<'a>
where
    I: Iterator<Item = Result<(Box<[u8]>, Box<[u8]>), rocksdb::Error>> + 'a,
{
    Box::new(items.map(|i| i.map_err(EngineError::from)))
}

fn failed<'a>(e: EngineError) -> Scan<'a> {
    Box::new(std::iter::once(Err(e)))
}

impl Read for RocksEngine {
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self.db.get_cf(self.cf(cf)?, key)?)
    }

    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a> {
        match self.cf(cf) {
            Ok(h) => scan_of(self.db.iterator_cf_opt(h, bounded(until), IteratorMode::From(from, Direction::Forward))),
            Err(e) => failed(e),
        }
    }
}

/// A RocksDB snapshot with the column families of its database.
struct Snapshot<'a> {
    engine: &'a RocksEngine,
    snap: rocksdb::SnapshotWithThreadMode<'a, DB>,
}

impl Read for Snapshot<'_> {
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self.snap.get_cf(self.engine.cf(cf)?, key)?)
    }

    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a> {
        match self.engine.cf(cf) {
            Ok(h) => {
                scan_of(self.snap.iterator_cf_opt(h, bounded(until), IteratorMode::From(from, Direction::Forward)))
            }
            Err(e) => failed(e),
        }
    }
}

impl Engine for RocksEngine {
    fn write(&self, ops: Vec<Op>, sync: bool) -> Result<(), EngineError> {
        let mut wb = WriteBatch::default();
        for op in ops {
            match op {
                Op::Put { cf, key, value } => wb.put_cf(self.cf(cf)?, key, value),
                Op::Delete { cf, key } => wb.delete_cf(self.cf(cf)?, key),
            }
        }
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(sync);
        Ok(self.db.write_opt(wb, &wo)?)
    }

    fn snapshot(&self) -> Result<Box<dyn Read + '_>, EngineError> {
        Ok(Box::new(Snapshot { engine: self, snap: self.db.snapshot() }))
    }

    fn flush(&self) -> Result<(), EngineError> {
        for name in &self.cfs {
            self.db.flush_cf(self.cf(name)?)?;
        }
        Ok(())
    }

    fn backup(&self, to: &Path) -> Result<(), EngineError> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(to)?;
        Ok(())
    }

    fn wal_syncs(&self) -> Option<u64> {
        Some(self.opts.get_ticker_count(rocksdb::statistics::Ticker::WalFileSynced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    }

    /// A column family written once (as parties and keys are) must not keep every later log file
    /// alive: past the bound, RocksDB flushes it and removes the old files.
    #[test]
    fn the_write_ahead_log_stays_bounded_when_a_column_family_is_written_rarely() {
        let dir = tempfile::tempdir().unwrap();
        let engine = RocksEngine::open(dir.path(), &["rare", "busy"], 64).unwrap();
        let put = |cf, key: u64, len| Op::Put { cf, key: key.to_be_bytes().to_vec(), value: vec![7; len] };
        engine.write(vec![put("rare", 0, 100)], true).unwrap();
        // Four times the bound through the busy one, a MiB at a time.
        for i in 0..4 * (MAX_TOTAL_WAL_BYTES >> 20) {
            engine.write(vec![put("busy", i, 1 << 20)], false).unwrap();
        }
        let wal = wal_bytes(dir.path());
        assert!(wal < 2 * MAX_TOTAL_WAL_BYTES + (8 << 20), "{} MiB of write-ahead log kept", wal >> 20);
        drop(engine);
        // Nothing was lost: the rare value is still there.
        let engine = RocksEngine::open(dir.path(), &["rare", "busy"], 64).unwrap();
        assert_eq!(engine.get("rare", &0u64.to_be_bytes()).unwrap(), Some(vec![7; 100]));
    }
}
