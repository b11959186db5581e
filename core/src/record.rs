//! Records: the decoded content of a signed payload, its hash, and who must sign it. The exact
//! byte encoding lives at the edge (protobuf, `docs/wire-format.md`); this module holds the
//! checked domain form and never sees the wire types.

use crate::document::Profile;
use crate::hash::Hash32;
use crate::ids::{ChainId, PartyId};
use crate::registry::{Registration, Role};
use crate::route::Leg;
use crate::sig::PublicKey;
use crate::time::Timestamp;

/// The only payload format version this ledger accepts.
pub const FORMAT_VERSION: u32 = 1;
/// Domain tag of a record payload (signed bytes and record hash).
pub const RECORD_DOMAIN: &str = "ebl.v1/record";
/// Domain tag of the record hash.
pub const RECORD_HASH_TAG: &str = "ebl.v1/record-hash";

/// `SHA-256("ebl.v1/record-hash" || 0x00 || payload bytes)`: the record's identity and chain link.
pub fn record_hash(payload: &[u8]) -> Hash32 {
    Hash32::tagged(RECORD_HASH_TAG, &[payload])
}

/// The checked content of a record payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The ledger origin the record was made for.
    pub origin: String,
    /// The chain the record extends.
    pub chain: ChainId,
    /// Position in that chain (0 for the first record).
    pub position: u64,
    /// Hash of the chain's previous record (`None` exactly when `position == 0`).
    pub prev: Option<Hash32>,
    /// The party that acts: in whose name the record is, whose title rights it uses.
    pub actor: PartyId,
    /// The party that signs for the actor under a registered delegation (`None`: the actor signs).
    pub agent: Option<PartyId>,
    /// The party the action is addressed to, where it has one.
    pub recipient: Option<PartyId>,
    /// When the actor says it acted.
    pub claimed_time: Timestamp,
    /// Custody records: the bill's title head (position, hash) its signers saw.
    pub seen_title: Option<(u64, Hash32)>,
    /// What it does.
    pub action: Action,
}

/// The ISSUE action's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The DCSA transport document, as the carrier signed it (JSON bytes).
    pub document: Vec<u8>,
    /// Validation profile of the document.
    pub profile: Profile,
    /// Amendment number (0 for an original bill).
    pub amendment: u32,
    /// Ledger party named as consignee in the document (straight bills).
    pub consignee: Option<PartyId>,
    /// Ledger party named as endorsee in the document (to-order bills).
    pub endorsee: Option<PartyId>,
    /// The carrier's DCSA issuance manifest (compact JWS), stored as received.
    pub issuance_manifest: Option<String>,
    /// For an amendment: the hash of the SACC that voided the previous amendment.
    pub amends: Option<crate::hash::Hash32>,
    /// The route: ordered legs from the place of receipt to the place of delivery (may be empty:
    /// a bill issued without a route has no custody chain).
    pub legs: Vec<Leg>,
}

/// A seal checked at a handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealCheck {
    /// The container.
    pub container: String,
    /// The seal number found, as recorded on the container.
    pub seal: String,
    /// A replacement seal, when the seal was changed.
    pub new_seal: Option<String>,
    /// Why it was changed (required with `new_seal`).
    pub reason: String,
}

/// The HANDOFF action's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The leg that ends here (the goods go on to the next leg).
    pub leg: u32,
    /// Where (UN/LOCODE): the end of `leg`.
    pub place: String,
    /// The containers handed over (some or all).
    pub containers: Vec<String>,
    /// Every seal of those containers, checked.
    pub seals: Vec<SealCheck>,
    /// Exceptions noted (damage, shortage...): `CONTAINER: text`.
    pub exceptions: Vec<String>,
}

/// How a bill is pledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PledgeMode {
    /// The pledgee controls the bill; the pledgor stays entitled.
    Possession,
    /// Endorsement in pledge: the pledgee is endorsed to and controls the bill.
    Endorsement,
}

impl PledgeMode {
    /// Upper-case name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            PledgeMode::Possession => "POSSESSION",
            PledgeMode::Endorsement => "ENDORSEMENT",
        }
    }
}

