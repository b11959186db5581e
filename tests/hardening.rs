//! The ledger under hostile load: idle sockets by the thousand cannot take its file descriptors
//! or keep new clients out, and records signed with keys it does not know cost no signature
//! check. `ebld` runs here as its own process under a small open-file limit, as an operator runs it.
mod common;

use common::*;
use ebl_ledger::client::{self, sign, Client, Identity};
use ebl_ledger::pb::{self, record_payload::Action};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `ebld` on a fresh ledger in `dir`, with its open-file limit (soft and hard) set to `nofile`.
fn ebld(dir: &std::path::Path, operator: &Identity, nofile: u64, extra: &[&str]) -> (Child, String) {
    let op = hex::encode(operator.public());
    ebl_ledger::server::init(dir, ORIGIN, ebl_core::sig::PublicKey(operator.public().try_into().unwrap())).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ebld"));
    cmd.args(["--data-dir", dir.to_str().unwrap(), "--listen", "127.0.0.1:0", "--operator-key", &op])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and only touches the child's own limits.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit { rlim_cur: nofile, rlim_max: nofile };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("start ebld");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split_whitespace().nth(3).unwrap_or_else(|| panic!("ebld did not start: {line}")).to_string();
    (child, addr)
}

/// Open file descriptors of a process.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after_name.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_sockets_take_neither_descriptors_nor_the_door() {
    let dir = tempfile::tempdir().unwrap();
    let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: key() };
    // 1,024 descriptors: the store's reserve leaves 384 for clients.
    let (mut child, addr) = ebld(dir.path(), &operator, 1024, &["--handshake-timeout", "2"]);
    let pid = child.id();
    let url = format!("http://{addr}");
    let mut c = Client::connect(url.clone()).await.unwrap();
    c.operator(&operator, client::register_party("p1", "P1 Ltd", pb::Role::Trader, &[], lei("P1LEI000000000000001")))
        .await
        .unwrap();
    let baseline = fds(pid);

    let idle: Vec<std::net::TcpStream> = (0..1000).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    // Let the server accept what it will; then measure its CPU over a quiet second.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_used = cpu_ticks(pid) - cpu_before;
    let held = fds(pid);
    assert!(held <= 1024, "ebld holds {held} descriptors with a limit of 1024");
    assert!(cpu_used < 50, "ebld used {cpu_used} ticks (1/100 s) in one idle second: it spins");

    // A new client still gets in (the idlest silent connection makes room), writes, and the
    // checkpoint signer, which needs a descriptor for its file, signs over it.
    let mut fresh = Client::connect(url.clone()).await.unwrap();
    let link = fresh.registry_link().await.unwrap();
    let rec = sign(
        &client::payload(
            ORIGIN,
            None,
            link,
            "operator",
            None,
            ebl_core::time::Timestamp::now(),
            client::add_key("p1", key_public()),
        ),
        &[&operator],
    );
    let receipt = fresh.submit(rec).await.unwrap();
    let signed = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let cp = fresh.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
            if cp.size > receipt.seq {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert!(signed, "no checkpoint covers the record written among 1,000 idle sockets");

    // Connections that never said a word are closed after the handshake timeout.
    assert!(
        eventually(20, || async { fds(pid) < baseline + 20 }).await,
        "silent connections still open: {} descriptors (baseline {baseline})",
        fds(pid)
    );
    drop(idle);
    child.kill().unwrap();
    child.wait().unwrap();
}

