//! `crash load`: writers that keep many title records in flight while the server is killed and
//! restarted under them.
//!
//! Each writer task has its own connection and runs lanes at once: single lanes move one bill
//! each through `Submit`, a batch lane moves several bills one record each through
//! `SubmitBatch`. A lane owns its bills, so a bill's head moves only by its records. Every
//! acknowledgement is one line of `acks.jsonl` before the lane goes on.
//!
//! When a call fails as a lost connection, the first such failure of an outage logs how many
//! calls were in flight at that moment (`events.jsonl`, event `lost`); lanes then wait until the
//! server answers again, re-read the heads of their bills (GetBill as the auditor) and send the
//! same signed record again. A record whose bill now has it as head was committed without its
//! answer reaching us: it must come back `duplicate` with the head's sequence number; one whose
//! bill still has the previous head was not, and must be accepted anew. Anything else is a fault.

use super::work::{acks_path, connect, events_path, Ack, Lines, World};
use super::Opts;
use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::record::record_hash;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign, Client, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::Code;

/// How long the server may stay unreachable before the load gives up.
const MAX_OUTAGE: Duration = Duration::from_secs(60);
/// How many times one record is sent before the load gives up on it.
const MAX_ATTEMPTS: u32 = 200;

/// What every lane shares.
struct Shared {
    url: String,
    origin: String,
    auditor: Identity,
    traders: Vec<Identity>,
    acks: Lines,
    events: Lines,
    started: Instant,
    deadline: Instant,
    stop_file: PathBuf,
    /// Calls (Submit or SubmitBatch) sent and not yet answered.
    calls: AtomicU64,
    /// Records in those calls.
    records: AtomicU64,
    /// The server is lost: lanes wait until the watcher sees it answer again.
    down: AtomicBool,
    stop: AtomicBool,
    outages: AtomicU64,
    min_in_flight: AtomicU64,
    acked: AtomicU64,
    duplicates: AtomicU64,
    resent: AtomicU64,
}

impl Shared {
    fn ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// A call failed as a lost connection; `calls` and `records` were in flight when it failed
    /// (itself included). The first failure of an outage logs them.
    fn lost(&self, calls: u64, records: u64, why: &Status) {
        if !self.down.swap(true, SeqCst) {
            let n = self.outages.fetch_add(1, SeqCst) + 1;
            self.min_in_flight.fetch_min(calls, SeqCst);
            self.events.write(&json!({
                "event": "lost", "outage": n, "at_ms": self.ms(), "in_flight": calls,
                "records_in_flight": records, "error": format!("{:?}: {}", why.code(), why.message()),
            }));
            eprintln!("load: server lost (outage {n}) with {calls} calls ({records} records) in flight");
        }
    }

