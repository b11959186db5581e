//! The state machine without any I/O: an in-memory view, records applied in order.
mod mem;

use ebl_core::apply::{apply, prepare, Checked, Stamp, View};
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::delegation::Grants;
use ebl_core::document::Profile;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId, PartyId};
use ebl_core::memory::MemoryState;
use ebl_core::record::{Action, Issue, Payload};
use ebl_core::registry::Party;
use ebl_core::registry::{KeyRecord, Registration, Role};
use ebl_core::sig::{PublicKey, Signature};
use ebl_core::time::Timestamp;
use ebl_core::{ApplyError, Unreadable};
use ed25519_dalek::SigningKey;
use mem::Mem;

const ORIGIN: &str = "core.test/ebl";

fn pid(s: &str) -> PartyId {
    PartyId::parse("p", s).unwrap()
}

/// Signs a payload; the bytes are any unique encoding (the wire format is the edge's business).
fn checked(p: Payload, signer: &SigningKey, party: &str) -> ebl_core::Result<Checked> {
    let bytes = format!("{p:?}").into_bytes();
    let sig = Signature::sign(&pid(party), signer, &bytes);
    prepare(bytes, p, vec![sig], ORIGIN)
}

struct Chain {
    position: u64,
    prev: Option<Hash32>,
}

fn payload(
    chain: ChainId,
    link: &Chain,
    actor: &str,
    recipient: Option<&str>,
    t: Timestamp,
    action: Action,
) -> Payload {
    Payload {
        origin: ORIGIN.into(),
        chain,
        position: link.position,
        prev: link.prev,
        agent: None,
        actor: pid(actor),
        recipient: recipient.map(pid),
        claimed_time: t,
        seen_title: None,
        action,
    }
}

fn doc() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/documents/ilstc-chongqing-qinzhou-singapore.json"))
        .unwrap()
}

/// A whole little history: registry, issue, endorse, transfer. Returns the final view.
fn history(op: &SigningKey, carrier: &SigningKey, shipper: &SigningKey) -> Mem {
    let opk = PublicKey(op.verifying_key().to_bytes());
    let mut m = Mem::default();
    for c in history_records(op, carrier, shipper) {
        m.run(&c, &opk, T).unwrap();
    }
    m
}

const T: Timestamp = Timestamp(1_800_000_000_000);

/// The records of [`history`], in order.
fn history_records(op: &SigningKey, carrier: &SigningKey, shipper: &SigningKey) -> Vec<Checked> {
    let t = T;
    let mut out = Vec::new();
    let mut reg = Chain { position: 0, prev: None };
    let mut registry = |out: &mut Vec<Checked>, action: Action| {
        let c = checked(payload(ChainId::Registry, &reg, "operator", None, t, action), op, "operator").unwrap();
        reg = Chain { position: reg.position + 1, prev: Some(c.hash) };
        out.push(c);
    };
    for (id, role, key) in
        [("carrier", Role::Carrier, carrier), ("shipper", Role::Trader, shipper), ("bank", Role::Bank, shipper)]
    {
        let r = Registration { party: pid(id), name: id.into(), role, jurisdiction: vec![], codes: vec![] };
        registry(&mut out, Action::RegisterParty(r));
        if id != "bank" {
            registry(&mut out, Action::AddKey { party: pid(id), key: PublicKey(key.verifying_key().to_bytes()) });
        }
    }
    let doc = ebl_core::document::parse(&doc(), Profile::DcsaEbl3).unwrap();
    let bill = BillId::derive(&pid("carrier"), &doc.reference, 0);
    let issue = Issue {
        document: self::doc(),
        profile: Profile::DcsaEbl3,
        amendment: 0,
        consignee: None,
        endorsee: None,
        issuance_manifest: None,
        amends: None,
        legs: vec![],
    };
    let c = checked(
        payload(
            ChainId::Title(bill),
            &Chain { position: 0, prev: None },
            "carrier",
            Some("shipper"),
            t,
            Action::Issue(Box::new(issue)),
        ),
        carrier,
        "carrier",
    )
    .unwrap();
    let e = checked(
        payload(
            ChainId::Title(bill),
            &Chain { position: 1, prev: Some(c.hash) },
            "shipper",
            Some("bank"),
            t,
            Action::EndorseToOrder,
        ),
        shipper,
        "shipper",
    )
    .unwrap();
    let tr = checked(
        payload(
            ChainId::Title(bill),
            &Chain { position: 2, prev: Some(e.hash) },
            "shipper",
            Some("bank"),
            t,
            Action::Transfer,
        ),
        shipper,
        "shipper",
    )
    .unwrap();
    out.extend([c, e, tr]);
    out
}

/// A view over a memory state whose one kind of lookup fails, as a storage read would.
struct Failing<'a> {
    state: &'a MemoryState,
    fails: &'static str,
}

impl Failing<'_> {
    fn read<T>(&self, what: &'static str, value: T) -> Result<T, Unreadable> {
        if what == self.fails {
            return Err(Unreadable { what: format!("{what} lookup failed"), damaged: false });
        }
        Ok(value)
    }
}

