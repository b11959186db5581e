//! The reference model of the title rules and the generator of histories, shared by the core's
//! property test (`core/tests/title_model.rs`) and the same test through the gRPC service
//! (`tests/title_model_grpc.rs`). The model is written from docs/title-rules.md over plain values
//! (party names, status and reason names); it MUST NOT call the rules it checks (`title.rs`) nor
//! use any ebl-core type, so that both subjects are held to one independent account of the rules.
//!
//! The generator of histories and the loop that plays them against a subject are in
//! [`histories`].

mod histories;

pub use histories::{cases, run, Subject};

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
    /// Every party that has been part of the bill: the issuer, recipients, actors, agents.
    parties: Vec<&'static str>,
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
            parties: vec!["carrier", "a"],
        }
    }

    /// Whether `who` may see the bill: it has been part of it, or it is `agt`, the agent of the
    /// issuing carrier (an agent sees what its principals see). A record for a bill its actor may
    /// not see is refused as NOT_FOUND, exactly like one for a bill that does not exist.
    fn sees(&self, who: &str) -> bool {
        self.parties.contains(&who) || who == "agt"
    }

    fn joined(mut self, who: impl IntoIterator<Item = &'static str>) -> Self {
        for w in who {
            if !self.parties.contains(&w) {
                self.parties.push(w);
            }
        }
        self
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
        if !self.sees(actor) {
            return Err("NOT_FOUND");
        }
        self.rules(actor, act, to).map(|n| n.joined([actor].into_iter().chain(to)))
    }

    /// The title rules proper, for an actor that may see the bill.
    fn rules(&self, actor: &'static str, act: Act, to: Option<&'static str>) -> Result<Model, &'static str> {
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
        self.step(actor, act, to).map(|n| n.joined(["agt"]))
    }
}
