//! Record content and the state machine: a sequence of payloads built from the fuzzer's bytes,
//! signed by the parties' fuzz keys, run through [`prepare`] (shape, origin, signer set, the
//! document of an ISSUE, strict signatures) and applied in log order to a [`MemoryState`] whose
//! registry already holds carriers, traders, a bank, customs and an auditor. The protobuf
//! decoding of payloads lives in the root crate; the values it hands the core (party ids,
//! timestamps, hashes, free text, legs, containers, document bytes) are what the bytes choose
//! here, mostly from tables of well-formed values so that the rules past the edge are reached.
//!
//! Asserts: no panic in any check or rule; a refused record changes nothing; an accepted record
//! applied again is refused (a chain position is never taken twice); each bill's head is the
//! last record of its title chain; and the title statement of every bill touched, bound to a
//! real log of the accepted records, formats, parses back and opens to the same statement.

use super::{key, Input};
use crate::apply::{prepare, Stamp};
use crate::delegation::Delegation;
use crate::document::{self, IdentifyingCode, Profile};
use crate::hash::Hash32;
use crate::ids::{BillId, ChainId, PartyId, OPERATOR};
use crate::log::{inclusion_proof, KeyKind, LogEntry, MemoryTree, VerifierKey};
use crate::memory::MemoryState;
use crate::record::{Action, AmendmentReason, Handoff, Issue, Payload, PledgeMode, SealCheck};
use crate::registry::{Registration, Role};
use crate::route::{Conveyance, Leg, Mode, Place};
use crate::sig::{PublicKey, Signature};
use crate::statement::{ChainHead, StatedTitle, TitleStatement};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The ledger's origin.
pub const ORIGIN: &str = "ledger.example/fuzz";
/// Most records one input applies.
pub const MAX_STEPS: usize = 16;
/// Server time of the first record: 2025-03-04T08:00:00.000Z.
const T0: i64 = 1_741_075_200_000;

/// The registered parties and their roles (each signs with [`key`] of its id).
const PARTIES: [(&str, Role); 7] = [
    ("carrier-a", Role::Carrier),
    ("carrier-b", Role::Carrier),
    ("trader-a", Role::Trader),
    ("trader-b", Role::Trader),
    ("bank-a", Role::Bank),
    ("customs-sg", Role::Customs),
    ("auditor", Role::Auditor),
];
const IDS: [&str; 8] = ["carrier-a", "carrier-b", "trader-a", "trader-b", "bank-a", "customs-sg", "auditor", OPERATOR];
/// trader-b is the consignee the Yangtze bill names.
const YANGTZE_CODE: (&str, &str) = ("GLEIF", "5493006DUI2RW8LNQ436");
const DOCUMENTS: [(&str, Profile); 3] = [
    (include_str!("../../../examples/documents/ilstc-chongqing-qinzhou-singapore.json"), Profile::DcsaEbl3),
    (include_str!("../../../examples/documents/yangtze-chongqing-shanghai-sea.json"), Profile::DcsaEbl3),
    (include_str!("../../../examples/documents/cer-duisburg-chongqing-rail.json"), Profile::NoSeaLeg),
];
const LOCODES: [&str; 6] = ["CNCKG", "CNQZH", "SGSIN", "CNSHA", "DEDUI", "PLMAL"];
const CONTAINERS: [&str; 4] = ["CQLU4518208", "CQLU4520870", "MSKU1234565", "TGHU0000000"];
const SEALS: [&str; 4] = ["CLS2503104471", "CQ25C0088126", "CLS2503104472", "NEW-1"];
const TIMES: [&str; 3] = ["2025-03-04T08:00:00.000Z", "2026-11-28T09:30:00.123Z", "1970-01-01T00:00:00.000Z"];
const TEXTS: [&str; 3] = ["", "SG 2025/7", "damaged door seal"];

/// The ledger after its registry records: every party registered with a key.
#[derive(Clone)]
struct World {
    state: MemoryState,
    tree: MemoryTree,
    /// The log entry of every accepted record, by record hash.
    entries: HashMap<Hash32, LogEntry>,
}

