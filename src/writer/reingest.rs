//! Taking back records acknowledged elsewhere (a backup, another copy of this ledger) at their
//! original receipts, as commands through the one [`apply_command`]: each run of records with
//! one server time is one command stamped with that time, so that every record gets back its
//! own sequence number and time, and the tree grows exactly as it did when it was first accepted.

use super::apply::{apply_command, Answer, NotApplied};
use super::command::{self, Command};
use super::MAX_GROUP;
use crate::error::LedgerError;
use crate::store::{Store, StoreError};
use ebl_core::apply::Checked;
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use std::iter::Peekable;

/// A record acknowledged elsewhere, through every order-free check again, with the place and
/// time its receipt gave it.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    /// The record.
    pub rec: Checked,
    /// Its sequence number.
    pub seq: u64,
    /// Its server time.
    pub time: Timestamp,
}

/// Why records from elsewhere could not be taken back (see [`reingest`]).
#[derive(Debug, thiserror::Error)]
pub enum ReingestError {
    /// A record is not the next one, or its receipt is missing.
    #[error("record {seq}: {why}")]
    Order {
        /// The record's sequence number in the source.
        seq: u64,
        /// What is wrong.
        why: String,
    },
    /// A record fails its order-free checks (bytes, signatures) or the rules at its place.
    #[error("record {seq} is refused at its original place: {err}")]
    Refused {
        /// The record's sequence number.
        seq: u64,
        /// The refusal.
        err: LedgerError,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends records acknowledged elsewhere at their original receipts: each must be the next
/// sequence number, passes every check again (bytes, signatures, the rules at its own place),
/// and is committed with its original time. Stops at the first record that does not fit, keeping
/// those before it. Returns how many were appended. Only for a ledger that is not serving
/// (`ebld recover`, the audit's replay).
pub fn reingest(
    store: &Store,
    operator: &PublicKey,
    records: impl IntoIterator<Item = Result<Acknowledged, ReingestError>>,
) -> Result<u64, ReingestError> {
    let start = store.next_seq()?;
    let mut records = records.into_iter().peekable();
    loop {
        let (group, stopped) = next_run(store, &mut records)?;
        if !group.is_empty() {
            let cmd = Command { time: group[0].time, records: group.into_iter().map(|a| a.rec).collect() };
            commit(store, operator, &cmd)?;
        }
        match stopped {
            Some(e) => return Err(e),
            None if records.peek().is_none() => return Ok(store.next_seq()? - start),
            None => {}
        }
    }
}

/// The next records with one time, each the next sequence number, not before the ledger's last
/// time, within one command's bounds; and the error that ended the run early, if one did.
fn next_run<I>(
    store: &Store,
    records: &mut Peekable<I>,
) -> Result<(Vec<Acknowledged>, Option<ReingestError>), StoreError>
where
    I: Iterator<Item = Result<Acknowledged, ReingestError>>,
{
    let mut seq = store.next_seq()?;
    let last_time = store.last_time()?;
    let mut group: Vec<Acknowledged> = Vec::new();
    let mut bytes = 0;
    while group.len() < MAX_GROUP {
        let Some(next) = records.peek() else { break };
        let a = match next {
            Ok(a) => a,
            Err(_) => return Ok((group, records.next().and_then(Result::err))),
        };
        if group.first().is_some_and(|f| f.time != a.time) {
            break;
        }
        bytes += command::record_bytes(&a.rec);
        if !group.is_empty() && !command::fits(bytes) {
            break;
        }
        let order = |why: String| ReingestError::Order { seq, why };
        if a.seq != seq {
            return Ok((group, Some(order(format!("its receipt says sequence number {}, not the next one", a.seq)))));
        }
        if a.time < last_time {
            return Ok((
                group,
                Some(order(format!("its time {} is before the record before it", a.time.to_rfc3339()))),
            ));
        }
        group.push(records.next().expect("peeked").expect("peeked Ok"));
        seq += 1;
    }
    Ok((group, None))
}

/// Applies `cmd` and commits it if every record is accepted; otherwise commits the records
/// before the first that is not, and says why that one is not.
fn commit(store: &Store, operator: &PublicKey, cmd: &Command) -> Result<(), ReingestError> {
    let first = store.next_seq()?;
    let index = store.last_command()? + 1;
    let applied = apply_command(store, operator, index, cmd).map_err(store_error)?;
    let Some(at) = applied.answers.iter().position(|a| !matches!(a, Ok(Answer::Accepted(_)))) else {
        return Ok(store.commit(applied.batch)?);
    };
    let seq = first + at as u64;
    let why = match &applied.answers[at] {
        Err(e) => ReingestError::Refused { seq, err: e.clone().into() },
        Ok(_) => ReingestError::Order { seq, why: "it is already in the ledger".into() },
    };
    drop(applied);
    if at > 0 {
        let before = Command { time: cmd.time, records: cmd.records[..at].to_vec() };
        store.commit(apply_command(store, operator, index, &before).map_err(store_error)?.batch)?;
    }
    Err(why)
}

fn store_error(e: NotApplied) -> ReingestError {
    match e {
        NotApplied::Store(s) => ReingestError::Store(s),
        // Nothing else writes while records are taken back.
        e => ReingestError::Store(StoreError::Corrupt { cf: crate::store::keys::CF_META, why: e.to_string() }),
    }
}