/// Why a bill is surrendered for amendment (DCSA `reasonCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AmendmentReason {
    /// Switch to paper.
    Swtp,
    /// Change of destination.
    Cod,
    /// Switch bill.
    Swi,
}

impl AmendmentReason {
    /// The DCSA code.
    pub fn code(self) -> &'static str {
        match self {
            AmendmentReason::Swtp => "SWTP",
            AmendmentReason::Cod => "COD",
            AmendmentReason::Swi => "SWI",
        }
    }
}

/// What a record does, with the action's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Operator registers a party.
    RegisterParty(Registration),
    /// Operator adds a key to a party.
    AddKey {
        /// Owner.
        party: PartyId,
        /// The key.
        key: PublicKey,
    },
    /// Operator revokes a key.
    RevokeKey {
        /// Owner.
        party: PartyId,
        /// The key.
        key: PublicKey,
        /// Why (free text, stored).
        reason: String,
    },
    /// Operator registers a delegation; the principal co-signs.
    Delegate(crate::delegation::Delegation),
    /// Operator ends a delegation.
    RevokeDelegation {
        /// The party that had delegated.
        principal: PartyId,
        /// Its agent.
        agent: PartyId,
        /// Why (free text, stored).
        reason: String,
    },
    /// Operator replaces a key by another in one record.
    RotateKey {
        /// Owner.
        party: PartyId,
        /// Key revoked.
        old: PublicKey,
        /// Key added.
        new: PublicKey,
    },
    /// Carrier issues a bill to the recipient.
    Issue(Box<Issue>),
    /// Possession moves to the recipient.
    Transfer,
    /// Names the recipient endorsee; it cannot endorse further.
    Endorse,
    /// Names the recipient endorsee; it can endorse further.
    EndorseToOrder,
    /// Endorsement in blank: transferable by possession alone.
    BlankEndorse,
    /// The possessor confirms possession.
    Sign,
    /// The recipient of the pending offer refuses it; the title before the offer returns.
    Reject {
        /// Why (free text, stored).
        reason: String,
    },
    /// The entitled possessor surrenders the bill to its issuer for delivery.
    SurrenderForDelivery,
    /// The entitled possessor surrenders the bill to its issuer for amendment.
    SurrenderForAmendment(AmendmentReason),
    /// SACC: the issuer accepts the pending surrender.
    AcceptSurrender {
        /// The paper bill in force after a switch to paper (SWTP only).
        paper_bill_number: Option<String>,
    },
    /// SREJ: the issuer rejects the pending surrender.
    RejectSurrender {
        /// Why (free text, stored).
        reason: String,
    },
    /// The entitled possessor pledges the bill to a bank (the recipient).
    Pledge {
        /// How.
        mode: PledgeMode,
        /// What it secures (free text, stored).
        loan_reference: String,
    },
    /// The pledgee gives the bill back.
    ReleasePledge,
    /// On default, the pledgee gains the right to dispose of the goods.
    EnforcePledge {
        /// Why (free text, stored).
        reason: String,
    },
    /// The leg's carrier sets off with containers.
    Depart {
        /// Leg index.
        leg: u32,
        /// Containers.
        containers: Vec<String>,
        /// What actually carries them, when not the leg's planned conveyance.
        conveyance: Option<crate::route::Conveyance>,
    },
    /// The leg's carrier arrives with containers at the end of the leg.
    Arrive {
        /// Leg index.
        leg: u32,
        /// Containers.
        containers: Vec<String>,
    },
    /// Outgoing carrier (actor) and incoming carrier (recipient) hand containers over, both signing.
    Handoff(Box<Handoff>),
    /// The last carrier delivers containers to the party whose surrender was accepted (recipient).
    Deliver {
        /// Containers.
        containers: Vec<String>,
    },
    /// Customs hold the goods.
    CustomsHold {
        /// Declaration number.
        declaration: String,
        /// Why.
        reason: String,
    },
    /// Customs release their hold.
    CustomsRelease {
        /// Declaration number of the hold.
        declaration: String,
        /// Why (free text, stored).
        reason: String,
    },
    /// The issuing carrier re-plans the remaining legs, from `from_leg` on.
    Reroute {
        /// First leg replaced.
        from_leg: u32,
        /// The new legs.
        legs: Vec<Leg>,
    },
}