fn key_public() -> Vec<u8> {
    key().verifying_key().to_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_signed_with_unknown_keys_are_refused_before_any_signature_check() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "CHEAP-0001").await;
    let link = l.next_link(bill).await;
    // 256 records by a registered party, each signed with a key nobody registered and with a
    // signature that would not verify: the key lookup answers first, so no signature is checked.
    let records: Vec<_> = (0..256)
        .map(|_| {
            let forger = Identity::new("cq-machinery", key());
            let mut r = l.title_record(&forger, bill, link, Some("cq-bank"), Action::Transfer(pb::Transfer {}));
            r.signatures[0].signature[0] ^= 1;
            r
        })
        .collect();
    let before = l.digest();
    let out = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records }).await.unwrap().into_inner();
    for r in &out.results {
        match &r.outcome {
            Some(pb::submit_result::Outcome::Error(e)) => {
                assert_eq!((e.code.as_str(), e.reason.as_str()), ("UNAUTHENTICATED", "UNKNOWN_KEY"), "{e:?}")
            }
            other => panic!("expected UNKNOWN_KEY, got {other:?}"),
        }
    }
    assert_eq!(l.digest(), before);
    // A key that a batch registers may sign the batch's later records.
    let new_key = Identity::new("cq-machinery", key());
    let op = l.operator.clone();
    let reg_link = l.client.registry_link().await.unwrap();
    let now = ebl_core::time::Timestamp::now();
    let add = sign(
        &client::payload(
            ORIGIN,
            None,
            reg_link,
            "operator",
            None,
            now,
            client::add_key("cq-machinery", new_key.public()),
        ),
        &[&op],
    );
    let transfer = l.title_record(&new_key, bill, link, Some("cq-bank"), Action::Transfer(pb::Transfer {}));
    let out = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records: vec![add, transfer] }).await.unwrap();
    for r in out.into_inner().results {
        assert!(matches!(r.outcome, Some(pb::submit_result::Outcome::Receipt(_))), "{r:?}");
    }
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(mib: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs", dir.path().to_str().unwrap()])
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mounting a tmpfs (the test runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", self.0.path().to_str().unwrap()]).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_early_keeps_reads_and_resumes_without_a_restart() {
    let disk = SmallDisk::mount(256);
    let reserve = 24 * 1024 * 1024;
    let mut l = TestLedger::start_in(tempfile::tempdir_in(disk.0.path()).unwrap(), Some(reserve)).await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "DISK-0001").await;
    let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    let not_serving = tonic_health::pb::health_check_response::ServingStatus::NotServing as i32;
    assert!(eventually(10, || async { write_health(&l.url).await == serving }).await, "write health before");

    // Another program fills the disk to 8 MiB free, under the 24 MiB reserve.
    let free = ebl_ledger::store::space::free_bytes(disk.0.path()).unwrap();
    let filler = disk.0.path().join("filler");
    std::fs::write(&filler, vec![0u8; (free - 8 * 1024 * 1024) as usize]).unwrap();
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;
    let endorse = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Endorse(pb::Endorse {}));
    let before = l.digest();
    let e = l.client.submit(endorse.clone()).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (tonic::Code::Unavailable, "DISK_RESERVE"), "{e:?}");
    assert!(e.message().contains("reserve"), "{}", e.message());
    assert_eq!(l.digest(), before, "a refused write changed the ledger");
    // Reads go on, and health says writes are off while the overall service is up.
    let op = l.operator.clone();
    l.client.bill(&op, bill).await.unwrap();
    assert!(eventually(10, || async { write_health(&l.url).await == not_serving }).await, "write health while full");
    // The operator's metrics say so, and count the refusal by its reason.
    assert_eq!(l.metric(r#"ebl_writes_refused{reason="DISK_RESERVE"}"#).await, 1.0);
    assert_eq!(l.metric(r#"ebl_records_refused_total{code="UNAVAILABLE",reason="DISK_RESERVE"}"#).await, 1.0);

    // Space comes back: the same record is accepted, with no restart.
    std::fs::remove_file(&filler).unwrap();
    l.client.submit(endorse).await.unwrap();
    assert!(eventually(10, || async { write_health(&l.url).await == serving }).await, "write health after");
    assert_eq!(l.metric(r#"ebl_writes_refused{reason="DISK_RESERVE"}"#).await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_filled_past_the_reserve_takes_writes_again_once_space_returns() {
    // No reserve: RocksDB itself meets the full disk.
    let disk = SmallDisk::mount(256);
    let mut l = TestLedger::start_in(tempfile::tempdir_in(disk.0.path()).unwrap(), Some(0)).await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "DISK-0002").await;
    // A restart starts a new write-ahead log, with no space set aside in it yet.
    let mut l = l.restart().await;
    let free = ebl_ledger::store::space::free_bytes(disk.0.path()).unwrap();
    let filler = disk.0.path().join("filler");
    std::fs::write(&filler, vec![0u8; free as usize]).ok();
    let op = l.operator.clone();
    let mut refused = None;
    for i in 0..1000 {
        let register = client::register_party(&format!("filler-{i}"), "Filler", pb::Role::Trader, &[], vec![]);
        let before = l.digest();
        if let Err(e) = l.client.operator(&op, register).await {
            assert_eq!(l.digest(), before, "a failed write changed the ledger");
            refused = Some(e);
            break;
        }
    }
    let e = refused.expect("the disk fills up");
    assert_eq!((e.code(), reason_of(&e).as_str()), (tonic::Code::Unavailable, "LEDGER_UNAVAILABLE"), "{e:?}");
    assert!(!e.message().contains(disk.0.path().to_str().unwrap()), "no server path: {e:?}");
    l.client.bill(&op, bill).await.unwrap();

    // Space comes back: RocksDB clears its error by itself once a write buffer's worth is free
    // (it looks every 5 s), and the ledger takes records again, with no restart.
    std::fs::remove_file(&filler).unwrap();
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;
    let endorse = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Endorse(pb::Endorse {}));
    let last = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let taken = eventually(60, || {
        let (mut c, rec, last) = (l.client.clone(), endorse.clone(), last.clone());
        async move {
            let r = c.submit(rec).await;
            *last.lock().unwrap() = format!("{r:?}");
            r.is_ok()
        }
    })
    .await;
    assert!(taken, "writes resume once space returns, with no restart: {}", last.lock().unwrap());
}
