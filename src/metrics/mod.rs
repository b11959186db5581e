//! What the ledger counts for its operator, served in the Prometheus text format on an address of
//! its own ([`http`]): records accepted and refused (by reason), commit groups (size and time),
//! the write-ahead log's syncs, request latencies by RPC ([`layer`]), read refusals, the log's
//! size, the age of its latest checkpoint and of each witness's latest cosignature, and whether
//! writes are refused or the log has halted.
//!
//! Every label value comes from a closed set: a gRPC code, a refusal reason (a constant of the
//! code), an action name, a method of the proto, or a witness name from the ledger's own
//! configuration; never a party, a bill, a container or a B/L reference (`tests/metrics.rs`
//! checks a scrape after a journey against an allow-list).

pub mod http;
pub mod layer;

use crate::api::status::parts;
use crate::error::LedgerError;
use crate::service::Shared;
use crate::writer::Answer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The RPCs of `ebl.v1.Ledger`, the label values of request latencies (the health and
/// reflection services are labelled by their service; anything else is `other`).
pub const METHODS: [&str; 19] = [
    "GetInfo",
    "Submit",
    "SubmitBatch",
    "SubmitStream",
    "GetBill",
    "GetHistory",
    "VerifyTitle",
    "GetProofBundle",
    "GetRegistry",
    "VerifyHandoff",
    "FindBills",
    "Backup",
    "Audit",
    "GetAccessLog",
    "GetCheckpoint",
    "GetInclusionProof",
    "GetConsistencyProof",
    "GetLeafHashes",
    "GetClusterStatus",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    code: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WitnessLabel {
    witness: String,
}

type SecondsGauge = Gauge<f64, AtomicU64>;

/// The ledger's metrics (one set per ledger served).
pub struct Metrics {
    registry: Registry,
    accepted: Family<ActionLabel, Counter>,
    duplicates: Counter,
    refused: Family<RefusalLabels, Counter>,
    read_refused: Family<RefusalLabels, Counter>,
    group_records: Histogram,
    group_seconds: Histogram,
    requests: Family<MethodLabel, Histogram>,
    wal_syncs: Counter,
    log_size: Gauge,
    checkpoint_size: Gauge,
    checkpoint_age: SecondsGauge,
    cosignature_age: Family<WitnessLabel, SecondsGauge>,
    writes_refused: Flags,
    halted: Flags,
    access_failures: Counter,
    raft_term: Gauge,
    raft_applied: Gauge,
    raft_leader: Gauge,
    clock_offset: SecondsGauge,
    witnesses: Vec<String>,
}

/// Gauges of 0 or 1 by reason: the reason that holds now is 1, those seen before 0.
#[derive(Default)]
struct Flags {
    family: Family<ReasonLabel, Gauge>,
    seen: std::sync::Mutex<Vec<&'static str>>,
}

impl Flags {
    fn set(&self, now: Option<&'static str>) {
        let mut seen = self.seen.lock().expect("metrics lock poisoned");
        if let Some(reason) = now.filter(|r| !seen.contains(r)) {
            seen.push(reason);
        }
        for reason in seen.iter() {
            self.family.get_or_create(&ReasonLabel { reason }).set(i64::from(now == Some(*reason)));
        }
    }
}

impl Metrics {
    /// Metrics for a ledger pushing to the witnesses named `witnesses`.
    pub fn new(witnesses: Vec<String>) -> Self {
        let mut registry = Registry::with_prefix("ebl");
        let accepted = Family::<ActionLabel, Counter>::default();
        registry.register("records_accepted", "Records accepted, by action (duplicates not counted)", accepted.clone());
        let duplicates = Counter::default();
        registry.register(
            "records_duplicate",
            "Records sent again and answered with their first receipt",
            duplicates.clone(),
        );
        let refused = Family::<RefusalLabels, Counter>::default();
        registry.register("records_refused", "Records refused, by gRPC code and reason", refused.clone());
        let read_refused = Family::<RefusalLabels, Counter>::default();
        registry.register("reads_refused", "Signed reads refused, by gRPC code and reason", read_refused.clone());
        let group_records = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "commit_group_records",
            "Records per write batch that added records (each one WAL sync)",
            group_records.clone(),
        );
        let group_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "commit_group_seconds",
            "Time to apply and durably commit one write batch that added records",
            group_seconds.clone(),
        );
        let requests = Family::<MethodLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register("request_seconds", "Time from a request to its answer's headers, by RPC", requests.clone());
        let wal_syncs = Counter::default();
        registry.register("wal_syncs", "Syncs of RocksDB's write-ahead log (rocksdb.wal.synced)", wal_syncs.clone());
        let log_size = Gauge::default();
        registry.register("log_size", "Leaves of the transparency log, synced", log_size.clone());
        let checkpoint_size = Gauge::default();
        registry.register("checkpoint_size", "Leaves covered by the latest signed checkpoint", checkpoint_size.clone());
        let checkpoint_age = SecondsGauge::default();
        registry.register(
            "checkpoint_age_seconds",
            "Seconds since this process signed its latest checkpoint (or started, before its first)",
            checkpoint_age.clone(),
        );
        let cosignature_age = Family::<WitnessLabel, SecondsGauge>::default();
        registry.register(
            "witness_cosignature_age_seconds",
            "Seconds since the time of the newest cosignature held from each witness",
            cosignature_age.clone(),
        );
        let writes_refused = Flags::default();
        registry.register(
            "writes_refused",
            "1 while every write is refused, by reason (0 for a reason that held before)",
            writes_refused.family.clone(),
        );
        let access_failures = Counter::default();
        registry.register(
            "access_log_failures",
            "Reads served whose access-log entry could not be written",
            access_failures.clone(),
        );
        let halted = Flags::default();
        registry.register("log_halted", "1 once the log has halted, with the reason", halted.family.clone());
        let raft_term = Gauge::default();
        registry.register("raft_term", "In a cluster: this node's Raft term", raft_term.clone());
        let raft_applied = Gauge::default();
        registry.register(
            "raft_applied_index",
            "In a cluster: the last Raft index this node applied",
            raft_applied.clone(),
        );
        let raft_leader = Gauge::default();
        registry.register("raft_leader", "In a cluster: 1 while this node leads", raft_leader.clone());
        let clock_offset = SecondsGauge::default();
        registry.register(
            "raft_clock_offset_seconds",
            "In a cluster: this node's clock minus its leader's stamp on the last command it applied, when it applied it (clock skew plus replication delay)",
            clock_offset.clone(),
        );
        Metrics {
            registry,
            accepted,
            duplicates,
            refused,
            read_refused,
            group_records,
            group_seconds,
            requests,
            wal_syncs,
            log_size,
            checkpoint_size,
            checkpoint_age,
            cosignature_age,
            writes_refused,
            halted,
            access_failures,
            raft_term,
            raft_applied,
            raft_leader,
            clock_offset,
            witnesses,
        }
    }

    /// Counts the outcome of one record sent.
    pub fn record(&self, outcome: &Result<Answer, LedgerError>) {
        match outcome {
            Ok(Answer::Accepted(info)) => {
                self.accepted.get_or_create(&ActionLabel { action: info.action }).inc();
            }
            Ok(Answer::Duplicate(_)) => {
                self.duplicates.inc();
            }
            Err(e) => {
                self.refused.get_or_create(&refusal(e)).inc();
            }
        }
    }

    /// Counts a refused signed read.
    pub fn read_refused(&self, e: &LedgerError) {
        self.read_refused.get_or_create(&refusal(e)).inc();
    }

    /// Counts a read served whose access-log entry could not be written.
    pub fn access_log_failed(&self) {
        self.access_failures.inc();
    }

    /// Counts a committed write batch of `records` that took `took`.
    pub fn commit_group(&self, records: usize, took: Duration) {
        self.group_records.observe(records as f64);
        self.group_seconds.observe(took.as_secs_f64());
    }

    /// Counts a request to the RPC labelled `method` ([`method_label`]) answered in `took`.
    pub fn request(&self, method: &'static str, took: Duration) {
        self.requests.get_or_create(&MethodLabel { method }).observe(took.as_secs_f64());
    }

    /// The text exposition, with the gauges read from `shared` now.
    pub fn render(&self, shared: &Shared) -> String {
        self.refresh(shared);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }

    fn refresh(&self, shared: &Shared) {
        if let Some(n) = shared.store.wal_syncs() {
            self.wal_syncs.inc_by(n.saturating_sub(self.wal_syncs.get()));
        }
        self.log_size.set(*shared.writer.committed().borrow() as i64);
        if let Some(c) = &shared.cluster {
            // Every node applies: its log is what it applied, not what its own writer proposed.
            let p = c.progress().borrow().clone();
            self.log_size.set(p.size as i64);
            self.raft_applied.set(p.applied.map_or(0, |a| a.index) as i64);
            self.raft_term.set(c.raft.metrics().borrow().current_term as i64);
            self.raft_leader.set(i64::from(c.is_leader()));
            if let Some(ms) = p.clock_offset_ms {
                self.clock_offset.set(ms as f64 / 1000.0);
            }
        }
        let now = SystemTime::now();
        self.checkpoint_size.set(shared.log.latest().map_or(0, |c| c.size()) as i64);
        let since = shared.log.published_at().unwrap_or(shared.started);
        self.checkpoint_age.set(now.duration_since(since).unwrap_or_default().as_secs_f64());
        let unix = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        for w in &self.witnesses {
            if let Some(t) = shared.log.last_cosigned(w) {
                let age = unix.saturating_sub(t) as f64;
                self.cosignature_age.get_or_create(&WitnessLabel { witness: w.clone() }).set(age);
            }
        }
        self.writes_refused.set(shared.hold.check().err().map(|e| parts(&e).1));
        self.halted.set(shared.log.halted().map(|r| r.reason));
    }
}

fn refusal(e: &LedgerError) -> RefusalLabels {
    let (code, reason, _, _) = parts(e);
    RefusalLabels { code: code_name(code), reason }
}

pub use ebl_client::client::codes::code_name;

/// The label of a request's path: the Ledger's method, the health or reflection service, or
/// `other`.
pub fn method_label(path: &str) -> &'static str {
    if let Some(m) = path.strip_prefix("/ebl.v1.Ledger/") {
        return METHODS.iter().find(|k| **k == m).copied().unwrap_or("other");
    }
    if path.starts_with("/grpc.health.v1.Health/") {
        return "Health";
    }
    if path.starts_with("/grpc.reflection.") {
        return "ServerReflection";
    }
    "other"
}