/// Every action's name ([`Action::name`]), so that a name read back (from storage) is one of them.
pub const ACTION_NAMES: [&str; 27] = [
    "REGISTER_PARTY",
    "ADD_KEY",
    "REVOKE_KEY",
    "ROTATE_KEY",
    "DELEGATE",
    "REVOKE_DELEGATION",
    "ISSUE",
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
    "DEPART",
    "ARRIVE",
    "HANDOFF",
    "DELIVER",
    "CUSTOMS_HOLD",
    "CUSTOMS_RELEASE",
    "REROUTE",
];

/// The action name equal to `name`, if it is one.
pub fn action_name(name: &str) -> Option<&'static str> {
    ACTION_NAMES.iter().find(|n| **n == name).copied()
}

impl Action {
    /// The action's name, as in DCSA PINT where PINT has it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::RegisterParty(_) => "REGISTER_PARTY",
            Action::AddKey { .. } => "ADD_KEY",
            Action::RevokeKey { .. } => "REVOKE_KEY",
            Action::RotateKey { .. } => "ROTATE_KEY",
            Action::Delegate(_) => "DELEGATE",
            Action::RevokeDelegation { .. } => "REVOKE_DELEGATION",
            Action::Issue(_) => "ISSUE",
            Action::Transfer => "TRANSFER",
            Action::Endorse => "ENDORSE",
            Action::EndorseToOrder => "ENDORSE_TO_ORDER",
            Action::BlankEndorse => "BLANK_ENDORSE",
            Action::Sign => "SIGN",
            Action::Reject { .. } => "REJECT",
            Action::SurrenderForDelivery => "SURRENDER_FOR_DELIVERY",
            Action::SurrenderForAmendment(_) => "SURRENDER_FOR_AMENDMENT",
            Action::AcceptSurrender { .. } => "SACC",
            Action::RejectSurrender { .. } => "SREJ",
            Action::Pledge { .. } => "PLEDGE",
            Action::ReleasePledge => "RELEASE_PLEDGE",
            Action::EnforcePledge { .. } => "ENFORCE_PLEDGE",
            Action::Depart { .. } => "DEPART",
            Action::Arrive { .. } => "ARRIVE",
            Action::Handoff(_) => "HANDOFF",
            Action::Deliver { .. } => "DELIVER",
            Action::CustomsHold { .. } => "CUSTOMS_HOLD",
            Action::CustomsRelease { .. } => "CUSTOMS_RELEASE",
            Action::Reroute { .. } => "REROUTE",
        }
    }

    /// Whether the action belongs on the registry chain (else on a bill's title chain).
    pub fn is_registry(&self) -> bool {
        matches!(
            self,
            Action::RegisterParty(_)
                | Action::AddKey { .. }
                | Action::RevokeKey { .. }
                | Action::RotateKey { .. }
                | Action::Delegate(_)
                | Action::RevokeDelegation { .. }
        )
    }

    /// Whether the action belongs on a bill's custody chain.
    pub fn is_custody(&self) -> bool {
        matches!(
            self,
            Action::Depart { .. }
                | Action::Arrive { .. }
                | Action::Handoff(_)
                | Action::Deliver { .. }
                | Action::CustomsHold { .. }
                | Action::CustomsRelease { .. }
                | Action::Reroute { .. }
        )
    }

    /// Whether the action must name a recipient (else it must not).
    pub fn has_recipient(&self) -> bool {
        matches!(
            self,
            Action::Issue(_)
                | Action::Transfer
                | Action::Endorse
                | Action::EndorseToOrder
                | Action::SurrenderForDelivery
                | Action::SurrenderForAmendment(_)
                | Action::Pledge { .. }
                | Action::Handoff(_)
                | Action::Deliver { .. }
        )
    }

    /// The role the actor must hold, where the action fixes one.
    pub fn actor_role(&self) -> Option<Role> {
        match self {
            Action::Issue(_) => Some(Role::Carrier),
            _ => None,
        }
    }
}

