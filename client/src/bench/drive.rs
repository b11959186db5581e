//! Driving a phase's chains into the server: through SubmitBatch from K clients, through
//! SubmitStream from K clients, through unary
//! Submit with N calls in flight (closed loop: the peak), or through unary Submit at a fixed
//! arrival rate (open loop: latency at a given load, each call timed from when it was due, so a
//! slow server cannot hide its queue).
//!
//! A bill's records are always sent one after the other (a record extends the head its
//! predecessor made); different bills go in parallel.

use super::corpus::{Expect, Item};
use super::progress::Progress;
use crate::pb::{self, ledger_client::LedgerClient};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// What a phase's records got.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Records accepted (durable when answered).
    pub accepted: u64,
    /// Bad records refused, as they must be.
    pub refused: u64,
    /// Records whose answer was not the expected one, with the first few reasons.
    pub unexpected: u64,
    /// The first unexpected answers.
    pub examples: Vec<String>,
    /// Each call's latency (a batch call's for all its records).
    pub latencies: Vec<Duration>,
    /// From the first call to the last answer.
    pub elapsed: Duration,
}

impl Outcome {
    fn merge(&mut self, o: Outcome) {
        self.accepted += o.accepted;
        self.refused += o.refused;
        self.unexpected += o.unexpected;
        for e in o.examples {
            if self.examples.len() < 5 {
                self.examples.push(e);
            }
        }
        self.latencies.extend(o.latencies);
    }

    fn judge(&mut self, expect: Expect, got: Result<(), String>) {
        match (expect, got) {
            (Expect::Accepted, Ok(())) => self.accepted += 1,
            (Expect::Refused, Err(_)) => self.refused += 1,
            (e, g) => {
                self.unexpected += 1;
                if self.examples.len() < 5 {
                    self.examples.push(format!("expected {e:?}, got {g:?}"));
                }
            }
        }
    }
}

/// The records of `bills` in round-major order: every bill's first record, then every bill's
/// second, so that consecutive records are of different bills.
fn round_major(bills: &[Vec<Item>]) -> Vec<Item> {
    let longest = bills.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(bills.iter().map(Vec::len).sum());
    for r in 0..longest {
        out.extend(bills.iter().filter_map(|b| b.get(r).cloned()));
    }
    out
}

/// The bills dealt to `n` workers, bill `i` to worker `i mod n`.
fn deal(bills: Vec<Vec<Item>>, n: usize) -> Vec<Vec<Vec<Item>>> {
    let mut out: Vec<Vec<Vec<Item>>> = (0..n).map(|_| Vec::new()).collect();
    for (i, b) in bills.into_iter().enumerate() {
        out[i % n].push(b);
    }
    out
}

/// Sends the bills through SubmitBatch, `clients` connections at once, `batch` records a call.
pub async fn batches(
    channels: &[Channel],
    bills: Vec<Vec<Item>>,
    clients: usize,
    batch: usize,
    progress: Progress,
) -> Outcome {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (k, share) in deal(bills, clients).into_iter().enumerate() {
        let mut grpc = LedgerClient::new(channels[k % channels.len()].clone()).max_decoding_message_size(64 << 20);
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            for chunk in round_major(&share).chunks(batch.max(1)) {
                let records = chunk.iter().map(|i| i.rec.clone()).collect();
                let t = Instant::now();
                let answer = grpc.submit_batch(pb::SubmitBatchRequest { records }).await;
                out.latencies.push(t.elapsed());
                match answer {
                    Ok(r) => {
                        for (item, res) in chunk.iter().zip(r.into_inner().results) {
                            out.judge(item.expect, got(res));
                        }
                    }
                    Err(s) => {
                        for item in chunk {
                            out.judge(item.expect, Err(format!("the call failed: {s}")));
                        }
                    }
                }
                progress.add(chunk.len());
            }
            out
        }));
    }
    gather(tasks, start).await
}