impl World {
    fn seq(&self) -> u64 {
        self.tree.size()
    }

    fn time(&self) -> Timestamp {
        Timestamp(T0 + self.seq() as i64 * 1_000)
    }

    /// Prepares, signs and applies one record; returns whether it was accepted.
    fn run(&mut self, payload: Payload, extra_signer: Option<PartyId>) -> bool {
        let bytes = format!("{}:{payload:?}", self.seq()).into_bytes();
        let mut signers = if payload.check_shape().is_ok() { payload.required_signers() } else { vec![] };
        signers.extend(extra_signer);
        let signatures: Vec<Signature> = signers.iter().map(|p| Signature::sign(p, &key(p.as_str()), &bytes)).collect();
        let Ok(checked) = prepare(bytes, payload, signatures, ORIGIN) else { return false };
        let stamp = Stamp { seq: self.seq(), time: self.time() };
        let before = self.state.clone();
        if self.state.apply(&checked, stamp, &operator()).is_err() {
            assert_eq!(self.state, before, "a refused record changed the state");
            return false;
        }
        let entry = LogEntry::new(checked.hash, b"", stamp.seq, stamp.time);
        self.tree.append(&[entry.leaf_hash()]).expect("the log grows");
        self.entries.insert(checked.hash, entry);
        let after = self.state.clone();
        let again = Stamp { seq: self.seq(), time: self.time() };
        assert!(self.state.apply(&checked, again, &operator()).is_err(), "a record is accepted twice");
        assert_eq!(self.state, after, "a refused record changed the state");
        if let Some(bill) = checked.payload.chain.bill() {
            self.check_bill(bill);
        }
        true
    }

    /// The bill's head is its last title record, and its statement round-trips and opens.
    fn check_bill(&self, id: BillId) {
        let bill = &self.state.bills[&id];
        assert_eq!(self.state.title_records.get(&(id, bill.head_position)), Some(&bill.head), "head is not the last");
        let custody = self.state.custody.get(&id);
        let head = |(position, hash): (u64, Hash32)| ChainHead { position, seq: self.entries[&hash].seq, hash };
        let st = TitleStatement {
            origin: ORIGIN.into(),
            time: self.time(),
            title: StatedTitle::of(bill, custody),
            custody_head: custody.and_then(|c| c.head).map(head),
            registry_head: head(self.state.registry.expect("the registry has records")),
            operator: operator(),
            checkpoint_size: self.seq(),
            checkpoint_root: self.tree.root(),
            entry: self.entries[&bill.head],
            proof: inclusion_proof(&self.tree, bill.head_seq, self.seq()).expect("the head is in the log"),
        };
        assert_eq!(st.title.head.seq, st.entry.seq, "the bill's head_seq is not its head's log index");
        let text = st.to_string();
        assert_eq!(TitleStatement::parse(&text).as_ref(), Ok(&st), "a statement does not parse back:\n{text}");
        let log = VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &key(ORIGIN)).expect("a valid key");
        let note = st.sign(&key(ORIGIN)).expect("a statement signs");
        let opened = TitleStatement::open(&note, &log);
        assert_eq!(opened.as_ref().ok(), Some(&st), "a true statement does not open: {opened:?}");
    }
}

fn operator() -> PublicKey {
    PublicKey(key(OPERATOR).verifying_key().to_bytes())
}

fn party(id: &str) -> PartyId {
    PartyId::parse("party", id).expect("a valid fixed party id")
}

