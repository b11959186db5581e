//! The access log: who read what. Every signed read the ledger serves leaves one entry (the
//! reader, the RPC, the bill or the query, the time) in column family [`CF_ACCESS`], beside the
//! ledger's data but not part of it: no record makes it, so the digest and the audit leave it
//! out, and a restored backup holds it as of the backup.
//!
//! Keys, numbers big-endian so that byte order is time order:
//! - `t` ++ time (ms) ++ n -> the entry (JSON),
//! - `b` ++ bill id ++ time ++ n -> the entry, for the reads of one bill,
//! - `p` ++ party ++ 0x00 ++ time ++ n -> the entry, for the reads by one party,
//!
//! where `n` (u32) tells apart entries of one millisecond. Entries go to the write-ahead log
//! without a sync of their own: a killed process loses none, a power cut those since the
//! ledger's last synced commit, never a record.

use super::keys::CF_ACCESS;
use super::{prefix_end, Store, StoreError};
use ebl_core::ids::{BillId, PartyId};
use ebl_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};

/// One read served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// The party whose signed envelope it was (`operator` for the operator).
    pub party: String,
    /// The RPC's name, e.g. `GetBill`.
    pub method: String,
    /// The bill read, if the read names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill: Option<BillId>,
    /// What was looked up, for a read that names no bill (`container CQLU4518208`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// When it was served.
    pub time: Timestamp,
}

/// Which entries to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessBy {
    /// Every entry.
    All,
    /// The reads of one bill.
    Bill(BillId),
    /// The reads by one party.
    Party(PartyId),
}

impl AccessBy {
    fn prefix(&self) -> Vec<u8> {
        match self {
            AccessBy::All => b"t".to_vec(),
            AccessBy::Bill(b) => [&b"b"[..], &b.0 .0].concat(),
            AccessBy::Party(p) => [&b"p"[..], p.as_str().as_bytes(), &[0]].concat(),
        }
    }
}

/// Tells apart the entries of one millisecond (process-wide; its start is random, so two
/// processes writing one database in turn do not collide either).
static N: AtomicU32 = AtomicU32::new(0);

/// A page of entries and the cursor of the next one (empty: no more).
pub type AccessPage = (Vec<Access>, Vec<u8>);

/// The key suffix (time ++ n) of an entry, and so a cursor's halves.
const SUFFIX: usize = 12;

/// The length of a page's cursor (where the next page starts, where the listing ends).
pub const CURSOR_LEN: usize = 2 * SUFFIX;

impl Store {
    /// Adds `a` to the access log.
    pub fn log_access(&self, a: &Access) -> Result<(), StoreError> {
        if N.load(Ordering::Relaxed) == 0 {
            let _ = N.compare_exchange(0, rand::random::<u32>() | 1, Ordering::Relaxed, Ordering::Relaxed);
        }
        let n = N.fetch_add(1, Ordering::Relaxed);
        let millis = u64::try_from(a.time.0).unwrap_or(0);
        let suffix = [millis.to_be_bytes().as_slice(), &n.to_be_bytes()].concat();
        let value = serde_json::to_vec(a).expect("an access entry encodes");
        let mut batch = super::Batch::new();
        batch.put_raw(CF_ACCESS, &[b"t".as_slice(), &suffix].concat(), &value);
        if let Some(bill) = &a.bill {
            batch.put_raw(CF_ACCESS, &[AccessBy::Bill(*bill).prefix(), suffix.clone()].concat(), &value);
        }
        if let Ok(party) = PartyId::parse("party", &a.party) {
            batch.put_raw(CF_ACCESS, &[AccessBy::Party(party).prefix(), suffix].concat(), &value);
        }
        self.commit_with(batch, false)
    }

    /// At most `limit` entries of `by`, oldest first, from the cursor `after` (a page's `next`;
    /// empty: the first page). The pages of one listing end where the log ended at its first
    /// page (the cursor carries that end), so reading the log, which adds to it, ends too.
    pub fn access_log(&self, by: &AccessBy, after: &[u8], limit: usize) -> Result<AccessPage, StoreError> {
        let prefix = by.prefix();
        let (from, until) = match after.len() {
            0 => {
                let now = u64::try_from(Timestamp::now().0).unwrap_or(0);
                (Vec::new(), [now.to_be_bytes().as_slice(), &u32::MAX.to_be_bytes()].concat())
            }
            CURSOR_LEN => (after[..SUFFIX].to_vec(), after[SUFFIX..].to_vec()),
            _ => return Err(StoreError::Corrupt { cf: CF_ACCESS, why: "not a cursor of this log".into() }),
        };
        let start = [prefix.as_slice(), &from].concat();
        let end = [prefix.as_slice(), &until].concat().min(prefix_end(&prefix));
        let mut out = Vec::new();
        for item in self.scan(CF_ACCESS, &start, Some(&end)) {
            let (k, v) = item?;
            if out.len() == limit {
                return Ok((out, [&k[prefix.len()..], until.as_slice()].concat()));
            }
            let bad = |e: serde_json::Error| StoreError::Corrupt { cf: CF_ACCESS, why: e.to_string() };
            out.push(serde_json::from_slice(&v).map_err(bad)?);
        }
        Ok((out, Vec::new()))
    }
}
