//! The load: parties, and chains of records signed before a phase starts, so that no signing
//! happens while the server is measured.
//!
//! Each bill of a **mixed** phase is one chain of 21 records: an ISSUE of journey 1's DCSA
//! document (rail Chongqing to Qinzhou, sea to Singapore; its own reference and container
//! numbers) with its route, then 20 records: 15 title records (ENDORSE_TO_ORDER and TRANSFER by
//! turns, round the traders) and the 5 custody records of the route (DEPART, ARRIVE, the
//! Qinzhou HANDOFF signed by both carriers, DEPART, ARRIVE), each naming the title head of its
//! moment. A **transfer** phase's bills are issued beforehand and then passed on by TRANSFER
//! alone (the bills are endorsed in blank). About 1% of each phase's records are bad, and must be
//! refused: a copy of the next record with a flipped signature bit, or a second record at a
//! chain position already taken (a stale head).

use crate::client::{add_key, payload, register_party, sign, Identity, Link};
use crate::pb::{self, record_payload::Action};
use ebl_core::ids::BillId;
use ebl_core::record::record_hash;
use ebl_core::time::Timestamp;
use ed25519_dalek::SigningKey;
use prost::Message;

/// Journey 1's transport document, as the examples give it.
const DOCUMENT: &str = include_str!("../../../examples/documents/ilstc-chongqing-qinzhou-singapore.json");
/// Its route.
const ROUTE: &str = include_str!("../../../examples/routes/ilstc-chongqing-qinzhou-singapore.json");
/// The document's container numbers, replaced by each bill's own.
const CONTAINERS: [&str; 2] = ["CQLU4518208", "CQLU4520870"];
/// The document's seals, per container.
const SEALS: [[&str; 2]; 2] = [["CLS2503104471", "CQ25C0088126"], ["CLS2503104472", "CQ25C0088127"]];

/// The issuing carrier, the route's two carriers, and the first holder.
pub const ISSUER: &str = "cq-mto";
const RAIL: &str = "cr-chongqing";
const SHIP: &str = "bbw-shipping";
/// Traders the bills pass round.
const TRADERS: usize = 8;
/// Records after the ISSUE in each bill of a mixed phase.
pub const PER_BILL: usize = 20;

/// What the ledger must answer to a record of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Accepted.
    Accepted,
    /// Refused (a bad record).
    Refused,
}

/// One record of the load and the answer it must get.
#[derive(Clone)]
pub struct Item {
    /// The record.
    pub rec: pb::SignedRecord,
    /// What it must get.
    pub expect: Expect,
}

/// The signing identities of the load, from fixed seeds (the same parties every run).
pub struct Cast {
    /// The operator (its key made by the bench for the ledger it starts).
    pub operator: Identity,
    issuer: Identity,
    rail: Identity,
    ship: Identity,
    traders: Vec<Identity>,
    origin: String,
}

fn seeded(party: &str, seed: u8) -> Identity {
    Identity::new(party, SigningKey::from_bytes(&[seed; 32]))
}

fn trader_name(i: usize) -> String {
    if i == 0 {
        "cq-machinery".into()
    } else {
        format!("trader-{i}")
    }
}

impl Cast {
    /// The cast of a ledger of `origin` run by `operator`.
    pub fn new(operator: Identity, origin: &str) -> Self {
        Cast {
            operator,
            issuer: seeded(ISSUER, 2),
            rail: seeded(RAIL, 3),
            ship: seeded(SHIP, 4),
            traders: (0..TRADERS).map(|i| seeded(&trader_name(i), 10 + i as u8)).collect(),
            origin: origin.into(),
        }
    }

    /// The identity of a party of the cast.
    fn identity(&self, party: &str) -> &Identity {
        [&self.issuer, &self.rail, &self.ship]
            .into_iter()
            .chain(&self.traders)
            .find(|id| id.party.as_str() == party)
            .expect("a party of the cast")
    }

    /// A party that may read every bill of the load (the issuer).
    pub fn reader(&self) -> &Identity {
        &self.issuer
    }

