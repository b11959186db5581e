//! An engine that fails on demand, around another: reads, writes, or both, from the moment a
//! test says so. A failed write applies nothing, as a real engine's failed batch does. This is
//! how the tests show that a storage failure reaches the caller as UNAVAILABLE (never as a
//! rule's refusal or CHAIN_BROKEN), and it is the seam a deterministic simulator will use.

use super::{Engine, EngineError, ErrorKind, Op, Read, Scan};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The switches of a [`FaultyEngine`], shared with whoever flips them.
#[derive(Debug, Default)]
pub struct Faults {
    reads: AtomicBool,
    writes: AtomicBool,
}

impl Faults {
    /// Makes every read (point read, scan, snapshot) fail, or stop failing.
    pub fn fail_reads(&self, on: bool) {
        self.reads.store(on, Ordering::SeqCst);
    }

    /// Makes every write fail, or stop failing.
    pub fn fail_writes(&self, on: bool) {
        self.writes.store(on, Ordering::SeqCst);
    }

    fn check(&self, switch: &AtomicBool, what: &str) -> Result<(), EngineError> {
        if switch.load(Ordering::SeqCst) {
            return Err(EngineError::new(ErrorKind::Io, format!("injected {what} failure")));
        }
        Ok(())
    }
}

/// Another engine, failing when its [`Faults`] say so.
pub struct FaultyEngine {
    inner: Box<dyn Engine>,
    faults: Arc<Faults>,
}

impl FaultyEngine {
    /// `inner`, with no fault switched on; returns the switches too.
    pub fn new(inner: Box<dyn Engine>) -> (Self, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        (FaultyEngine { inner, faults: faults.clone() }, faults)
    }
}

/// Reads of another view, failing when the faults say so.
struct FaultyRead<'a> {
    inner: Box<dyn Read + 'a>,
    faults: Arc<Faults>,
}

fn scan<'a>(
    inner: &'a dyn Read,
    faults: &Arc<Faults>,
    cf: &'static str,
    from: &[u8],
    until: Option<&[u8]>,
) -> Scan<'a> {
    let faults = faults.clone();
    if let Err(e) = faults.check(&faults.reads, "read") {
        return Box::new(std::iter::once(Err(e)));
    }
    // A scan under way fails at its next step once reads fail.
    Box::new(inner.scan(cf, from, until).map(move |item| {
        faults.check(&faults.reads, "read")?;
        item
    }))
}

impl Read for FaultyRead<'_> {
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.faults.check(&self.faults.reads, "read")?;
        self.inner.get(cf, key)
    }

    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a> {
        scan(&*self.inner, &self.faults, cf, from, until)
    }
}

impl Read for FaultyEngine {
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.faults.check(&self.faults.reads, "read")?;
        self.inner.get(cf, key)
    }

    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a> {
        scan(&*self.inner, &self.faults, cf, from, until)
    }
}

impl Engine for FaultyEngine {
    fn write(&self, ops: Vec<Op>, sync: bool) -> Result<(), EngineError> {
        self.faults.check(&self.faults.writes, "write")?;
        self.inner.write(ops, sync)
    }

    fn snapshot(&self) -> Result<Box<dyn Read + '_>, EngineError> {
        self.faults.check(&self.faults.reads, "read")?;
        Ok(Box::new(FaultyRead { inner: self.inner.snapshot()?, faults: self.faults.clone() }))
    }

    fn flush(&self) -> Result<(), EngineError> {
        self.faults.check(&self.faults.writes, "write")?;
        self.inner.flush()
    }

    fn backup(&self, to: &Path) -> Result<(), EngineError> {
        self.faults.check(&self.faults.reads, "read")?;
        self.inner.backup(to)
    }

    fn wal_syncs(&self) -> Option<u64> {
        self.inner.wal_syncs()
    }
}