impl Payload {
    /// Checks the shape rules that need no state: chain kind matches the action, position and
    /// previous hash agree, recipient present exactly when the action has one.
    pub fn check_shape(&self) -> crate::error::Result<()> {
        use crate::error::RuleError;
        let registry_chain = self.chain == ChainId::Registry;
        let custody_chain = matches!(self.chain, ChainId::Custody(_));
        if registry_chain != self.action.is_registry() || custody_chain != self.action.is_custody() {
            return Err(RuleError::invalid("chain", format!("{} does not belong on this chain", self.action.name())));
        }
        if custody_chain != self.seen_title.is_some() {
            let why = if custody_chain { "is required for a custody record" } else { "is only for custody records" };
            return Err(RuleError::invalid("title_head", why));
        }
        if (self.position == 0) != self.prev.is_none() {
            return Err(RuleError::invalid("prev_hash", "must be empty exactly when position is 0"));
        }
        if matches!(self.action, Action::Issue(_)) != (self.position == 0 && matches!(self.chain, ChainId::Title(_))) {
            return Err(RuleError::invalid("position", "ISSUE is exactly the first record of a title chain"));
        }
        if self.action.has_recipient() != self.recipient.is_some() {
            let why = if self.action.has_recipient() { "is required" } else { "must be empty" };
            return Err(RuleError::invalid("recipient", format!("{why} for {}", self.action.name())));
        }
        if registry_chain && self.actor.as_str() != crate::ids::OPERATOR {
            return Err(RuleError::invalid("actor", "registry records are made by the operator"));
        }
        match &self.agent {
            Some(_) if registry_chain => {
                return Err(RuleError::invalid(
                    "agent",
                    "registry records are signed by the operator, never by an agent",
                ))
            }
            Some(a) if a == &self.actor => return Err(RuleError::invalid("agent", "must differ from the actor")),
            Some(a) if a.as_str() == crate::ids::OPERATOR => {
                return Err(RuleError::invalid("agent", "the operator is nobody's agent"))
            }
            _ => {}
        }
        if let Action::Issue(i) = &self.action {
            if let Some(jws) = &i.issuance_manifest {
                let parts: Vec<&str> = jws.split('.').collect();
                let b64url = |p: &str| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if parts.len() != 3 || parts[0].is_empty() || parts[2].is_empty() || !parts.iter().all(|p| b64url(p)) {
                    return Err(RuleError::invalid(
                        "issue.issuance_manifest",
                        "must be a compact JWS: three base64url parts joined by '.'",
                    ));
                }
            }
        }
        // A carrier may issue to itself, and hand goods over to itself where it carries two legs
        // in a row (train to ship at its own terminal): the seals are still checked.
        if self.recipient.as_ref() == Some(&self.actor) && !matches!(self.action, Action::Issue(_) | Action::Handoff(_))
        {
            return Err(RuleError::invalid("recipient", "must differ from the actor"));
        }
        Ok(())
    }

    /// The parties whose signatures the record needs: exactly these, no more. The actor, or its
    /// agent in its place; a DELEGATE also needs the principal, who grants it.
    pub fn required_signers(&self) -> Vec<PartyId> {
        match (&self.action, &self.agent) {
            (Action::Delegate(d), _) => vec![self.actor.clone(), d.principal.clone()],
            // Both carriers sign a handoff over the same bytes (an agent may sign for the outgoing one).
            (Action::Handoff(_), agent) => {
                let incoming = self.recipient.clone().expect("shape checked: HANDOFF has a recipient");
                let outgoing = agent.clone().unwrap_or_else(|| self.actor.clone());
                if incoming == self.actor {
                    vec![outgoing]
                } else {
                    vec![outgoing, incoming]
                }
            }
            (_, Some(agent)) => vec![agent.clone()],
            (_, None) => vec![self.actor.clone()],
        }
    }
}
