//! Agents acting on a party's behalf under a registered, revocable delegation, through the real
//! server: a carrier's agent at the port of discharge decides surrenders, a bank's branch endorses
//! for the bank. Every refusal asserts status, reason and an unchanged ledger digest.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{self, payload, sign, Identity};
use ebl_ledger::pb::{self, record_payload::Action};
use tonic::Code;

fn transfer() -> Action {
    Action::Transfer(pb::Transfer {})
}

fn sacc() -> Action {
    Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: String::new() })
}

fn surrender() -> Action {
    Action::SurrenderForDelivery(pb::SurrenderForDelivery {})
}

/// A registry record after the current registry head, signed by `signers`.
async fn registry_record(l: &mut TestLedger, action: Action, signers: &[&Identity]) -> pb::SignedRecord {
    let link = l.client.registry_link().await.unwrap();
    sign(&payload(ORIGIN, None, link, "operator", None, Timestamp::now(), action), signers)
}

/// A title record on `bill` after its head: `principal`'s act, signed by `signer` as its agent.
async fn agent_record(
    l: &mut TestLedger,
    signer: &Identity,
    principal: &str,
    bill: BillId,
    to: Option<&str>,
    action: Action,
) -> pb::SignedRecord {
    let link = l.next_link(bill).await;
    let mut p = payload(ORIGIN, Some(bill), link, principal, to, Timestamp::now(), action);
    p.agent = signer.party.to_string();
    sign(&p, &[signer])
}

/// Registers the Singapore agency of the operator-carrier and delegates SACC and SREJ to it.
async fn with_port_agent(l: &mut TestLedger) -> Identity {
    let agent = l.register("sg-agency", pb::Role::Carrier, lei("SGAGENCY000000000005"), &[]).await;
    let (op, carrier) = (l.operator.clone(), l.party("cq-mto"));
    l.client.delegate(&op, &carrier, "sg-agency", &["SACC", "SREJ"], "agency agreement SG-2026-14").await.unwrap();
    agent
}

#[tokio::test]
async fn a_carriers_agent_at_the_port_of_discharge_accepts_the_surrender() {
    let (mut l, bill) = ledger_with_bill("AGT-1").await;
    let agent = with_port_agent(&mut l).await;
    let exporter = l.party("cq-machinery");
    l.client.act(&exporter, bill, Some("cq-mto"), surrender()).await.unwrap();
    // The agent sees its principal's bill (it has not acted on it yet) and accepts for it.
    let v = l.client.bill(&agent, bill).await.unwrap();
    assert_eq!(v.status, "SURRENDERED");
    l.client.act_for(&agent, "cq-mto", bill, None, sacc()).await.unwrap();
    let v = l.client.bill(&agent, bill).await.unwrap();
    assert_eq!(v.status, "ACCOMPLISHED");
    assert!(v.parties.contains(&"sg-agency".to_string()), "the agent is part of the bill now: {:?}", v.parties);
    // The record shows both who signed and on whose behalf.
    let history = l.client.history(&exporter, bill).await.unwrap();
    let last = history.last().unwrap().record.as_ref().unwrap();
    let p: pb::RecordPayload = prost::Message::decode(last.payload.as_slice()).unwrap();
    assert_eq!((p.actor.as_str(), p.agent.as_str()), ("cq-mto", "sg-agency"));
    assert_eq!(last.signatures.iter().map(|s| s.party.as_str()).collect::<Vec<_>>(), ["sg-agency"]);
    let t = l.client.verify_title(&exporter, bill).await.unwrap();
    assert!(t.chain_verified);
    assert_eq!(t.records_checked, 3);
}

