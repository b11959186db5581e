//! `ebl bench`: the load generator, in a process of its own so that its signing never shows in
//! the server's profile. It starts `ebld` on a fresh data folder, registers a cast of parties,
//! and per phase signs the phase's chains first ([`corpus`]), then drives them in
//! ([`drive`]) and reads the server from outside ([`server`]): durable records a second,
//! latency, the server's own CPU time per accepted record, WAL syncs against commit groups.
//! This machine's limits are measured in the same run ([`machine`]) and every figure is also
//! given as a ratio of them. Finally: disk and memory, inclusion proofs and title statements,
//! and a restart. Output: a table, and the same as JSON (`--json FILE`).
//!
//! Phases, each on bills of its own:
//! - `transfers`: TRANSFER records through SubmitBatch (their bills issued just before, and
//!   that issuing reported as the `issues` phase);
//! - `mixed-batch`: the stated mix (one ISSUE per 20 title and custody records) through
//!   SubmitBatch;
//! - `mixed-stream`: the mix through SubmitStream, one stream from each of `--clients` clients,
//!   each with at most `--window` records awaiting results;
//! - `mixed-unary`: the mix through unary Submit with `--in-flight` calls at once (the peak);
//! - `paced-50`, `paced-90`: the mix through unary Submit arriving at 50% and 90% of that peak.

pub mod corpus;
pub mod drive;
pub mod machine;
mod progress;
pub mod server;

use crate::client::Identity;
use clap::Args;
use corpus::{Cast, Chains, Mix};
use drive::Outcome;
use progress::Progress;
use serde_json::{json, Value};
use server::{Counters, Server};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

type Error = Box<dyn std::error::Error>;

/// The bill numbers of the record whose payload the signature rate is measured over (never sent)
/// and of the 100-record bill; the phases' bills are numbered from 0.
const SAMPLE_BILL: u64 = 900_000_000;
const LONG_BILL: u64 = 900_000_001;

/// `ebl bench` options.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// The `ebld` to run (default: the one beside this `ebl`).
    #[arg(long)]
    pub ebld: Option<PathBuf>,
    /// Records each phase sends.
    #[arg(long, default_value_t = 20_000)]
    pub records: usize,
    /// Concurrent clients of the SubmitBatch and SubmitStream phases.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Records per SubmitBatch call.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Records a SubmitStream client keeps awaiting their results.
    #[arg(long, default_value_t = 64)]
    pub window: usize,
    /// Unary Submit calls in flight at the peak.
    #[arg(long, default_value_t = 64)]
    pub in_flight: usize,
    /// Whole runs, each on a new ledger: the table gives each figure's min, median and max.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Write the table as JSON to this file.
    #[arg(long = "json-out", value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Where the ledgers' data folders go (default: a new folder under the system's temporary
    /// folder, removed at the end).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// No progress lines on standard error.
    #[arg(long)]
    pub quiet: bool,
    /// Only these phases (default: all), e.g. `--phases transfers` for a profile of TRANSFER
    /// alone. The paced phases need `mixed-unary`, whose peak they are paced from.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(PHASES))]
    pub phases: Vec<String>,
    /// Skip the reads and the restart at the end (an instruction profile of the write path).
    #[arg(long)]
    pub without_reads: bool,
}

/// The phases, in the order they run.
pub const PHASES: [&str; 7] =
    ["issues", "transfers", "mixed-batch", "mixed-stream", "mixed-unary", "paced-50", "paced-90"];

impl BenchArgs {
    fn wants(&self, phase: &str) -> bool {
        self.phases.is_empty() || self.phases.iter().any(|p| p == phase)
    }
}