    /// Waits while the server is lost.
    async fn wait_up(&self) -> Result<(), String> {
        let since = Instant::now();
        while self.down.load(SeqCst) {
            if since.elapsed() > MAX_OUTAGE {
                return Err(format!("the server stayed unreachable for {MAX_OUTAGE:?}"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    fn trader(&self, party: &str) -> Result<&Identity, String> {
        self.traders.iter().find(|t| t.party.as_str() == party).ok_or_else(|| format!("unknown possessor {party}"))
    }
}

type Status = tonic::Status;

/// A lost connection (the server killed, or not yet back), as opposed to an answer.
fn is_lost(s: &Status) -> bool {
    match s.code() {
        Code::Unavailable | Code::Unknown | Code::Cancelled => true,
        // hyper's "connection reset" mid-stream may surface as INTERNAL with an h2 message.
        Code::Internal => {
            let m = s.message();
            m.contains("h2 protocol error") || m.contains("connection") || m.contains("transport")
        }
        _ => false,
    }
}

/// One bill as its lane knows it: who holds it, its endorsee, the link for its next record.
struct Bill {
    id: BillId,
    possessor: String,
    endorsee: Option<String>,
    next: Link,
}

/// A record sent and not yet acknowledged, with what it does to its bill.
struct Pending {
    rec: pb::SignedRecord,
    hash: Hash32,
    action: &'static str,
    recipient: Option<String>,
}

impl Bill {
    fn from_view(id: BillId, v: &pb::BillView) -> Self {
        Bill {
            id,
            possessor: v.possessor.clone(),
            endorsee: (!v.endorsee.is_empty()).then(|| v.endorsee.clone()),
            next: Link::after(v.head_position, &v.head),
        }
    }

    /// The next record: a title action the rules allow in the bill's state, picked at random.
    fn plan(&self, sh: &Shared, rng: &mut StdRng) -> Result<Pending, String> {
        let others: Vec<&str> = sh.traders.iter().map(|t| t.party.as_str()).filter(|p| *p != self.possessor).collect();
        let other = others[rng.gen_range(0..others.len())].to_string();
        let r: f64 = rng.gen();
        let (action, recipient): (&'static str, Option<String>) = match &self.endorsee {
            // Endorsed to someone else: hand it over.
            Some(e) if *e != self.possessor => {
                if r < 0.8 {
                    ("TRANSFER", Some(e.clone()))
                } else {
                    ("SIGN", None)
                }
            }
            // Blank: passes by possession alone.
            None if r < 0.4 => ("TRANSFER", Some(other)),
            None if r < 0.7 => ("ENDORSE_TO_ORDER", Some(other)),
            // Endorsed to its possessor: endorse on, or in blank.
            Some(_) if r < 0.5 => ("ENDORSE_TO_ORDER", Some(other)),
            Some(_) if r < 0.8 => ("BLANK_ENDORSE", None),
            _ => ("SIGN", None),
        };
        let act = match action {
            "TRANSFER" => Action::Transfer(pb::Transfer {}),
            "ENDORSE_TO_ORDER" => Action::EndorseToOrder(pb::EndorseToOrder {}),
            "BLANK_ENDORSE" => Action::BlankEndorse(pb::BlankEndorse {}),
            _ => Action::Sign(pb::Sign {}),
        };
        let signer = sh.trader(&self.possessor)?;
        let p =
            payload(&sh.origin, Some(self.id), self.next, &self.possessor, recipient.as_deref(), Timestamp::now(), act);
        let rec = sign(&p, &[signer]);
        Ok(Pending { hash: record_hash(&rec.payload), rec, action, recipient })
    }

    /// The record was acknowledged: the bill moves as the rules say.
    fn advance(&mut self, p: &Pending) {
        match p.action {
            "TRANSFER" => self.possessor = p.recipient.clone().unwrap(),
            "ENDORSE_TO_ORDER" => self.endorsee = p.recipient.clone(),
            "BLANK_ENDORSE" => self.endorsee = None,
            _ => {}
        }
        self.next = Link::after(self.next.position, &p.hash.0);
    }
}

/// Reads a bill as the auditor, waiting through outages.
async fn read_bill(sh: &Shared, c: &mut Client, id: BillId) -> Result<pb::BillView, String> {
    for _ in 0..MAX_ATTEMPTS {
        sh.wait_up().await?;
        match c.bill(&sh.auditor, id).await {
            Ok(v) => return Ok(v),
            Err(s) if is_lost(&s) => {
                // Killed while this lane re-read its bills: the submits still out count.
                sh.lost(sh.calls.load(SeqCst), sh.records.load(SeqCst), &s);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(s) => return Err(format!("GetBill {id}: {s}")),
        }
    }
    Err(format!("GetBill {id}: no answer after {MAX_ATTEMPTS} attempts"))
}

/// Sends the records (one per bill of `bills`, in order) until each is acknowledged; logs every
/// acknowledgement and moves the bills on. `batch` picks SubmitBatch over Submit.
async fn deliver(
    sh: &Shared,
    c: &mut Client,
    bills: &mut [Bill],
    pending: &[Pending],
    batch: bool,
) -> Result<(), String> {
    // After a lost call: for each record, whether the ledger already holds it (and at which seq).
    let mut expect: Option<Vec<Option<u64>>> = None;
    for _ in 0..MAX_ATTEMPTS {
        sh.wait_up().await?;
        let n = pending.len() as u64;
        let calls = sh.calls.fetch_add(1, SeqCst) + 1;
        let records = sh.records.fetch_add(n, SeqCst) + n;
        let answer = if batch {
            let recs = pending.iter().map(|p| p.rec.clone()).collect();
            c.grpc.submit_batch(pb::SubmitBatchRequest { records: recs }).await.map(|r| {
                r.into_inner()
                    .results
                    .into_iter()
                    .map(|x| match x.outcome {
                        Some(pb::submit_result::Outcome::Receipt(r)) => Ok(r),
                        other => Err(format!("{other:?}")),
                    })
                    .collect::<Vec<_>>()
            })
        } else {
            c.submit(pending[0].rec.clone()).await.map(|r| vec![Ok(r)])
        };
        sh.calls.fetch_sub(1, SeqCst);
        sh.records.fetch_sub(n, SeqCst);
        let results = match answer {
            Ok(r) => r,
            Err(s) if is_lost(&s) => {
                sh.lost(calls, records, &s);
                tokio::time::sleep(Duration::from_millis(20)).await;
                // Re-read the heads once the server is back, then send the same records again.
                sh.wait_up().await?;
                let mut e = Vec::with_capacity(pending.len());
                for (b, p) in bills.iter().zip(pending) {
                    let v = read_bill(sh, c, b.id).await?;
                    if v.head == p.hash.0 && v.head_position == b.next.position {
                        e.push(Some(v.head_seq));
                    } else if b.next.prev.is_some_and(|h| h.0[..] == v.head[..])
                        && v.head_position + 1 == b.next.position
                    {
                        e.push(None);
                    } else {
                        return Err(format!(
                            "bill {}: after the crash its head is {} at {}, neither the record sent ({} at {}) nor the one before",
                            b.id,
                            hex::encode(&v.head),
                            v.head_position,
                            p.hash,
                            b.next.position
                        ));
                    }
                }
                expect = Some(e);
                sh.resent.fetch_add(n, SeqCst);
                continue;
            }
            Err(s) => return Err(format!("{} refused: {s}", pending[0].action)),
        };
        if results.len() != pending.len() {
            return Err(format!("{} answers for {} records", results.len(), pending.len()));
        }
        for (i, (r, p)) in results.into_iter().zip(pending).enumerate() {
            let r = r.map_err(|e| format!("{} on bill {} refused: {e}", p.action, bills[i].id))?;
            let b = &mut bills[i];
            if r.record_hash != p.hash.0 || r.bill_id != b.id.0 .0 || r.position != b.next.position {
                return Err(format!("receipt for another record: {r:?}"));
            }
            if let Some(Some(e)) = expect.as_ref().map(|e| e.get(i).copied().flatten()) {
                if !r.duplicate || r.seq != e {
                    return Err(format!(
                        "record {} was the head at seq {e} after the crash, yet sent again it answered seq {} duplicate {}",
                        p.hash, r.seq, r.duplicate
                    ));
                }
            } else if r.duplicate {
                return Err(format!("record {} answered duplicate though its bill did not hold it", p.hash));
            }
            sh.acks.write(&Ack::of(&r));
            sh.acked.fetch_add(1, SeqCst);
            if r.duplicate {
                sh.duplicates.fetch_add(1, SeqCst);
            }
            b.advance(p);
        }
        return Ok(());
    }
    Err(format!("{} records not acknowledged after {MAX_ATTEMPTS} attempts", pending.len()))
}

/// One lane: moves its bills until the deadline or the stop file.
async fn lane(sh: Arc<Shared>, mut c: Client, ids: Vec<BillId>, batch: bool, seed: u64) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bills = Vec::with_capacity(ids.len());
    for id in ids {
        let v = read_bill(&sh, &mut c, id).await?;
        if v.kind != "TO_ORDER" || !v.endorsable {
            return Err(format!(
                "bill {id} is {} (endorsable {}), not an endorsable to-order bill",
                v.kind, v.endorsable
            ));
        }
        bills.push(Bill::from_view(id, &v));
    }
    while !sh.stop.load(SeqCst) && Instant::now() < sh.deadline {
        let pending = bills.iter().map(|b| b.plan(&sh, &mut rng)).collect::<Result<Vec<_>, _>>()?;
        deliver(&sh, &mut c, &mut bills, &pending, batch).await?;
    }
    Ok(())
}

/// Runs the load until `--seconds` pass or the file `stop` appears in the work folder.
pub async fn run(o: &Opts) -> Result<(), String> {
    let (url, work) = (o.str("server")?, o.work()?);
    let writers = o.num("writers", 8)? as usize;
    let lanes = o.num("lanes", 6)? as usize;
    let batch_lanes = o.num("batch-lanes", 1)? as usize;
    let batch = o.num("batch", 8)? as usize;
    let seconds = o.num("seconds", 600)?;
    let world = World::load(&work)?;
    let ids = world.bill_ids()?;
    let needed = writers * (lanes + batch_lanes * batch);
    if ids.len() < needed {
        return Err(format!("{needed} bills needed, setup issued {}", ids.len()));
    }
    let started = Instant::now();
    let sh = Arc::new(Shared {
        url: url.clone(),
        origin: world.origin.clone(),
        auditor: world.auditor.identity()?,
        traders: world.traders.iter().map(|t| t.identity()).collect::<Result<_, _>>()?,
        acks: Lines::open(&acks_path(&work))?,
        events: Lines::open(&events_path(&work))?,
        started,
        deadline: started + Duration::from_secs(seconds),
        stop_file: work.join("stop"),
        calls: AtomicU64::new(0),
        records: AtomicU64::new(0),
        down: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        outages: AtomicU64::new(0),
        min_in_flight: AtomicU64::new(u64::MAX),
        acked: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        resent: AtomicU64::new(0),
    });
    let watcher = tokio::spawn(watch(sh.clone(), work.join("status")));

    let mut tasks = tokio::task::JoinSet::new();
    let mut ids = ids.into_iter();
    let mut seed = rand::random::<u64>();
    for _ in 0..writers {
        let c = connect(&url, 10).await?;
        for l in 0..lanes + batch_lanes {
            let is_batch = l >= lanes;
            let mine: Vec<BillId> = ids.by_ref().take(if is_batch { batch } else { 1 }).collect();
            seed = seed.wrapping_add(1);
            tasks.spawn(lane(sh.clone(), c.clone(), mine, is_batch, seed));
        }
    }
    let mut fault = None;
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r.map_err(|e| e.to_string()).and_then(|r| r) {
            sh.events.write(&json!({ "event": "fault", "at_ms": sh.ms(), "what": e }));
            // The first fault stops the run: the rest would only bury it.
            sh.stop.store(true, SeqCst);
            fault.get_or_insert(e);
        }
    }
    sh.stop.store(true, SeqCst);
    watcher.await.ok();
    let (acked, dups, outages) = (sh.acked.load(SeqCst), sh.duplicates.load(SeqCst), sh.outages.load(SeqCst));
    let min = sh.min_in_flight.load(SeqCst);
    sh.events.write(&json!({
        "event": "done", "at_ms": sh.ms(), "acks": acked, "duplicates": dups, "outages": outages,
        "resent": sh.resent.load(SeqCst),
    }));
    println!(
        "load: {acked} acknowledged in {:.0} s ({dups} of them duplicates of records committed before a crash answered them), {outages} outages, min {} calls in flight when the server was lost",
        started.elapsed().as_secs_f64(),
        if min == u64::MAX { 0 } else { min }
    );
    fault.map_or(Ok(()), Err)
}

/// Beside the lanes: writes the in-flight count to `status` every 20 ms (the script reads it
/// before each kill), notices the stop file, and while the server is lost polls it until it
/// answers again.
async fn watch(sh: Arc<Shared>, status: PathBuf) {
    let tmp = status.with_extension("tmp");
    let mut lost_at = None;
    while !sh.stop.load(SeqCst) {
        let line = format!(
            "in_flight {} records {} acks {} down {}\n",
            sh.calls.load(SeqCst),
            sh.records.load(SeqCst),
            sh.acked.load(SeqCst),
            sh.down.load(SeqCst) as u8
        );
        if std::fs::write(&tmp, line).and_then(|_| std::fs::rename(&tmp, &status)).is_err() {
            eprintln!("load: cannot write {}", status.display());
        }
        if sh.stop_file.exists() {
            sh.stop.store(true, SeqCst);
        }
        if sh.down.load(SeqCst) {
            let since = *lost_at.get_or_insert_with(Instant::now);
            if Client::connect(sh.url.clone()).await.is_ok() {
                sh.events.write(&json!({
                    "event": "back", "outage": sh.outages.load(SeqCst), "at_ms": sh.ms(),
                    "after_ms": since.elapsed().as_millis() as u64,
                }));
                lost_at = None;
                sh.down.store(false, SeqCst);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
