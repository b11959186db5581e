//! The ledger's state machine: `prepare` does the order-free checks (shape, origin, strict
//! signatures, document validation) and may run in parallel; `apply` does what depends on order
//! (keys valid at this point of the log, time window, chain head, title and registry rules) and
//! returns the effects to persist. Neither reads the clock or randomness: the writer stamps
//! sequence number and time into [`Stamp`] first, so the same records in the same order give the
//! same state on any machine.

use crate::bill::{BillState, Status, SurrenderKind};
use crate::custody::CustodyState;
use crate::custody_rules;
use crate::delegation::{self, Grant, Grants};
use crate::document::{self, Document};
use crate::error::{ApplyError, AuthFailure, Result, RuleError, Unreadable};
use crate::hash::Hash32;
use crate::ids::{BillId, ChainId, PartyId, OPERATOR};
use crate::record::{record_hash, Action, Payload};
use crate::registry::{check_registration, KeyRecord, Party};
use crate::route::{self, Leg};
use crate::sig::{PublicKey, Signature};
use crate::time::{Timestamp, CUSTODY_WINDOW, REGISTRY_WINDOW, TITLE_WINDOW};
use crate::title;
use crate::visibility::not_found;

/// Read access to the current state. Implementations MUST be plain lookups with no side effects.
/// A lookup that cannot be answered (storage failed) is an [`Unreadable`] error, never `None`:
/// absence is a rule's business, a failed read is not.
pub trait View {
    /// A registered party.
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Unreadable>;
    /// A registered key.
    fn key(&self, key: &PublicKey) -> Result<Option<KeyRecord>, Unreadable>;
    /// A bill's title state.
    fn bill(&self, id: &BillId) -> Result<Option<BillState>, Unreadable>;
    /// The registry chain's head: (position, hash).
    fn registry_head(&self) -> Result<Option<(u64, Hash32)>, Unreadable>;
    /// Every grant `principal` made to `agent` (empty when none).
    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Result<Grants, Unreadable>;
    /// A bill's custody state (`None`: issued without a route).
    fn custody(&self, id: &BillId) -> Result<Option<CustodyState>, Unreadable>;
    /// The hash of the record at `position` of a bill's title chain.
    fn title_hash_at(&self, id: &BillId, position: u64) -> Result<Option<Hash32>, Unreadable>;
}

/// What `apply` and the checks it makes return.
type Applied<T> = Result<T, ApplyError>;

/// A record that passed every order-free check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The payload bytes exactly as signed.
    pub bytes: Vec<u8>,
    /// Decoded payload.
    pub payload: Payload,
    /// Record hash.
    pub hash: Hash32,
    /// Strictly verified signatures.
    pub signatures: Vec<Signature>,
    /// The validated document, for ISSUE.
    pub document: Option<Document>,
}

/// What the writer assigns before apply: the global sequence number and the server time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Global sequence number (0-based position in the log).
    pub seq: u64,
    /// Server time.
    pub time: Timestamp,
}

/// A state change to persist, in the same write batch as the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Create or replace a party.
    Party(Party),
    /// Create or replace a key.
    Key(PublicKey, KeyRecord),
    /// Create or replace a bill's state.
    Bill(Box<BillState>),
    /// Move the registry chain's head.
    RegistryHead(u64, Hash32),
    /// Replace the grants of a principal to an agent.
    Delegation(PartyId, PartyId, Grants),
    /// Create or replace a bill's custody state.
    Custody(Box<CustodyState>),
}

/// Order-free checks: [`check_content`], then each signature strictly, once, on arrival.
pub fn prepare(bytes: Vec<u8>, payload: Payload, signatures: Vec<Signature>, origin: &str) -> Result<Checked> {
    let checked = check_content(bytes, payload, signatures, origin)?;
    verify_signatures(&checked)?;
    Ok(checked)
}

/// Each signature of a record checked strictly (`verify_strict`) over its payload bytes.
pub fn verify_signatures(rec: &Checked) -> Result<()> {
    rec.signatures.iter().try_for_each(|s| s.verify(&rec.bytes))
}

/// [`verify_signatures`], each key's own checks answered by `keys` once it has checked the key.
pub fn verify_signatures_with(rec: &Checked, keys: &crate::sig::StrongKeys) -> Result<()> {
    rec.signatures.iter().try_for_each(|s| s.verify_with(keys, &rec.bytes))
}