#[tokio::test]
async fn an_agent_signs_only_what_it_was_delegated_while_the_delegation_lasts() {
    let (mut l, bill) = ledger_with_bill("AGT-2").await;
    let agent = with_port_agent(&mut l).await;
    let exporter = l.party("cq-machinery");
    let op = l.operator.clone();
    l.client.act(&exporter, bill, Some("cq-mto"), surrender()).await.unwrap();

    // No delegation from this principal at all.
    let rec = agent_record(&mut l, &agent, "cq-machinery", bill, Some("cq-bank"), transfer()).await;
    l.assert_refused(rec, Code::PermissionDenied, "NOT_AGENT").await;
    // Delegated, but not this action.
    let rec = agent_record(&mut l, &agent, "cq-mto", bill, Some("cq-bank"), transfer()).await;
    l.assert_refused(rec, Code::PermissionDenied, "OUTSIDE_DELEGATION").await;
    // The agent's record must carry the agent's signature, not the principal's.
    let link = l.next_link(bill).await;
    let mut p = payload(ORIGIN, Some(bill), link, "cq-mto", None, Timestamp::now(), sacc());
    p.agent = "sg-agency".into();
    l.assert_refused(sign(&p, &[&l.party("cq-mto")]), Code::Unauthenticated, "UNEXPECTED_SIGNER").await;
    // Nor may it name itself as its own agent.
    let link = l.next_link(bill).await;
    let mut p = payload(ORIGIN, Some(bill), link, "cq-mto", None, Timestamp::now(), sacc());
    p.agent = "cq-mto".into();
    let err = l.assert_refused(sign(&p, &[&l.party("cq-mto")]), Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), "agent");
    // An unregistered agent.
    let ghost = Identity::new("ghost-agency", key());
    let rec = agent_record(&mut l, &ghost, "cq-mto", bill, None, sacc()).await;
    l.assert_refused(rec, Code::Unauthenticated, "UNKNOWN_PARTY").await;

    // Revoked: the agent's signature no longer stands for the carrier, and the bill is hidden
    // from it again (it never acted on it).
    l.client.operator(&op, client::revoke_delegation("cq-mto", "sg-agency", "agreement ended")).await.unwrap();
    let rec = agent_record(&mut l, &agent, "cq-mto", bill, None, sacc()).await;
    l.assert_refused(rec, Code::PermissionDenied, "DELEGATION_REVOKED").await;
    assert_eq!(l.client.bill(&agent, bill).await.unwrap_err().code(), Code::NotFound);
    // The carrier itself still decides.
    l.client.act(&l.party("cq-mto"), bill, None, sacc()).await.unwrap();
}

#[tokio::test]
async fn delegations_are_registered_by_the_operator_with_the_principals_consent() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    l.register("sg-agency", pb::Role::Carrier, lei("SGAGENCY000000000005"), &[]).await;
    l.register("sg-customs", pb::Role::Customs, lei("SGCUSTOMS00000000006"), &["SG"]).await;
    let (op, carrier) = (l.operator.clone(), l.party("cq-mto"));

    let grant = || client::delegate("cq-mto", "sg-agency", &["SACC"], "");
    // The principal must co-sign.
    let rec = registry_record(&mut l, grant(), &[&op]).await;
    l.assert_refused(rec, Code::Unauthenticated, "MISSING_SIGNATURE").await;
    // Signed by someone else in the principal's place.
    let bank = l.party("cq-bank");
    let rec = registry_record(&mut l, grant(), &[&op, &bank]).await;
    l.assert_refused(rec, Code::Unauthenticated, "UNEXPECTED_SIGNER").await;
    let cases = [
        (client::delegate("cq-mto", "sg-customs", &["SACC"], ""), "delegate.agent"),
        (client::delegate("cq-mto", "cq-mto", &["SACC"], ""), "delegate.agent"),
        (client::delegate("cq-mto", "nobody", &["SACC"], ""), "delegate.agent"),
        (client::delegate("cq-mto", "sg-agency", &[], ""), "delegate.actions"),
        (client::delegate("cq-mto", "sg-agency", &["ADD_KEY"], ""), "delegate.actions[0]"),
        (client::delegate("cq-mto", "sg-agency", &["SACC", "SACC"], ""), "delegate.actions[1]"),
        (client::revoke_delegation("cq-mto", "sg-agency", ""), "revoke_delegation.agent"),
    ];
    for (action, field) in cases {
        let rec = registry_record(&mut l, action, &[&op, &carrier]).await;
        // REVOKE_DELEGATION is the operator's alone: a co-signature is refused first.
        let rec = if field.starts_with("revoke") {
            let signed = rec.signatures[..1].to_vec();
            pb::SignedRecord { signatures: signed, ..rec }
        } else {
            rec
        };
        let err = l.assert_refused(rec, Code::InvalidArgument, "INVALID_FIELD").await;
        assert_eq!(field_of(&err), field, "{err:?}");
    }
    // An agent on a registry record.
    let link = l.client.registry_link().await.unwrap();
    let mut p = payload(ORIGIN, None, link, "operator", None, Timestamp::now(), grant());
    p.agent = "sg-agency".into();
    let err = l.assert_refused(sign(&p, &[&op, &carrier]), Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), "agent");

    l.client.delegate(&op, &carrier, "sg-agency", &["SACC"], "").await.unwrap();
    let rec = registry_record(&mut l, grant(), &[&op, &carrier]).await;
    l.assert_refused(rec, Code::AlreadyExists, "DELEGATION_EXISTS").await;
    // Revoked, it may be granted again.
    l.client.operator(&op, client::revoke_delegation("cq-mto", "sg-agency", "")).await.unwrap();
    l.client.delegate(&op, &carrier, "sg-agency", &["SACC", "SREJ"], "renewed").await.unwrap();
}

