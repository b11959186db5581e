//! The reference model of the title rules and the generator of histories, shared by the core's
//! property test (`core/tests/title_model.rs`) and the same test through the gRPC service
//! (`tests/title_model_grpc.rs`). The model is written from docs/title-rules.md over plain values
//! (party names, status and reason names); it MUST NOT call the rules it checks (`title.rs`) nor
//! use any ebl-core type, so that both subjects are held to one independent account of the rules.
//!
//! [`run`] plays random histories against a [`Subject`] and asserts, after every step, that the
//! subject and the model agree on the accept or refuse (with its reason), that a refusal changes
//! nothing, and that an acceptance leaves the title the model expects.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;

/// The registry roles the cast needs.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    Carrier,
    Trader,
    Bank,
}

/// The cast: the issuing carrier, two traders, two banks, and `agt`, the agent of some of them.
pub const PARTIES: [(&str, Role); 6] = [
    ("carrier", Role::Carrier),
    ("a", Role::Trader),
    ("b", Role::Trader),
    ("bank", Role::Bank),
    ("bank2", Role::Bank),
    ("agt", Role::Trader),
];
/// What each principal lets the agent `agt` sign for it; the others delegate nothing.
pub const GRANTS: [(&str, &[&str]); 3] =
    [("carrier", &["SACC", "SREJ"]), ("bank", &["ALL"]), ("a", &["SIGN", "TRANSFER"])];

// ---- the reference model ----------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct Hold {
    possessor: &'static str,
    endorsee: Option<&'static str>,
    endorsable: bool,
}

/// Why a bill is surrendered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Why {
    Delivery,
    /// SWTP: switch to paper.
    Paper,
    /// COD: change of destination.
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

/// The model's state of one bill.
#[derive(Clone, Debug)]
pub struct Model {
    hold: Hold,
    status: &'static str,
    surrender: Option<(Why, Hold)>,
    offer: Option<(&'static str, &'static str, Hold, Option<MPledge>)>,
    pledge: Option<MPledge>,
}

/// A title action as the model knows it.
#[derive(Clone, Copy, Debug)]
pub enum Act {
    Transfer,
    Endorse,
    EndorseToOrder,
    BlankEndorse,
    Sign,
    Reject,
    /// `None`: for delivery; `Some`: for amendment, with its reason.
    Surrender(Option<Why>),
    /// SACC, with a paper bill number (`true`) or without.
    Sacc(bool),
    Srej,
    /// PLEDGE, by endorsement (`true`) or by possession only.
    Pledge(bool),
    Release,
    Enforce,
}

impl Act {
    fn has_recipient(self) -> bool {
        matches!(self, Act::Transfer | Act::Endorse | Act::EndorseToOrder | Act::Surrender(_) | Act::Pledge(_))
    }

    /// The action's name in delegations and in the tally.
    pub fn name(self) -> &'static str {
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

/// A bill's title as plain values: what the model and a subject must agree on after every step.
#[derive(Clone, Debug, PartialEq)]
pub struct Title {
    pub possessor: String,
    pub endorsee: Option<String>,
    pub endorsable: bool,
    pub status: String,
    pub entitled: String,
    pub pledgee: Option<String>,
    pub pledge_enforced: bool,
    /// The recipient of the open transfer or endorsement, who may still reject it.
    pub rejectable_by: Option<String>,
}

impl Model {
    /// The ILSTC bill: to order, nobody named (endorsed in blank), issued to "a".
    pub fn new() -> Self {
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

    /// Accomplished, void or switched to paper: nothing may follow.
    pub fn is_terminal(&self) -> bool {
        self.status != "ISSUED" && self.status != "SURRENDERED"
    }

    /// The title a subject must show in this state.
    pub fn title(&self) -> Title {
        Title {
            possessor: self.hold.possessor.into(),
            endorsee: self.hold.endorsee.map(Into::into),
            endorsable: self.hold.endorsable,
            status: self.status.into(),
            entitled: self.entitled().into(),
            pledgee: self.pledge.as_ref().map(|p| p.bank.into()),
            pledge_enforced: self.pledge.as_ref().is_some_and(|p| p.enforced),
            rejectable_by: self.offer.as_ref().map(|o| o.0.into()),
        }
    }

    /// The model's answer: the new state, or the refusal's reason.
    pub fn step(&self, actor: &'static str, act: Act, to: Option<&'static str>) -> Result<Model, &'static str> {
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
    pub fn step_by_agent(
        &self,
        actor: &'static str,
        act: Act,
        to: Option<&'static str>,
    ) -> Result<Model, &'static str> {
        if to == Some(actor) || actor == "agt" {
            return Err("INVALID_FIELD");
        }
        let Some((_, scope)) = GRANTS.iter().find(|(p, _)| *p == actor) else { return Err("NOT_AGENT") };
        if !scope.iter().any(|a| *a == act.name() || *a == "ALL") {
            return Err("OUTSIDE_DELEGATION");
        }
        self.step(actor, act, to)
    }
}

// ---- the generator ----------------------------------------------------------------------------

/// A step as indices read against the state: mostly the parties that can act (the possessor, the
/// open offer's recipient, the issuer), sometimes anyone, so that both accepts and refusals are
/// common.
#[derive(Clone, Debug)]
pub struct Step {
    /// 0: signed by the agent `agt` for the actor; 1: by the agent if the actor delegated to it.
    agent: u8,
    actor: u8,
    act: u8,
    to: u8,
}

/// Histories of 1 to 24 steps.
pub fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (0u8..8, 0u8..12, 0u8..22, 0u8..8).prop_map(|(agent, actor, act, to)| Step { agent, actor, act, to });
    prop::collection::vec(step, 1..25)
}