    /// The registry actions that register the cast, in order (each party, then its key).
    pub fn registry(&self) -> Vec<Action> {
        let carriers = [&self.issuer, &self.rail, &self.ship].map(|c| (c, pb::Role::Carrier));
        let traders = self.traders.iter().map(|t| (t, pb::Role::Trader));
        let mut out = Vec::new();
        for (i, (id, role)) in carriers.into_iter().chain(traders).enumerate() {
            let lei = pb::IdentifyingCode {
                code_list_provider: "GLEIF".into(),
                party_code: format!("BENCH{i:015}"),
                code_list_name: "LEI".into(),
            };
            out.push(register_party(id.party.as_str(), "Bench party", role, &[], vec![lei]));
            out.push(add_key(id.party.as_str(), id.public()));
        }
        out
    }

    /// The ISSUE of bill number `n` (its reference and containers derived from `n`), and the
    /// bill's id.
    fn issue(&self, n: u64, now: Timestamp) -> (BillId, pb::SignedRecord) {
        let reference = format!("BENCH{n:010}");
        let mut doc = DOCUMENT.replace("CLSC25CKGSIN000187", &reference);
        for (i, c) in CONTAINERS.iter().enumerate() {
            doc = doc.replace(c, &container(n, i));
        }
        let mut doc: serde_json::Value = serde_json::from_str(&doc).expect("the example document is JSON");
        doc["transportDocumentReference"] = reference.clone().into();
        let bill = BillId::derive(&self.issuer.party, &reference, 0);
        let legs = crate::cli::route::parse_legs(ROUTE, "the example route").expect("the example route parses");
        let action = Action::Issue(pb::Issue {
            document: serde_json::to_vec(&doc).expect("JSON"),
            profile: pb::DocumentProfile::DcsaEbl3 as i32,
            legs,
            ..Default::default()
        });
        let p = payload(&self.origin, Some(bill), Link::default(), ISSUER, Some(&trader_name(0)), now, action);
        (bill, sign(&p, &[&self.issuer]))
    }
}

/// Container `i` of bill `n`: owner code BNCU, a serial from `n`, and its ISO 6346 check digit.
fn container(n: u64, i: usize) -> String {
    let first = format!("BNCU{:06}", (n * 2 + i as u64) % 1_000_000);
    let digit = ebl_core::document::iso6346::check_digit(&first).expect("a valid owner code and serial");
    format!("{first}{digit}")
}

/// The kind of chains a phase sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// ISSUE then 20 title and custody records per bill.
    Mixed,
    /// TRANSFER records alone, on bills issued beforehand.
    Transfers,
}

/// The chains of one phase: one per bill, each in the order it must be submitted.
pub struct Chains {
    /// ISSUE records to send before the phase (transfer phases), not measured.
    pub setup: Vec<pb::SignedRecord>,
    /// Per bill, its records in order.
    pub bills: Vec<Vec<Item>>,
}

impl Chains {
    /// How many records the phase sends, bad ones included.
    pub fn len(&self) -> usize {
        self.bills.iter().map(Vec::len).sum()
    }