/// Order-free checks without signature cryptography: origin, shape, signer set, the document of
/// an ISSUE, and the record hash. Replaying a stored chain uses this alone: a stored record's
/// signatures were checked on arrival, and later checks rehash.
pub fn check_content(bytes: Vec<u8>, payload: Payload, signatures: Vec<Signature>, origin: &str) -> Result<Checked> {
    if payload.origin != origin {
        return Err(RuleError::invalid(
            "origin",
            format!("record was made for ledger '{}', this is '{origin}'", payload.origin),
        ));
    }
    payload.check_shape()?;
    check_signer_set(&payload, &signatures)?;
    let document = match &payload.action {
        Action::Issue(body) => Some(document::parse(&body.document, body.profile)?),
        _ => None,
    };
    let hash = record_hash(&bytes);
    Ok(Checked { bytes, payload, hash, signatures, document })
}

/// Exactly the required signers, each once.
fn check_signer_set(p: &Payload, sigs: &[Signature]) -> Result<()> {
    let required = p.required_signers();
    for (i, s) in sigs.iter().enumerate() {
        if !required.contains(&s.party) {
            return Err(RuleError::auth(
                AuthFailure::UnexpectedSigner,
                s.party.as_str(),
                format!("signatures[{i}]: this party has no part in signing {}", p.action.name()),
            ));
        }
        if sigs[..i].iter().any(|o| o.party == s.party) {
            return Err(RuleError::invalid(format!("signatures[{i}]"), format!("party '{}' signs twice", s.party)));
        }
    }
    for r in &required {
        if !sigs.iter().any(|s| &s.party == r) {
            return Err(RuleError::auth(
                AuthFailure::MissingSignature,
                r.as_str(),
                format!("{} must be signed by '{r}'", p.action.name()),
            ));
        }
    }
    Ok(())
}

/// Order-dependent checks and the state change. `operator` is the operator's public key.
pub fn apply(view: &impl View, rec: &Checked, stamp: Stamp, operator: &PublicKey) -> Applied<Vec<Effect>> {
    let p = &rec.payload;
    check_signers(view, &rec.signatures, stamp.seq, operator)?;
    let window = match p.chain {
        ChainId::Registry => REGISTRY_WINDOW,
        ChainId::Title(_) => TITLE_WINDOW,
        ChainId::Custody(_) => CUSTODY_WINDOW,
    };
    window.check(p.claimed_time, stamp.time).map_err(ApplyError::Rule)?;
    match p.chain {
        ChainId::Registry => apply_registry(view, rec, stamp),
        ChainId::Title(id) => apply_title(view, rec, id, stamp),
        ChainId::Custody(id) => apply_custody(view, rec, id, stamp),
    }
}

/// Each signer's key must be registered to it and valid at this point of the log (`seq`). The
/// writer judges this at the record's own place; the service also asks it on arrival, before
/// the costly strict verification, so that signatures by unknown keys cost a lookup only.
pub fn check_signers<'s>(
    view: &impl View,
    signatures: impl IntoIterator<Item = &'s Signature>,
    seq: u64,
    operator: &PublicKey,
) -> Applied<()> {
    for s in signatures {
        if s.party.as_str() == OPERATOR {
            if &s.key != operator {
                return Err(RuleError::auth(
                    AuthFailure::UnknownKey,
                    OPERATOR,
                    "not the operator key this ledger was started with",
                )
                .into());
            }
            continue;
        }
        if view.party(&s.party)?.is_none() {
            return Err(RuleError::auth(AuthFailure::UnknownParty, s.party.as_str(), "no such registered party").into());
        }
        let key = view.key(&s.key)?.ok_or_else(|| {
            RuleError::auth(
                AuthFailure::UnknownKey,
                s.party.as_str(),
                format!("key {} is not registered", s.key.to_hex()),
            )
        })?;
        key.check(&s.party, seq)?;
    }
    Ok(())
}

/// Compare-and-set on a chain head: the record must extend exactly the current head.
fn check_head(p: &Payload, head: Option<(u64, Hash32)>) -> Result<()> {
    match head {
        Some((pos, h)) if p.position == pos + 1 && p.prev == Some(h) => Ok(()),
        Some((pos, h)) => Err(RuleError::stale(p.position, p.prev, pos, Some(h))),
        None if p.position == 0 => Ok(()),
        None => Err(RuleError::stale(p.position, p.prev, 0, None)),
    }
}