/// Sends the bills through SubmitStream, one stream on each of `clients` connections, each
/// client's bills in round-major order, at most `window` records awaiting their results (as a
/// client that keeps its own queue short would; the server takes at most 512 a stream). A
/// record's latency runs from when it was sent to its result.
pub async fn streams(
    channels: &[Channel],
    bills: Vec<Vec<Item>>,
    clients: usize,
    window: usize,
    progress: Progress,
) -> Outcome {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (k, share) in deal(bills, clients).into_iter().enumerate() {
        let mut grpc = LedgerClient::new(channels[k % channels.len()].clone());
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let items = round_major(&share);
            let sent = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
            let places = Arc::new(tokio::sync::Semaphore::new(window.max(1)));
            let (taken, free) = (sent.clone(), places.clone());
            let outbound = futures::stream::iter(items.clone()).then(move |i| {
                let (taken, free) = (taken.clone(), free.clone());
                async move {
                    free.acquire().await.expect("never closed").forget();
                    taken.lock().expect("sent lock poisoned").push_back(Instant::now());
                    i.rec
                }
            });
            let mut out = Outcome::default();
            let mut answered = 0;
            let mut cut = None;
            match grpc.submit_stream(outbound).await {
                Ok(r) => {
                    let mut results = r.into_inner();
                    loop {
                        match results.message().await {
                            Ok(Some(res)) if answered < items.len() => {
                                if let Some(t) = sent.lock().expect("sent lock poisoned").pop_front() {
                                    out.latencies.push(t.elapsed());
                                }
                                out.judge(items[answered].expect, got(res));
                                answered += 1;
                                places.add_permits(1);
                                progress.add(1);
                            }
                            Ok(Some(_)) => {
                                cut = Some("more results than records".to_string());
                                break;
                            }
                            Ok(None) => break,
                            Err(s) => {
                                cut = Some(format!("the stream ended: {}", reason(&s)));
                                break;
                            }
                        }
                    }
                }
                Err(s) => cut = Some(format!("the call failed: {}", reason(&s))),
            }
            let why = cut.unwrap_or_else(|| "no result".into());
            for item in &items[answered.min(items.len())..] {
                out.judge(item.expect, Err(why.clone()));
            }
            out
        }));
    }
    gather(tasks, start).await
}

/// A batch or stream result as the bench judges it: accepted, or the refusal's reason.
fn got(res: pb::SubmitResult) -> Result<(), String> {
    match res.outcome {
        Some(pb::submit_result::Outcome::Receipt(_)) => Ok(()),
        Some(pb::submit_result::Outcome::Error(e)) => Err(e.reason),
        None => Err("no outcome".into()),
    }
}

/// Sends the bills through unary Submit, `in_flight` calls at once, each worker's bills in turn.
pub async fn unary(channels: &[Channel], bills: Vec<Vec<Item>>, in_flight: usize, progress: Progress) -> Outcome {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (k, share) in deal(bills, in_flight).into_iter().enumerate() {
        let grpc = LedgerClient::new(channels[k % channels.len()].clone());
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            let mut grpc = grpc;
            for item in round_major(&share) {
                let t = Instant::now();
                let got = grpc.submit(item.rec.clone()).await.map(|_| ()).map_err(|s| reason(&s));
                out.latencies.push(t.elapsed());
                out.judge(item.expect, got);
                progress.add(1);
            }
            out
        }));
    }
    gather(tasks, start).await
}

/// Sends the bills through unary Submit at `rate` calls a second, as they fall due whatever the
/// answers (a bill whose previous record is unanswered waits, and its wait counts). Each call's
/// latency runs from when it was due. Each bill keeps to one connection, bill `b` to
/// `channels[b mod n]`: as many clients, each with its own connection, would (give enough
/// connections that no one carries more bills than the server's calls per connection).
pub async fn paced(channels: &[Channel], bills: Vec<Vec<Item>>, rate: f64, progress: Progress) -> Outcome {
    let start = Instant::now();
    let total: usize = bills.iter().map(Vec::len).sum();
    let bills: Arc<Vec<Vec<Item>>> = Arc::new(bills);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
    for b in 0..bills.len() {
        ready_tx.send((b, 0)).expect("receiver held");
    }
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let Some((b, r)) = ready_rx.recv().await else { break };
        let mut grpc = LedgerClient::new(channels[b % channels.len()].clone());
        let (bills, ready_tx, done_tx, progress) = (bills.clone(), ready_tx.clone(), done_tx.clone(), progress.clone());
        tokio::spawn(async move {
            let item = &bills[b][r];
            let got = grpc.submit(item.rec.clone()).await.map(|_| ()).map_err(|s| reason(&s));
            let mut out = Outcome { latencies: vec![due.elapsed()], ..Default::default() };
            out.judge(item.expect, got);
            if r + 1 < bills[b].len() {
                let _ = ready_tx.send((b, r + 1));
            }
            progress.add(1);
            let _ = done_tx.send(out);
        });
    }
    drop(done_tx);
    let mut out = Outcome::default();
    while let Some(o) = done_rx.recv().await {
        out.merge(o);
    }
    out.elapsed = start.elapsed();
    out
}

async fn gather(tasks: Vec<tokio::task::JoinHandle<Outcome>>, start: Instant) -> Outcome {
    let mut out = Outcome::default();
    for t in tasks {
        out.merge(t.await.expect("a driver task"));
    }
    out.elapsed = start.elapsed();
    out
}

/// A refusal's machine-readable reason (or its code when it has none).
fn reason(s: &tonic::Status) -> String {
    match tonic_types::StatusExt::get_details_error_info(s) {
        Some(info) => info.reason,
        None => format!("{:?}: {}", s.code(), s.message()),
    }
}
