//! Which refusal wins (docs/title-rules.md, "Which refusal wins"), through the real server: on a
//! bill under a customs hold, a party that may not take the action is refused for its own right
//! (or, a stranger, with NOT_FOUND), and nothing in the answer names the hold; only the party the
//! hold stops hears of it.
use crate::common;

use common::custody::*;
use common::*;
use ebl_ledger::pb::{self, record_payload::Action};
use tonic::Code;

const DECLARATION: &str = "SG2026-PRECEDENCE-7";
const WHY: &str = "suspected dual-use goods";

/// Asserts that `err`, the answer to `who`, names nothing of the hold: not the customs office,
/// the declaration, its reason, nor the reason code.
fn assert_silent_about_the_hold(err: &tonic::Status, who: &str) {
    let details = String::from_utf8_lossy(err.details());
    for secret in [DECLARATION, WHY, "sg-customs", "CUSTOMS_HOLD", "customs"] {
        assert!(!err.message().contains(secret), "{who} is told '{secret}': {err:?}");
        assert!(!details.contains(secret), "{who} is told '{secret}' in the details: {err:?}");
    }
}

/// The SACC of the pending surrender by `who`, refused with `code` and `reason`.
async fn sacc_by(
    l: &mut TestLedger,
    bill: ebl_core::ids::BillId,
    who: &str,
    code: Code,
    reason: &str,
) -> tonic::Status {
    let link = l.next_link(bill).await;
    let rec = l.title_record(&l.party(who), bill, link, None, sacc(""));
    l.assert_refused(rec, code, reason).await
}

#[tokio::test]
async fn on_a_bill_under_a_customs_hold_a_party_without_the_right_to_act_is_refused_for_its_right_alone() {
    let (mut l, bill) = ledger_with_routed_bill("PREC-HOLD-1").await;
    l.register("xx-trader", pb::Role::Trader, lei("XXTRADER000000000001"), &[]).await;
    let hold = Action::CustomsHold(pb::CustomsHold { declaration: DECLARATION.into(), reason: WHY.into() });
    ok(&mut l, bill, "sg-customs", None, hold).await;
    title(&mut l, bill, "cq-machinery", Some("cq-mto"), surrender()).await;

    // Parties that may see the bill, none its issuer: the exporter who surrendered it, the
    // route's carriers, the customs office that holds the goods and another on the route.
    for who in ["cq-machinery", "cr-chongqing", "bbw-shipping", "sg-customs", "cn-customs-qz"] {
        let reader = l.party(who);
        assert!(l.client.bill(&reader, bill).await.is_ok(), "{who} may see the bill");
        let err = sacc_by(&mut l, bill, who, Code::PermissionDenied, "NOT_ISSUER").await;
        assert_silent_about_the_hold(&err, who);
    }
    // A custody action by a carrier that does not carry the last leg: its own right, too.
    let err = refused(
        &mut l,
        bill,
        "cr-chongqing",
        Some("cq-machinery"),
        deliver(ilstc_boxes()),
        Code::PermissionDenied,
        "NOT_LEG_CARRIER",
    )
    .await;
    assert_silent_about_the_hold(&err, "cr-chongqing");
    // A stranger to the bill: it does not exist.
    let err = sacc_by(&mut l, bill, "xx-trader", Code::NotFound, "NOT_FOUND").await;
    assert_silent_about_the_hold(&err, "xx-trader");

    // The issuer, whom the hold stops, is told of it.
    let err = sacc_by(&mut l, bill, "cq-mto", Code::FailedPrecondition, "CUSTOMS_HOLD").await;
    assert!(err.message().contains(DECLARATION) && err.message().contains(WHY), "{err:?}");
    // Once released, the issuer accepts.
    ok(&mut l, bill, "sg-customs", None, release(DECLARATION)).await;
    title(&mut l, bill, "cq-mto", None, sacc("")).await;
    assert_eq!(view(&mut l, bill).await.status, "ACCOMPLISHED");
}
