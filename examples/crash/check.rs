//! `crash checkpoint` (before each kill: save the signed checkpoint) and `crash check` (after
//! the last restart: the oracle).
//!
//! The oracle takes nothing the ledger says on trust that it can check: the current checkpoint
//! opened with the verifier key pinned at setup; every leaf of its tree fetched, the root
//! recomputed and every leaf matched with the record the chains hold at that index; every
//! logged acknowledgement looked up by record hash (same seq, bill, position and server time);
//! every bill's head equal to its last acknowledged record, its chain replayed by the ledger
//! (VerifyTitle) and again offline from its proof bundle (signatures, inclusion proofs, rules);
//! every checkpoint saved before a kill consistent with the current one (RFC 9162 consistency
//! proof verified here); and the load's own log of the kills.

use super::work::{acks_path, checkpoints_dir, connect, events_path, read_lines, Ack, World};
use super::Opts;
use ebl_core::hash::Hash32;
use ebl_core::log::{verify_consistency, Checkpoint, MemoryTree, SignedNote, VerifierKey};
use ebl_core::time::Timestamp;
use ebl_ledger::client::Client;
use ebl_ledger::wire::entry::stored_entry;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The latest checkpoint, opened with the pinned key: (size, root, note text).
async fn current(c: &mut Client, key: &VerifierKey) -> Result<(u64, Hash32, String), String> {
    let cp = c.checkpoint().await.map_err(|e| format!("GetCheckpoint: {e}"))?;
    let cp_open = open(&cp.note, key)?;
    Ok((cp_open.size(), cp_open.root(), cp.note))
}

fn open(note: &str, key: &VerifierKey) -> Result<Checkpoint, String> {
    let n = SignedNote::parse(note).map_err(|e| format!("checkpoint note: {e}"))?;
    Ok(Checkpoint::open(&n, key, &[]).map_err(|e| format!("checkpoint does not verify: {e}"))?.checkpoint)
}

/// `crash checkpoint`: saves the latest signed checkpoint (verified) as the next file of
/// `checkpoints/`.
pub async fn save_checkpoint(o: &Opts) -> Result<(), String> {
    let work = o.work()?;
    let world = World::load(&work)?;
    let key = VerifierKey::parse(&world.log_key).map_err(|e| e.to_string())?;
    let mut c = connect(&o.str("server")?, 10).await?;
    let (size, _, note) = current(&mut c, &key).await?;
    let dir = checkpoints_dir(&work);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let n = std::fs::read_dir(&dir).map_err(|e| e.to_string())?.count();
    std::fs::write(dir.join(format!("{n:04}.note")), note).map_err(|e| e.to_string())?;
    println!("checkpoint {n}: size {size}");
    Ok(())
}

/// Where the chains put a record.
struct Placed {
    seq: u64,
    bill: String,
    position: u64,
    time: String,
}

