//! The load: lanes that each pass one bill between traders with TRANSFER records, sending each
//! record to a node picked at random and, when a call fails for want of a leader (UNAVAILABLE, a
//! deadline, a cut connection), the same signed record again to another node until it is
//! acknowledged: a record committed whose answer was lost comes back as a duplicate with its
//! original receipt. Every acknowledgement is kept; any refusal by the rules is a fault.

use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{self, payload, sign, Client, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use rand::Rng;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Code;

/// How long one call may take before it is sent again elsewhere.
const CALL_TIMEOUT: Duration = Duration::from_secs(6);

/// An acknowledgement a client saw.
#[derive(Debug, Clone)]
pub struct Ack {
    /// The bill.
    pub bill: BillId,
    /// The record's place in the bill's chain.
    pub position: u64,
    /// The record's hash.
    pub hash: Vec<u8>,
    /// Its place in the log.
    pub seq: u64,
    /// When the client got it.
    pub at: Instant,
    /// The time the leader that sequenced it stamped on it.
    pub stamped: Timestamp,
}

/// The parties and what every lane shares.
pub struct World {
    /// The ledger's origin.
    pub origin: String,
    /// The operator.
    pub operator: Identity,
    /// The carrier that issues the bills.
    pub carrier: Identity,
    /// The traders.
    pub traders: Vec<Identity>,
    /// The nodes' client URLs.
    pub urls: Vec<String>,
    /// Every acknowledgement, in the order seen.
    pub acks: Mutex<Vec<Ack>>,
    /// Refusals that should not have happened.
    pub faults: Mutex<Vec<String>>,
    /// Set to stop the lanes.
    pub stop: AtomicBool,
    /// Acknowledgements that came as duplicates (a record committed whose first answer was lost).
    pub duplicates: std::sync::atomic::AtomicU64,
}

/// Whether a failed call may be sent again elsewhere: the cluster could not answer, the rules
/// did not refuse.
fn retryable(s: &tonic::Status) -> bool {
    matches!(s.code(), Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled | Code::Internal)
        && !s.message().contains("CHAIN_BROKEN")
}

impl World {
    /// A world of `traders` traders over the nodes at `urls`.
    pub fn new(origin: &str, operator: Identity, traders: usize, urls: Vec<String>) -> Arc<Self> {
        let fresh = |p: &str| Identity::new(p, ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng));
        Arc::new(World {
            origin: origin.into(),
            operator,
            carrier: fresh("carrier"),
            traders: (0..traders).map(|i| fresh(&format!("trader-{i}"))).collect(),
            urls,
            acks: Mutex::default(),
            faults: Mutex::default(),
            stop: AtomicBool::new(false),
            duplicates: Default::default(),
        })
    }

    /// Sends `rec` until some node acknowledges it (or the world stops); `None` if refused.
    pub async fn send(&self, rec: &pb::SignedRecord) -> Option<pb::Receipt> {
        self.send_with(&mut Vec::new(), rec).await
    }

    /// [`World::send`] over the connections in `clients` (one per node, made when first needed
    /// and dropped when a call through it fails).
    async fn send_with(&self, clients: &mut Vec<Option<Client>>, rec: &pb::SignedRecord) -> Option<pb::Receipt> {
        clients.resize_with(self.urls.len(), || None);
        let mut node = rand::thread_rng().gen_range(0..self.urls.len());
        while !self.stop.load(SeqCst) {
            node = (node + 1) % self.urls.len();
            if clients[node].is_none() {
                clients[node] = Client::connect(self.urls[node].clone()).await.ok();
            }
            let Some(c) = clients[node].as_mut() else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let mut req = tonic::Request::new(rec.clone());
            req.set_timeout(CALL_TIMEOUT);
            let answer = c.grpc.submit(req).await;
            if answer.is_err() {
                clients[node] = None;
            }
            match answer {
                Ok(r) => {
                    let r = r.into_inner();
                    if r.duplicate {
                        self.duplicates.fetch_add(1, SeqCst);
                    }
                    let bill = BillId(ebl_core::hash::Hash32::from_slice(&r.bill_id).unwrap_or_default());
                    let ack = Ack {
                        bill,
                        position: r.position,
                        hash: r.record_hash.clone(),
                        seq: r.seq,
                        at: Instant::now(),
                        stamped: Timestamp::parse("server_time", &r.server_time).unwrap_or(Timestamp(0)),
                    };
                    self.acks.lock().unwrap().push(ack);
                    return Some(r);
                }
                Err(s) if retryable(&s) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(s) => {
                    self.faults.lock().unwrap().push(format!("node {node} refused a record: {s:?}"));
                    return None;
                }
            }
        }
        None
    }

    /// Registers the parties and issues `bills` bills, one per lane.
    pub async fn setup(&self, count: usize) -> Vec<BillId> {
        let op = &self.operator;
        let parties = std::iter::once((&self.carrier, pb::Role::Carrier))
            .chain(self.traders.iter().map(|t| (t, pb::Role::Trader)));
        let mut registry = Link::default();
        for (i, (id, role)) in parties.enumerate() {
            let code = pb::IdentifyingCode {
                code_list_provider: "GLEIF".into(),
                party_code: format!("CLUSTER{i:013}"),
                code_list_name: "LEI".into(),
            };
            for action in [
                client::register_party(id.party.as_str(), "Cluster test party", role, &[], vec![code.clone()]),
                client::add_key(id.party.as_str(), id.public()),
            ] {
                let p = payload(&self.origin, None, registry, "operator", None, Timestamp::now(), action);
                let rec = sign(&p, &[op]);
                let r = self.send(&rec).await.expect("registry record acknowledged");
                registry = Link::after(r.position, &r.record_hash);
            }
        }
        let doc: serde_json::Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/documents/ilstc-chongqing-qinzhou-singapore.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let mut bills = Vec::new();
        for i in 0..count {
            let mut d = doc.clone();
            let reference = format!("CLUSTER{i:05}");
            d["transportDocumentReference"] = reference.clone().into();
            let bill = BillId::derive(&self.carrier.party, &reference, 0);
            let action = Action::Issue(pb::Issue {
                document: serde_json::to_vec(&d).unwrap(),
                profile: pb::DocumentProfile::DcsaEbl3 as i32,
                ..Default::default()
            });
            let holder = self.traders[i % self.traders.len()].party.as_str();
            let p =
                payload(&self.origin, Some(bill), Link::default(), "carrier", Some(holder), Timestamp::now(), action);
            self.send(&sign(&p, &[&self.carrier])).await.expect("ISSUE acknowledged");
            bills.push(bill);
        }
        bills
    }

    /// Runs lane `lane` on `bill` (issued to trader `lane % traders`) until the world stops.
    pub async fn lane(self: Arc<Self>, lane: usize, bill: BillId) {
        let mut holder = lane % self.traders.len();
        let mut next = Link::after(0, &self.acks.lock().unwrap().iter().find(|a| a.bill == bill).unwrap().hash);
        let mut clients = Vec::new();
        while !self.stop.load(SeqCst) {
            let to = (holder + 1 + rand::thread_rng().gen_range(0..self.traders.len() - 1)) % self.traders.len();
            let (from, recipient) = (&self.traders[holder], self.traders[to].party.as_str());
            let p = payload(
                &self.origin,
                Some(bill),
                next,
                from.party.as_str(),
                Some(recipient),
                Timestamp::now(),
                Action::Transfer(pb::Transfer {}),
            );
            let Some(r) = self.send_with(&mut clients, &sign(&p, &[from])).await else { return };
            holder = to;
            next = Link::after(r.position, &r.record_hash);
        }
    }
}
