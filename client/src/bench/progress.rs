//! Progress of a long phase on standard error: records done, of how many, and the rate so far,
//! every two seconds while the phase runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A shared count of records done in the current phase.
#[derive(Clone)]
pub struct Progress {
    done: Arc<AtomicUsize>,
}

impl Progress {
    /// Counts `n` more records done.
    pub fn add(&self, n: usize) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Starts reporting phase `name` of `total` records (quiet if `quiet`); the report stops when
    /// the returned guard is dropped.
    pub fn start(name: &str, total: usize, quiet: bool) -> (Progress, Reporter) {
        let done = Arc::new(AtomicUsize::new(0));
        let progress = Progress { done: done.clone() };
        let name = name.to_string();
        let task = (!quiet).then(|| {
            tokio::spawn(async move {
                let start = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    let n = done.load(Ordering::Relaxed);
                    let rate = n as f64 / start.elapsed().as_secs_f64();
                    eprintln!("  {name}: {n}/{total} records, {rate:.0}/s");
                }
            })
        });
        (progress, Reporter(task))
    }
}

/// Stops a phase's report when dropped.
pub struct Reporter(Option<tokio::task::JoinHandle<()>>);

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }
}
