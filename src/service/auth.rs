//! Who is reading: signed read envelopes checked against the registry and the replay guard
//! ([`super::replay`]), and the visibility rule (`ebl_core::visibility`: a party sees bills it
//! has been part of, customs those touching their jurisdiction, auditors and the operator all;
//! anything else is NOT_FOUND).

use super::replay::ReplayCache;
use crate::error::LedgerError;
use crate::pb;
use crate::store::Store;
use crate::wire::read::decode_read;
use ebl_core::bill::BillState;
use ebl_core::error::AuthFailure;
use ebl_core::ids::{PartyId, OPERATOR};
use ebl_core::registry::Party;
use ebl_core::route::Leg;
use ebl_core::sig::PublicKey;
use ebl_core::time::{Timestamp, READ_WINDOW};
use ebl_core::RuleError;

/// The authenticated reader of a request.
#[derive(Debug, Clone)]
pub enum Reader {
    /// The operator (sees everything, like an auditor).
    Operator,
    /// A registered party.
    Party(Party),
}

impl Reader {
    /// Whether this reader may see `bill`. `acts_for(principal)` says whether the reader holds a
    /// delegation in force from `principal`: an agent sees what its principals see, so that it
    /// can build its records, for as long as its delegation lasts.
    /// `route` is the bill's route in force, if it has one: its carriers may see the bill, and
    /// customs whose jurisdiction it crosses (a re-routing may add both).
    pub fn can_see(&self, bill: &BillState, route: &[Leg], acts_for: impl Fn(&PartyId) -> bool) -> bool {
        match self {
            Reader::Operator => true,
            Reader::Party(p) => ebl_core::visibility::may_see(p, bill, route, acts_for),
        }
    }

    /// The reader's party id (`operator` for the operator).
    pub fn party(&self) -> PartyId {
        match self {
            Reader::Operator => PartyId::operator(),
            Reader::Party(p) => p.registration.party.clone(),
        }
    }
}

/// Authenticates a signed read for `method`. Blocking (reads the registry).
pub fn authenticate(
    store: &Store,
    origin: &str,
    operator: &PublicKey,
    replay: &ReplayCache,
    r: &pb::SignedRead,
    method: &str,
) -> Result<(Reader, Vec<u8>), LedgerError> {
    let env = decode_read(r, origin, method)?;
    let now = Timestamp::now();
    READ_WINDOW
        .check(env.claimed_time, now)
        .map_err(|e| RuleError::auth(AuthFailure::Expired, env.signer.party.as_str(), e.to_string()))?;
    let party = &env.signer.party;
    let reader = if party.as_str() == OPERATOR {
        if &env.signer.key != operator {
            return Err(RuleError::auth(AuthFailure::UnknownKey, OPERATOR, "not the operator key").into());
        }
        Reader::Operator
    } else {
        let p = store
            .party(party)?
            .ok_or_else(|| RuleError::auth(AuthFailure::UnknownParty, party.as_str(), "no such registered party"))?;
        let key = store
            .key(&env.signer.key)?
            .ok_or_else(|| RuleError::auth(AuthFailure::UnknownKey, party.as_str(), "key is not registered"))?;
        key.check(party, store.next_seq()?)?;
        Reader::Party(p)
    };
    replay.check(&reader.party(), env.nonce, env.claimed_time, now)?;
    Ok((reader, env.request))
}
