//! The read replay guard: a signed read envelope is good once. Nonces are kept per party while
//! their envelope could still pass the time window, in a set (the check) and in time order (the
//! expiry), so a check costs O(log n) however many nonces are held; each party has its own bound,
//! so one party cannot crowd out everyone else's reads. Nothing is written to disk: envelopes
//! signed before this process started are refused instead, so a read cannot be replayed across a
//! restart.

use ebl_core::error::AuthFailure;
use ebl_core::ids::PartyId;
use ebl_core::time::{Timestamp, READ_WINDOW};
use ebl_core::RuleError;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

/// Most nonces held for one party: at most this many reads per party within a read window
/// (2 minutes either way, so about 200 reads a second sustained).
pub const MAX_NONCES_PER_PARTY: usize = 50_000;

/// One party's nonces still inside the window.
#[derive(Default)]
struct Nonces {
    seen: HashSet<[u8; 16]>,
    by_time: BTreeSet<(Timestamp, [u8; 16])>,
}

impl Nonces {
    /// Forgets the nonces whose envelope the time window now refuses anyway.
    fn expire(&mut self, now: Timestamp) {
        let oldest = now.plus_ms(-READ_WINDOW.past_ms);
        while let Some(&(t, n)) = self.by_time.first() {
            if t >= oldest {
                break;
            }
            self.by_time.pop_first();
            self.seen.remove(&n);
        }
    }
}

/// Nonces of recent signed reads, per party.
pub struct ReplayCache {
    started: Timestamp,
    // std Mutex: held for a few map operations, never across an await.
    parties: Mutex<HashMap<PartyId, Nonces>>,
}

impl ReplayCache {
    /// A cache for a process started at `started`: envelopes signed before it are refused.
    pub fn new(started: Timestamp) -> Self {
        ReplayCache { started, parties: Mutex::new(HashMap::new()) }
    }

    /// Records `party`'s `nonce` (signed at `claimed`, already inside the window around `now`);
    /// refuses it if already used, if signed before this process started (its use before the
    /// restart is not known), or if the party has too many reads inside the window.
    pub fn check(&self, party: &PartyId, nonce: [u8; 16], claimed: Timestamp, now: Timestamp) -> Result<(), RuleError> {
        if claimed < self.started {
            return Err(RuleError::auth(
                AuthFailure::Expired,
                party.as_str(),
                format!(
                    "the envelope was signed at {}, before the ledger started at {}: sign the read again",
                    claimed.to_rfc3339(),
                    self.started.to_rfc3339()
                ),
            ));
        }
        let mut parties = self.parties.lock().expect("replay cache lock poisoned");
        let mine = parties.entry(party.clone()).or_default();
        mine.expire(now);
        if mine.seen.contains(&nonce) {
            return Err(RuleError::auth(
                AuthFailure::Replayed,
                party.as_str(),
                "this read envelope (nonce) was already used",
            ));
        }
        if mine.seen.len() >= MAX_NONCES_PER_PARTY {
            return Err(RuleError::Limit {
                reason: "READ_RATE_LIMIT",
                why: format!(
                    "party '{party}' has made {MAX_NONCES_PER_PARTY} signed reads within the read window; try again shortly"
                ),
            });
        }
        mine.seen.insert(nonce);
        mine.by_time.insert((claimed, nonce));
        Ok(())
    }

    /// How many nonces are held for `party` (for tests and metrics).
    pub fn held(&self, party: &PartyId) -> usize {
        self.parties.lock().expect("replay cache lock poisoned").get(party).map_or(0, |n| n.seen.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(name: &str) -> PartyId {
        PartyId::parse("party", name).unwrap()
    }

    #[test]
    fn a_nonce_is_good_once_and_forgotten_when_its_window_has_passed() {
        let t0 = Timestamp(1_000_000_000);
        let c = ReplayCache::new(t0);
        let a = party("a");
        c.check(&a, [1; 16], t0, t0).unwrap();
        assert_eq!(c.check(&a, [1; 16], t0, t0).unwrap_err().reason(), "READ_REPLAYED");
        // Another party's identical nonce is its own.
        c.check(&party("b"), [1; 16], t0, t0).unwrap();
        // Once the window refuses the old envelope anyway, its nonce is dropped.
        let later = t0.plus_ms(READ_WINDOW.past_ms + 1);
        c.check(&a, [2; 16], later, later).unwrap();
        assert_eq!(c.held(&a), 1);
    }

    #[test]
    fn envelopes_signed_before_the_process_started_are_refused() {
        let t0 = Timestamp(1_000_000_000);
        let c = ReplayCache::new(t0);
        let e = c.check(&party("a"), [1; 16], t0.plus_ms(-1), t0).unwrap_err();
        assert_eq!(e.reason(), "READ_EXPIRED");
        assert!(e.to_string().contains("before the ledger started"), "{e}");
    }

    #[test]
    fn each_party_has_its_own_bound() {
        let t0 = Timestamp(1_000_000_000);
        let c = ReplayCache::new(t0);
        let (greedy, other) = (party("greedy"), party("other"));
        for i in 0..MAX_NONCES_PER_PARTY as u64 {
            let mut n = [0u8; 16];
            n[..8].copy_from_slice(&i.to_be_bytes());
            c.check(&greedy, n, t0, t0).unwrap();
        }
        assert_eq!(c.check(&greedy, [0xff; 16], t0, t0).unwrap_err().reason(), "READ_RATE_LIMIT");
        c.check(&other, [0xff; 16], t0, t0).unwrap();
    }
}