#[tokio::test]
async fn a_banks_branch_endorses_for_the_bank_and_the_chain_replays_after_revocation() {
    let (mut l, bill) = ledger_with_bill("AGT-3").await;
    let branch = l.register("cq-bank-sg", pb::Role::Bank, lei("CQBANKSG000000000007"), &[]).await;
    let (op, bank, exporter) = (l.operator.clone(), l.party("cq-bank"), l.party("cq-machinery"));
    l.client.delegate(&op, &bank, "cq-bank-sg", &["ALL"], "branch mandate").await.unwrap();
    // The exporter endorses to the bank and hands the bill over.
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), transfer()).await.unwrap();
    // The Singapore branch endorses and transfers to the buyer in the bank's name.
    l.client
        .act_for(&branch, "cq-bank", bill, Some("sg-buyer"), Action::EndorseToOrder(pb::EndorseToOrder {}))
        .await
        .unwrap();
    l.client.act_for(&branch, "cq-bank", bill, Some("sg-buyer"), transfer()).await.unwrap();
    let v = l.client.bill(&branch, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.endorsee.as_str()), ("sg-buyer", "sg-buyer"));
    // The bank itself is divested: the offer it made (through its branch) is what the buyer may reject.
    assert_eq!(v.rejectable_by, "sg-buyer");
    l.refuse("cq-bank", bill, Some("cq-machinery"), transfer(), Code::PermissionDenied, "NOT_POSSESSOR").await;
    // Nor can the branch move the bill in its own name: it holds nothing itself.
    l.refuse("cq-bank-sg", bill, Some("cq-machinery"), transfer(), Code::PermissionDenied, "NOT_POSSESSOR").await;

    // After the branch's mandate ends, its earlier records still replay: a grant is judged at each
    // record's own place in the log. The branch still sees the bill it acted on.
    l.client.operator(&op, client::revoke_delegation("cq-bank", "cq-bank-sg", "branch closed")).await.unwrap();
    let t = l.client.verify_title(&branch, bill).await.unwrap();
    assert!(t.chain_verified);
    assert_eq!(t.records_checked, 5);
    let mut l = l.restart().await;
    let t = l.client.verify_title(&l.party("sg-buyer"), bill).await.unwrap();
    assert!(t.chain_verified, "replays after a restart too");
    let rec = agent_record(&mut l, &branch, "cq-bank", bill, None, Action::Sign(pb::Sign {})).await;
    l.assert_refused(rec, Code::PermissionDenied, "DELEGATION_REVOKED").await;
}
