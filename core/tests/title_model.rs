//! Property test: random sequences of title actions by random parties, applied by the core and by
//! a small reference model of the rules written here from docs/title-rules.md, independently of
//! `title.rs`. They must agree on every accept or refuse (with its reason) and on every resulting
//! title; after every step the bill has exactly one controller, nothing follows a terminal record,
//! and at the end replaying the accepted records from scratch gives the same state. Some steps
//! are signed by an agent for the party that acts, under fixed delegations: the model decides
//! those from the delegation's scope first, then as the principal's own act.
mod mem;

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
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;

const ORIGIN: &str = "model.test/ebl";
const PARTIES: [(&str, Role); 6] = [
    ("carrier", Role::Carrier),
    ("a", Role::Trader),
    ("b", Role::Trader),
    ("bank", Role::Bank),
    ("bank2", Role::Bank),
    ("agt", Role::Trader),
];
/// What each principal lets the agent `agt` sign for it; the others delegate nothing.
const GRANTS: [(&str, &[&str]); 3] = [("carrier", &["SACC", "SREJ"]), ("bank", &["ALL"]), ("a", &["SIGN", "TRANSFER"])];
const T: Timestamp = Timestamp(1_800_000_000_000);

fn pid(s: &str) -> PartyId {
    PartyId::parse("p", s).unwrap()
}

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[i as u8 + 1; 32])
}

// ---- the reference model ----------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct Hold {
    possessor: &'static str,
    endorsee: Option<&'static str>,
    endorsable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Why {
    Delivery,
    Paper,
    Destination,
}

#[derive(Clone, Debug, PartialEq)]
struct MPledge {
    bank: &'static str,
    by: &'static str,
    endorsed: bool,
    enforced: bool,
    before: Hold,
}

#[derive(Clone, Debug)]
struct Model {
    hold: Hold,
    status: &'static str,
    surrender: Option<(Why, Hold)>,
    offer: Option<(&'static str, &'static str, Hold, Option<MPledge>)>,
    pledge: Option<MPledge>,
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Transfer,
    Endorse,
    EndorseToOrder,
    BlankEndorse,
    Sign,
    Reject,
    Surrender(Option<Why>),
    Sacc(bool),
    Srej,
    Pledge(bool),
    Release,
    Enforce,
}

impl Act {
    fn has_recipient(self) -> bool {
        matches!(self, Act::Transfer | Act::Endorse | Act::EndorseToOrder | Act::Surrender(_) | Act::Pledge(_))
    }
    fn name(self) -> &'static str {
        match self {
            Act::Transfer => "TRANSFER",
            Act::Endorse => "ENDORSE",
            Act::EndorseToOrder => "ENDORSE_TO_ORDER",
            Act::BlankEndorse => "BLANK_ENDORSE",
            Act::Sign => "SIGN",
            Act::Reject => "REJECT",
            Act::Surrender(None) => "SURRENDER_FOR_DELIVERY",
            Act::Surrender(Some(_)) => "SURRENDER_FOR_AMENDMENT",
            Act::Sacc(_) => "SACC",
            Act::Srej => "SREJ",
            Act::Pledge(_) => "PLEDGE",
            Act::Release => "RELEASE_PLEDGE",
            Act::Enforce => "ENFORCE_PLEDGE",
        }
    }
}

impl Model {
    fn new() -> Self {
        // The ILSTC bill: to order, nobody named (endorsed in blank), issued to "a".
        Model {
            hold: Hold { possessor: "a", endorsee: None, endorsable: true },
            status: "ISSUED",
            surrender: None,
            offer: None,
            pledge: None,
        }
    }

