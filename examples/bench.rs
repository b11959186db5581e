//! Throughput benchmark: a real ledger (RocksDB in a temporary folder, gRPC on 127.0.0.1:0) fed
//! signed title records by concurrent clients, with this machine's own limits measured in the
//! same run so the figures can be read as ratios (machines here are shared and noisy: absolute
//! numbers drift 10-30% between runs).
//!
//!   cargo run --example bench -- [--bills 2000] [--rounds 4] [--clients 4] [--batch 128]
//!
//! It prints: `verify_strict` per second on one core (the floor of a ledger that checks every
//! signature strictly, one by one), SHA-256 of a record, and for the ledger: bills issued per
//! second, transfers accepted per second through SubmitBatch, and single-record Submit latency
//! with many calls in flight; each as a ratio of the signature floor over both cores. Debug
//! builds compile the dependencies (RocksDB, ed25519, tonic) optimised (see Cargo.toml), so the
//! figures mean something without a release build; `--release` gives the numbers for production.

use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::sig::Signature;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{self, payload, sign, Client, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use ebl_ledger::server::{init, Ledger};
use ed25519_dalek::SigningKey;
use std::time::{Duration, Instant};

const ORIGIN: &str = "bench.example/ebl";

struct Args {
    bills: usize,
    rounds: usize,
    clients: usize,
    batch: usize,
}

fn args() -> Args {
    let mut a = Args { bills: 2000, rounds: 4, clients: 4, batch: 128 };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{}: expected a number", pair[0]));
        match pair[0].as_str() {
            "--bills" => a.bills = v,
            "--rounds" => a.rounds = v,
            "--clients" => a.clients = v,
            "--batch" => a.batch = v.min(256),
            other => panic!("unknown option {other}"),
        }
    }
    a
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// One core's strict verifications per second, over a 300-byte message.
fn verify_rate() -> f64 {
    let k = key(9);
    let party = ebl_core::ids::PartyId::parse("p", "bench").unwrap();
    let msg = vec![7u8; 300];
    let sig = Signature::sign(&party, &k, &msg);
    let n = 4000;
    let t = Instant::now();
    for _ in 0..n {
        sig.verify(&msg).unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn sha_rate() -> f64 {
    let msg = vec![7u8; 300];
    let n = 200_000;
    let t = Instant::now();
    let mut acc = Hash32::default();
    for _ in 0..n {
        acc = Hash32::tagged("bench", &[&msg, &acc.0]);
    }
    std::hint::black_box(acc);
    n as f64 / t.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

#[tokio::main]
async fn main() {
    let a = args();
    let verify = verify_rate();
    let sha = sha_rate();
    let floor = verify * 2.0;
    println!("machine: verify_strict {verify:.0}/s on one core (floor for 2 cores: {floor:.0} records/s)");
    println!("machine: SHA-256 of 300 bytes {sha:.0}/s");

    let dir = tempfile::tempdir().unwrap();
    let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: key(1) };
    init(dir.path(), ORIGIN, ebl_core::sig::PublicKey(operator.key.verifying_key().to_bytes())).unwrap();
    let ledger = Ledger::open(dir.path(), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        ledger
            .serve(listener, async {
                stopped.await.ok();
            })
            .await
            .unwrap()
    });
    let mut c = Client::connect(url.clone()).await.unwrap();

    // Parties: one carrier, and traders that pass the bills round.
    let carrier = Identity::new("carrier", key(2));
    let traders: Vec<Identity> =
        (0..=a.rounds).map(|i| Identity::new(&format!("trader-{i}"), key(10 + i as u8))).collect();
    let lei = |n: usize| pb::IdentifyingCode {
        code_list_provider: "GLEIF".into(),
        party_code: format!("BENCH{n:015}"),
        code_list_name: "LEI".into(),
    };
    for (i, (id, role)) in
        std::iter::once((&carrier, pb::Role::Carrier)).chain(traders.iter().map(|t| (t, pb::Role::Trader))).enumerate()
    {
        let reg = client::register_party(id.party.as_str(), "Bench party", role, &[], vec![lei(i)]);
        c.operator(&operator, reg).await.unwrap();
        c.operator(&operator, client::add_key(id.party.as_str(), id.public())).await.unwrap();
    }

    // Issue every bill (a blank-endorsed to-order ILSTC document under its own reference).
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/documents/ilstc-chongqing-qinzhou-singapore.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut heads: Vec<(BillId, Link)> = Vec::with_capacity(a.bills);
    let mut issues = Vec::with_capacity(a.bills);
    for i in 0..a.bills {
        let mut d = doc.clone();
        let reference = format!("BENCH{i:08}");
        d["transportDocumentReference"] = reference.clone().into();
        let bill = BillId::derive(&carrier.party, &reference, 0);
        let action = Action::Issue(pb::Issue {
            document: serde_json::to_vec(&d).unwrap(),
            profile: pb::DocumentProfile::DcsaEbl3 as i32,
            ..Default::default()
        });
        let p = payload(ORIGIN, Some(bill), Link::default(), "carrier", Some("trader-0"), Timestamp::now(), action);
        let rec = sign(&p, &[&carrier]);
        heads.push((bill, Link::after(0, &ebl_core::record::record_hash(&rec.payload).0)));
        issues.push(rec);
    }
    let t = Instant::now();
    let issued = submit_all(&url, issues, a.clients, a.batch).await;
    let issue_rate = issued as f64 / t.elapsed().as_secs_f64();
    assert_eq!(issued, a.bills, "every ISSUE must be accepted");
    println!(
        "ledger: {issued} ISSUE records (DCSA document validated, RFC 8785 checksum) in batches of {}: {issue_rate:.0}/s = {:.2} of the signature floor",
        a.batch,
        issue_rate / floor
    );

    // Rounds of transfers: each round moves every bill one trader on.
    let mut transfers = Vec::new();
    for r in 0..a.rounds {
        for (bill, link) in heads.iter_mut() {
            let to = traders[r + 1].party.as_str();
            let p = payload(
                ORIGIN,
                Some(*bill),
                *link,
                traders[r].party.as_str(),
                Some(to),
                Timestamp::now(),
                Action::Transfer(pb::Transfer {}),
            );
            let rec = sign(&p, &[&traders[r]]);
            *link = Link::after(link.position, &ebl_core::record::record_hash(&rec.payload).0);
            transfers.push(rec);
        }
    }
    let n = transfers.len();
    let t = Instant::now();
    // Rounds in order (a bill's next transfer needs the previous one committed); within a
    // round, every client sends its share of the bills in batches.
    let mut accepted = 0;
    for round in transfers.chunks(a.bills) {
        accepted += submit_all(&url, round.to_vec(), a.clients, a.batch).await;
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(accepted, n, "every TRANSFER must be accepted");
    println!(
        "ledger: {n} TRANSFER records via SubmitBatch ({} clients, batches of {}): {:.0}/s = {:.2} of the signature floor",
        a.clients,
        a.batch,
        n as f64 / secs,
        n as f64 / secs / floor
    );

    // Single-record Submit with many in flight: latency and rate (SIGN by the last holder).
    let holder = &traders[a.rounds];
    let singles: Vec<pb::SignedRecord> = heads
        .iter()
        .map(|(bill, link)| {
            sign(
                &payload(
                    ORIGIN,
                    Some(*bill),
                    *link,
                    holder.party.as_str(),
                    None,
                    Timestamp::now(),
                    Action::Sign(pb::Sign {}),
                ),
                &[holder],
            )
        })
        .collect();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for share in singles.chunks(singles.len().div_ceil(64).max(1)) {
        let (url, share) = (url.clone(), share.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(url).await.unwrap();
            let mut lat = Vec::new();
            for rec in share {
                let s = Instant::now();
                c.submit(rec).await.unwrap();
                lat.push(s.elapsed());
            }
            lat
        }));
    }
    let mut lat: Vec<Duration> = Vec::new();
    for task in tasks {
        lat.extend(task.await.unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "ledger: {} single-record Submit calls, 64 in flight: {:.0}/s = {:.2} of the signature floor; latency p50 {:.1} ms, p99 {:.1} ms (each acknowledged after a synced commit)",
        lat.len(),
        lat.len() as f64 / secs,
        lat.len() as f64 / secs / floor,
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    stop.send(()).ok();
    server.await.unwrap();
}

/// Sends `recs` through SubmitBatch, `clients` connections at once, `batch` records a call;
/// returns how many were accepted.
async fn submit_all(url: &str, recs: Vec<pb::SignedRecord>, clients: usize, batch: usize) -> usize {
    let per = recs.len().div_ceil(clients).max(1);
    let mut tasks = Vec::new();
    for share in recs.chunks(per) {
        let (url, share) = (url.to_string(), share.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(url).await.unwrap();
            let mut ok = 0;
            for chunk in share.chunks(batch) {
                let r = c.grpc.submit_batch(pb::SubmitBatchRequest { records: chunk.to_vec() }).await.unwrap();
                ok += r
                    .into_inner()
                    .results
                    .iter()
                    .filter(|x| matches!(x.outcome, Some(pb::submit_result::Outcome::Receipt(_))))
                    .count();
            }
            ok
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}
