//! Who is reading: signed read envelopes checked against the registry, a replay cache, and the
//! visibility rule (a party sees bills it has been part of, customs those touching their
//! jurisdiction, auditors and the operator all; anything else is NOT_FOUND).

use crate::error::LedgerError;
use crate::pb;
use crate::store::Store;
use crate::wire::read::decode_read;
use ebl_core::bill::BillState;
use ebl_core::error::AuthFailure;
use ebl_core::ids::{PartyId, OPERATOR};
use ebl_core::registry::{Party, Role};
use ebl_core::route::Leg;
use ebl_core::sig::PublicKey;
use ebl_core::time::{Timestamp, READ_WINDOW};
use ebl_core::RuleError;
use std::collections::HashMap;
use std::sync::Mutex;

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
            Reader::Party(p) => match p.registration.role {
                Role::Auditor => true,
                Role::Customs => {
                    bill.locations.iter().any(|l| p.covers(l))
                        || route.iter().any(|l| p.covers(&l.from.locode) || p.covers(&l.to.locode))
                }
                _ => {
                    let me = &p.registration.party;
                    let carries = route.iter().any(|l| &l.carrier == me);
                    bill.parties.contains(me) || carries || bill.parties.iter().any(acts_for)
                }
            },
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

/// Nonces seen within the read window. A nonce is refused a second time while its envelope's
/// time could still pass the window check; older ones are pruned.
#[derive(Default)]
pub struct ReplayCache {
    // std Mutex: held only for a map lookup and insert, never across an await.
    seen: Mutex<HashMap<[u8; 16], Timestamp>>,
}

impl ReplayCache {
    /// Records `nonce`; refuses it if already seen.
    fn check(&self, nonce: [u8; 16], claimed: Timestamp, now: Timestamp) -> Result<(), RuleError> {
        let mut seen = self.seen.lock().expect("replay cache lock poisoned");
        if seen.len() > 10_000 {
            let oldest = now.plus_ms(-READ_WINDOW.past_ms - READ_WINDOW.future_ms);
            seen.retain(|_, t| *t >= oldest);
        }
        if seen.insert(nonce, claimed).is_some() {
            return Err(RuleError::auth(AuthFailure::Replayed, "", "this read envelope (nonce) was already used"));
        }
        Ok(())
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
    replay.check(env.nonce, env.claimed_time, now)?;
    Ok((reader, env.request))
}
