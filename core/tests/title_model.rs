//! Property test: random sequences of title actions by random parties, applied by the core and by
//! the reference model of the rules in `model/` (written from docs/title-rules.md, independently
//! of `title.rs`). They must agree on every accept or refuse (with its reason) and on every
//! resulting title; a refusal leaves the view unchanged; after every step the bill has exactly one
//! controller, nothing follows a terminal record, and at the end replaying the accepted records
//! from scratch gives the same state. Some steps are signed by an agent for the party that acts,
//! under fixed delegations: the model decides those from the delegation's scope first, then as
//! the principal's own act. `tests/title_model_grpc.rs` plays the same histories through the
//! gRPC service.
mod mem;
mod model;

use ebl_core::apply::{prepare, Checked};
use ebl_core::bill::BillState;
use ebl_core::delegation::{Grant, Grants};
use ebl_core::document::Profile;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId, PartyId};
use ebl_core::record::{Action, AmendmentReason, Issue, Payload, PledgeMode};
use ebl_core::registry::{KeyRecord, Party, Registration, Role};
use ebl_core::sig::{PublicKey, Signature};
use ebl_core::time::Timestamp;
use ed25519_dalek::SigningKey;
use mem::Mem;
use model::{Act, Subject, Title, Why, GRANTS, PARTIES};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const ORIGIN: &str = "model.test/ebl";
const T: Timestamp = Timestamp(1_800_000_000_000);

fn pid(s: &str) -> PartyId {
    PartyId::parse("p", s).unwrap()
}

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[i as u8 + 1; 32])
}

// ---- driving the core -------------------------------------------------------------------------

struct World {
    doc: Vec<u8>,
    mem: Mem,
    operator: PublicKey,
    bill: BillId,
    head: (u64, Hash32),
    accepted: Vec<Checked>,
}

fn doc() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/documents/ilstc-chongqing-qinzhou-singapore.json"))
        .unwrap()
}

fn sign(p: Payload, who: &str) -> ebl_core::Result<Checked> {
    let i = PARTIES.iter().position(|(n, _)| *n == who).unwrap();
    let bytes = format!("{p:?}").into_bytes();
    let sig = Signature::sign(&pid(who), &key(i), &bytes);
    prepare(bytes, p, vec![sig], ORIGIN)
}

impl World {
    fn new(doc: Vec<u8>) -> Self {
        let mut mem = Mem::default();
        for (i, (name, role)) in PARTIES.iter().enumerate() {
            let role = match role {
                model::Role::Carrier => Role::Carrier,
                model::Role::Trader => Role::Trader,
                model::Role::Bank => Role::Bank,
            };
            let registration =
                Registration { party: pid(name), name: name.to_string(), role, jurisdiction: vec![], codes: vec![] };
            mem.parties.insert(pid(name), Party { registration, registered_at: 0 });
            mem.keys.insert(
                PublicKey(key(i).verifying_key().to_bytes()),
                KeyRecord { party: pid(name), added_at: 0, revoked_at: None },
            );
        }
        for (principal, actions) in GRANTS {
            let grant = Grant {
                actions: actions.iter().map(|a| a.to_string()).collect(),
                reference: String::new(),
                added_at: 0,
                revoked_at: None,
            };
            mem.delegations.insert((pid(principal), pid("agt")), Grants(vec![grant]));
        }
        mem.seq = 1;
        let operator = PublicKey(key(9).verifying_key().to_bytes());
        let issue = Issue {
            document: doc.clone(),
            profile: Profile::DcsaEbl3,
            amendment: 0,
            consignee: None,
            endorsee: None,
            issuance_manifest: None,
            amends: None,
            legs: vec![],
        };
        let reference = ebl_core::document::parse(&doc, Profile::DcsaEbl3).unwrap().reference;
        let bill = BillId::derive(&pid("carrier"), &reference, 0);
        let p = Payload {
            origin: ORIGIN.into(),
            chain: ChainId::Title(bill),
            position: 0,
            prev: None,
            agent: None,
            actor: pid("carrier"),
            recipient: Some(pid("a")),
            claimed_time: T,
            seen_title: None,
            action: Action::Issue(Box::new(issue)),
        };
        let c = sign(p, "carrier").unwrap();
        mem.run(&c, &operator, T).unwrap();
        World { doc, mem, operator, bill, head: (0, c.hash), accepted: vec![c] }
    }

