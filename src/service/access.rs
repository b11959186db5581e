//! Who read what: each signed read served is logged ([`record`]) with its reader, its RPC and
//! the bill or query it named; the operator and auditors list the log ([`list`]), all of it, one
//! bill's or one party's. Logging never refuses a read: a failure to log (a full disk) is
//! reported in the server's log and counted in the metrics, and the read is answered.

use super::auth::Reader;
use super::Shared;
use crate::error::LedgerError;
use crate::store::access::{Access, AccessBy, AccessPage};
use crate::wire::hash32;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::time::Timestamp;
use ebl_core::RuleError;

/// Most entries in one page.
pub const MAX_PAGE: usize = 1000;

/// Logs that `party` was served `method` (its name, e.g. `GetBill`) on `bill` or `query`.
pub fn record(shared: &Shared, party: &PartyId, method: &str, bill: Option<BillId>, query: String) {
    let a = Access { party: party.to_string(), method: method.into(), bill, query, time: Timestamp::now() };
    if let Err(e) = shared.store.log_access(&a) {
        tracing::error!(error = %e, method, "a read was served but not written to the access log");
        shared.metrics.access_log_failed();
    }
}

/// Refuses a reader who is neither the operator nor an auditor.
pub fn auditor(reader: &Reader, what: &str) -> Result<(), RuleError> {
    match reader {
        Reader::Operator => Ok(()),
        Reader::Party(p) if p.registration.role == ebl_core::registry::Role::Auditor => Ok(()),
        Reader::Party(_) => Err(RuleError::Forbidden {
            reason: "NOT_AUDITOR",
            why: format!("only auditors and the operator may {what}"),
        }),
    }
}

/// A page of the access log for `reader` (an auditor or the operator): the reads of `bill_id`
/// (32 bytes) if given, else those by `party` if given, else all; from `after`, at most `limit`.
pub fn list(
    shared: &Shared,
    reader: &Reader,
    bill_id: &[u8],
    party: &str,
    after: &[u8],
    limit: usize,
) -> Result<AccessPage, LedgerError> {
    auditor(reader, "read the access log")?;
    let by = match (bill_id.is_empty(), party.is_empty()) {
        (true, true) => AccessBy::All,
        (false, true) => AccessBy::Bill(BillId(hash32("bill_id", bill_id)?)),
        (true, false) => AccessBy::Party(PartyId::parse("party", party)?),
        (false, false) => return Err(RuleError::invalid("party", "give a bill or a party, not both").into()),
    };
    if !after.is_empty() && after.len() != crate::store::access::CURSOR_LEN {
        return Err(RuleError::invalid("after", "not a cursor this log gave (AccessLog.next)").into());
    }
    let limit = if limit == 0 || limit > MAX_PAGE { MAX_PAGE } else { limit };
    Ok(shared.store.access_log(&by, after, limit)?)
}