    /// Whether it sends none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A small deterministic generator (splitmix64), for which records are made bad.
struct Dice(u64);

impl Dice {
    fn roll(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Builds `bills` chains of `mix` for bills numbered from `first`, each of `per_bill` records
/// after its ISSUE, signed on all cores. Claimed times are now: title records must reach the
/// ledger within 5 minutes of signing.
pub fn chains(cast: &Cast, mix: Mix, first: u64, bills: usize, per_bill: usize) -> Chains {
    let now = Timestamp::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let per_thread = bills.div_ceil(threads).max(1);
    let parts: Vec<(Vec<pb::SignedRecord>, Vec<Vec<Item>>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..bills)
            .step_by(per_thread)
            .map(|start| {
                let end = (start + per_thread).min(bills);
                s.spawn(move || {
                    let mut setup = Vec::new();
                    let mut out = Vec::new();
                    for b in start..end {
                        let n = first + b as u64;
                        let mut dice = Dice(n);
                        let (issue, chain) = match mix {
                            Mix::Mixed => (None, mixed(cast, n, per_bill, now)),
                            Mix::Transfers => {
                                let (bill, rec) = cast.issue(n, now);
                                let head = Link::after(0, &record_hash(&rec.payload).0);
                                (Some(rec), transfers(cast, n, bill, head, per_bill, now))
                            }
                        };
                        setup.extend(issue);
                        out.push(with_bad(cast, chain, &mut dice));
                    }
                    (setup, out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("signing thread")).collect()
    });
    let mut out = Chains { setup: Vec::new(), bills: Vec::with_capacity(bills) };
    for (setup, b) in parts {
        out.setup.extend(setup);
        out.bills.extend(b);
    }
    out
}

/// The heads of a bill while its chain is built.
struct Heads {
    n: u64,
    bill: BillId,
    title: Link,
    custody: Link,
    holder: usize,
}

impl Heads {
    fn title_head(&self) -> (u64, Vec<u8>) {
        (self.title.position - 1, self.title.prev.map(|h| h.0.to_vec()).unwrap_or_default())
    }
}

/// A mixed chain: ISSUE, then title records by turns with the route's custody records.
fn mixed(cast: &Cast, n: u64, per_bill: usize, now: Timestamp) -> Vec<pb::SignedRecord> {
    let (bill, issue) = cast.issue(n, now);
    let title = Link::after(0, &record_hash(&issue.payload).0);
    let mut h = Heads { n, bill, title, custody: Link::default(), holder: 0 };
    let mut out = vec![issue];
    let custody = custody_steps();
    // Custody records spread evenly among the title records.
    let every = (per_bill / custody.len().max(1)).max(1);
    let (mut c, mut title_step) = (0, 0);
    for i in 0..per_bill {
        if c < custody.len() && i % every == every - 1 {
            out.push(custody_record(cast, &mut h, &custody[c], now));
            c += 1;
        } else {
            out.push(title_record(cast, &mut h, title_step, now));
            title_step += 1;
        }
    }
    out
}

/// A transfer chain after the ISSUE at `head`.
fn transfers(cast: &Cast, n: u64, bill: BillId, head: Link, per_bill: usize, now: Timestamp) -> Vec<pb::SignedRecord> {
    let mut h = Heads { n, bill, title: head, custody: Link::default(), holder: 0 };
    (0..per_bill).map(|_| transfer(cast, &mut h, now)).collect()
}

/// The next title record: ENDORSE_TO_ORDER to the next trader, then TRANSFER to it.
fn title_record(cast: &Cast, h: &mut Heads, step: usize, now: Timestamp) -> pb::SignedRecord {
    if step % 2 == 1 {
        return transfer(cast, h, now);
    }
    let next = (h.holder + 1) % TRADERS;
    let action = Action::EndorseToOrder(pb::EndorseToOrder {});
    title_signed(cast, h, &trader_name(next), action, now)
}

/// TRANSFER to the next trader.
fn transfer(cast: &Cast, h: &mut Heads, now: Timestamp) -> pb::SignedRecord {
    let next = (h.holder + 1) % TRADERS;
    let rec = title_signed(cast, h, &trader_name(next), Action::Transfer(pb::Transfer {}), now);
    h.holder = next;
    rec
}

fn title_signed(cast: &Cast, h: &mut Heads, to: &str, action: Action, now: Timestamp) -> pb::SignedRecord {
    let holder = &cast.traders[h.holder];
    let p = payload(&cast.origin, Some(h.bill), h.title, holder.party.as_str(), Some(to), now, action);
    let rec = sign(&p, &[holder]);
    h.title = Link::after(h.title.position, &record_hash(&rec.payload).0);
    rec
}

/// One custody step of the route: who acts, on which leg, and what.
struct Step {
    actor: fn(&Cast) -> &Identity,
    cosigner: Option<fn(&Cast) -> &Identity>,
    recipient: Option<&'static str>,
    action: fn(&[String]) -> Action,
}

fn custody_steps() -> Vec<Step> {
    fn rail(c: &Cast) -> &Identity {
        &c.rail
    }
    fn ship(c: &Cast) -> &Identity {
        &c.ship
    }
    vec![
        Step { actor: rail, cosigner: None, recipient: None, action: |b| depart(0, b) },
        Step { actor: rail, cosigner: None, recipient: None, action: |b| arrive(0, b) },
        Step {
            actor: rail,
            cosigner: Some(ship),
            recipient: Some(SHIP),
            action: |b| {
                let seals = b
                    .iter()
                    .zip(SEALS)
                    .flat_map(|(c, s)| {
                        s.map(|seal| pb::SealCheck { container: c.clone(), seal: seal.into(), ..Default::default() })
                    })
                    .collect();
                Action::Handoff(pb::Handoff {
                    leg: 0,
                    place: "CNQZH".into(),
                    containers: b.to_vec(),
                    seals,
                    exceptions: vec![],
                })
            },
        },
        Step { actor: ship, cosigner: None, recipient: None, action: |b| depart(1, b) },
        Step { actor: ship, cosigner: None, recipient: None, action: |b| arrive(1, b) },
    ]
}

fn depart(leg: u32, boxes: &[String]) -> Action {
    Action::Depart(pb::Depart { leg, containers: boxes.to_vec(), conveyance: None })
}

fn arrive(leg: u32, boxes: &[String]) -> Action {
    Action::Arrive(pb::Arrive { leg, containers: boxes.to_vec() })
}

/// The next custody record, after the custody head and naming the title head.
fn custody_record(cast: &Cast, h: &mut Heads, step: &Step, now: Timestamp) -> pb::SignedRecord {
    let boxes: Vec<String> = (0..CONTAINERS.len()).map(|i| container(h.n, i)).collect();
    let actor = (step.actor)(cast);
    let mut p = payload(
        &cast.origin,
        Some(h.bill),
        h.custody,
        actor.party.as_str(),
        step.recipient,
        now,
        (step.action)(&boxes),
    );
    (p.title_position, p.title_head) = h.title_head();
    let mut signers = vec![actor];
    signers.extend(step.cosigner.map(|c| c(cast)));
    let rec = sign(&p, &signers);
    h.custody = Link::after(h.custody.position, &record_hash(&rec.payload).0);
    rec
}

/// The chain with about 1% bad records mixed in: a bad signature before a record, or a stale
/// head (another record at the same position) after it.
fn with_bad(cast: &Cast, chain: Vec<pb::SignedRecord>, dice: &mut Dice) -> Vec<Item> {
    let mut out = Vec::with_capacity(chain.len() + 1);
    for rec in chain {
        let roll = dice.roll() % 200;
        if roll == 0 {
            out.push(Item { rec: bad_signature(&rec), expect: Expect::Refused });
        }
        let stale = (roll == 1).then(|| stale_copy(cast, &rec));
        out.push(Item { rec, expect: Expect::Accepted });
        if let Some(rec) = stale {
            out.push(Item { rec, expect: Expect::Refused });
        }
    }
    out
}

/// The record with one bit of its first signature flipped.
fn bad_signature(rec: &pb::SignedRecord) -> pb::SignedRecord {
    let mut bad = rec.clone();
    if let Some(s) = bad.signatures.first_mut() {
        if let Some(b) = s.signature.get_mut(10) {
            *b ^= 0x01;
        }
    }
    bad
}

/// Another record at the same chain position as `rec`, signed by the same parties: `rec`'s
/// payload with a claimed time a millisecond earlier. Refused once `rec` holds the position.
fn stale_copy(cast: &Cast, rec: &pb::SignedRecord) -> pb::SignedRecord {
    let mut p = pb::RecordPayload::decode(&rec.payload[..]).expect("a payload this module encoded");
    let claimed = Timestamp::parse("claimed_time", &p.claimed_time).expect("a time this module wrote");
    p.claimed_time = claimed.plus_ms(-1).to_rfc3339();
    let signers: Vec<&Identity> = rec.signatures.iter().map(|s| cast.identity(&s.party)).collect();
    sign(&p, &signers)
}
