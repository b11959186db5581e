//! Work in flight per party: records waiting for the writer and reads being answered, counted by
//! the party that signed them (after their signatures are verified, so that nobody can use up
//! another party's share by naming it). Past the limit a request is refused with
//! RESOURCE_EXHAUSTED, so one party cannot fill the writer's queue or the blocking pool.

use ebl_core::ids::PartyId;
use ebl_core::RuleError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

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
    /// Woken whenever a pass is dropped, for those waiting their turn.
    freed: Arc<Notify>,
}

/// Work let in; the count goes down when this is dropped.
pub struct Pass {
    counts: Arc<Mutex<HashMap<(PartyId, Work), usize>>>,
    freed: Arc<Notify>,
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
        Ok(Pass { counts: self.counts.clone(), freed: self.freed.clone(), key, n })
    }

    /// Waits until each party's records in `wants` fit within its share all at once, then lets
    /// them all in: for a stream's records, which wait (flow control) where a call's would be
    /// refused. Nothing is held while it waits, so streams waiting for one another's parties
    /// cannot block each other. Each count must be at most [`MAX_RECORDS_PER_PARTY`].
    pub async fn wait_records(&self, wants: &HashMap<PartyId, usize>) -> Vec<Pass> {
        debug_assert!(wants.values().all(|n| *n <= MAX_RECORDS_PER_PARTY));
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut counts = self.counts.lock().expect("gate lock poisoned");
                let fits = |p: &PartyId, n: usize| {
                    counts.get(&(p.clone(), Work::Records)).copied().unwrap_or(0) + n <= MAX_RECORDS_PER_PARTY
                };
                if wants.iter().all(|(p, n)| fits(p, *n)) {
                    return wants
                        .iter()
                        .map(|(p, n)| {
                            let key = (p.clone(), Work::Records);
                            *counts.entry(key.clone()).or_default() += n;
                            Pass { counts: self.counts.clone(), freed: self.freed.clone(), key, n: *n }
                        })
                        .collect();
                }
            }
            freed.await;
        }
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
        drop(counts);
        self.freed.notify_waiters();
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

    #[tokio::test]
    async fn a_stream_waits_until_every_party_of_its_records_fits_and_holds_nothing_meanwhile() {
        let g = Arc::new(Gate::default());
        let (a, b) = (PartyId::parse("p", "a").unwrap(), PartyId::parse("p", "b").unwrap());
        let held = g.enter(&b, Work::Records, MAX_RECORDS_PER_PARTY).unwrap();
        let wants = HashMap::from([(a.clone(), 10), (b.clone(), 1)]);
        let waiter = {
            let g = g.clone();
            tokio::spawn(async move { g.wait_records(&wants).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "b's share is full");
        // While it waits it holds nothing of a's share.
        let all_of_a = g.enter(&a, Work::Records, MAX_RECORDS_PER_PARTY).unwrap();
        drop(all_of_a);
        drop(held);
        let passes = tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert_eq!(passes.len(), 2);
        let _rest = g.enter(&a, Work::Records, MAX_RECORDS_PER_PARTY - 10).unwrap();
        assert!(g.enter(&a, Work::Records, 1).is_err(), "the waiter's 10 are counted");
    }
}