impl View for Failing<'_> {
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Unreadable> {
        self.read("party", self.state.party(id)?)
    }
    fn key(&self, key: &PublicKey) -> Result<Option<KeyRecord>, Unreadable> {
        self.read("key", self.state.key(key)?)
    }
    fn bill(&self, id: &BillId) -> Result<Option<BillState>, Unreadable> {
        self.read("bill", self.state.bill(id)?)
    }
    fn registry_head(&self) -> Result<Option<(u64, Hash32)>, Unreadable> {
        self.read("registry_head", self.state.registry_head()?)
    }
    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Result<Grants, Unreadable> {
        self.read("delegation", self.state.delegation(principal, agent)?)
    }
    fn custody(&self, id: &BillId) -> Result<Option<CustodyState>, Unreadable> {
        self.read("custody", self.state.custody(id)?)
    }
    fn title_hash_at(&self, id: &BillId, position: u64) -> Result<Option<Hash32>, Unreadable> {
        self.read("title_hash_at", self.state.title_hash_at(id, position)?)
    }
}

#[test]
fn a_lookup_that_fails_is_unreadable_never_a_rules_refusal() {
    let (op, carrier, shipper) =
        (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]), SigningKey::from_bytes(&[3; 32]));
    let opk = PublicKey(op.verifying_key().to_bytes());
    let records = history_records(&op, &carrier, &shipper);
    let mut m = Mem::default();
    // Each record, against the state before it, with each lookup it makes failing in turn; a
    // lookup it does not make leaves it accepted, exactly as with a readable state.
    for rec in &records {
        let stamp = Stamp { seq: m.seq, time: T };
        let accepted = apply(&m.state, rec, stamp, &opk).unwrap();
        let mut failed = 0;
        for fails in ["party", "key", "bill", "registry_head", "delegation", "custody", "title_hash_at"] {
            match apply(&Failing { state: &m.state, fails }, rec, stamp, &opk) {
                Err(ApplyError::Unreadable(u)) => {
                    assert!(!u.damaged && u.what.starts_with(fails), "{u}");
                    failed += 1;
                }
                Ok(effects) => assert_eq!(effects, accepted, "{fails}"),
                Err(ApplyError::Rule(r)) => {
                    panic!("{} failing {fails}: a rule's refusal {r}", rec.payload.action.name())
                }
            }
        }
        assert!(failed >= 2, "{} reads its signer's party and key at least", rec.payload.action.name());
        m.run(rec, &opk, T).unwrap();
    }
}

#[test]
fn same_records_same_order_same_state() {
    let (op, carrier, shipper) =
        (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]), SigningKey::from_bytes(&[3; 32]));
    let a = history(&op, &carrier, &shipper);
    let b = history(&op, &carrier, &shipper);
    assert_eq!(a, b);
    let bill = a.bills.values().next().unwrap();
    assert_eq!((bill.possessor.as_str(), bill.entitled().as_str(), bill.head_position), ("bank", "bank", 2));
}

#[test]
fn key_is_valid_only_after_its_registration_and_before_its_revocation() {
    let k = KeyRecord { party: pid("shipper"), added_at: 3, revoked_at: Some(7) };
    assert_eq!((k.valid_at(3), k.valid_at(4), k.valid_at(6), k.valid_at(7)), (false, true, true, false));
}

#[test]
fn stale_head_and_wrong_chain_are_refused() {
    let (op, carrier, shipper) =
        (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]), SigningKey::from_bytes(&[3; 32]));
    let mut m = history(&op, &carrier, &shipper);
    let opk = PublicKey(op.verifying_key().to_bytes());
    let bill = *m.bills.keys().next().unwrap();
    let t = Timestamp(1_800_000_000_000);
    // Position 1 is taken: a different record for it is stale.
    let stale = checked(
        payload(
            ChainId::Title(bill),
            &Chain { position: 1, prev: Some(Hash32([9; 32])) },
            "shipper",
            None,
            t,
            Action::Sign,
        ),
        &shipper,
        "shipper",
    )
    .unwrap();
    let before = m.clone();
    assert_eq!(m.run(&stale, &opk, t).unwrap_err().reason(), "STALE_HEAD");
    assert_eq!(m, before);
    // A title action on the registry chain is malformed.
    let p = payload(
        ChainId::Registry,
        &Chain { position: 9, prev: Some(Hash32([1; 32])) },
        "operator",
        None,
        t,
        Action::Sign,
    );
    assert_eq!(checked(p, &op, "operator").unwrap_err().reason(), "INVALID_FIELD");
    // The claimed time must lie within the window of server time.
    let head = m.bills[&bill].clone();
    let late = checked(
        payload(ChainId::Title(bill), &Chain { position: 3, prev: Some(head.head) }, "shipper", None, t, Action::Sign),
        &shipper,
        "shipper",
    )
    .unwrap();
    assert_eq!(m.run(&late, &opk, t.plus_ms(10 * 60_000)).unwrap_err().reason(), "CLAIMED_TIME_OUT_OF_WINDOW");
    // In time, the former possessor is refused by the title rules: the transfer divested it.
    assert_eq!(m.run(&late, &opk, t).unwrap_err().reason(), "NOT_POSSESSOR");
}
