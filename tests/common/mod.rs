//! Shared helpers of the integration tests: a real server on 127.0.0.1:0 over a temporary
//! RocksDB, registered parties, documents, and refusal assertions that check the ledger digest.
#![allow(dead_code)]

pub mod custody;
mod multimodal;
mod witness;
// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use multimodal::*;
#[allow(unused_imports)]
pub use witness::*;

use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::checkpoint::push::WitnessTarget;
use ebl_ledger::client::{self, payload, sign, Client, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use ebl_ledger::server::{init, Ledger};
use ebl_ledger::store::Store;
use ed25519_dalek::SigningKey;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use tonic::Code;
use tonic_types::StatusExt;

pub const ORIGIN: &str = "test.example/ebl";

/// A running ledger with its operator and registered parties.
pub struct TestLedger {
    pub client: Client,
    store: Option<Arc<Store>>,
    pub operator: Identity,
    pub parties: HashMap<String, Identity>,
    pub url: String,
    /// Where its metrics are served (`host:port`).
    pub metrics: std::net::SocketAddr,
    /// The witnesses the ledger pushes to (kept across restarts).
    pub witnesses: Vec<WitnessTarget>,
    /// The copy of its checkpoints outside the data folder, if any (kept across restarts).
    pub checkpoint_copy: Option<PathBuf>,
    /// Its disk reserve, if not the server's default (kept across restarts).
    pub disk_reserve: Option<u64>,
    dir: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The `ebl` binary: ebl-client's, built beside `ebld` (`cargo test --workspace` builds it).
pub fn ebl_bin() -> PathBuf {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ebld")).with_file_name("ebl");
    assert!(
        bin.exists(),
        "{} is missing: `cargo build -p ebl-client --bin ebl` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

pub fn key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

/// A test that ends without `stop()` drops its runtime and with it the server task; the writer
/// thread then closes RocksDB on its own, and if that is the last test, it races the process's
/// exit and RocksDB's static teardown ("pthread lock: Invalid argument", SIGABRT). Keeping one
/// handle to the store until the process ends means the database is never closed at exit.
impl Drop for TestLedger {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
            std::mem::forget(self.store.take());
        }
    }
}

impl TestLedger {
    /// A fresh ledger with no parties.
    pub async fn start() -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), None).await
    }

    /// A fresh ledger with no parties in `dir`, refusing writes while its disk has less than
    /// `disk_reserve` bytes free (the server's default if `None`), across restarts too.
    pub async fn start_in(dir: tempfile::TempDir, disk_reserve: Option<u64>) -> Self {
        let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: key() };
        init(dir.path(), ORIGIN, ebl_core::sig::PublicKey(operator.key.verifying_key().to_bytes())).unwrap();
        let ledger = Ledger::open(dir.path(), None).unwrap();
        let mut l = Self::serve(ledger, dir, operator, HashMap::new(), Vec::new(), None, disk_reserve).await;
        l.disk_reserve = disk_reserve;
        l
    }

    /// A fresh ledger that appends every command it commits to `journal`, and a copy of its data
    /// folder from before its first command (stopped: for replaying the journal into).
    pub async fn start_journaled(journal: PathBuf) -> (Self, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: key() };
        init(dir.path(), ORIGIN, ebl_core::sig::PublicKey(operator.key.verifying_key().to_bytes())).unwrap();
        let fresh = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), fresh.path());
        let ledger = Ledger::open(dir.path(), None).unwrap().with_command_journal(journal);
        (Self::serve(ledger, dir, operator, HashMap::new(), Vec::new(), None, None).await, fresh)
    }

    /// A fresh ledger whose database fails on demand (RocksDB inside a fault-injecting engine):
    /// flip the returned switches to make its reads or writes fail.
    pub async fn start_faulty() -> (Self, Arc<ebl_ledger::store::engine::faulty::Faults>) {
        use ebl_ledger::store::engine::{faulty::FaultyEngine, rocks::RocksEngine};
        let dir = tempfile::tempdir().unwrap();
        let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: key() };
        init(dir.path(), ORIGIN, ebl_core::sig::PublicKey(operator.key.verifying_key().to_bytes())).unwrap();
        let db = dir.path().join(ebl_ledger::server::DB_DIR);
        let rocks = RocksEngine::open(&db, &ebl_ledger::store::keys::SERVED_CFS, 64).unwrap();
        let (engine, faults) = FaultyEngine::new(Box::new(rocks));
        let ledger = Ledger::open_on(dir.path(), None, Store::on(Box::new(engine))).unwrap();
        (Self::serve(ledger, dir, operator, HashMap::new(), Vec::new(), None, None).await, faults)
    }

    async fn open(
        dir: tempfile::TempDir,
        operator: Identity,
        parties: HashMap<String, Identity>,
        witnesses: Vec<WitnessTarget>,
        checkpoint_copy: Option<PathBuf>,
    ) -> Self {
        let ledger = Ledger::open(dir.path(), None).unwrap();
        Self::serve(ledger, dir, operator, parties, witnesses, checkpoint_copy, None).await
    }

    async fn serve(
        ledger: Ledger,
        dir: tempfile::TempDir,
        operator: Identity,
        parties: HashMap<String, Identity>,
        witnesses: Vec<WitnessTarget>,
        checkpoint_copy: Option<PathBuf>,
        disk_reserve: Option<u64>,
    ) -> Self {
        let mut ledger = ledger.with_witnesses(witnesses.clone());
        if let Some(r) = disk_reserve {
            ledger = ledger.with_disk_reserve(r);
        }
        if let Some(copy) = &checkpoint_copy {
            ledger = ledger.with_checkpoint_copy(copy.clone()).unwrap();
        }
        let store = ledger.store();
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics = metrics_listener.local_addr().unwrap();
        let ledger = ledger.with_metrics(metrics_listener);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            ledger
                .serve(listener, async {
                    rx.await.ok();
                })
                .await
                .unwrap();
        });
        let client = Client::connect(url.clone()).await.unwrap();
        TestLedger {
            client,
            store: Some(store),
            operator,
            parties,
            url,
            metrics,
            witnesses,
            checkpoint_copy,
            disk_reserve,
            dir: Some(dir),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// The metrics served now (`GET /metrics`): each sample line as (name with labels, value).
    pub async fn scrape(&self) -> Vec<(String, f64)> {
        let (status, body) = http_get(self.metrics, "/metrics").await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}\n{body}");
        body.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (name, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {l:?}"));
                (name.to_string(), value.parse().unwrap_or_else(|_| panic!("not a value: {l:?}")))
            })
            .collect()
    }

    /// The value of the sample `name` (with its labels, as the exposition writes them), 0 if absent.
    pub async fn metric(&self, name: &str) -> f64 {
        self.scrape().await.into_iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| v)
    }

    /// Stops the server (waiting for the writer) and starts it again on the same data.
    pub async fn restart(self) -> Self {
        self.restart_with(|_| {}).await
    }

    /// Starts a ledger on `dir` (a stopped ledger's folder, or a copy of one) with the operator,
    /// parties, witnesses and checkpoint copy of `like`.
    pub async fn reopen(dir: tempfile::TempDir, like: &TestLedger) -> Self {
        let (operator, parties) = (like.operator.clone(), like.parties.clone());
        Self::open(dir, operator, parties, like.witnesses.clone(), like.checkpoint_copy.clone()).await
    }

    /// Starts a ledger on an existing data folder `dir` whose operator is `operator`.
    pub async fn open_folder(dir: tempfile::TempDir, operator: Identity) -> Self {
        Self::open(dir, operator, HashMap::new(), Vec::new(), None).await
    }

    /// Restarts the ledger on the same data, writing its checkpoints to `path` too from now on.
    pub async fn with_checkpoint_copy(mut self, path: PathBuf) -> Self {
        self.checkpoint_copy = Some(path);
        self.restart().await
    }

    /// Restarts the ledger on the same data, pushing to `witnesses` from now on.
    pub async fn with_witnesses(mut self, witnesses: Vec<WitnessTarget>) -> Self {
        self.witnesses = witnesses;
        self.restart().await
    }

    /// Stops the ledger, copies its data folder (database, key, checkpoint file), and starts
    /// both: two ledgers with the same key and origin and, from here on, different histories.
    pub async fn twin(mut self) -> (Self, Self) {
        let dir = self.stop().await;
        let copy = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), copy.path());
        let (operator, parties, witnesses) =
            (self.operator.clone(), std::mem::take(&mut self.parties), std::mem::take(&mut self.witnesses));
        let a =
            Self::open(dir, operator.clone(), parties.clone(), witnesses.clone(), self.checkpoint_copy.clone()).await;
        let b = Self::open(copy, operator, parties, witnesses, None).await;
        (a, b)
    }

    /// Polls GetCheckpoint until a checkpoint of `size` with at least `k` cosignatures is served.
    pub async fn cosigned_checkpoint(&mut self, size: u64, k: u32) -> pb::CheckpointView {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(c) = self.client.checkpoint_with(k).await {
                if c.size == size {
                    return c;
                }
            }
            assert!(std::time::Instant::now() < deadline, "no checkpoint of size {size} with {k} cosignatures in 60 s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The ledger's checkpoint verifier key.
    pub async fn log_key(&mut self) -> ebl_core::log::VerifierKey {
        ebl_core::log::VerifierKey::parse(&self.info().await.log_verifier_key).unwrap()
    }

    /// The ledger's own secret key (to forge checkpoints a compromised ledger could sign).
    pub fn ledger_secret_key(&self) -> SigningKey {
        ebl_ledger::server::read_secret_key(&self.data_dir().join(ebl_ledger::server::LEDGER_KEY_FILE)).unwrap()
    }

    /// Stops the server, runs `between` on its data folder (e.g. to copy or restore the
    /// database), and starts it again on that folder.
    pub async fn restart_with(mut self, between: impl FnOnce(&std::path::Path)) -> Self {
        let dir = self.stop().await;
        between(dir.path());
        let operator = self.operator.clone();
        let parties = std::mem::take(&mut self.parties);
        let witnesses = std::mem::take(&mut self.witnesses);
        let ledger = Ledger::open(dir.path(), None).unwrap();
        let (copy, reserve) = (self.checkpoint_copy.clone(), self.disk_reserve);
        Self::serve(ledger, dir, operator, parties, witnesses, copy, reserve).await
    }

    /// Polls GetCheckpoint until the latest checkpoint has `size` (generous deadline; no timing
    /// is asserted, only that it comes).
    pub async fn checkpoint_of_size(&mut self, size: u64) -> pb::CheckpointView {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(c) = self.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await {
                if c.get_ref().size == size {
                    return c.into_inner();
                }
            }
            assert!(std::time::Instant::now() < deadline, "no checkpoint of size {size} within 60 s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The ledger's public facts, fetched now.
    pub async fn info(&mut self) -> pb::LedgerInfo {
        self.client.grpc.get_info(pb::GetInfoRequest {}).await.unwrap().into_inner()
    }

    /// Stops the server; returns its data folder.
    pub async fn stop(&mut self) -> tempfile::TempDir {
        self.shutdown.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap();
        // The store must be closed before the folder is opened again.
        self.store = None;
        self.dir.take().unwrap()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.as_ref().unwrap().path().to_path_buf()
    }

    /// Registers a party with a fresh key; CUSTOMS get `jurisdiction`.
    pub async fn register(
        &mut self,
        party: &str,
        role: pb::Role,
        codes: Vec<pb::IdentifyingCode>,
        jurisdiction: &[&str],
    ) -> Identity {
        let op = self.operator.clone();
        self.client
            .operator(&op, client::register_party(party, &format!("{party} Ltd"), role, jurisdiction, codes))
            .await
            .unwrap();
        let id = Identity::new(party, key());
        self.client.operator(&op, client::add_key(party, id.public())).await.unwrap();
        self.parties.insert(party.to_string(), id.clone());
        id
    }

    /// The party registered under `name`.
    pub fn party(&self, name: &str) -> Identity {
        self.parties[name].clone()
    }

    /// Digest over every column family.
    pub fn digest(&self) -> Hash32 {
        self.store().digest().unwrap()
    }

    /// The running ledger's database.
    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("ledger is running")
    }

    /// A shared handle to the running ledger's database (for work on other threads).
    pub fn store_handle(&self) -> Arc<Store> {
        self.store.clone().expect("ledger is running")
    }

    /// Builds a signed ISSUE.
    pub fn issue_record(
        &self,
        carrier: &Identity,
        doc: &[u8],
        profile: pb::DocumentProfile,
        to: &str,
        consignee: &str,
        endorsee: &str,
    ) -> pb::SignedRecord {
        let reference = reference_of(doc);
        let bill = BillId::derive(&carrier.party, &reference, 0);
        let action = Action::Issue(pb::Issue {
            document: doc.to_vec(),
            profile: profile as i32,
            amendment: 0,
            consignee: consignee.into(),
            endorsee: endorsee.into(),
            issuance_manifest: String::new(),
            amends: vec![],
            legs: vec![],
        });
        sign(
            &payload(ORIGIN, Some(bill), Link::default(), carrier.party.as_str(), Some(to), Timestamp::now(), action),
            &[carrier],
        )
    }

    /// A title record on `bill` after the given head, signed by `actor`.
    pub fn title_record(
        &self,
        actor: &Identity,
        bill: BillId,
        link: Link,
        recipient: Option<&str>,
        action: Action,
    ) -> pb::SignedRecord {
        sign(&payload(ORIGIN, Some(bill), link, actor.party.as_str(), recipient, Timestamp::now(), action), &[actor])
    }

    /// The link after the bill's current head (read by the operator).
    pub async fn next_link(&mut self, bill: BillId) -> Link {
        let op = self.operator.clone();
        let v = self.client.bill(&op, bill).await.unwrap();
        Link::after(v.head_position, &v.head)
    }

    /// Builds `who`'s `action` on `bill` after its current head, and asserts it is refused with
    /// `code` and `reason`, changing nothing.
    pub async fn refuse(
        &mut self,
        who: &str,
        bill: BillId,
        to: Option<&str>,
        action: Action,
        code: Code,
        reason: &str,
    ) {
        let link = self.next_link(bill).await;
        let rec = self.title_record(&self.party(who), bill, link, to, action);
        self.assert_refused(rec, code, reason).await;
    }

    /// Submits `rec`, asserts it is refused with `code` and `reason`, and that nothing changed.
    pub async fn assert_refused(&mut self, rec: pb::SignedRecord, code: Code, reason: &str) -> tonic::Status {
        let before = self.digest();
        let err = self.client.submit(rec).await.expect_err("record must be refused");
        assert_eq!(err.code(), code, "status code: {err:?}");
        assert_eq!(reason_of(&err), reason, "reason: {err:?}");
        assert_eq!(self.digest(), before, "a refused record changed the ledger");
        err
    }
}

/// The machine-readable reason of a status.
pub fn reason_of(s: &tonic::Status) -> String {
    s.get_details_error_info().map(|i| i.reason).unwrap_or_default()
}

/// The field a status names.
pub fn field_of(s: &tonic::Status) -> String {
    s.get_details_error_info().and_then(|i| i.metadata.get("field").cloned()).unwrap_or_default()
}

/// An example document by file stem.
pub fn doc(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/examples/documents/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// An example document as JSON.
pub fn doc_json(name: &str) -> Value {
    serde_json::from_slice(&doc(name)).unwrap()
}

/// The document with another reference (so several bills can be issued from one example).
pub fn with_reference(mut v: Value, reference: &str) -> Vec<u8> {
    v["transportDocumentReference"] = Value::String(reference.into());
    serde_json::to_vec(&v).unwrap()
}

/// `transportDocumentReference` of a document.
pub fn reference_of(doc: &[u8]) -> String {
    serde_json::from_slice::<Value>(doc)
        .ok()
        .and_then(|v| v["transportDocumentReference"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The identifying codes of a document party (`consignee`, `endorsee`...) as wire codes.
pub fn codes_of(v: &Value, who: &str) -> Vec<pb::IdentifyingCode> {
    v["documentParties"][who]["identifyingCodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| pb::IdentifyingCode {
                    code_list_provider: c["codeListProvider"].as_str().unwrap_or_default().into(),
                    party_code: c["partyCode"].as_str().unwrap_or_default().into(),
                    code_list_name: c["codeListName"].as_str().unwrap_or_default().into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A code that matches nothing in the examples.
pub fn lei(code: &str) -> Vec<pb::IdentifyingCode> {
    vec![pb::IdentifyingCode {
        code_list_provider: "GLEIF".into(),
        party_code: code.into(),
        code_list_name: "LEI".into(),
    }]
}

pub const ILSTC: &str = "ilstc-chongqing-qinzhou-singapore";
pub const RAIL: &str = "cer-duisburg-chongqing-rail";
pub const YANGTZE: &str = "yangtze-chongqing-shanghai-sea";

/// The cast of reference journey 1: an operator-carrier, an exporter, its bank, a buyer.
pub async fn journey_cast(l: &mut TestLedger) {
    l.register("cq-mto", pb::Role::Carrier, lei("CQMTO000000000000001"), &[]).await;
    l.register("cq-machinery", pb::Role::Trader, lei("CQMACH00000000000002"), &[]).await;
    l.register("cq-bank", pb::Role::Bank, lei("CQBANK00000000000003"), &[]).await;
    l.register("sg-buyer", pb::Role::Trader, lei("SGBUY000000000000004"), &[]).await;
}

/// Issues a to-order ILSTC bill (blank-endorsed at issue) from `cq-mto` to `cq-machinery`.
pub async fn issue_ilstc(l: &mut TestLedger, reference: &str) -> BillId {
    let carrier = l.party("cq-mto");
    let d = with_reference(doc_json(ILSTC), reference);
    let rec = l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "");
    l.client.submit(rec).await.unwrap();
    BillId::derive(&carrier.party, reference, 0)
}

/// A ledger with the journey's cast and one ILSTC bill under `reference`, issued to the exporter.
pub async fn ledger_with_bill(reference: &str) -> (TestLedger, BillId) {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, reference).await;
    (l, bill)
}

/// Polls `cond` every 100 ms for up to `secs` seconds; whether it came true.
pub async fn eventually<F: std::future::Future<Output = bool>>(secs: u64, mut cond: impl FnMut() -> F) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if cond().await {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The write health (`ebl.v1.Ledger.Write`) status now, -1 if it cannot be asked.
pub async fn write_health(url: &str) -> i32 {
    let channel = tonic::transport::Channel::from_shared(url.to_string()).unwrap().connect().await.unwrap();
    let mut h = tonic_health::pb::health_client::HealthClient::new(channel);
    let req = tonic_health::pb::HealthCheckRequest { service: ebl_ledger::server::WRITE_HEALTH.into() };
    h.check(req).await.map(|r| r.into_inner().status).unwrap_or(-1)
}

/// A plain HTTP/1.1 GET of `path` on `addr`: the status line and the body.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (head.lines().next().unwrap_or("").to_string(), body.to_string())
}
