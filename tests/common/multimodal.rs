//! The multimodal cast, routes and ILSTC containers shared by the custody and journey tests.

use super::*;

/// The legs of an example route file (`examples/routes/NAME.json`) as wire legs.
pub fn route(name: &str) -> Vec<pb::Leg> {
    ebl_ledger::cli::route::read_legs(std::path::Path::new(&format!(
        "{}/examples/routes/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )))
    .unwrap()
}

/// The carriers of the example routes, and customs at Singapore and in China.
pub async fn multimodal_cast(l: &mut TestLedger) {
    for (i, c) in ["cr-chongqing", "bbw-shipping", "cj-barge", "ys-line", "db-cargo", "cr-express"].iter().enumerate() {
        l.register(c, pb::Role::Carrier, lei(&format!("CARRIER{i:013}")), &[]).await;
    }
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    l.register("cn-customs-qz", pb::Role::Customs, vec![], &["CNQZH"]).await;
}

/// A signed ISSUE of `doc` by `carrier` to `to` with a route (consignee/endorsee parties as given).
pub fn issue_with_route(
    carrier: &Identity,
    doc: &[u8],
    profile: pb::DocumentProfile,
    to: &str,
    consignee: &str,
    legs: Vec<pb::Leg>,
) -> pb::SignedRecord {
    let bill = BillId::derive(&carrier.party, &reference_of(doc), 0);
    let action = Action::Issue(pb::Issue {
        document: doc.to_vec(),
        profile: profile as i32,
        consignee: consignee.into(),
        legs,
        ..Default::default()
    });
    sign(
        &payload(ORIGIN, Some(bill), Link::default(), carrier.party.as_str(), Some(to), Timestamp::now(), action),
        &[carrier],
    )
}

/// Journey 1's cast and carriers, and the ILSTC bill under `reference` issued by `cq-mto` to the
/// exporter with its rail-sea route (Chongqing -> Qinzhou by rail, Qinzhou -> Singapore by sea).
pub async fn ledger_with_routed_bill(reference: &str) -> (TestLedger, BillId) {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    multimodal_cast(&mut l).await;
    let carrier = l.party("cq-mto");
    let d = with_reference(doc_json(ILSTC), reference);
    let rec = issue_with_route(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", route(ILSTC));
    l.client.submit(rec).await.unwrap();
    (l, BillId::derive(&carrier.party, reference, 0))
}

/// The ILSTC containers and their seals as issued.
pub const ILSTC_BOXES: [(&str, [&str; 2]); 2] =
    [("CQLU4518208", ["CLS2503104471", "CQ25C0088126"]), ("CQLU4520870", ["CLS2503104472", "CQ25C0088127"])];

/// Every seal of the ILSTC containers, checked intact.
pub fn ilstc_seals() -> Vec<pb::SealCheck> {
    ILSTC_BOXES
        .iter()
        .flat_map(|(c, seals)| {
            seals.iter().map(|s| pb::SealCheck { container: c.to_string(), seal: s.to_string(), ..Default::default() })
        })
        .collect()
}

/// The ILSTC container numbers.
pub fn ilstc_boxes() -> Vec<String> {
    ILSTC_BOXES.iter().map(|(c, _)| c.to_string()).collect()
}

/// Copies a folder tree.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