    fn entitled(&self) -> &'static str {
        match &self.pledge {
            Some(p) if p.enforced => p.bank,
            Some(p) if !p.endorsed => p.by,
            _ => self.hold.endorsee.unwrap_or(self.hold.possessor),
        }
    }

    /// The model's answer: the new state, or the refusal's reason.
    fn step(&self, actor: &'static str, act: Act, to: Option<&'static str>) -> Result<Model, &'static str> {
        if to == Some(actor) {
            return Err("INVALID_FIELD");
        }
        if matches!(self.status, "ACCOMPLISHED" | "VOID" | "SWITCHED_TO_PAPER") {
            return Err("BILL_NOT_LIVE");
        }
        let mut n = self.clone();
        n.offer = None;
        match act {
            Act::Sacc(_) | Act::Srej => {
                let Some((why, before)) = self.surrender.clone().filter(|_| self.status == "SURRENDERED") else {
                    return Err("NOTHING_SURRENDERED");
                };
                if actor != "carrier" {
                    return Err("NOT_ISSUER");
                }
                if let Act::Sacc(paper) = act {
                    if paper != (why == Why::Paper) {
                        return Err("INVALID_FIELD");
                    }
                    n.status = match why {
                        Why::Delivery => "ACCOMPLISHED",
                        Why::Paper => "SWITCHED_TO_PAPER",
                        Why::Destination => "VOID",
                    };
                } else {
                    n.hold = before;
                    n.status = "ISSUED";
                    n.surrender = None;
                }
                return Ok(n);
            }
            _ if self.status == "SURRENDERED" => return Err("SURRENDER_PENDING"),
            Act::Reject => {
                let Some((offered_to, _, before, pledge)) = self.offer.clone() else { return Err("NOTHING_TO_REJECT") };
                if offered_to != actor {
                    return Err("NOT_RECIPIENT");
                }
                n.hold = before;
                n.pledge = pledge;
                return Ok(n);
            }
            _ => {}
        }
        if actor != self.hold.possessor {
            return Err("NOT_POSSESSOR");
        }
        if self.pledge.as_ref().is_some_and(|p| !p.enforced) && !matches!(act, Act::Sign | Act::Release | Act::Enforce)
        {
            return Err("PLEDGED");
        }
        match act {
            Act::Sign => {
                n.offer = self.offer.clone().filter(|o| o.1 == actor);
            }
            Act::Transfer => {
                let to = to.unwrap();
                if self.hold.endorsee.is_some_and(|e| e != to) {
                    return Err("NOT_ENDORSEE");
                }
                n.hold.possessor = to;
                if self.pledge.as_ref().is_some_and(|p| p.bank == actor) {
                    n.pledge = None;
                }
            }
            Act::Endorse | Act::EndorseToOrder | Act::BlankEndorse => {
                if self.entitled() != actor {
                    return Err("NOT_ENTITLED");
                }
                if !self.hold.endorsable {
                    return Err("NOT_ENDORSABLE");
                }
                if matches!(act, Act::BlankEndorse) && self.hold.endorsee.is_none() {
                    return Err("ALREADY_BLANK_ENDORSED");
                }
                n.hold.endorsee = to;
                n.hold.endorsable = !matches!(act, Act::Endorse);
            }
            Act::Surrender(why) => {
                if self.entitled() != actor {
                    return Err("NOT_ENTITLED");
                }
                if to != Some("carrier") {
                    return Err("INVALID_FIELD");
                }
                n.surrender = Some((why.unwrap_or(Why::Delivery), self.hold.clone()));
                n.hold.possessor = "carrier";
                n.status = "SURRENDERED";
            }
            Act::Pledge(endorsed) => {
                let to = to.unwrap();
                if !to.starts_with("bank") {
                    return Err("PLEDGEE_NOT_A_BANK");
                }
                if self.entitled() != actor {
                    return Err("NOT_ENTITLED");
                }
                if endorsed {
                    if !self.hold.endorsable {
                        return Err("NOT_ENDORSABLE");
                    }
                    n.hold.endorsee = Some(to);
                    n.hold.endorsable = true;
                }
                n.pledge = Some(MPledge { bank: to, by: actor, endorsed, enforced: false, before: self.hold.clone() });
                n.hold.possessor = to;
            }
            Act::Release | Act::Enforce => {
                let Some(p) = self.pledge.clone().filter(|p| p.bank == actor) else { return Err("NOT_PLEDGED") };
                if let Act::Release = act {
                    n.hold = p.before;
                    n.pledge = None;
                } else if p.enforced {
                    return Err("ALREADY_ENFORCED");
                } else {
                    n.pledge = Some(MPledge { enforced: true, ..p });
                }
            }
            Act::Reject | Act::Sacc(_) | Act::Srej => unreachable!("handled above"),
        }
        if let (Act::Transfer | Act::Endorse | Act::EndorseToOrder, Some(to)) = (act, to) {
            n.offer = match &self.offer {
                Some(o) if o.0 == to && o.1 == actor => Some(o.clone()),
                _ => Some((to, actor, self.hold.clone(), self.pledge.clone())),
            };
        }
        Ok(n)
    }

    /// The model's answer for a step that `agt` signs on `actor`'s behalf.
    fn step_by_agent(&self, actor: &'static str, act: Act, to: Option<&'static str>) -> Result<Model, &'static str> {
        if to == Some(actor) || actor == "agt" {
            return Err("INVALID_FIELD");
        }
        let Some((_, scope)) = GRANTS.iter().find(|(p, _)| *p == actor) else { return Err("NOT_AGENT") };
        if !scope.iter().any(|a| *a == act.name() || *a == "ALL") {
            return Err("OUTSIDE_DELEGATION");
        }
        self.step(actor, act, to)
    }

    fn agrees_with(&self, b: &BillState) -> bool {
        b.possessor.as_str() == self.hold.possessor
            && b.endorsee.as_ref().map(|e| e.as_str()) == self.hold.endorsee
            && b.endorsable == self.hold.endorsable
            && b.status.name() == self.status
            && b.entitled().as_str() == self.entitled()
            && b.pledge.as_ref().map(|p| (p.pledgee.as_str(), p.enforced))
                == self.pledge.as_ref().map(|p| (p.bank, p.enforced))
            && b.offer.as_ref().map(|o| o.to.as_str()) == self.offer.as_ref().map(|o| o.0)
    }
}

