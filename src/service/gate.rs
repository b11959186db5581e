//! Work in flight per party: records waiting for the writer and reads being answered, counted by
//! the party that signed them (after their signatures are verified, so that nobody can use up
//! another party's share by naming it). Past the limit a request is refused with
//! RESOURCE_EXHAUSTED, so one party cannot fill the writer's queue or the blocking pool.

use ebl_core::ids::PartyId;
use ebl_core::RuleError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most records of one party waiting for the writer (four full batches).
pub const MAX_RECORDS_PER_PARTY: usize = 1024;
/// Most reads of one party being answered at once.
pub const MAX_READS_PER_PARTY: usize = 64;

/// Which count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// Records waiting for the writer.
    Records,
    /// Reads being answered.
    Reads,
}

impl Work {
    fn limit(self) -> usize {
        match self {
            Work::Records => MAX_RECORDS_PER_PARTY,
            Work::Reads => MAX_READS_PER_PARTY,
        }
    }
}

/// The counts.
#[derive(Default)]
pub struct Gate {
    // std Mutex: a map update on entry and exit, never held across an await.
    counts: Arc<Mutex<HashMap<(PartyId, Work), usize>>>,
}

/// Work let in; the count goes down when this is dropped.
pub struct Pass {
    counts: Arc<Mutex<HashMap<(PartyId, Work), usize>>>,
    key: (PartyId, Work),
    n: usize,
}

impl Gate {
    /// Lets in `n` units of `work` for `party`, or refuses them all.
    pub fn enter(&self, party: &PartyId, work: Work, n: usize) -> Result<Pass, RuleError> {
        let key = (party.clone(), work);
        let mut counts = self.counts.lock().expect("gate lock poisoned");
        let now = counts.get(&key).copied().unwrap_or(0);
        if now + n > work.limit() {
            let what = match work {
                Work::Records => "records waiting for the writer",
                Work::Reads => "reads in flight",
            };
            return Err(RuleError::Limit {
                reason: "PARTY_IN_FLIGHT",
                why: format!("party '{party}' has {now} {what}; the limit is {}", work.limit()),
            });
        }
        counts.insert(key.clone(), now + n);
        Ok(Pass { counts: self.counts.clone(), key, n })
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("gate lock poisoned");
        if let Some(c) = counts.get_mut(&self.key) {
            *c -= self.n;
            if *c == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_past_its_limit_is_refused_and_others_are_not() {
        let g = Gate::default();
        let (a, b) = (PartyId::parse("p", "a").unwrap(), PartyId::parse("p", "b").unwrap());
        let held = g.enter(&a, Work::Reads, MAX_READS_PER_PARTY).unwrap();
        assert_eq!(g.enter(&a, Work::Reads, 1).err().unwrap().reason(), "PARTY_IN_FLIGHT");
        g.enter(&a, Work::Records, 1).unwrap();
        g.enter(&b, Work::Reads, 1).unwrap();
        drop(held);
        g.enter(&a, Work::Reads, MAX_READS_PER_PARTY).unwrap();
    }
}
