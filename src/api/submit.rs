//! The steps a batch of arriving records takes before and after the writer, shared by
//! SubmitBatch and SubmitStream: every check before the writer (checked once more after catching
//! up in a cluster, and bound to the connection's client certificate), each signer's share of the
//! writer's queue, and each answer as a `SubmitResult`.

use super::{bound, cluster, receipt, signer, status};
use crate::error::LedgerError;
use crate::net::tls::Peer;
use crate::pb;
use crate::service::gate::{Pass, Work};
use crate::service::{check, Shared};
use crate::writer::Answer;
use ebl_core::apply::Checked;
use ebl_core::ids::PartyId;
use ebl_core::sig::PublicKey;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Every check before the writer of records sent together (`earlier`: keys that registry records
/// sent before them in the same stream add), each answer in its place, and the keys the records'
/// verified registry records add. In a cluster, a batch with a record refused by the rules is
/// checked once more after this node has caught up; failing to catch up is the whole call's error.
pub async fn check_records(
    shared: &Arc<Shared>,
    peer: &Peer,
    records: Vec<pb::SignedRecord>,
    earlier: &HashSet<PublicKey>,
) -> Result<(Vec<Result<Checked, LedgerError>>, Vec<PublicKey>), LedgerError> {
    let again = shared.cluster.is_some().then(|| records.clone());
    let (mut checked, mut added) = check::check_batch_after(shared, records, earlier).await;
    if let (Some(records), Some(refused)) = (again, checked.iter().find(|c| c.is_err())) {
        let refused: Result<(), LedgerError> = Err(refused.as_ref().err().cloned().expect("an error"));
        if cluster::recheck(shared, &refused).await? {
            (checked, added) = check::check_batch_after(shared, records, earlier).await;
        }
    }
    for c in checked.iter_mut() {
        if let Err(e) = c.as_ref().map_or(Ok(()), |rec| bound(peer, &rec.payload.actor)) {
            *c = Err(e.into());
        }
    }
    Ok((checked, added))
}

/// Each signer's records let into its share of the writer's queue, all or none: the records of a
/// signer past its share are refused in their place. The passes hold the shares until dropped.
pub fn enter_queue(shared: &Shared, checked: &mut [Result<Checked, LedgerError>]) -> Vec<Pass> {
    let mut passes = Vec::new();
    let mut refused = HashMap::new();
    for (party, n) in per_signer(checked) {
        match shared.gate.enter(&party, Work::Records, n) {
            Ok(p) => passes.push(p),
            Err(e) => {
                refused.insert(party, e);
            }
        }
    }
    for c in checked.iter_mut() {
        if let Some(e) = c.as_ref().ok().and_then(|rec| refused.get(signer(rec))) {
            *c = Err(e.clone().into());
        }
    }
    passes
}

/// How many of the records that passed the checks each signer signed first.
pub fn per_signer(checked: &[Result<Checked, LedgerError>]) -> HashMap<PartyId, usize> {
    let mut per_party: HashMap<PartyId, usize> = HashMap::new();
    for c in checked.iter().flatten() {
        *per_party.entry(signer(c).clone()).or_default() += 1;
    }
    per_party
}

/// A record's answer as a `SubmitResult` (counted in the metrics): its receipt, or its error.
pub async fn result(shared: &Arc<Shared>, answer: Result<Answer, LedgerError>) -> pb::SubmitResult {
    shared.metrics.record(&answer);
    let r = match answer {
        Ok(a) => receipt(shared, a).await,
        Err(e) => Err(e),
    };
    pb::SubmitResult {
        outcome: Some(match r {
            Ok(receipt) => pb::submit_result::Outcome::Receipt(receipt),
            Err(e) => pb::submit_result::Outcome::Error(status::to_submit_error(&e)),
        }),
    }
}