/// A step the rules may well accept, chosen with the model's view of the state: this only steers
/// the choice; whether it is accepted is still decided by the subject and the model separately.
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

/// The step's actor, action and recipient in state `m`.
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

// ---- playing histories against a subject ------------------------------------------------------

/// What the model is compared with: the core over an in-memory view, or the gRPC service.
pub trait Subject {
    /// Everything stored, or a digest of it: a refusal MUST leave it unchanged.
    type Snapshot: PartialEq + Debug;

    /// Starts a history: a fresh bill in the model's initial state ([`Model::new`]), issued by
    /// `carrier` to `a`, with the cast of [`PARTIES`] registered and the delegations of [`GRANTS`].
    fn start(&mut self);
    /// Signs and submits one step on the bill (by `agt` on `actor`'s behalf when `by_agent`):
    /// `Ok` if accepted, else the refusal's machine-readable reason.
    fn submit(&mut self, actor: &str, act: Act, to: Option<&str>, by_agent: bool) -> Result<(), String>;
    /// The bill's title now.
    fn title(&mut self) -> Title;
    /// What a refusal must not change.
    fn snapshot(&mut self) -> Self::Snapshot;
    /// Checks that hold after every step, whatever its answer.
    fn after_step(&mut self) -> Result<(), TestCaseError> {
        Ok(())
    }
    /// Checks at the end of a history (replay, chain verification).
    fn finish(&mut self) -> Result<(), TestCaseError>;
}

/// Steps played, steps accepted, and per action (and agent outcome) how often it was seen.
#[derive(Default)]
struct Tally {
    steps: u64,
    accepted: u64,
    per_action: BTreeMap<&'static str, u64>,
}

/// What every run must have seen at least `floor` times: each action accepted, a record signed
/// by an agent accepted, and both agent refusals.
const SEEN: [&str; 16] = [
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
];

/// The number of cases: the environment variable `var` if set, else `default`.
pub fn cases(var: &str, default: u32) -> u32 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Plays `cases` random histories against `subject`, each compared step by step with the model;
/// prints the tally and fails unless at least 30% of steps were accepted and every entry of
/// [`SEEN`] was seen at least `floor` times.
pub fn run<S: Subject>(subject: S, cases: u32, floor: u64) {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let subject = RefCell::new(subject);
    let tally = RefCell::new(Tally::default());
    runner.run(&steps(), |steps| play(&mut *subject.borrow_mut(), &steps, &mut tally.borrow_mut())).unwrap();
    let Tally { steps, accepted, per_action } = tally.into_inner();
    let share = accepted as f64 / steps as f64;
    println!("{steps} steps, {accepted} accepted ({:.0}%), per action {per_action:?}", share * 100.0);
    assert!(share >= 0.30, "the generator is too weak: {:.0}% of steps accepted", share * 100.0);
    for seen in SEEN {
        let n = per_action.get(seen).copied().unwrap_or(0);
        assert!(n >= floor, "{seen}: only {n} times");
    }
}

/// One history.
fn play<S: Subject>(subject: &mut S, steps: &[Step], t: &mut Tally) -> Result<(), TestCaseError> {
    subject.start();
    let mut model = Model::new();
    prop_assert_eq!(subject.title(), model.title(), "subject, model: the issued bill");
    let mut ended = false;
    for s in steps {
        let (actor, act, to) = resolve(&model, s);
        let by_agent = s.agent == 0 || (s.agent == 1 && GRANTS.iter().any(|(p, _)| *p == actor));
        let expected = if by_agent { model.step_by_agent(actor, act, to) } else { model.step(actor, act, to) };
        // Only a refusal both sides agree on compares what is stored; any other pairing fails.
        let before = expected.is_err().then(|| subject.snapshot());
        let got = subject.submit(actor, act, to, by_agent);
        t.steps += 1;
        match (expected, got) {
            (Ok(next), Ok(())) => {
                prop_assert!(!ended, "a record was accepted after a terminal one");
                t.accepted += 1;
                *t.per_action.entry(act.name()).or_default() += 1;
                if by_agent {
                    *t.per_action.entry("(signed by an agent)").or_default() += 1;
                }
                model = next;
                let (got, want) = (subject.title(), model.title());
                prop_assert_eq!(got, want, "subject, model: {} {:?} -> {:?} (by agent: {})", actor, act, to, by_agent);
            }
            (Err(want), Err(got)) => {
                for reason in ["NOT_AGENT", "OUTSIDE_DELEGATION"] {
                    if got == reason {
                        *t.per_action.entry(reason).or_default() += 1;
                    }
                }
                prop_assert_eq!(
                    got.as_str(),
                    want,
                    "subject, model: {} {:?} -> {:?} (by agent: {})",
                    actor,
                    act,
                    to,
                    by_agent
                );
                prop_assert_eq!(Some(subject.snapshot()), before, "a refused record changed what is stored");
            }
            (want, got) => prop_assert!(false, "{actor} {act:?} -> {to:?}: model {want:?}, subject {got:?}"),
        }
        subject.after_step()?;
        // One step past a terminal record checks that it refuses; more would only repeat it.
        if ended {
            break;
        }
        ended = model.is_terminal();
    }
    subject.finish()
}
