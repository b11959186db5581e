//! Throughput of a three-node cluster next to a single ledger, on this machine (docs/replication.md,
//! "Figures"): the same load, lanes that each pass one bill on with Submit, one record in flight
//! per lane, against
//! - a single `ebld` (no cluster configuration);
//! - three `ebld` nodes of one cluster on this machine, the load sent to the leader;
//! - the same cluster, the load spread over all three nodes (followers forward writes).
//!
//! For each it prints records acknowledged per second and the server CPU time per record, summed
//! over every `ebld` process (from /proc), next to this machine's limit measured in the same run:
//! one core's `verify_strict` rate. Three nodes on two cores measure contention as well.
//!
//!   cargo build --workspace --bins && cargo run --example cluster_bench -- [--seconds 15] [--lanes 64]

// The cluster test's own load and nodes; what only the test uses is unused here.
#[allow(dead_code)]
#[path = "../tests/cluster/load.rs"]
mod load;
#[allow(dead_code)]
#[path = "../tests/cluster/nodes.rs"]
mod nodes;
#[allow(dead_code)]
#[path = "../tests/cluster/proxy.rs"]
mod proxy;

use ebl_ledger::client::Identity;
use load::World;
use nodes::{admin, init, Node};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

const ORIGIN: &str = "bench.example/ebl";

fn arg(name: &str, default: u64) -> u64 {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter().position(|a| a == name).and_then(|i| argv.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Seconds of CPU (user and system) process `pid` has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks as f64 / per_second
}

/// One core's `verify_strict` rate, measured now.
fn verify_rate() -> f64 {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let msg = [7u8; 200];
    let sig = ed25519_dalek::Signer::sign(&key, &msg);
    let public = key.verifying_key();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(800) {
        public.verify_strict(&msg, &sig).unwrap();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Runs the lanes against `urls` for `seconds` after a warm-up; records per second and CPU
/// seconds per record summed over `pids`.
async fn measure(operator: Identity, urls: Vec<String>, pids: &[u32], lanes: usize, seconds: u64) -> (f64, f64) {
    let world = World::new(ORIGIN, operator, 8, urls);
    let bills = world.setup(lanes).await;
    let tasks: Vec<_> = bills.iter().enumerate().map(|(i, b)| tokio::spawn(world.clone().lane(i, *b))).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (start, cpu0, acks0) =
        (Instant::now(), pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>(), world.acks.lock().unwrap().len());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (took, cpu1, acks1) =
        (start.elapsed(), pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>(), world.acks.lock().unwrap().len());
    world.stop.store(true, SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    assert!(world.faults.lock().unwrap().is_empty(), "refusals: {:?}", world.faults.lock().unwrap());
    let records = (acks1 - acks0) as f64;
    (records / took.as_secs_f64(), (cpu1 - cpu0) / records.max(1.0))
}

fn operator() -> (Identity, String) {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let hex = hex::encode(key.verifying_key().to_bytes());
    (Identity { party: ebl_core::ids::PartyId::operator(), key }, hex)
}

/// A single ledger's process and URL.
fn single(dir: &std::path::Path, operator_hex: &str) -> (Child, String) {
    init(dir, ORIGIN, operator_hex, None);
    let port = nodes::free_port();
    let child = Command::new(nodes::ebld())
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, url)
}

#[tokio::main]
async fn main() {
    let (seconds, lanes) = (arg("--seconds", 15), arg("--lanes", 64) as usize);
    let floor = verify_rate();
    println!("this machine: verify_strict {floor:.0}/s on one core ({:.1} us each)", 1e6 / floor);
    println!("load: {lanes} lanes, one Submit in flight each, {seconds} s measured after 2 s");

    let dir = tempfile::tempdir().unwrap();
    let (op, op_hex) = operator();
    let (mut child, url) = single(&dir.path().join("single"), &op_hex);
    let (rate, cpu) = measure(op, vec![url], &[child.id()], lanes, seconds).await;
    let _ = child.kill();
    let _ = child.wait();
    report("single ebld", rate, rate, cpu, floor);

    // Each cluster run on a cluster of its own (the parties and bills of a run are registered anew).
    for spread in [false, true] {
        let (op, op_hex) = operator();
        let mut cluster = start_cluster(&dir.path().join(if spread { "spread" } else { "leader" }), &op_hex);
        let pids: Vec<u32> = cluster.iter().filter_map(Node::pid).collect();
        let urls = if spread { cluster.iter().map(Node::url).collect() } else { vec![cluster[0].url()] };
        let (three, cpu) = measure(op, urls, &pids, lanes, seconds).await;
        let what = if spread { "3 nodes, spread over all" } else { "3 nodes, to the leader" };
        report(what, three, rate, cpu, floor);
        for n in &mut cluster {
            n.stop();
        }
    }
}

/// Three nodes in folders under `dir`, node 1 the leader.
fn start_cluster(dir: &std::path::Path, op_hex: &str) -> Vec<Node> {
    let first = dir.join("n1");
    init(&first, ORIGIN, op_hex, None);
    let mut cluster: Vec<Node> = (1..=3u8)
        .map(|slot| {
            let folder = dir.join(format!("n{slot}"));
            if slot > 1 {
                init(&folder, ORIGIN, op_hex, Some(&first.join("ledger.key")));
            }
            Node::new(slot as u64, slot, folder, None, Vec::new())
        })
        .collect();
    for n in &mut cluster {
        n.start();
    }
    let leader_peer = format!("http://{}", cluster[0].peer);
    admin(&leader_peer, &["init"]);
    for n in &cluster[1..] {
        admin(&leader_peer, &["join", "--node", &n.peer_url()]);
    }
    cluster
}

fn report(what: &str, rate: f64, single: f64, cpu_per_record: f64, floor: f64) {
    println!(
        "{what:<26} {rate:8.0} records/s ({:.2} of the single ledger); server CPU {:6.0} us per record, summed over its processes ({:.1}x one verify_strict)",
        rate / single,
        cpu_per_record * 1e6,
        cpu_per_record * floor
    );
}