/// The registry every input starts from, built once.
fn world() -> World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let mut w = World { state: MemoryState::default(), tree: MemoryTree::new(), entries: HashMap::new() };
            for (id, role) in PARTIES {
                let mut codes =
                    vec![IdentifyingCode { provider: "GLEIF".into(), party_code: id.into(), code_list_name: None }];
                if id == "trader-b" {
                    let (provider, party_code) = YANGTZE_CODE;
                    codes.push(IdentifyingCode {
                        provider: provider.into(),
                        party_code: party_code.into(),
                        code_list_name: None,
                    });
                }
                let jurisdiction = if role == Role::Customs { vec!["SG".to_string()] } else { vec![] };
                let reg = Registration { party: party(id), name: id.to_uppercase(), role, jurisdiction, codes };
                let add = Action::AddKey { party: party(id), key: PublicKey(key(id).verifying_key().to_bytes()) };
                for action in [Action::RegisterParty(reg), add] {
                    let (position, prev) = match w.state.registry {
                        Some((p, h)) => (p + 1, Some(h)),
                        None => (0, None),
                    };
                    let p = payload(ChainId::Registry, position, prev, party(OPERATOR), None, w.time(), None, action);
                    assert!(w.run(p, None), "the fuzz registry is refused");
                }
            }
            w
        })
        .clone()
}

#[allow(clippy::too_many_arguments)]
fn payload(
    chain: ChainId,
    position: u64,
    prev: Option<Hash32>,
    actor: PartyId,
    recipient: Option<PartyId>,
    claimed_time: Timestamp,
    seen_title: Option<(u64, Hash32)>,
    action: Action,
) -> Payload {
    Payload {
        origin: ORIGIN.into(),
        chain,
        position,
        prev,
        actor,
        agent: None,
        recipient,
        claimed_time,
        seen_title,
        action,
    }
}

/// The target's body.
pub fn run(data: &[u8]) {
    let mut w = world();
    let mut input = Input::new(data);
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let Some((payload, extra)) = record(&w, &mut input) else { continue };
        w.run(payload, extra);
    }
}

/// A party id the bytes choose; `None` where the edge would refuse it.
fn pick_party(input: &mut Input) -> Option<PartyId> {
    PartyId::parse("party", &input.pick(&IDS)).ok()
}

fn opt_party(input: &mut Input) -> Option<Option<PartyId>> {
    if input.flag() {
        pick_party(input).map(Some)
    } else {
        Some(None)
    }
}

fn list(input: &mut Input, table: &[&str]) -> Vec<String> {
    let n = input.byte() % 4;
    (0..n).map(|_| input.pick(table)).collect()
}

fn timestamp(input: &mut Input) -> Option<Timestamp> {
    Timestamp::parse("time", &input.pick(&TIMES)).ok()
}

fn leg(input: &mut Input) -> Option<Leg> {
    let mode = [Mode::Rail, Mode::Sea, Mode::InlandWaterway, Mode::Road, Mode::Air][input.byte() as usize % 5];
    let carrier = pick_party(input)?;
    let from = Place { locode: input.pick(&LOCODES), facility: input.pick(&TEXTS) };
    let to = Place { locode: input.pick(&LOCODES), facility: input.pick(&TEXTS) };
    let conveyance = Conveyance {
        vessel_imo: input.pick(&["9321483", "9074729", "1234567"]),
        voyage: input.pick(&["511S", ""]),
        train_number: input.pick(&["X9012", ""]),
        wagons: list(input, &["3612045"]),
        vehicle_id: input.pick(&["B-1", ""]),
    };
    let planned_departure = if input.flag() { Some(timestamp(input)?) } else { None };
    let planned_arrival = if input.flag() { Some(timestamp(input)?) } else { None };
    Some(Leg { mode, carrier, from, to, conveyance, planned_departure, planned_arrival })
}

/// The route of the ILSTC example: rail by carrier-b to Qinzhou, then sea by carrier-a.
fn ilstc_route() -> Vec<Leg> {
    let place = |l: &str| Place { locode: l.into(), facility: String::new() };
    let leg = |mode, carrier: &str, from, to, conveyance| Leg {
        mode,
        carrier: party(carrier),
        from: place(from),
        to: place(to),
        conveyance,
        planned_departure: None,
        planned_arrival: None,
    };
    vec![
        leg(
            Mode::Rail,
            "carrier-b",
            "CNCKG",
            "CNQZH",
            Conveyance { train_number: "X9012".into(), ..Default::default() },
        ),
        leg(
            Mode::Sea,
            "carrier-a",
            "CNQZH",
            "SGSIN",
            Conveyance { vessel_imo: "9321483".into(), voyage: "511S".into(), ..Default::default() },
        ),
    ]
}

