//! `crash setup`: the operator registers a carrier, traders and an auditor with their keys, the
//! carrier issues the bills (blank-endorsed to-order copies of the ILSTC document), and
//! `world.json` records it all, with the ledger's verifier key pinned before any crash.

use super::work::{acks_path, connect, Ack, Lines, SavedIdentity, World};
use super::Opts;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{self, payload, sign, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};

fn fresh(party: &str) -> Identity {
    Identity::new(party, ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
}

/// Runs setup.
pub async fn run(o: &Opts) -> Result<(), String> {
    let (url, work) = (o.str("server")?, o.work()?);
    let traders_n = o.num("traders", 8)? as usize;
    let bills_n = o.num("bills", 112)? as usize;
    let operator_key = ebl_ledger::server::read_secret_key(&work.join("operator.key")).map_err(|e| e.to_string())?;
    let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: operator_key };
    let mut c = connect(&url, 10).await?;
    let origin = c.origin().to_string();

    let carrier = fresh("carrier");
    let auditor = fresh("auditor");
    let traders: Vec<Identity> = (0..traders_n).map(|i| fresh(&format!("trader-{i}"))).collect();
    let parties = [(&carrier, pb::Role::Carrier), (&auditor, pb::Role::Auditor)]
        .into_iter()
        .chain(traders.iter().map(|t| (t, pb::Role::Trader)));
    for (i, (id, role)) in parties.enumerate() {
        let code = pb::IdentifyingCode {
            code_list_provider: "GLEIF".into(),
            party_code: format!("CRASH{i:015}"),
            code_list_name: "LEI".into(),
        };
        let reg = client::register_party(id.party.as_str(), "Crash test party", role, &[], vec![code]);
        c.operator(&operator, reg).await.map_err(|e| format!("register {}: {e}", id.party))?;
        c.operator(&operator, client::add_key(id.party.as_str(), id.public()))
            .await
            .map_err(|e| format!("add key of {}: {e}", id.party))?;
    }

    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/documents/ilstc-chongqing-qinzhou-singapore.json"
        ))
        .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let run_tag = &hex::encode(carrier.public())[..8];
    let mut issues = Vec::new();
    let mut bills = Vec::new();
    for i in 0..bills_n {
        let mut d = doc.clone();
        let reference = format!("CRASH{run_tag}{i:05}").to_uppercase();
        d["transportDocumentReference"] = reference.clone().into();
        let bill = BillId::derive(&carrier.party, &reference, 0);
        let action = Action::Issue(pb::Issue {
            document: serde_json::to_vec(&d).unwrap(),
            profile: pb::DocumentProfile::DcsaEbl3 as i32,
            ..Default::default()
        });
        let holder = traders[i % traders.len()].party.as_str();
        let p = payload(&origin, Some(bill), Link::default(), "carrier", Some(holder), Timestamp::now(), action);
        issues.push(sign(&p, &[&carrier]));
        bills.push(hex::encode(bill.0 .0));
    }
    let acks = Lines::open(&acks_path(&work))?;
    for chunk in issues.chunks(64) {
        let r = c
            .grpc
            .submit_batch(pb::SubmitBatchRequest { records: chunk.to_vec() })
            .await
            .map_err(|e| format!("issue: {e}"))?;
        for res in r.into_inner().results {
            match res.outcome {
                Some(pb::submit_result::Outcome::Receipt(rc)) => acks.write(&Ack::of(&rc)),
                other => return Err(format!("an ISSUE was refused: {other:?}")),
            }
        }
    }
    let world = World {
        origin,
        log_key: c.info.log_verifier_key.clone(),
        auditor: SavedIdentity::of(&auditor),
        traders: traders.iter().map(SavedIdentity::of).collect(),
        bills,
    };
    world.save(&work)?;
    println!(
        "setup: {} parties registered, {} bills issued to {} traders; log key {}",
        traders_n + 2,
        bills_n,
        traders_n,
        world.log_key
    );
    Ok(())
}