/// `crash check`: the oracle. Prints the summary and fails on any fault.
pub async fn run(o: &Opts) -> Result<(), String> {
    let started = Instant::now();
    let work = o.work()?;
    let kills = o.num("kills", 0)?;
    let min_in_flight = o.num("min-in-flight", 32)?;
    let world = World::load(&work)?;
    let key = VerifierKey::parse(&world.log_key).map_err(|e| e.to_string())?;
    let auditor = world.auditor.identity()?;
    let mut c = connect(&o.str("server")?, 10).await?;
    let mut faults: Vec<String> = Vec::new();

    // The checkpoint covering every record (it trails the tree by about 250 ms).
    let until = Instant::now() + Duration::from_secs(10);
    let (size, root) = loop {
        let info = c.grpc.get_info(ebl_ledger::pb::GetInfoRequest {}).await.map_err(|e| e.to_string())?.into_inner();
        let (size, root, _) = current(&mut c, &key).await?;
        if size == info.log_size {
            break (size, root);
        }
        if Instant::now() > until {
            return Err(format!("no checkpoint covers the tree (checkpoint {size}) after 10 s"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Every leaf, and the root recomputed from them.
    let mut leaves = Vec::with_capacity(size as usize);
    while (leaves.len() as u64) < size {
        let start = leaves.len() as u64;
        let r = c.leaf_hashes(start, (size - start).min(1000)).await.map_err(|e| format!("GetLeafHashes: {e}"))?;
        for h in r.hashes {
            leaves.push(Hash32::from_slice(&h).ok_or("a leaf hash is not 32 bytes")?);
        }
    }
    let mut tree = MemoryTree::new();
    tree.append(&leaves).map_err(|e| e.to_string())?;
    if tree.root() != root {
        faults.push(format!("the leaves do not give the checkpoint's root at size {size}"));
    }

    // Every record of the registry and of every bill, matched with its leaf.
    let bills = world.bill_ids()?;
    let mut chains = vec![(None, c.registry(&auditor, 0).await.map_err(|e| format!("GetRegistry: {e}"))?)];
    for id in &bills {
        chains.push((Some(*id), c.history(&auditor, *id).await.map_err(|e| format!("GetHistory {id}: {e}"))?));
    }
    let mut placed: HashMap<String, Placed> = HashMap::new();
    let mut seen = vec![false; size as usize];
    for (_, records) in &chains {
        for sr in records {
            let entry = stored_entry(sr)?;
            let r = sr.receipt.as_ref().ok_or("a stored record without its receipt")?;
            let seq = r.seq as usize;
            if seq >= leaves.len() || leaves[seq] != entry.leaf_hash() || std::mem::replace(&mut seen[seq], true) {
                faults.push(format!("record {} at seq {seq}: not leaf {seq} of the tree", entry.record_hash));
            }
            let p =
                Placed { seq: r.seq, bill: hex::encode(&r.bill_id), position: r.position, time: r.server_time.clone() };
            placed.insert(entry.record_hash.to_hex(), p);
        }
    }
    let unaccounted = seen.iter().filter(|s| !**s).count();
    if unaccounted > 0 {
        faults.push(format!("{unaccounted} leaves of the tree belong to no chain"));
    }

    // Every acknowledgement, looked up by record hash.
    let acks: Vec<Ack> = read_lines(&acks_path(&work))?;
    let (mut lost, mut mismatched) = (0, 0);
    let mut last: HashMap<String, (u64, String)> = HashMap::new();
    for a in &acks {
        match placed.get(&a.hash) {
            None => {
                lost += 1;
                if lost <= 5 {
                    faults.push(format!(
                        "LOST: acknowledged record {} (seq {}, bill {}) is not in the ledger",
                        a.hash, a.seq, a.bill
                    ));
                }
            }
            Some(p) if p.seq != a.seq || p.bill != a.bill || p.position != a.position || p.time != a.time => {
                mismatched += 1;
                if mismatched <= 5 {
                    faults.push(format!(
                        "MISMATCH: record {} acknowledged at seq {} position {} time {}, stored at seq {} position {} time {}",
                        a.hash, a.seq, a.position, a.time, p.seq, p.position, p.time
                    ));
                }
            }
            Some(_) => {}
        }
        let l = last.entry(a.bill.clone()).or_insert((0, String::new()));
        if a.position >= l.0 {
            *l = (a.position, a.hash.clone());
        }
    }
    let distinct = acks.iter().map(|a| &a.hash).collect::<std::collections::HashSet<_>>().len();
    let duplicates = acks.iter().filter(|a| a.duplicate).count();

    // Every bill: head = last acknowledged record; replayed by the ledger and offline.
    let mut replayed = 0;
    for (id, records) in chains.iter().filter_map(|(id, r)| id.as_ref().map(|id| (*id, r))) {
        let hex_id = hex::encode(id.0 .0);
        let t = c.verify_chain(&auditor, id).await.map_err(|e| format!("VerifyTitle {id}: {e}"))?;
        let view = t.bill.unwrap_or_default();
        if !t.chain_verified || t.records_checked != records.len() as u64 {
            faults.push(format!(
                "bill {id}: VerifyTitle chain_verified {} over {} records",
                t.chain_verified, t.records_checked
            ));
        }
        match last.get(&hex_id) {
            Some((pos, hash)) if *pos == view.head_position && *hash == hex::encode(&view.head) => {}
            other => faults.push(format!(
                "bill {id}: head {} at {} is not its last acknowledged record {other:?}",
                hex::encode(&view.head),
                view.head_position
            )),
        }
        let text = c.proof_bundle(&auditor, id).await.map_err(|e| format!("GetProofBundle {id}: {e}"))?;
        let bundle = ebl_ledger::bundle::Bundle::from_json(&text).map_err(|e| format!("bundle {id}: {e}"))?;
        match ebl_ledger::bundle::verify::verify(&bundle, &key, Timestamp::now()) {
            Ok(report) if report.records[1] == records.len() => replayed += 1,
            Ok(report) => faults.push(format!(
                "bill {id}: bundle holds {} title records, history {}",
                report.records[1],
                records.len()
            )),
            Err(e) => faults.push(format!("bill {id}: proof bundle does not verify offline: {e}")),
        }
    }

    // Every checkpoint saved before a kill: consistent with the current tree.
    let mut saved: Vec<_> = std::fs::read_dir(checkpoints_dir(&work))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    saved.sort();
    let mut consistent = 0;
    for path in &saved {
        let note = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let old = open(&note, &key)?;
        let proof = c.consistency(old.size(), Some(size)).await.map_err(|e| format!("GetConsistencyProof: {e}"))?;
        let hashes: Vec<Hash32> = proof.hashes.iter().filter_map(|h| Hash32::from_slice(h)).collect();
        match verify_consistency(old.size(), size, &old.root(), &root, &hashes) {
            Ok(()) if proof.first == old.size() && proof.second == size => consistent += 1,
            r => faults.push(format!(
                "checkpoint {} (size {}) is not consistent with size {size}: {r:?}",
                path.display(),
                old.size()
            )),
        }
    }

    // The kills, as the load saw them.
    let events: Vec<serde_json::Value> = read_lines(&events_path(&work))?;
    let in_flight: Vec<u64> =
        events.iter().filter(|e| e["event"] == "lost").filter_map(|e| e["in_flight"].as_u64()).collect();
    for e in events.iter().filter(|e| e["event"] == "fault") {
        faults.push(format!("load fault: {}", e["what"]));
    }
    let observed = in_flight.len() as u64;
    if observed != kills {
        faults.push(format!("{kills} kills, but the load lost the server {observed} times"));
    }
    let min = in_flight.iter().copied().min().unwrap_or(0);
    if min < min_in_flight {
        faults.push(format!("only {min} calls in flight at a kill (at least {min_in_flight} required)"));
    }
    if saved.len() as u64 != kills {
        faults.push(format!("{} checkpoints saved for {kills} kills", saved.len()));
    }

    println!(
        "crash test: {observed} kills, {} acknowledged, {lost} lost, {mismatched} mismatched, {consistent} checkpoints consistent",
        acks.len()
    );
    println!(
        "  {distinct} distinct records acknowledged ({duplicates} answered duplicate when sent again after a crash); log size {size}, every leaf matched to its record and the root recomputed"
    );
    println!(
        "  {} bills: VerifyTitle replayed every chain and {replayed} proof bundles verified offline; each head is the bill's last acknowledged record",
        bills.len()
    );
    println!(
        "  calls in flight when the server was killed: min {min}, max {}, mean {:.0}; check took {:.1} s",
        in_flight.iter().max().unwrap_or(&0),
        in_flight.iter().sum::<u64>() as f64 / in_flight.len().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    if faults.is_empty() {
        Ok(())
    } else {
        for f in &faults {
            println!("FAULT: {f}");
        }
        Err(format!("{} faults", faults.len()))
    }
}