fn legs(input: &mut Input) -> Option<Vec<Leg>> {
    match input.byte() % 4 {
        0 => Some(ilstc_route()),
        1 => Some(vec![]),
        _ => (0..input.byte() % 4).map(|_| leg(input)).collect(),
    }
}

fn issue(input: &mut Input) -> Option<(Issue, Option<String>)> {
    let (document, profile, reference) = match input.byte() % 5 {
        i @ 0..=2 => {
            let (text, profile) = DOCUMENTS[i as usize];
            let reference = document::parse(text.as_bytes(), profile).ok().map(|d| d.reference);
            (text.as_bytes().to_vec(), profile, reference)
        }
        3 => (DOCUMENTS[0].0.as_bytes().to_vec(), Profile::NoSeaLeg, None),
        _ => (input.text().into_bytes(), Profile::DcsaEbl3, None),
    };
    let issue = Issue {
        document,
        profile,
        amendment: u32::from(input.byte() % 3),
        consignee: opt_party(input)?,
        endorsee: opt_party(input)?,
        issuance_manifest: input.flag().then(|| input.pick(&["eyJh.eyJi.c2ln", "a..b", "x"])),
        amends: input.flag().then(|| input.hash()),
        legs: legs(input)?,
    };
    Some((issue, reference))
}

fn seal(input: &mut Input) -> SealCheck {
    SealCheck {
        container: input.pick(&CONTAINERS),
        seal: input.pick(&SEALS),
        new_seal: input.flag().then(|| input.pick(&SEALS)),
        reason: input.pick(&TEXTS),
    }
}

/// The action, and for an ISSUE the document's reference (to derive the bill id).
fn action(input: &mut Input) -> Option<(Action, Option<String>)> {
    let pk = |input: &mut Input| match input.byte() % 3 {
        0 => PublicKey(input.hash().0),
        _ => PublicKey(key(&input.pick(&IDS)).verifying_key().to_bytes()),
    };
    let reason = [AmendmentReason::Swtp, AmendmentReason::Cod, AmendmentReason::Swi];
    let a = match input.byte() % 27 {
        0 => Action::RegisterParty(Registration {
            party: pick_party(input)?,
            name: input.pick(&["New Party", " "]),
            role: PARTIES[input.byte() as usize % PARTIES.len()].1,
            jurisdiction: list(input, &["SG", "CNQZH", "sg"]),
            codes: (0..input.byte() % 3)
                .map(|_| IdentifyingCode {
                    provider: input.pick(&["GLEIF", ""]),
                    party_code: input.pick(&["X1"]),
                    code_list_name: None,
                })
                .collect(),
        }),
        1 => Action::AddKey { party: pick_party(input)?, key: pk(input) },
        2 => Action::RevokeKey { party: pick_party(input)?, key: pk(input), reason: input.pick(&TEXTS) },
        3 => Action::RotateKey { party: pick_party(input)?, old: pk(input), new: pk(input) },
        4 => Action::Delegate(Delegation {
            principal: pick_party(input)?,
            agent: pick_party(input)?,
            actions: list(input, &crate::delegation::DELEGABLE),
            reference: input.pick(&["POA-1", ""]),
        }),
        5 => Action::RevokeDelegation {
            principal: pick_party(input)?,
            agent: pick_party(input)?,
            reason: input.pick(&TEXTS),
        },
        6 => {
            let (issue, reference) = issue(input)?;
            return Some((Action::Issue(Box::new(issue)), reference));
        }
        7 => Action::Transfer,
        8 => Action::Endorse,
        9 => Action::EndorseToOrder,
        10 => Action::BlankEndorse,
        11 => Action::Sign,
        12 => Action::Reject { reason: input.pick(&TEXTS) },
        13 => Action::SurrenderForDelivery,
        14 => Action::SurrenderForAmendment(reason[input.byte() as usize % 3]),
        15 => Action::AcceptSurrender { paper_bill_number: input.flag().then(|| input.pick(&["P-1", ""])) },
        16 => Action::RejectSurrender { reason: input.pick(&TEXTS) },
        17 => Action::Pledge {
            mode: [PledgeMode::Possession, PledgeMode::Endorsement][input.byte() as usize % 2],
            loan_reference: input.pick(&["LOAN-1"]),
        },
        18 => Action::ReleasePledge,
        19 => Action::EnforcePledge { reason: input.pick(&TEXTS) },
        20 => Action::Depart {
            leg: u32::from(input.byte() % 4),
            containers: list(input, &CONTAINERS),
            conveyance: input
                .flag()
                .then(|| Conveyance { train_number: input.pick(&["X1", ""]), ..Default::default() }),
        },
        21 => Action::Arrive { leg: u32::from(input.byte() % 4), containers: list(input, &CONTAINERS) },
        22 => Action::Handoff(Box::new(Handoff {
            leg: u32::from(input.byte() % 4),
            place: input.pick(&LOCODES),
            containers: list(input, &CONTAINERS),
            seals: (0..input.byte() % 5).map(|_| seal(input)).collect(),
            exceptions: list(input, &["CQLU4518208: dented", "no colon"]),
        })),
        23 => Action::Deliver { containers: list(input, &CONTAINERS) },
        24 => Action::CustomsHold { declaration: input.pick(&TEXTS), reason: input.pick(&TEXTS) },
        25 => Action::CustomsRelease { declaration: input.pick(&TEXTS), reason: input.pick(&TEXTS) },
        _ => Action::Reroute {
            from_leg: u32::from(input.byte() % 4),
            legs: (0..input.byte() % 3).map(|_| leg(input)).collect::<Option<_>>()?,
        },
    };
    Some((a, None))
}