    fn state(&self) -> &BillState {
        &self.mem.bills[&self.bill]
    }

    /// Replays the accepted records into a fresh view.
    fn replayed(&self) -> BillState {
        let mut fresh = World::new(self.accepted[0].payload_document());
        for c in &self.accepted[1..] {
            fresh.mem.run(c, &self.operator, T).unwrap();
        }
        fresh.state().clone()
    }
}

impl Subject for World {
    type Snapshot = Mem;

    fn start(&mut self) {
        *self = World::new(std::mem::take(&mut self.doc));
    }

    fn submit(&mut self, actor: &str, act: Act, to: Option<&str>, by_agent: bool) -> Result<(), String> {
        let action = match act {
            Act::Transfer => Action::Transfer,
            Act::Endorse => Action::Endorse,
            Act::EndorseToOrder => Action::EndorseToOrder,
            Act::BlankEndorse => Action::BlankEndorse,
            Act::Sign => Action::Sign,
            Act::Reject => Action::Reject { reason: String::new() },
            Act::Surrender(None) => Action::SurrenderForDelivery,
            Act::Surrender(Some(Why::Paper)) => Action::SurrenderForAmendment(AmendmentReason::Swtp),
            Act::Surrender(Some(_)) => Action::SurrenderForAmendment(AmendmentReason::Cod),
            Act::Sacc(paper) => Action::AcceptSurrender { paper_bill_number: paper.then(|| "PAPER-1".to_string()) },
            Act::Srej => Action::RejectSurrender { reason: String::new() },
            Act::Pledge(endorsed) => Action::Pledge {
                mode: if endorsed { PledgeMode::Endorsement } else { PledgeMode::Possession },
                loan_reference: String::new(),
            },
            Act::Release => Action::ReleasePledge,
            Act::Enforce => Action::EnforcePledge { reason: String::new() },
        };
        let p = Payload {
            origin: ORIGIN.into(),
            chain: ChainId::Title(self.bill),
            position: self.head.0 + 1,
            prev: Some(self.head.1),
            agent: by_agent.then(|| pid("agt")),
            actor: pid(actor),
            recipient: to.map(pid),
            claimed_time: T,
            seen_title: None,
            action,
        };
        let c = sign(p, if by_agent { "agt" } else { actor }).map_err(|e| e.reason().to_string())?;
        self.mem.run(&c, &self.operator, T).map_err(|e| e.reason().to_string())?;
        self.head = (self.head.0 + 1, c.hash);
        self.accepted.push(c);
        Ok(())
    }

    fn title(&mut self) -> Title {
        let b = self.state();
        Title {
            possessor: b.possessor.to_string(),
            endorsee: b.endorsee.as_ref().map(|e| e.to_string()),
            endorsable: b.endorsable,
            status: b.status.name().into(),
            entitled: b.entitled().to_string(),
            pledgee: b.pledge.as_ref().map(|p| p.pledgee.to_string()),
            pledge_enforced: b.pledge.as_ref().is_some_and(|p| p.enforced),
            rejectable_by: b.offer.as_ref().map(|o| o.to.to_string()),
        }
    }

    fn snapshot(&mut self) -> Mem {
        self.mem.clone()
    }

    /// One controller, registered, at every step; a former possessor's moves were just compared
    /// with the model, which refuses them.
    fn after_step(&mut self) -> Result<(), TestCaseError> {
        prop_assert!(self.mem.parties.contains_key(&self.state().possessor));
        Ok(())
    }

    fn finish(&mut self) -> Result<(), TestCaseError> {
        prop_assert_eq!(&self.replayed(), self.state(), "replaying the history gives the same state");
        Ok(())
    }
}

trait DocOf {
    fn payload_document(&self) -> Vec<u8>;
}

impl DocOf for Checked {
    fn payload_document(&self) -> Vec<u8> {
        match &self.payload.action {
            Action::Issue(i) => i.document.clone(),
            _ => unreachable!("the first record is the ISSUE"),
        }
    }
}

#[test]
fn core_and_reference_model_agree_on_random_histories() {
    let cases = model::cases("EBL_MODEL_CASES", 10_000);
    model::run(World::new(doc()), cases, if cases >= 10_000 { 100 } else { 1 });
}
