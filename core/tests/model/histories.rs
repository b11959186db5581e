//! Random histories of title steps, and [`run`], which plays them against a [`Subject`] and
//! asserts, after every step, that the subject and the model agree on the accept or refuse (with
//! its reason), that a refusal changes nothing, and that an acceptance leaves the title the model
//! expects.

use super::{Act, Model, Title, Why, GRANTS, PARTIES};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;

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
/// by an agent accepted, both agent refusals, and a record refused because its actor may not see
/// the bill.
const SEEN: [&str; 17] = [
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
    "NOT_FOUND",
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
                for reason in ["NOT_AGENT", "OUTSIDE_DELEGATION", "NOT_FOUND"] {
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