/// One record the bytes describe, with the chain fields filled in from the state (or, if the
/// bytes say so, taken as they are), and perhaps a signer too many.
fn record(w: &World, input: &mut Input) -> Option<(Payload, Option<PartyId>)> {
    let (action, reference) = action(input)?;
    let actor = pick_party(input)?;
    let recipient = opt_party(input)?;
    let agent = opt_party(input)?;
    let mut bills: Vec<BillId> = w.state.bills.keys().copied().collect();
    bills.sort();
    let bill = match bills.len() {
        0 => BillId(Hash32::default()),
        n => bills[input.byte() as usize % n],
    };
    let title_head = w.state.bills.get(&bill).map(|b| (b.head_position, b.head));
    let next = |head: Option<(u64, Hash32)>| head.map_or((0, None), |(p, h)| (p + 1, Some(h)));
    let (chain, (position, prev), seen_title) = if input.byte() >= 0xf0 {
        let chain = match input.byte() % 3 {
            0 => ChainId::Registry,
            1 => ChainId::Title(bill),
            _ => ChainId::Custody(bill),
        };
        let prev = input.flag().then(|| input.hash());
        (chain, (input.u64(), prev), input.flag().then(|| (input.u64(), input.hash())))
    } else if action.is_registry() {
        (ChainId::Registry, next(w.state.registry), None)
    } else if let Action::Issue(body) = &action {
        let id = BillId::derive(&actor, reference.as_deref().unwrap_or(""), body.amendment);
        (ChainId::Title(id), (0, None), None)
    } else if action.is_custody() {
        let head = w.state.custody.get(&bill).and_then(|c| c.head);
        (ChainId::Custody(bill), next(head), title_head)
    } else {
        (ChainId::Title(bill), next(title_head), None)
    };
    let claimed_time = match input.byte() {
        0xf0..=0xff => timestamp(input)?,
        back => Timestamp(w.time().0 - i64::from(back) * 5_000),
    };
    let mut p = payload(chain, position, prev, actor, recipient, claimed_time, seen_title, action);
    p.agent = agent;
    if input.byte() >= 0xf8 {
        p.origin = input.pick(&["other.example/ledger"]);
    }
    let extra = if input.byte() >= 0xf8 { pick_party(input) } else { None };
    Some((p, extra))
}
