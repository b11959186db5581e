//! The replicated ledger under failure (docs/replication.md, "Chaos test"): three `ebld`
//! processes on loopback, their peer links through proxies the test controls, two real `ebl
//! witness` processes cosigning throughout.
//!
//! - leader kills: concurrent lanes of TRANSFER records while the leader is `kill -9`ed at random
//!   moments and restarted (`EBL_CLUSTER_KILLS`, default 5; `scripts/cluster-chaos.sh` runs 20),
//!   then partitions that leave the old leader in a minority, and delayed links. Afterwards every
//!   acknowledged record is on every node at its place, the nodes' digests are equal, no chain
//!   position was acknowledged twice with different records, every checkpoint any leader signed
//!   is consistent with the final tree, no node halted (no witness saw a fork) and the witnesses
//!   cosigned the final checkpoint. Failover times are printed.
//! - an isolated old leader never answers the old title after the new leader moved it;
//! - a wiped node is refused under its old id and catches up by snapshot under a new one.
//!
//! The scenarios run one at a time (each holds three servers on two cores).

#[path = "cluster/load.rs"]
mod load;
#[path = "cluster/nodes.rs"]
mod nodes;
#[path = "cluster/proxy.rs"]
mod proxy;
#[path = "cluster/tls.rs"]
mod tls;

use ebl_core::log::{KeyKind, VerifierKey};
use ebl_core::time::Timestamp;
use ebl_ledger::checkpoint::SignedCheckpoint;
use ebl_ledger::client::{signed_read, Client, Identity};
use ebl_ledger::pb;
use ebl_ledger::store::Store;
use load::World;
use nodes::{admin, init, Node, Witness};
use proxy::Links;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

const ORIGIN: &str = "cluster.example/ebl";
/// One scenario at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A running cluster of three.
struct Cluster {
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
    links: Links,
    witnesses: Vec<Witness>,
    operator: Identity,
    operator_hex: String,
    verifier: VerifierKey,
}

