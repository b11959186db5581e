//! What a signed read is about, for the access log: the bill or the query its request names.

use crate::pb;
use ebl_core::ids::BillId;

/// The bill or the query a signed read to `method` names, for the access log (the request has
/// already been decoded by its handler; one that does not decode names nothing).
pub fn subject(method: &str, request: &[u8]) -> (Option<BillId>, String) {
    use prost::Message;
    let bill = |b: &[u8]| <[u8; 32]>::try_from(b).ok().map(|h| BillId(ebl_core::hash::Hash32(h)));
    let none = (None, String::new());
    match method {
        "GetBill" => pb::GetBillRequest::decode(request).map_or(none, |q| (bill(&q.bill_id), String::new())),
        "GetHistory" => pb::GetHistoryRequest::decode(request).map_or(none, |q| (bill(&q.bill_id), String::new())),
        "VerifyTitle" => pb::VerifyTitleRequest::decode(request).map_or(none, |q| (bill(&q.bill_id), String::new())),
        "GetProofBundle" => {
            pb::GetProofBundleRequest::decode(request).map_or(none, |q| (bill(&q.bill_id), String::new()))
        }
        "VerifyHandoff" => {
            pb::VerifyHandoffRequest::decode(request).map_or(none, |q| (bill(&q.bill_id), String::new()))
        }
        "FindBills" => pb::FindBillsRequest::decode(request).map_or(none, |q| {
            let query = [("container", &q.container), ("party", &q.party), ("place", &q.locode)]
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            (None, query)
        }),
        "GetAccessLog" => pb::GetAccessLogRequest::decode(request).map_or(none, |q| {
            let query = if q.party.is_empty() { String::new() } else { format!("party {}", q.party) };
            (bill(&q.bill_id), query)
        }),
        _ => none,
    }
}
