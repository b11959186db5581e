//! The title-rules property test through the real gRPC service: the histories and the reference
//! model of `core/tests/title_model.rs` (shared in `core/tests/model/`), each history on a fresh
//! bill of one running ledger, every step a signed record sent with `Submit`. After every step
//! the service and the model agree on the accept or refuse; a refusal carries the model's reason
//! and leaves the ledger digest unchanged; an acceptance leaves the `BillView` (read by the
//! operator) showing the model's title. At the end of each history `VerifyTitle` must verify the
//! chain.
use crate::common;
#[path = "../core/tests/model/mod.rs"]
mod model;

use common::*;
use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use model::{Act, Subject, Title, Why, GRANTS, PARTIES};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use tokio::runtime::Runtime;

/// The ledger, and the bill the current history plays on.
struct Service {
    // Declared before the runtime, so that the server is told to stop before its runtime goes.
    ledger: TestLedger,
    rt: Runtime,
    document: Value,
    histories: u64,
    bill: BillId,
    next: Link,
}

impl Service {
    /// A ledger with the model's cast and delegations.
    fn new(rt: Runtime) -> Self {
        let ledger = rt.block_on(async {
            let mut l = TestLedger::start().await;
            for (i, (name, role)) in PARTIES.iter().enumerate() {
                let role = match role {
                    model::Role::Carrier => pb::Role::Carrier,
                    model::Role::Trader => pb::Role::Trader,
                    model::Role::Bank => pb::Role::Bank,
                };
                l.register(name, role, lei(&format!("MODEL{i:015}")), &[]).await;
            }
            let op = l.operator.clone();
            for (principal, actions) in GRANTS {
                let principal = l.party(principal);
                l.client.delegate(&op, &principal, "agt", actions, "model").await.unwrap();
            }
            l
        });
        Service {
            ledger,
            rt,
            document: doc_json(ILSTC),
            histories: 0,
            bill: BillId(Hash32::default()),
            next: Link::default(),
        }
    }
}

fn action(act: Act) -> Action {
    match act {
        Act::Transfer => Action::Transfer(pb::Transfer {}),
        Act::Endorse => Action::Endorse(pb::Endorse {}),
        Act::EndorseToOrder => Action::EndorseToOrder(pb::EndorseToOrder {}),
        Act::BlankEndorse => Action::BlankEndorse(pb::BlankEndorse {}),
        Act::Sign => Action::Sign(pb::Sign {}),
        Act::Reject => Action::Reject(pb::Reject { reason: String::new() }),
        Act::Surrender(None) => Action::SurrenderForDelivery(pb::SurrenderForDelivery {}),
        Act::Surrender(Some(why)) => Action::SurrenderForAmendment(pb::SurrenderForAmendment {
            reason: if why == Why::Paper { pb::AmendmentReason::Swtp } else { pb::AmendmentReason::Cod } as i32,
        }),
        Act::Sacc(paper) => Action::AcceptSurrender(pb::AcceptSurrender {
            paper_bill_number: if paper { "PAPER-1".into() } else { String::new() },
        }),
        Act::Srej => Action::RejectSurrender(pb::RejectSurrender { reason: String::new() }),
        Act::Pledge(endorsed) => Action::Pledge(pb::Pledge {
            mode: if endorsed { pb::PledgeMode::Endorsement } else { pb::PledgeMode::Possession } as i32,
            loan_reference: String::new(),
        }),
        Act::Release => Action::ReleasePledge(pb::ReleasePledge {}),
        Act::Enforce => Action::EnforcePledge(pb::EnforcePledge { reason: String::new() }),
    }
}

/// An empty string as `None`.
fn named(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl Subject for Service {
    /// The digest over every column family.
    type Snapshot = Hash32;

    /// Issues the ILSTC bill under a new reference, blank-endorsed, to "a".
    fn start(&mut self) {
        self.histories += 1;
        let reference = format!("MODEL-{:06}", self.histories);
        let carrier = self.ledger.party("carrier");
        let document = with_reference(self.document.clone(), &reference);
        let rec = self.ledger.issue_record(&carrier, &document, pb::DocumentProfile::DcsaEbl3, "a", "", "");
        let receipt = self.rt.block_on(self.ledger.client.submit(rec)).unwrap();
        self.bill = BillId::derive(&carrier.party, &reference, 0);
        self.next = Link::after(receipt.position, &receipt.record_hash);
    }

    fn submit(&mut self, actor: &str, act: Act, to: Option<&str>, by_agent: bool) -> Result<(), String> {
        let mut p = payload(ORIGIN, Some(self.bill), self.next, actor, to, Timestamp::now(), action(act));
        let signer = if by_agent {
            p.agent = "agt".into();
            self.ledger.party("agt")
        } else {
            self.ledger.party(actor)
        };
        match self.rt.block_on(self.ledger.client.submit(sign(&p, &[&signer]))) {
            Ok(receipt) => {
                self.next = Link::after(receipt.position, &receipt.record_hash);
                Ok(())
            }
            Err(status) => Err(reason_of(&status)),
        }
    }

    fn title(&mut self) -> Title {
        let op = self.ledger.operator.clone();
        let v = self.rt.block_on(self.ledger.client.bill(&op, self.bill)).unwrap();
        Title {
            possessor: v.possessor,
            endorsee: named(&v.endorsee),
            endorsable: v.endorsable,
            status: v.status,
            entitled: v.entitled,
            pledgee: named(&v.pledgee),
            pledge_enforced: v.pledge_enforced,
            rejectable_by: named(&v.rejectable_by),
        }
    }

    fn snapshot(&mut self) -> Hash32 {
        self.ledger.digest()
    }

    fn finish(&mut self) -> Result<(), TestCaseError> {
        let op = self.ledger.operator.clone();
        let t = self.rt.block_on(self.ledger.client.verify_chain(&op, self.bill)).unwrap();
        prop_assert!(t.chain_verified, "VerifyTitle does not verify the chain ({} records checked)", t.records_checked);
        prop_assert_eq!(t.records_checked, self.next.position, "every accepted record checked");
        Ok(())
    }
}

#[test]
fn service_and_reference_model_agree_on_random_histories() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // 600 histories (some 6,000 steps) take about 45 s in a debug build on two cores; the digest
    // taken around each refusal grows with the ledger, so the time grows faster than the count.
    let cases = model::cases("EBL_MODEL_GRPC_CASES", 600);
    model::run(Service::new(rt), cases, 1);
}