impl Cluster {
    /// Three nodes, node 1 the first leader, 2 and 3 joined; `extra` flags for every node.
    async fn start(extra: &[&str]) -> Cluster {
        let mut dir = tempfile::tempdir().unwrap();
        if std::env::var_os("EBL_CLUSTER_KEEP").is_some() {
            dir.disable_cleanup(true);
            eprintln!("cluster test folder (kept): {}", dir.path().display());
        }
        let op_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let operator_hex = hex::encode(op_key.verifying_key().to_bytes());
        let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: op_key };
        let first = dir.path().join("n1");
        init(&first, ORIGIN, &operator_hex, None);
        let ledger_key = ebl_ledger::server::read_secret_key(&first.join("ledger.key")).unwrap();
        let verifier = VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &ledger_key).unwrap();
        let witnesses: Vec<_> = ["witness.example/w1", "witness.example/w2"]
            .iter()
            .map(|name| Witness::start(dir.path(), name, &verifier.to_string()))
            .collect();
        let links = Links::new();
        let mut nodes = Vec::new();
        for slot in 1..=3u8 {
            let folder = dir.path().join(format!("n{slot}"));
            if slot > 1 {
                init(&folder, ORIGIN, &operator_hex, Some(&first.join("ledger.key")));
            }
            let node = Self::node(&dir, &links, &witnesses, slot as u64, slot, folder, extra).await;
            nodes.push(node);
        }
        for n in &mut nodes {
            n.start();
        }
        let leader_peer = format!("http://{}", nodes[0].peer);
        admin(&leader_peer, &["init"]);
        for n in &nodes[1..] {
            admin(&leader_peer, &["join", "--node", &n.peer_url()]);
        }
        Cluster { dir, nodes, links, witnesses, operator, operator_hex, verifier }
    }

    /// A node in `folder` with its proxy in slot `slot`.
    async fn node(
        dir: &tempfile::TempDir,
        links: &Links,
        witnesses: &[Witness],
        id: u64,
        slot: u8,
        folder: std::path::PathBuf,
        extra: &[&str],
    ) -> Node {
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_at = proxy.local_addr().unwrap();
        let copy = dir.path().join(format!("checkpoint-copy-{id}"));
        let mut flags: Vec<String> =
            witnesses.iter().flat_map(|w| ["--witness".to_string(), w.target.clone()]).collect();
        flags.extend(["--checkpoint-copy".to_string(), copy.display().to_string()]);
        flags.extend(extra.iter().map(|s| s.to_string()));
        let node = Node::new(id, slot, folder, Some(proxy_at), flags);
        links.serve(proxy, node.peer, slot);
        node
    }

    fn slots(&self) -> Vec<u8> {
        self.nodes.iter().map(|n| n.slot).collect()
    }

    fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Node::url).collect()
    }

    /// The index of the node that leads, as the running nodes other than `except` agree.
    async fn leader(&self, except: Option<usize>, within: Duration) -> Option<usize> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            for (i, n) in self.nodes.iter().enumerate() {
                if Some(i) == except || !n.running() {
                    continue;
                }
                if let Some(s) = n.status().await {
                    if s.state == "Leader" && s.leader == Some(n.id) {
                        return Some(i);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Waits until every running node has applied the same last index; the index.
    async fn converged(&self, within: Duration) -> u64 {
        let until = Instant::now() + within;
        loop {
            let mut applied = Vec::new();
            for n in self.nodes.iter().filter(|n| n.running()) {
                applied.push(n.status().await.and_then(|s| s.applied));
            }
            if applied.iter().all(|a| a.is_some() && *a == applied[0]) {
                return applied[0].unwrap();
            }
            assert!(Instant::now() < until, "the nodes did not converge: applied {applied:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn stop_all(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

/// A node's info (its log size, checkpoint, refusals).
async fn info(url: &str) -> Option<pb::LedgerInfo> {
    Client::connect(url.to_string()).await.ok().map(|c| c.info)
}

#[test]
fn leader_kills_and_partitions_lose_no_acknowledged_record() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let kills: usize = std::env::var("EBL_CLUSTER_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(5);
    runtime().block_on(async {
        let mut cluster = Cluster::start(&["--snapshot-every", "200"]).await;
        let world = World::new(ORIGIN, cluster.operator.clone(), 6, cluster.urls());
        let bills = world.setup(8).await;
        let lanes: Vec<_> =
            bills.iter().enumerate().map(|(i, b)| tokio::spawn(world.clone().lane(i, *b))).collect();
        let started = Instant::now();
        let mut failovers = Vec::new();
        for k in 1..=kills {
            tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 1500 + 700)).await;
            let leader = cluster.leader(None, Duration::from_secs(20)).await.expect("a leader");
            let acked_before = world.acks.lock().unwrap().len();
            let killed = (Instant::now(), Timestamp::now());
            cluster.nodes[leader].kill();
            // Failover: from the kill to the first record acknowledged by a new leader.
            let elected = cluster.leader(Some(leader), Duration::from_secs(30)).await.map(|_| killed.0.elapsed());
            let failover = first_ack_after(&world, killed, Duration::from_secs(30)).await;
            failovers.push(failover);
            println!(
                "kill {k}/{kills} at {:5.1} s: node {} (leader) killed with {acked_before} acknowledged; new leader after {} ms, first write accepted after {} ms",
                started.elapsed().as_secs_f64(),
                cluster.nodes[leader].id,
                elected.map_or(0, |e| e.as_millis()),
                failover.as_millis()
            );
            cluster.nodes[leader].start();
        }
        // A leader cut off from both followers: a minority of one. Nothing it takes may be
        // acknowledged; the majority elects another and goes on.
        for round in 1..=2 {
            let leader = cluster.leader(None, Duration::from_secs(20)).await.expect("a leader");
            let cut = (Instant::now(), Timestamp::now());
            cluster.links.isolate(cluster.nodes[leader].slot, &cluster.slots());
            let new = cluster.leader(Some(leader), Duration::from_secs(20)).await.expect("a new leader");
            let failover = first_ack_after(&world, cut, Duration::from_secs(30)).await;
            println!(
                "partition {round}: node {} isolated, node {} leads; first write accepted after {} ms",
                cluster.nodes[leader].id,
                cluster.nodes[new].id,
                failover.as_millis()
            );
            tokio::time::sleep(Duration::from_millis(1000)).await;
            cluster.links.heal();
        }
        // Slow links: every byte between two nodes late by 30 ms for a while.
        let slots = cluster.slots();
        cluster.links.delay(slots[0], slots[1], Duration::from_millis(30));
        cluster.links.delay(slots[1], slots[2], Duration::from_millis(30));
        tokio::time::sleep(Duration::from_secs(2)).await;
        cluster.links.heal();
        tokio::time::sleep(Duration::from_millis(500)).await;
        world.stop.store(true, SeqCst);
        for l in lanes {
            tokio::time::timeout(Duration::from_secs(30), l).await.expect("a lane stops").unwrap();
        }
        let faults = world.faults.lock().unwrap().clone();
        assert!(faults.is_empty(), "refusals under failover: {faults:#?}");

        let applied = cluster.converged(Duration::from_secs(30)).await;
        let term = cluster.nodes[0].status().await.map_or(0, |s| s.term);
        // Every node serves the final checkpoint, cosigned by both witnesses, and none halted.
        let size = info(&cluster.nodes[0].url()).await.unwrap().log_size;
        for n in &cluster.nodes {
            let ok = wait_for(Duration::from_secs(20), || async {
                let i = info(&n.url()).await?;
                (i.checkpoint_size == size && i.write_refusal.is_empty()).then_some(())
            })
            .await;
            assert!(ok.is_some(), "node {} does not serve checkpoint {size} unhalted: {:?}", n.id, info(&n.url()).await);
        }
        let cosigned = wait_for(Duration::from_secs(30), || async {
            let mut c = Client::connect(cluster.nodes[0].url()).await.ok()?;
            let cp = c.grpc.get_checkpoint(pb::GetCheckpointRequest { min_cosignatures: 2 }).await.ok()?;
            (cp.into_inner().size == size).then_some(())
        })
        .await;
        assert!(cosigned.is_some(), "the witnesses did not both cosign the final checkpoint of {size}");
        cluster.stop_all();

        let acks = world.acks.lock().unwrap().clone();
        let (digest, checked) = check_final(&cluster, &acks);
        let mut sorted: Vec<_> = failovers.iter().map(|d| d.as_millis()).collect();
        sorted.sort();
        println!(
            "cluster chaos: {kills} leader kills and 2 partitions in {:.0} s; {} records acknowledged ({} of them as duplicates), \
             log of {size} records at Raft index {applied} on all 3 nodes, logical digest {digest}; {checked} signed checkpoints \
             consistent with the final tree; final term {term} (elections: {kills} kills and 2 partitions need at least as many); \
             failover after a kill: min {} ms, median {} ms, max {} ms",
            started.elapsed().as_secs_f64(),
            acks.len(),
            world.duplicates.load(SeqCst),
            sorted.first().unwrap_or(&0),
            sorted.get(sorted.len() / 2).unwrap_or(&0),
            sorted.last().unwrap_or(&0),
        );
    });
}

/// How long after `since` (the wall clock then: `stamp`) the first record that a leader
/// sequenced after it was acknowledged (records in flight before it do not count).
async fn first_ack_after(world: &World, since: (Instant, Timestamp), within: Duration) -> Duration {
    let (at, stamp) = since;
    let first = || async { world.acks.lock().unwrap().iter().filter(|a| a.stamped > stamp).map(|a| a.at).min() };
    let ack = wait_for(within, first)
        .await
        .unwrap_or_else(|| panic!("no write accepted after the failure; faults: {:?}", world.faults.lock().unwrap()));
    ack.saturating_duration_since(at)
}

/// Polls `f` every 50 ms until it gives something or `within` passes.
async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(
    within: Duration,
    mut f: impl FnMut() -> F,
) -> Option<T> {
    let until = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens every node's stopped database: equal logical digests, every acknowledgement at its
/// place on every node, no chain position acknowledged with two records, every checkpoint any
/// node signed consistent with the final tree. Returns the digest and the checkpoints checked.
fn check_final(cluster: &Cluster, acks: &[load::Ack]) -> (String, usize) {
    let stores: Vec<Store> =
        cluster.nodes.iter().map(|n| Store::open_read_only(&n.dir.join("db")).expect("a node's database")).collect();
    let digests: Vec<_> = stores.iter().map(|s| s.logical_digest().unwrap()).collect();
    assert!(digests.iter().all(|d| *d == digests[0]), "the nodes' logical digests differ: {digests:?}");
    let mut at: std::collections::HashMap<(ebl_core::ids::BillId, u64), Vec<u8>> = Default::default();
    for a in acks {
        if let Some(other) = at.insert((a.bill, a.position), a.hash.clone()) {
            assert_eq!(other, a.hash, "two records acknowledged at position {} of bill {}", a.position, a.bill);
        }
        for (s, n) in stores.iter().zip(&cluster.nodes) {
            let stored =
                s.record(a.seq).unwrap().unwrap_or_else(|| panic!("node {} lacks acknowledged record {}", n.id, a.seq));
            assert_eq!(stored.receipt.hash.0.to_vec(), a.hash, "node {} holds another record at {}", n.id, a.seq);
            assert_eq!(stored.receipt.position, a.position);
        }
    }
    let final_size = stores[0].next_seq().unwrap();
    let final_root = stores[0].tree_root(final_size).unwrap();
    let mut checked = 0;
    for n in &cluster.nodes {
        let journal =
            std::fs::read_to_string(n.dir.join(ebl_ledger::server::SIGNED_CHECKPOINTS_FILE)).unwrap_or_default();
        for line in journal.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let cp = SignedCheckpoint::open(v["note"].as_str().unwrap(), &cluster.verifier).unwrap();
            let proof = stores[0].consistency_proof(cp.size(), final_size).unwrap();
            ebl_core::log::verify::verify_consistency(
                cp.size(),
                final_size,
                &cp.checkpoint.root(),
                &final_root,
                &proof,
            )
            .unwrap_or_else(|e| {
                panic!("node {}'s checkpoint of {} is not consistent with the final tree: {e}", n.id, cp.size())
            });
            checked += 1;
        }
    }
    assert!(checked > 0, "no node journaled a signed checkpoint");
    (digests[0].to_hex(), checked)
}

/// The machine-readable reason of a refusal (its `ErrorInfo`).
fn reason(s: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    s.get_details_error_info().map(|i| i.reason).unwrap_or_default()
}

/// The title of `bill` as `reader` reads it from `url` (the holder's party id), or the refusal.
async fn title_at(
    url: &str,
    reader: &Identity,
    bill: ebl_core::ids::BillId,
    stale: Option<u64>,
) -> Result<(String, bool), tonic::Status> {
    let mut c = Client::connect(url.to_string()).await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let q = pb::VerifyTitleRequest { bill_id: bill.0 .0.to_vec(), without_statement: true };
    let mut req = tonic::Request::new(signed_read(reader, ORIGIN, "/ebl.v1.Ledger/VerifyTitle", &q));
    req.set_timeout(Duration::from_secs(15));
    if let Some(ms) = stale {
        req.metadata_mut().insert("ebl-read-consistency", "stale".parse().unwrap());
        req.metadata_mut().insert("ebl-max-staleness-ms", ms.to_string().parse().unwrap());
    }
    let resp = c.grpc.verify_title(req).await?;
    let marked = resp.metadata().get("ebl-read-consistency").is_some_and(|v| v == "stale")
        && resp.metadata().get("ebl-applied-index").is_some()
        && resp.metadata().get("ebl-staleness-ms").is_some();
    Ok((resp.into_inner().bill.map(|b| b.possessor).unwrap_or_default(), marked))
}

#[test]
fn an_isolated_old_leader_never_answers_the_old_title() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    runtime().block_on(async {
        let mut cluster = Cluster::start(&[]).await;
        let world = World::new(ORIGIN, cluster.operator.clone(), 2, cluster.urls());
        let bill = world.setup(1).await[0];
        let (first, second) = (world.traders[0].clone(), world.traders[1].clone());
        let old = cluster.leader(None, Duration::from_secs(10)).await.unwrap();
        let old_url = cluster.nodes[old].url();
        assert_eq!(title_at(&old_url, &first, bill, None).await.unwrap().0, first.party.as_str());

        // A healthy follower answers a stale read within a bound of a few heartbeats.
        let healthy = (old + 1) % 3;
        let (_, marked) =
            title_at(&cluster.nodes[healthy].url(), &first, bill, Some(2000)).await.expect("fresh enough");
        assert!(marked);

        // `ebl cluster status`, asked of any node: three voters, one leader, the members' client URLs.
        let follower = (old + 1) % 3;
        let out = std::process::Command::new(nodes::ebl())
            .args(["--server", &cluster.nodes[follower].url(), "--json", "cluster", "status"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(status["clustered"], true);
        assert_eq!(status["node_id"], cluster.nodes[follower].id);
        assert_eq!(status["leader_id"], cluster.nodes[old].id);
        let members = status["members"].as_array().unwrap();
        assert_eq!(members.len(), 3);
        assert!(members.iter().all(|m| m["voter"] == true));
        for n in &cluster.nodes {
            assert!(members.iter().any(|m| m["node_id"] == n.id && m["api_url"] == n.url().as_str()), "{members:?}");
        }
        let text = std::process::Command::new(nodes::ebl())
            .args(["--server", &cluster.nodes[old].url(), "cluster", "status"])
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.starts_with(&format!("node {} (Leader)", cluster.nodes[old].id)), "{text}");

        cluster.links.isolate(cluster.nodes[old].slot, &cluster.slots());
        let new = cluster.leader(Some(old), Duration::from_secs(20)).await.expect("the majority elects a leader");
        // The transfer goes through the new leader only.
        let only_new = World::new(ORIGIN, cluster.operator.clone(), 0, vec![cluster.nodes[new].url()]);
        let head = world.acks.lock().unwrap().iter().find(|a| a.bill == bill).unwrap().hash.clone();
        let p = ebl_ledger::client::payload(
            ORIGIN,
            Some(bill),
            ebl_ledger::client::Link::after(0, &head),
            first.party.as_str(),
            Some(second.party.as_str()),
            ebl_core::time::Timestamp::now(),
            pb::record_payload::Action::Transfer(pb::Transfer {}),
        );
        only_new.send(&ebl_ledger::client::sign(&p, &[&first])).await.expect("the transfer is accepted");

        // Asked now, the isolated old leader must not say the first trader holds the bill.
        match title_at(&old_url, &first, bill, None).await {
            Ok((holder, _)) => {
                assert_eq!(holder, second.party.as_str(), "the isolated old leader answered the old title")
            }
            Err(s) => assert_eq!(s.code(), tonic::Code::Unavailable, "refused otherwise than UNAVAILABLE: {s:?}"),
        }
        // A stale read is answered there, and says it is one.
        // A stale read is answered there if the caller accepts how far behind it may be, and
        // says so; with a tight bound it is refused.
        let (_, marked) = title_at(&old_url, &first, bill, Some(600_000)).await.expect("a stale read is answered");
        assert!(marked, "a stale read does not say so in its answer");
        let tight = title_at(&old_url, &first, bill, Some(300)).await.expect_err("a node cut off for seconds");
        assert_eq!((tight.code(), reason(&tight)), (tonic::Code::Unavailable, "READ_TOO_STALE".to_string()));

        cluster.links.heal();
        let caught_up = wait_for(Duration::from_secs(20), || async {
            let (holder, _) = title_at(&old_url, &second, bill, None).await.ok()?;
            (holder == second.party.as_str()).then_some(())
        })
        .await;
        assert!(caught_up.is_some(), "the old leader does not serve the new title once healed");
        cluster.stop_all();
    });
}

#[test]
fn a_wiped_node_rejoins_by_snapshot_under_a_new_id_only() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    runtime().block_on(async {
        let mut cluster = Cluster::start(&["--snapshot-every", "20"]).await;
        let world = World::new(ORIGIN, cluster.operator.clone(), 3, cluster.urls());
        let bills = world.setup(4).await;
        let lanes: Vec<_> = bills.iter().enumerate().map(|(i, b)| tokio::spawn(world.clone().lane(i, *b))).collect();
        tokio::time::sleep(Duration::from_secs(4)).await;
        world.stop.store(true, SeqCst);
        for l in lanes {
            l.await.unwrap();
        }
        assert!(world.faults.lock().unwrap().is_empty());

        // Node 3 loses its disk: its folder is made again with the log key.
        let wiped = cluster.nodes[2].dir.clone();
        cluster.nodes[2].kill();
        std::fs::remove_dir_all(&wiped).unwrap();
        init(&wiped, ORIGIN, &cluster.operator_hex, Some(&cluster.nodes[0].dir.join("ledger.key")));
        // Under its old id it is never fed: it was not admitted, so it takes no Raft traffic.
        cluster.nodes[2].start();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let s = cluster.nodes[2].status().await.expect("status");
        assert_eq!(s.applied, None, "a wiped node took entries under its old id: {s:?}");
        cluster.nodes[2].kill();

        // Under a new id it is admitted and catches up by snapshot.
        std::fs::remove_dir_all(&wiped).unwrap();
        init(&wiped, ORIGIN, &cluster.operator_hex, Some(&cluster.nodes[0].dir.join("ledger.key")));
        let leader = cluster.leader(None, Duration::from_secs(10)).await.unwrap();
        let leader_peer = format!("http://{}", cluster.nodes[leader].peer);
        admin(&leader_peer, &["remove", "--id", "3"]);

        // A node of another ledger (another log key) is refused.
        let other = cluster.dir.path().join("other");
        init(&other, ORIGIN, &cluster.operator_hex, None);
        let mut stranger = Node::new(5, 4, other, None, Vec::new());
        stranger.start();
        let refused = nodes::admin_result(&leader_peer, &["join", "--node", &stranger.peer_url()]).unwrap_err();
        assert!(refused.contains("another log key"), "{refused}");
        stranger.kill();
        // So is one created with the log key but another operator key.
        let other_op = cluster.dir.path().join("other-operator");
        let someone =
            hex::encode(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng).verifying_key().to_bytes());
        init(&other_op, ORIGIN, &someone, Some(&cluster.nodes[0].dir.join("ledger.key")));
        let mut stranger = Node::new(6, 4, other_op, None, Vec::new());
        stranger.start();
        let refused = nodes::admin_result(&leader_peer, &["join", "--node", &stranger.peer_url()]).unwrap_err();
        assert!(refused.contains("another operator key"), "{refused}");
        stranger.kill();

        // The new node joins as a learner, catches up by snapshot, and is promoted.
        let dir = std::mem::replace(&mut cluster.dir, tempfile::tempdir().unwrap());
        let mut fresh =
            Cluster::node(&dir, &cluster.links, &cluster.witnesses, 4, 3, wiped, &["--snapshot-every", "20"]).await;
        cluster.dir = dir;
        fresh.start();
        admin(&leader_peer, &["join", "--learner", "--node", &fresh.peer_url()]);
        let learner = |s: &ebl_ledger::raft::node::Status| s.nodes.iter().any(|n| n.id == 4 && !n.voter);
        assert!(learner(&cluster.nodes[leader].status().await.unwrap()), "node 4 is not a learner");
        admin(&leader_peer, &["promote", "--id", "4"]);
        let status = cluster.nodes[leader].status().await.unwrap();
        let mut ids: Vec<_> = status.nodes.iter().map(|n| (n.id, n.voter)).collect();
        ids.sort();
        assert_eq!(ids, [(1, true), (2, true), (4, true)], "membership after remove, join and promote");
        cluster.nodes[2] = fresh;
        let applied = cluster.converged(Duration::from_secs(30)).await;
        let s = cluster.nodes[2].status().await.unwrap();
        assert!(s.snapshot.is_some(), "the new node did not start from a snapshot: {s:?}");
        println!("node 4 caught up to Raft index {applied} from the snapshot at {:?}", s.snapshot);
        cluster.stop_all();
        let acks = world.acks.lock().unwrap().clone();
        check_final(&cluster, &acks);

        // Every stopped node's folder audits clean, as a single ledger's does; a member's folder
        // is never restored over.
        for n in &cluster.nodes {
            let audit = nodes::ebld_in(&n.dir, &["audit"]).unwrap_or_else(|e| panic!("audit of node {}: {e}", n.id));
            assert!(audit.starts_with("clean:"), "{audit}");
        }
        let backup = cluster.dir.path().join("a-backup");
        let restore = nodes::ebld_in(&cluster.nodes[0].dir, &["restore", "--from", backup.to_str().unwrap()]);
        assert!(restore.unwrap_err().contains("cluster member"), "a member's folder was restored over");
    });
}

#[test]
fn a_stream_through_a_follower_ends_unavailable_when_the_leader_dies_and_sent_again_loses_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    runtime().block_on(async {
        let mut cluster = Cluster::start(&[]).await;
        let world = World::new(ORIGIN, cluster.operator.clone(), 2, cluster.urls());
        let bill = world.setup(1).await[0];
        let head = world.acks.lock().unwrap().iter().find(|a| a.bill == bill).unwrap().hash.clone();
        let (first, second) = (world.traders[0].clone(), world.traders[1].clone());
        // 300 transfers passing the bill between the two traders.
        let mut link = ebl_ledger::client::Link::after(0, &head);
        let mut records = Vec::new();
        for i in 0..300 {
            let (from, to) = if i % 2 == 0 { (&first, &second) } else { (&second, &first) };
            let p = ebl_ledger::client::payload(
                ORIGIN,
                Some(bill),
                link,
                from.party.as_str(),
                Some(to.party.as_str()),
                Timestamp::now(),
                pb::record_payload::Action::Transfer(pb::Transfer {}),
            );
            let rec = ebl_ledger::client::sign(&p, &[from]);
            link = ebl_ledger::client::Link {
                position: link.position + 1,
                prev: Some(ebl_core::record::record_hash(&rec.payload)),
            };
            records.push(rec);
        }
        let leader = cluster.leader(None, Duration::from_secs(10)).await.unwrap();
        let follower = (leader + 1) % 3;
        let mut c = Client::connect(cluster.nodes[follower].url()).await.unwrap();

        // A stream to a follower: each step goes to the leader; 20 records at a time, so that
        // the leader dies while the stream is open.
        let (tx, rx) = tokio::sync::mpsc::channel::<pb::SignedRecord>(20);
        let outbound = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
        let channel =
            tonic::transport::Endpoint::from_shared(cluster.nodes[follower].url()).unwrap().connect().await.unwrap();
        let mut results =
            pb::ledger_client::LedgerClient::new(channel).submit_stream(outbound).await.unwrap().into_inner();
        let mut before = Vec::new();
        let mut sent = 0;
        let ended = loop {
            if sent == before.len() && sent < records.len() {
                for r in &records[sent..(sent + 20).min(records.len())] {
                    tx.send(r.clone()).await.unwrap();
                }
                sent = (sent + 20).min(records.len());
            }
            if before.len() == 100 {
                cluster.nodes[leader].kill();
            }
            match results.message().await {
                Ok(Some(r)) => before.push(r),
                Ok(None) => panic!("the stream ended without an error after {} results", before.len()),
                Err(s) => break s,
            }
        };
        assert_eq!(ended.code(), tonic::Code::Unavailable, "{ended:?}");
        assert!(before.len() >= 100 && before.len() < 300, "{} results before the end", before.len());
        let acked: Vec<u64> = before
            .iter()
            .map(|r| match &r.outcome {
                Some(pb::submit_result::Outcome::Receipt(rc)) => rc.seq,
                other => panic!("a transfer refused: {other:?}"),
            })
            .collect();

        // Sent again, all of them, once a new leader is elected: those acknowledged come back
        // with their original receipts, the rest are taken; nothing is lost or taken twice.
        let again = c.submit_stream(&records, 12).await.expect("the stream goes through after the election");
        assert_eq!(again.len(), 300);
        for (i, r) in again.iter().enumerate() {
            let Some(pb::submit_result::Outcome::Receipt(rc)) = &r.outcome else { panic!("record {i}: {r:?}") };
            assert_eq!(rc.position, i as u64 + 1);
            if let Some(seq) = acked.get(i) {
                assert!(rc.duplicate, "record {i} was acknowledged before the leader died");
                assert_eq!(rc.seq, *seq, "record {i}: the original receipt");
            }
        }
        let new = cluster.leader(Some(leader), Duration::from_secs(20)).await.expect("a new leader");
        let (holder, _) = title_at(&cluster.nodes[new].url(), &first, bill, None).await.unwrap();
        assert_eq!(holder, first.party.as_str(), "300 transfers from the first trader end with it");
        cluster.stop_all();
    });
}