fn apply_registry(view: &impl View, rec: &Checked, stamp: Stamp) -> Applied<Vec<Effect>> {
    let p = &rec.payload;
    check_head(p, view.registry_head()?)?;
    let mut out = vec![Effect::RegistryHead(p.position, rec.hash)];
    let party_of = |id: &PartyId, field: &str| -> Applied<Party> {
        let party = view.party(id)?;
        Ok(party.ok_or_else(|| RuleError::invalid(field, format!("party '{id}' is not registered")))?)
    };
    let new_key = |party: &PartyId, key: &PublicKey, field: &str| -> Applied<Effect> {
        key.check_strong(party.as_str()).map_err(|e| RuleError::invalid(field, e.to_string()))?;
        if let Some(k) = view.key(key)? {
            return Err(RuleError::Exists {
                reason: "KEY_IN_USE",
                why: format!("{field}: key is already registered to party '{}'", k.party),
            }
            .into());
        }
        Ok(Effect::Key(*key, KeyRecord { party: party.clone(), added_at: stamp.seq, revoked_at: None }))
    };
    let revoke = |party: &PartyId, key: &PublicKey, field: &str| -> Applied<Effect> {
        match view.key(key)? {
            Some(k) if &k.party == party && k.revoked_at.is_none() => {
                Ok(Effect::Key(*key, KeyRecord { revoked_at: Some(stamp.seq), ..k }))
            }
            Some(k) if &k.party == party => Err(RuleError::refused(
                "KEY_ALREADY_REVOKED",
                format!("{field}: key was revoked at sequence {}", k.revoked_at.unwrap_or_default()),
            )
            .into()),
            _ => Err(RuleError::invalid(field, format!("no such key of party '{party}'")).into()),
        }
    };
    match &p.action {
        Action::RegisterParty(reg) => {
            check_registration(reg)?;
            if view.party(&reg.party)?.is_some() {
                return Err(RuleError::Exists {
                    reason: "PARTY_EXISTS",
                    why: format!("party '{}' is already registered", reg.party),
                }
                .into());
            }
            out.push(Effect::Party(Party { registration: reg.clone(), registered_at: stamp.seq }));
        }
        Action::AddKey { party, key } => {
            party_of(party, "add_key.party")?;
            out.push(new_key(party, key, "add_key.key")?);
        }
        Action::RevokeKey { party, key, .. } => {
            party_of(party, "revoke_key.party")?;
            out.push(revoke(party, key, "revoke_key.key")?);
        }
        Action::RotateKey { party, old, new } => {
            party_of(party, "rotate_key.party")?;
            out.push(revoke(party, old, "rotate_key.old")?);
            out.push(new_key(party, new, "rotate_key.new")?);
        }
        Action::Delegate(d) => {
            let existing = view.delegation(&d.principal, &d.agent)?;
            let (principal, agent) = (view.party(&d.principal)?, view.party(&d.agent)?);
            delegation::check_grant(d, principal.as_ref(), agent.as_ref(), &existing)?;
            let mut grants = existing;
            grants.0.push(Grant {
                actions: d.actions.clone(),
                reference: d.reference.clone(),
                added_at: stamp.seq,
                revoked_at: None,
            });
            out.push(Effect::Delegation(d.principal.clone(), d.agent.clone(), grants));
        }
        Action::RevokeDelegation { principal, agent, .. } => {
            party_of(principal, "revoke_delegation.principal")?;
            party_of(agent, "revoke_delegation.agent")?;
            let grants = delegation::revoke(principal, agent, &view.delegation(principal, agent)?, stamp.seq)?;
            out.push(Effect::Delegation(principal.clone(), agent.clone(), grants));
        }
        other => return Err(RuleError::invalid("action", format!("{} is not a registry action", other.name())).into()),
    }
    Ok(out)
}

/// The registered party `id`, or the refusal for one that is not, naming `field`.
fn registered(view: &impl View, id: &PartyId, field: &str) -> Applied<Party> {
    let party = view.party(id)?;
    Ok(party.ok_or_else(|| RuleError::invalid(field, format!("party '{id}' is not registered")))?)
}

/// The party in whose name a record is.
fn actor_of(view: &impl View, p: &Payload) -> Applied<Party> {
    let actor = view.party(&p.actor)?;
    Ok(actor.ok_or_else(|| RuleError::auth(AuthFailure::UnknownParty, p.actor.as_str(), "no such registered party"))?)
}