/// Runs the bench; fails if any record got another answer than it must (every good record
/// accepted, every bad one refused).
pub async fn run(args: BenchArgs) -> Result<(), Error> {
    if (args.wants("paced-50") || args.wants("paced-90")) && !args.wants("mixed-unary") {
        return Err("the paced phases need mixed-unary: they are paced from its peak".into());
    }
    let ebld = match &args.ebld {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("ebld"),
    };
    let (work, remove) = match &args.work_dir {
        Some(d) => (d.clone(), false),
        None => (std::env::temp_dir().join(format!("ebl-bench-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&work)?;
    let mut runs = Vec::new();
    let mut failed = None;
    for r in 0..args.runs.max(1) {
        if !args.quiet {
            eprintln!("run {} of {}", r + 1, args.runs.max(1));
        }
        let table = match one_run(&args, &ebld, &work.join(format!("run-{r}"))).await {
            Ok(t) => t,
            Err(e) => {
                if remove {
                    let _ = std::fs::remove_dir_all(&work);
                }
                return Err(e);
            }
        };
        print_table(&table);
        if let Some(bad) = unexpected(&table) {
            failed = Some(bad);
        }
        runs.push(table);
    }
    let report = json!({ "runs": runs.clone(), "summary": summary(&runs) });
    if args.runs > 1 {
        print_summary(&report["summary"]);
    }
    if let Some(path) = &args.json_out {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    if remove {
        let _ = std::fs::remove_dir_all(&work);
    }
    match failed {
        Some(why) => Err(why.into()),
        None => Ok(()),
    }
}

/// Phases' figures in one run, measured on a new ledger in `dir`.
async fn one_run(args: &BenchArgs, ebld: &Path, dir: &Path) -> Result<Value, Error> {
    std::fs::create_dir_all(dir)?;
    let operator = Identity::new("operator", ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng));
    let operator_hex = hex::encode(operator.public());
    let mut srv = Server::start(ebld, &dir.join("data"), &operator_hex)?;
    let channels = connect(&srv.url, args.clients.max(4)).await?;
    let cast = Cast::new(operator, server::ORIGIN);

    // This machine's limits, before any load.
    let sample = corpus::chains(&cast, Mix::Transfers, SAMPLE_BILL, 1, 1);
    let message = sample.bills[0].iter().find(|i| i.expect == corpus::Expect::Accepted).map(|i| i.rec.payload.clone());
    let verify = machine::verify_strict_rate(&message.unwrap_or_default());
    let key_check = machine::key_check_rate();
    let disk = machine::disk(ebld, &dir.join("probe"))?;
    let trivial = machine::trivial_calls_rate(&channels, args.in_flight).await;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let machine = json!({
        "cores": cores,
        "verify_strict_per_s_one_core": verify.round(),
        "key_check_per_s_one_core": key_check.round(),
        "synced_batches_per_s": disk,
        "trivial_calls_per_s": trivial.round(),
    });
    if !args.quiet {
        eprintln!("machine: {machine}");
    }

    register(&srv, &cast).await?;
    let n = args.records.max(corpus::PER_BILL + 1);
    let mut next_bill = 0u64;
    let mut bills_for = |mix: Mix| {
        let per = match mix {
            Mix::Mixed => corpus::PER_BILL + 1,
            Mix::Transfers => corpus::PER_BILL,
        };
        let count = n.div_ceil(per);
        let first = next_bill;
        next_bill += count as u64;
        (first, count)
    };
    let mut phases = Vec::new();
    let m = Meter { srv: &srv, quiet: args.quiet, verify };

    // A bill of 100 records, for the title statement's latency at the end.
    let long = corpus::chains(&cast, Mix::Transfers, LONG_BILL, 1, 99);
    let quiet = || Progress::start("", 0, true).0;
    drive::batches(&channels, vec![setup_items(&long.setup)], 1, args.batch, quiet()).await;
    let long_outcome = drive::batches(&channels, long.bills.clone(), 1, args.batch, quiet()).await;
    if long_outcome.unexpected > 0 {
        return Err(format!("the 100-record bill was not accepted: {:?}", long_outcome.examples).into());
    }

    let (first, count) = bills_for(Mix::Transfers);
    let wanted = args.wants("issues") || args.wants("transfers");
    let transfers = corpus::chains(&cast, Mix::Transfers, first, if wanted { count } else { 0 }, corpus::PER_BILL);
    let issues = vec![setup_items(&transfers.setup)];
    let c = Config {
        name: "issues",
        api: "SubmitBatch",
        mix: "ISSUE",
        detail: json!({"clients": args.clients, "batch": args.batch}),
    };
    let per_client = issues_per_client(issues, args.clients);
    let total = per_client.iter().map(Vec::len).sum();
    if args.wants("issues") || args.wants("transfers") {
        // The transfers' bills are issued whether or not the issues phase is reported.
        let issued = m.phase(c, total, |p| drive::batches(&channels, per_client, args.clients, args.batch, p)).await?;
        if args.wants("issues") {
            phases.push(issued);
        }
    }
    let c = Config {
        name: "transfers",
        api: "SubmitBatch",
        mix: "TRANSFER",
        detail: json!({"clients": args.clients, "batch": args.batch}),
    };
    let total = transfers.len();
    if args.wants("transfers") {
        phases.push(
            m.phase(c, total, |p| drive::batches(&channels, transfers.bills, args.clients, args.batch, p)).await?,
        );
    }

    let c = Config {
        name: "mixed-batch",
        api: "SubmitBatch",
        mix: "1 ISSUE : 20 title and custody",
        detail: json!({"clients": args.clients, "batch": args.batch}),
    };
    if args.wants("mixed-batch") {
        let (first, count) = bills_for(Mix::Mixed);
        let mixed = fresh(&cast, first, count);
        let total = mixed.len();
        phases.push(m.phase(c, total, |p| drive::batches(&channels, mixed.bills, args.clients, args.batch, p)).await?);
    }

    let c = Config {
        name: "mixed-stream",
        api: "SubmitStream",
        mix: "1 ISSUE : 20 title and custody",
        detail: json!({"clients": args.clients, "window": args.window}),
    };
    if args.wants("mixed-stream") {
        let (first, count) = bills_for(Mix::Mixed);
        let mixed = fresh(&cast, first, count);
        let total = mixed.len();
        phases.push(m.phase(c, total, |p| drive::streams(&channels, mixed.bills, args.clients, args.window, p)).await?);
    }

    let c = Config {
        name: "mixed-unary",
        api: "Submit",
        mix: "1 ISSUE : 20 title and custody",
        detail: json!({"in_flight": args.in_flight}),
    };
    let mut peak_rate = 1.0;
    if args.wants("mixed-unary") {
        let (first, count) = bills_for(Mix::Mixed);
        let mixed = fresh(&cast, first, count);
        let total = mixed.len();
        let peak = m.phase(c, total, |p| drive::unary(&channels, mixed.bills, args.in_flight, p)).await?;
        peak_rate = peak["records_per_s"].as_f64().unwrap_or(1.0);
        phases.push(peak);
    }

    for share in [50u32, 90] {
        let name = if share == 50 { "paced-50" } else { "paced-90" };
        if !args.wants(name) {
            continue;
        }
        let rate = peak_rate * f64::from(share) / 100.0;
        let (first, count) = bills_for(Mix::Mixed);
        let mixed = fresh(&cast, first, count);
        let c = Config {
            name,
            api: "Submit",
            mix: "1 ISSUE : 20 title and custody",
            detail: json!({"offered_per_s": rate.round(), "share_of_peak": f64::from(share) / 100.0}),
        };
        let total = mixed.len();
        // One connection per 32 bills: well under the server's 64 calls per connection.
        let paced = connect(&srv.url, mixed.bills.len().div_ceil(32).max(1)).await?;
        phases.push(m.phase(c, total, |p| drive::paced(&paced, mixed.bills, rate, p)).await?);
    }

    let records = srv_size(&channels).await?;
    let disk = srv.disk_bytes()?;
    let mut at_end = json!({
        "records": records,
        "disk_bytes": disk,
        "disk_bytes_per_record": disk as f64 / records.max(1) as f64,
        "wal_bytes": srv.wal_bytes()?,
        "rss_bytes": srv.rss()?,
    });
    if !args.without_reads {
        let (proofs, statements) = reads(&srv.url, &cast, &long).await?;
        at_end["inclusion_proof_ms"] = proofs;
        at_end["title_statement_ms"] = statements;
        drop(channels);
        let restart = srv.restart().await?;
        at_end["restart_to_serving_ms"] = json!(restart.as_secs_f64() * 1e3);
    }
    srv.stop()?;
    Ok(json!({ "machine": machine, "phases": phases, "at_end": at_end }))
}

/// A phase's name and what it sends.
struct Config {
    name: &'static str,
    api: &'static str,
    mix: &'static str,
    detail: Value,
}

/// Measures phases on one server.
struct Meter<'a> {
    srv: &'a Server,
    quiet: bool,
    verify: f64,
}

impl Meter<'_> {
    /// Runs one phase, reading the server's CPU time and counters around it.
    async fn phase<F, Fut>(&self, c: Config, total: usize, go: F) -> Result<Value, Error>
    where
        F: FnOnce(Progress) -> Fut,
        Fut: std::future::Future<Output = Outcome>,
    {
        let (progress, reporter) = Progress::start(c.name, total, self.quiet);
        let (cpu0, k0) = (self.srv.cpu()?, self.srv.counters().await?);
        let out = go(progress).await;
        drop(reporter);
        let (cpu1, k1) = (self.srv.cpu()?, self.srv.counters().await?);
        let secs = out.elapsed.as_secs_f64().max(1e-9);
        let rate = out.accepted as f64 / secs;
        let cpu_us = (cpu1 - cpu0).as_secs_f64() * 1e6 / out.accepted.max(1) as f64;
        let verify_us = 1e6 / self.verify;
        let Counters { wal_syncs, groups } = k1;
        let v = json!({
            "name": c.name,
            "api": c.api,
            "mix": c.mix,
            "load": c.detail,
            "sent": total,
            "accepted": out.accepted,
            "refused_as_they_must": out.refused,
            "unexpected": out.unexpected,
            "unexpected_examples": out.examples,
            "seconds": secs,
            "records_per_s": rate.round(),
            "latency_ms": percentiles(out.latencies),
            "server_cpu_us_per_record": cpu_us,
            "server_cpu_in_verify_strict": cpu_us / verify_us,
            "commit_groups": groups - k0.groups,
            "wal_syncs": wal_syncs - k0.wal_syncs,
        });
        if !self.quiet {
            eprintln!("  {}: {} records/s", c.name, rate.round());
        }
        Ok(v)
    }
}

/// Chains of the mix from bill `first`.
fn fresh(cast: &Cast, first: u64, count: usize) -> Chains {
    corpus::chains(cast, Mix::Mixed, first, count, corpus::PER_BILL)
}

/// Records to send as they are, all expected accepted.
fn setup_items(recs: &[crate::pb::SignedRecord]) -> Vec<corpus::Item> {
    recs.iter().map(|r| corpus::Item { rec: r.clone(), expect: corpus::Expect::Accepted }).collect()
}

/// One "bill" per client of ISSUE records (they are independent), so that they go in parallel.
fn issues_per_client(issues: Vec<Vec<corpus::Item>>, clients: usize) -> Vec<Vec<corpus::Item>> {
    let all: Vec<corpus::Item> = issues.into_iter().flatten().collect();
    let per = all.len().div_ceil(clients.max(1)).max(1);
    all.chunks(per).map(<[corpus::Item]>::to_vec).collect()
}

/// `count` separate connections to `url`.
async fn connect(url: &str, count: usize) -> Result<Vec<Channel>, Error> {
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(tonic::transport::Endpoint::from_shared(url.to_string())?.connect().await?);
    }
    Ok(out)
}

/// Registers the cast, as the operator.
async fn register(srv: &Server, cast: &Cast) -> Result<(), Error> {
    let mut c = crate::client::Client::connect(srv.url.clone()).await?;
    for action in cast.registry() {
        c.operator(&cast.operator, action).await?;
    }
    Ok(())
}

/// The log's size now.
async fn srv_size(channels: &[Channel]) -> Result<u64, Error> {
    let mut grpc = crate::pb::ledger_client::LedgerClient::new(channels[0].clone());
    Ok(grpc.get_info(crate::pb::GetInfoRequest {}).await?.into_inner().log_size)
}

/// Latencies of inclusion proofs (random leaves of the latest checkpoint) and of signed title
/// statements for the 100-record bill, once a checkpoint covers the whole log.
async fn reads(url: &str, cast: &Cast, long: &Chains) -> Result<(Value, Value), Error> {
    let mut log = crate::client::Client::connect(url.to_string()).await?;
    let size = log.info.log_size;
    let deadline = Instant::now() + Duration::from_secs(60);
    while log.checkpoint().await?.size < size {
        if Instant::now() > deadline {
            return Err("no checkpoint covered the log within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut dice = 0x2545_f491_4f6c_dd1du64;
    let mut proofs = Vec::new();
    for _ in 0..500 {
        dice ^= dice << 13;
        dice ^= dice >> 7;
        dice ^= dice << 17;
        let t = Instant::now();
        log.inclusion(crate::pb::get_inclusion_proof_request::Leaf::Index(dice % size), None).await?;
        proofs.push(t.elapsed());
    }
    let bill = bill_of(long)?;
    let mut statements = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let v = log.verify_title(cast.reader(), bill).await?;
        if v.statement.is_empty() {
            return Err("a title statement was not signed".into());
        }
        statements.push(t.elapsed());
    }
    Ok((percentiles(proofs), percentiles(statements)))
}

/// The bill of a one-bill chain set.
fn bill_of(c: &Chains) -> Result<ebl_core::ids::BillId, Error> {
    let rec = c.setup.first().ok_or("no ISSUE")?;
    let p = <crate::pb::RecordPayload as prost::Message>::decode(&rec.payload[..])?;
    Ok(ebl_core::ids::BillId(ebl_core::hash::Hash32::from_slice(&p.bill_id).ok_or("no bill id")?))
}

/// p50, p99 and p99.9 in milliseconds.
fn percentiles(mut d: Vec<Duration>) -> Value {
    d.sort();
    let at = |p: f64| {
        d.get(((d.len().saturating_sub(1)) as f64 * p).round() as usize).map_or(0.0, |x| x.as_secs_f64() * 1e3)
    };
    json!({ "p50": at(0.5), "p99": at(0.99), "p999": at(0.999), "count": d.len() })
}

/// Why a run's answers were wrong, if they were.
fn unexpected(table: &Value) -> Option<String> {
    let phases = table["phases"].as_array()?;
    let bad: Vec<String> = phases
        .iter()
        .filter(|p| p["unexpected"].as_u64() != Some(0))
        .map(|p| format!("{}: {} unexpected answers, e.g. {}", p["name"], p["unexpected"], p["unexpected_examples"]))
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// Min, median and max of every phase's main figures over the runs.
fn summary(runs: &[Value]) -> Value {
    let Some(first) = runs.first() else { return json!({}) };
    let stat = |get: &dyn Fn(&Value) -> Option<f64>| -> Value {
        let mut v: Vec<f64> = runs.iter().filter_map(get).collect();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => Value::Null,
            n => json!({ "min": v[0], "median": v[n / 2], "max": v[n - 1] }),
        }
    };
    let phases: Vec<Value> = first["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| {
            let f = |key: &'static str| move |r: &Value| r["phases"][i][key].as_f64();
            let lat = |key: &'static str| move |r: &Value| r["phases"][i]["latency_ms"][key].as_f64();
            json!({
                "name": p["name"],
                "records_per_s": stat(&f("records_per_s")),
                "server_cpu_us_per_record": stat(&f("server_cpu_us_per_record")),
                "server_cpu_in_verify_strict": stat(&f("server_cpu_in_verify_strict")),
                "latency_p50_ms": stat(&lat("p50")),
                "latency_p99_ms": stat(&lat("p99")),
            })
        })
        .collect();
    json!({ "runs": runs.len(), "phases": phases })
}

fn print_table(t: &Value) {
    let m = &t["machine"];
    println!(
        "machine: {} cores; verify_strict {:.0}/s on one core (key decoded once); key check {:.0}/s; synced RocksDB batches {:.0}/s (1 value), {:.0}/s (1,024 values); GetInfo {:.0}/s",
        m["cores"],
        num(&m["verify_strict_per_s_one_core"]),
        num(&m["key_check_per_s_one_core"]),
        num(&m["synced_batches_per_s"]["small_batches_per_s"]),
        num(&m["synced_batches_per_s"]["group_batches_per_s"]),
        num(&m["trivial_calls_per_s"]),
    );
    let floor = m["verify_strict_per_s_one_core"].as_f64().unwrap_or(1.0) * m["cores"].as_f64().unwrap_or(1.0);
    println!(
        "{:<12} {:<11} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>7}",
        "phase", "api", "records/s", "floor", "p50 ms", "p99 ms", "p999 ms", "cpu us", "x verify", "groups", "syncs"
    );
    for p in t["phases"].as_array().into_iter().flatten() {
        let rate = p["records_per_s"].as_f64().unwrap_or(0.0);
        let l = &p["latency_ms"];
        println!(
            "{:<12} {:<11} {:>9.0} {:>7.2} {:>9.2} {:>9.2} {:>9.2} {:>9.0} {:>8.2} {:>7} {:>7}",
            p["name"].as_str().unwrap_or(""),
            p["api"].as_str().unwrap_or(""),
            rate,
            rate / floor,
            l["p50"].as_f64().unwrap_or(0.0),
            l["p99"].as_f64().unwrap_or(0.0),
            l["p999"].as_f64().unwrap_or(0.0),
            p["server_cpu_us_per_record"].as_f64().unwrap_or(0.0),
            p["server_cpu_in_verify_strict"].as_f64().unwrap_or(0.0),
            p["commit_groups"].as_u64().unwrap_or(0),
            p["wal_syncs"].as_u64().unwrap_or(0),
        );
    }
    let e = &t["at_end"];
    println!(
        "at the end: {} records, {:.0} bytes of disk per record ({} MB, of which write-ahead log {} MB), RSS {} MB, restart to serving {:.0} ms; inclusion proof p99 {:.2} ms; title statement (100-record bill) p99 {:.2} ms",
        e["records"],
        e["disk_bytes_per_record"].as_f64().unwrap_or(0.0),
        e["disk_bytes"].as_u64().unwrap_or(0) >> 20,
        e["wal_bytes"].as_u64().unwrap_or(0) >> 20,
        e["rss_bytes"].as_u64().unwrap_or(0) >> 20,
        e["restart_to_serving_ms"].as_f64().unwrap_or(0.0),
        e["inclusion_proof_ms"]["p99"].as_f64().unwrap_or(0.0),
        e["title_statement_ms"]["p99"].as_f64().unwrap_or(0.0),
    );
}

/// A JSON number as f64 (0 if it is not one).
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn print_summary(s: &Value) {
    println!("over {} runs (min / median / max):", s["runs"]);
    for p in s["phases"].as_array().into_iter().flatten() {
        let f = |k: &str| {
            let v = &p[k];
            format!(
                "{:.0} / {:.0} / {:.0}",
                v["min"].as_f64().unwrap_or(0.0),
                v["median"].as_f64().unwrap_or(0.0),
                v["max"].as_f64().unwrap_or(0.0)
            )
        };
        println!(
            "  {:<12} records/s {}; cpu us/record {}; p99 ms {}",
            p["name"].as_str().unwrap_or(""),
            f("records_per_s"),
            f("server_cpu_us_per_record"),
            f("latency_p99_ms")
        );
    }
}
