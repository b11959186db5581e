//! A bill's title state: who possesses it, who is entitled to the goods, what kind of bill it is.
//! Owns the derived questions (who is entitled, who may see it); the rules that change it are in
//! [`crate::title`].

use crate::document::{Profile, TypeCode};
use crate::hash::Hash32;
use crate::ids::{BillId, PartyId};
use crate::record::{AmendmentReason, PledgeMode};
use std::collections::BTreeSet;

/// How title to the goods passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BillKind {
    /// Straight bill: the named consignee is entitled; never endorsed.
    Straight,
    /// To-order bill: passes by endorsement (or by possession alone once blank-endorsed).
    ToOrder,
    /// Sea waybill: recorded, never transferable.
    Waybill,
}

/// Where the bill is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// Issued and live: title actions apply.
    Issued,
    /// Surrendered to the issuer, which holds it until it accepts (SACC) or rejects (SREJ).
    Surrendered,
    /// Surrender for delivery accepted: the goods are released to the surrendering party. Terminal.
    Accomplished,
    /// Surrender for amendment accepted: replaced by the next amendment. Terminal.
    Void,
    /// Switched to paper: the paper bill is in force. Terminal.
    SwitchedToPaper,
}

impl Status {
    /// Upper-case name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Status::Issued => "ISSUED",
            Status::Surrendered => "SURRENDERED",
            Status::Accomplished => "ACCOMPLISHED",
            Status::Void => "VOID",
            Status::SwitchedToPaper => "SWITCHED_TO_PAPER",
        }
    }

    /// Whether nothing may follow.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Accomplished | Status::Void | Status::SwitchedToPaper)
    }
}

/// Why a bill was surrendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SurrenderKind {
    /// For delivery of the goods.
    Delivery,
    /// For amendment, with the DCSA reason.
    Amendment(AmendmentReason),
}

/// The last surrender of a bill: pending while the status is `Surrendered`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Surrender {
    /// Why.
    pub kind: SurrenderKind,
    /// The party that surrendered (the entitled possessor then).
    pub by: PartyId,
    /// The title before: what a rejection (SREJ) restores.
    pub before: Holding,
    /// The accepting SACC's hash, once accepted.
    pub accepted_by: Option<Hash32>,
}

/// A bill's current title state, as stored and as rebuilt from its records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BillState {
    /// Identity.
    pub id: BillId,
    /// Issuing carrier.
    pub issuer: PartyId,
    /// `transportDocumentReference`.
    pub reference: String,
    /// Amendment number.
    pub amendment: u32,
    /// RFC 8785 checksum of the transport document.
    pub document_checksum: Hash32,
    /// `transportDocumentTypeCode`.
    pub type_code: TypeCode,
    /// Validation profile (NoSeaLeg bills are not exportable over PINT).
    pub profile: Profile,
    /// Straight, to order, or waybill.
    pub kind: BillKind,
    /// Life-cycle status.
    pub status: Status,
    /// The party in control of the bill.
    pub possessor: PartyId,
    /// Straight bills: the named consignee.
    pub consignee: Option<PartyId>,
    /// To-order bills: the current endorsee (`None` when blank-endorsed).
    pub endorsee: Option<PartyId>,
    /// Whether the current endorsee may endorse further (false after a plain ENDORSE).
    pub endorsable: bool,
    /// Hash of the last title record.
    pub head: Hash32,
    /// Position of the last title record.
    pub head_position: u64,
    /// Global sequence number of the last title record.
    pub head_seq: u64,
    /// Every party that has been part of the bill (issuer, recipients, actors, named parties).
    pub parties: BTreeSet<PartyId>,
    /// Every UN/LOCODE the document names (customs see bills touching their jurisdiction).
    pub locations: Vec<String>,
    /// Container numbers.
    pub containers: Vec<String>,
    /// The transfer or endorsement its recipient may still reject (cleared by any other record).
    #[serde(default)]
    pub offer: Option<Offer>,
    /// The last surrender, pending or accepted.
    #[serde(default)]
    pub surrender: Option<Surrender>,
    /// After a switch to paper: the paper bill's number.
    #[serde(default)]
    pub paper_bill_number: Option<String>,
    /// For an amendment: the SACC (on the previous amendment) that this bill replaces.
    #[serde(default)]
    pub amends: Option<Hash32>,
    /// The bill's pledge to a bank, while it lasts.
    #[serde(default)]
    pub pledge: Option<Pledge>,
}

/// A pledge of the bill as security.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pledge {
    /// The bank holding the bill as security.
    pub pledgee: PartyId,
    /// The party that pledged it (entitled possessor then).
    pub pledgor: PartyId,
    /// How.
    pub mode: PledgeMode,
    /// The title before: what a release restores.
    pub before: Holding,
    /// Whether the pledgee enforced it (may then dispose of the goods).
    pub enforced: bool,
}

/// The parts of a bill's title that transfers and endorsements change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holding {
    /// Who has control.
    pub possessor: PartyId,
    /// The named endorsee of a to-order bill (none: blank).
    pub endorsee: Option<PartyId>,
    /// Whether the endorsee may endorse further.
    pub endorsable: bool,
}

/// An offer of the bill, open to rejection by its recipient until the next record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Offer {
    /// Who was made possessor or endorsee, and may reject.
    pub to: PartyId,
    /// Who made the offer.
    pub from: PartyId,
    /// The title before the offer's first record: what a rejection restores.
    pub before: Holding,
    /// The pledge before the offer (an enforced pledge ends when the pledgee sells): restored too.
    #[serde(default)]
    pub pledge: Option<Pledge>,
}

impl BillState {
    /// The parts of the title that a rejection restores.
    pub fn holding(&self) -> Holding {
        Holding { possessor: self.possessor.clone(), endorsee: self.endorsee.clone(), endorsable: self.endorsable }
    }

    /// A voided bill's replacement: same carrier and reference, the next amendment number.
    pub fn successor(&self) -> Option<BillId> {
        (self.status == Status::Void).then(|| BillId::derive(&self.issuer, &self.reference, self.amendment + 1))
    }

    /// Puts back a holding (a rejection).
    pub fn restore(&mut self, h: Holding) {
        self.possessor = h.possessor;
        self.endorsee = h.endorsee;
        self.endorsable = h.endorsable;
    }

    /// Whether the bill is endorsed in blank (bearer): whoever possesses it is entitled.
    pub fn is_blank(&self) -> bool {
        self.kind == BillKind::ToOrder && self.endorsee.is_none()
    }

    /// The party entitled to the goods: the consignee, the endorsee, or for a blank-endorsed bill
    /// its possessor.
    pub fn entitled(&self) -> &PartyId {
        // A pledge by possession leaves the pledgor entitled; an enforced pledge gives the pledgee
        // the right to dispose of the goods.
        if let Some(p) = &self.pledge {
            match (p.mode, p.enforced) {
                (_, true) => return &p.pledgee,
                (PledgeMode::Possession, false) => return &p.pledgor,
                (PledgeMode::Endorsement, false) => {}
            }
        }
        match self.kind {
            BillKind::Straight | BillKind::Waybill => self.consignee.as_ref().unwrap_or(&self.possessor),
            BillKind::ToOrder => self.endorsee.as_ref().unwrap_or(&self.possessor),
        }
    }
}