fn apply_title(view: &impl View, rec: &Checked, id: BillId, stamp: Stamp) -> Applied<Vec<Effect>> {
    let p = &rec.payload;
    let actor = actor_of(view, p)?;
    check_agent(view, p, stamp.seq)?;
    let recipient = p.recipient.as_ref().map(|r| registered(view, r, "recipient")).transpose()?;
    let existing = view.bill(&id)?;
    let state = match (&p.action, existing) {
        (Action::Issue(_), Some(_)) => {
            return Err(RuleError::Exists {
                reason: "BILL_EXISTS",
                why: format!("bill {id} is already issued by another record"),
            }
            .into());
        }
        (Action::Issue(body), None) => {
            let named = |who: &Option<PartyId>, field: &str| -> Applied<Option<Party>> {
                who.as_ref().map(|w| registered(view, w, field)).transpose()
            };
            let consignee = named(&body.consignee, "issue.consignee")?;
            let endorsee = named(&body.endorsee, "issue.endorsee")?;
            let doc = rec.document.as_ref().expect("prepare parsed the document of every ISSUE");
            let previous_id = body.amendment.checked_sub(1).map(|n| BillId::derive(&p.actor, &doc.reference, n));
            let previous = previous_id.map(|id| view.bill(&id)).transpose()?.flatten();
            let parties = title::IssueParties {
                actor: &actor,
                recipient: recipient.as_ref().expect("shape checked"),
                consignee: consignee.as_ref(),
                endorsee: endorsee.as_ref(),
                previous: previous.as_ref(),
            };
            let bill = title::issue(p, body, doc, &parties, rec.hash, stamp.seq)?;
            let previous_custody = previous_id.map(|id| view.custody(&id)).transpose()?.flatten();
            let custody = custody_at_issue(view, &bill, &body.legs, doc, previous_custody)?;
            let mut bill = bill;
            if let Some(c) = &custody {
                bill.parties.extend(c.carriers());
                // The places the route passes are places the bill touches (customs, place index).
                let places = c.route.iter().flat_map(|l| [l.from.locode.clone(), l.to.locode.clone()]);
                bill.locations.extend(places);
                bill.locations.sort();
                bill.locations.dedup();
            }
            let custody = custody.map(|c| Effect::Custody(Box::new(c)));
            return Ok(std::iter::once(Effect::Bill(Box::new(bill))).chain(custody).collect());
        }
        (_, None) => return Err(not_found(id).into()),
        (_, Some(bill)) => {
            check_visible(view, &actor, &bill)?;
            check_head(p, Some((bill.head_position, bill.head)))?;
            let next = title::act(&bill, p, recipient.as_ref(), rec.hash, stamp.seq)?;
            // After the title rules, so that a party without the right to act (NOT_ISSUER) is
            // told that, never the hold's customs office, declaration and reason.
            check_no_hold(view, &bill, p)?;
            next
        }
    };
    Ok(vec![Effect::Bill(Box::new(state))])
}

/// A record for a bill its actor may not see is refused exactly as one for a missing bill: no
/// later check (head, holder, route) may tell a stranger anything about it. An agent's record is
/// judged by its principal, the actor, whom `check_agent` has already tied it to.
fn check_visible(view: &impl View, actor: &Party, bill: &BillState) -> Applied<()> {
    let custody = view.custody(&bill.id)?;
    let route = custody.as_ref().map(|c| c.route.as_slice()).unwrap_or_default();
    let may_see = |acts_for: &dyn Fn(&PartyId) -> bool| crate::visibility::may_see(actor, bill, route, acts_for);
    if may_see(&|_| false) {
        return Ok(());
    }
    // Only then the bill's parties the actor acts for, read before the rule runs again.
    let me = &actor.registration.party;
    let mut principals = Vec::new();
    for principal in &bill.parties {
        if view.delegation(principal, me)?.current().is_some() {
            principals.push(principal);
        }
    }
    if may_see(&|p| principals.contains(&p)) {
        Ok(())
    } else {
        Err(not_found(bill.id).into())
    }
}

/// An agent's record needs a delegation in force from the actor covering the action.
fn check_agent(view: &impl View, p: &Payload, seq: u64) -> Applied<()> {
    if let Some(agent) = &p.agent {
        let grants = view.delegation(&p.actor, agent)?;
        delegation::authorise(&p.actor, agent, &grants, p.action.name(), seq)?;
    }
    Ok(())
}

/// While customs hold the goods, the carrier does not accept a surrender for delivery.
fn check_no_hold(view: &impl View, bill: &BillState, p: &Payload) -> Applied<()> {
    let for_delivery = bill.status == Status::Surrendered
        && bill.surrender.as_ref().is_some_and(|s| s.kind == SurrenderKind::Delivery);
    if matches!(p.action, Action::AcceptSurrender { .. }) && for_delivery {
        if let Some(h) = view.custody(&bill.id)?.and_then(|c| c.holds.first().cloned()) {
            return Err(custody_rules::hold_refusal(&h, "accepting the surrender for delivery").into());
        }
    }
    Ok(())
}