// ---- driving the core -------------------------------------------------------------------------

struct World {
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
    fn new(doc: &[u8]) -> Self {
        let mut mem = Mem::default();
        for (i, (name, role)) in PARTIES.iter().enumerate() {
            let registration = Registration {
                party: pid(name),
                name: name.to_string(),
                role: *role,
                jurisdiction: vec![],
                codes: vec![],
            };
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
            document: doc.to_vec(),
            profile: Profile::DcsaEbl3,
            amendment: 0,
            consignee: None,
            endorsee: None,
            issuance_manifest: None,
            amends: None,
            legs: vec![],
        };
        let reference = ebl_core::document::parse(doc, Profile::DcsaEbl3).unwrap().reference;
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
        World { mem, operator, bill, head: (0, c.hash), accepted: vec![c] }
    }

    fn state(&self) -> &BillState {
        &self.mem.bills[&self.bill]
    }

    fn submit(&mut self, actor: &str, act: Act, to: Option<&str>, by_agent: bool) -> Result<(), &'static str> {
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
        let c = sign(p, if by_agent { "agt" } else { actor }).map_err(|e| e.reason())?;
        self.mem.run(&c, &self.operator, T).map_err(|e| e.reason())?;
        self.head = (self.head.0 + 1, c.hash);
        self.accepted.push(c);
        Ok(())
    }

    /// Replays the accepted records into a fresh view.
    fn replayed(&self) -> BillState {
        let mut fresh = World::new(&self.accepted[0].payload_document());
        for c in &self.accepted[1..] {
            fresh.mem.run(c, &self.operator, T).unwrap();
        }
        fresh.state().clone()
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

// ---- the generator ----------------------------------------------------------------------------

/// A step as indices read against the state: mostly the parties that can act (the possessor, the
/// open offer's recipient, the issuer), sometimes anyone, so that both accepts and refusals are
/// common.
#[derive(Clone, Debug)]
struct Step {
    /// 0: signed by the agent `agt` for the actor; 1: by the agent if the actor delegated to it.
    agent: u8,
    actor: u8,
    act: u8,
    to: u8,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (0u8..8, 0u8..12, 0u8..22, 0u8..8).prop_map(|(agent, actor, act, to)| Step { agent, actor, act, to });
    prop::collection::vec(step, 1..25)
}

/// A step the rules may well accept, chosen with the model's view of the state: this only steers
/// the choice; whether it is accepted is still decided by the core and the model separately.
fn plausible(m: &Model, s: &Step) -> (&'static str, Act, Option<&'static str>) {
    let p = m.hold.possessor;
    let others: Vec<&'static str> = ["a", "b", "bank", "bank2"].into_iter().filter(|n| *n != p).collect();
    let other = others[s.to as usize % others.len()];
    let mut options: Vec<(&'static str, Act, Option<&'static str>)> = vec![(p, Act::Sign, None)];
    if m.status == "SURRENDERED" {
        let paper = m.surrender.as_ref().is_some_and(|(w, _)| *w == Why::Paper);
        options = vec![("carrier", Act::Sacc(paper), None), ("carrier", Act::Srej, None)];
    } else if let Some(pl) = m.pledge.as_ref().filter(|pl| !pl.enforced) {
        options.extend([(pl.bank, Act::Release, None), (pl.bank, Act::Enforce, None)]);
    } else {
        if let Some(o) = &m.offer {
            options.push((o.0, Act::Reject, None));
        }
        options.push((p, Act::Transfer, Some(m.hold.endorsee.filter(|e| *e != p).unwrap_or(other))));
        if m.entitled() == p {
            if m.hold.endorsable {
                options.extend([(p, Act::EndorseToOrder, Some(other)), (p, Act::Endorse, Some(other))]);
                if m.hold.endorsee.is_some() {
                    options.push((p, Act::BlankEndorse, None));
                }
            }
            let why = [None, Some(Why::Paper), Some(Why::Destination)][s.to as usize % 3];
            let bank = if p == "bank" { "bank2" } else { "bank" };
            options.extend([
                (p, Act::Surrender(why), Some("carrier")),
                (p, Act::Pledge(s.to.is_multiple_of(2)), Some(bank)),
            ]);
        }
    }
    options[s.act as usize % options.len()]
}

fn resolve(m: &Model, s: &Step) -> (&'static str, Act, Option<&'static str>) {
    if s.actor < 6 {
        return plausible(m, s);
    }
    let names: Vec<&'static str> = PARTIES.iter().map(|(n, _)| *n).collect();
    let act = match s.act {
        0 | 1 => Act::Transfer,
        2 => Act::Endorse,
        3 | 4 => Act::EndorseToOrder,
        5..=7 => Act::BlankEndorse,
        8 => Act::Sign,
        9 | 10 => Act::Reject,
        11 => Act::Surrender(None),
        12 => Act::Surrender(Some(Why::Paper)),
        13 => Act::Surrender(Some(Why::Destination)),
        14 | 15 => Act::Sacc(m.surrender.as_ref().is_some_and(|(w, _)| *w == Why::Paper) != (s.to == 7)),
        16 | 17 => Act::Srej,
        18 => Act::Pledge(false),
        19 => Act::Pledge(true),
        20 => Act::Release,
        _ => Act::Enforce,
    };
    let actor = match s.actor {
        6 | 7 => m.hold.possessor,
        8 if matches!(act, Act::Sacc(_) | Act::Srej) => "carrier",
        8 => m.offer.as_ref().map(|o| o.0).unwrap_or(m.hold.possessor),
        n => names[(n as usize) % names.len()],
    };
    let to = act.has_recipient().then(|| match (act, s.to) {
        (Act::Surrender(_), 0..=5) => "carrier",
        (Act::Pledge(_), 0..=3) => ["bank", "bank2"][s.to as usize % 2],
        (Act::Transfer, 0..=3) => m.hold.endorsee.unwrap_or(names[1 + (s.to as usize % 4)]),
        (_, n) => names[1 + (n as usize % 4)],
    });
    (actor, act, to)
}

#[test]
fn core_and_reference_model_agree_on_random_histories() {
    let doc = doc();
    let cases: u32 = std::env::var("EBL_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let tally = std::cell::RefCell::new((0u64, 0u64, BTreeMap::<&'static str, u64>::new()));
    runner
        .run(&steps(), |steps| {
            let mut world = World::new(&doc);
            let mut model = Model::new();
            let mut ended = false;
            for s in &steps {
                let (actor, act, to) = resolve(&model, s);
                let by_agent = s.agent == 0 || (s.agent == 1 && GRANTS.iter().any(|(p, _)| *p == actor));
                let expected = if by_agent { model.step_by_agent(actor, act, to) } else { model.step(actor, act, to) };
                let got = world.submit(actor, act, to, by_agent);
                let mut t = tally.borrow_mut();
                t.0 += 1;
                match (&expected, got) {
                    (Ok(next), Ok(())) => {
                        prop_assert!(!ended, "a record was accepted after a terminal one");
                        t.1 += 1;
                        *t.2.entry(act.name()).or_default() += 1;
                        if by_agent {
                            *t.2.entry("(signed by an agent)").or_default() += 1;
                        }
                        model = next.clone();
                        prop_assert!(
                            model.agrees_with(world.state()),
                            "{actor} {act:?} -> {to:?}: model {model:?}, core {:?}",
                            world.state()
                        );
                    }
                    (Err(want), Err(got)) => {
                        if matches!(got, "NOT_AGENT" | "OUTSIDE_DELEGATION") {
                            *t.2.entry(got).or_default() += 1;
                        }
                        prop_assert_eq!(*want, got, "{} {:?} -> {:?} (by agent: {})", actor, act, to, by_agent)
                    }
                    (want, got) => prop_assert!(false, "{actor} {act:?} -> {to:?}: model {want:?}, core {got:?}"),
                }
                // One controller, registered, at every step; a former possessor's moves were
                // just compared with the model, which refuses them.
                prop_assert!(world.mem.parties.contains_key(&world.state().possessor));
                // One step past a terminal record checks that it refuses; more would only repeat it.
                if ended {
                    break;
                }
                ended = model.status != "ISSUED" && model.status != "SURRENDERED";
            }
            prop_assert_eq!(&world.replayed(), world.state(), "replaying the history gives the same state");
            Ok(())
        })
        .unwrap();
    let (steps, accepted, per_action) = tally.into_inner();
    let share = accepted as f64 / steps as f64;
    println!("{steps} steps, {accepted} accepted ({:.0}%), per action {per_action:?}", share * 100.0);
    assert!(share >= 0.30, "the generator is too weak: {:.0}% of steps accepted", share * 100.0);
    let floor = if cases >= 10_000 { 100 } else { 1 };
    for act in [
        "TRANSFER",
        "ENDORSE",
        "ENDORSE_TO_ORDER",
        "BLANK_ENDORSE",
        "SIGN",
        "REJECT",
        "SURRENDER_FOR_DELIVERY",
        "SURRENDER_FOR_AMENDMENT",
        "SACC",
        "SREJ",
        "PLEDGE",
        "RELEASE_PLEDGE",
        "ENFORCE_PLEDGE",
        "(signed by an agent)",
        "NOT_AGENT",
        "OUTSIDE_DELEGATION",
    ] {
        let n = per_action.get(act).copied().unwrap_or(0);
        assert!(n >= floor, "{act}: only {n} times");
    }
}