/// The custody a new bill starts with: none without a route; for an amendment of a bill whose
/// goods were already moving, that bill's custody (the legs under way kept as they were);
/// otherwise every container ready at the first leg.
fn custody_at_issue(
    view: &impl View,
    bill: &BillState,
    legs: &[Leg],
    doc: &Document,
    previous: Option<CustodyState>,
) -> Applied<Option<CustodyState>> {
    if legs.is_empty() {
        if previous.is_some() {
            return Err(
                RuleError::invalid("issue.legs", "the bill it amends has a route: give the amended route").into()
            );
        }
        return Ok(None);
    }
    route::check_route(legs, doc.start.as_deref(), doc.end.as_deref(), doc.profile)?;
    for (i, l) in legs.iter().enumerate() {
        match view.party(&l.carrier)? {
            Some(c) if c.registration.role == crate::registry::Role::Carrier => {}
            _ => {
                return Err(RuleError::invalid(
                    format!("issue.legs[{i}].carrier"),
                    format!("'{}' is not a registered CARRIER", l.carrier),
                )
                .into())
            }
        }
    }
    let Some(prev) = previous else { return Ok(Some(CustodyState::at_issue(bill.id, legs.to_vec(), &doc.seals))) };
    Ok(Some(amended_custody(bill, legs, prev)?))
}

/// The custody an amendment starts with, from the custody of the bill it amends.
fn amended_custody(bill: &BillState, legs: &[Leg], prev: CustodyState) -> Result<CustodyState> {
    let kept = (prev.legs_in_use() as usize).min(prev.route.len());
    if legs.len() < kept || legs[..kept] != prev.route[..kept] {
        return Err(RuleError::invalid(
            "issue.legs",
            format!(
                "legs 0 to {} are under way or done: the amended route keeps them as they were",
                kept.saturating_sub(1)
            ),
        ));
    }
    // Goods waiting at the start of a leg stay with the carrier holding them, where they are.
    for (number, c) in &prev.containers {
        let i = c.leg as usize;
        let field = format!("issue.legs[{i}]");
        match legs.get(i) {
            Some(l) if l.carrier != c.carrier => {
                return Err(RuleError::invalid(
                    format!("{field}.carrier"),
                    format!("'{}' holds {number} for leg {i}: it carries that leg", c.carrier),
                ))
            }
            Some(l) if c.stage == crate::custody::Stage::Ready && l.from.locode != c.location => {
                return Err(RuleError::invalid(
                    format!("{field}.from"),
                    format!("{number} waits at {} for leg {i}: the leg starts there", c.location),
                ))
            }
            Some(_) => {}
            None => {
                return Err(RuleError::invalid("issue.legs", format!("{number} is on leg {i}: the route keeps it")))
            }
        }
    }
    Ok(CustodyState { bill: bill.id, head: None, route: legs.to_vec(), route_version: 0, ..prev })
}

fn apply_custody(view: &impl View, rec: &Checked, id: BillId, stamp: Stamp) -> Applied<Vec<Effect>> {
    let p = &rec.payload;
    let actor = actor_of(view, p)?;
    check_agent(view, p, stamp.seq)?;
    let bill = view.bill(&id)?.ok_or_else(|| not_found(id))?;
    check_visible(view, &actor, &bill)?;
    let state = view.custody(&id)?.ok_or_else(custody_rules::no_route)?;
    check_head(p, state.head)?;
    let (pos, seen) = p.seen_title.expect("shape checked: custody records name a title head");
    let known = if pos == bill.head_position {
        seen == bill.head
    } else {
        pos < bill.head_position && view.title_hash_at(&id, pos)? == Some(seen)
    };
    if !known {
        return Err(RuleError::invalid(
            "title_head",
            format!("position {pos} and hash {seen} are not a record of this bill's title chain"),
        )
        .into());
    }
    if let Some(r) = &p.recipient {
        registered(view, r, "recipient")?;
    }
    // The parties the custody rules may look up (a re-route's carriers), read first.
    let mut named = std::collections::HashMap::new();
    if let Action::Reroute { legs, .. } = &p.action {
        for l in legs {
            if let Some(c) = view.party(&l.carrier)? {
                named.insert(l.carrier.clone(), c);
            }
        }
    }
    let party = |id: &PartyId| named.get(id).cloned();
    let cx = custody_rules::Context { bill: &bill, actor: &actor, seq: stamp.seq, party: &party };
    let mut next = custody_rules::act(&state, p, &cx)?;
    next.head = Some((p.position, rec.hash));
    Ok(vec![Effect::Custody(Box::new(next))])
}
