//! The nodes of the test's cluster: real `ebld` processes, each on its own data folder, client
//! port and peer port, reached by the others through its proxy ([`super::proxy`]); and the real
//! `ebl witness` processes they push checkpoints to.

use ebl_ledger::raft::network::{Connector, PeerTls};
use ebl_ledger::raft::node::Status;
use ebl_ledger::raft::pb::Empty;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `ebld` under test (beside an example, the one built in the same target folder).
pub fn ebld() -> PathBuf {
    option_env!("CARGO_BIN_EXE_ebld").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        let bin = exe.parent().and_then(|examples| examples.parent()).unwrap().join("ebld");
        assert!(bin.exists(), "{} is missing: `cargo build --workspace --bins` first", bin.display());
        bin
    })
}

/// The `ebl` built beside it.
pub fn ebl() -> PathBuf {
    let bin = ebld().with_file_name("ebl");
    assert!(bin.exists(), "{} is missing: `cargo build -p ebl-client --bin ebl`", bin.display());
    bin
}

/// A port free now on 127.0.0.1, below the ephemeral range (the system's own `:0` ports and
/// outgoing connections come from that range: between this call and the node's bind, one of
/// those could take a port from it). A node keeps its ports across restarts.
pub fn free_port() -> u16 {
    let (low, high) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| {
            let mut it = r.split_whitespace().filter_map(|p| p.parse::<u16>().ok());
            Some((it.next()?, it.next()?))
        })
        .unwrap_or((32768, 60999));
    let (from, until) = if low > 12000 { (10000, low) } else { (high.saturating_add(1), u16::MAX) };
    loop {
        let port = from + rand::random::<u16>() % (until - from);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// One node.
pub struct Node {
    /// Its node id.
    pub id: u64,
    /// Its slot: which proxy and source address it has (1, 2, 3).
    pub slot: u8,
    /// Its data folder.
    pub dir: PathBuf,
    /// Its client address.
    pub api: SocketAddr,
    /// Its peer listener's own address.
    pub peer: SocketAddr,
    /// The address the other nodes reach its peer listener at: its proxy's, or its own.
    pub proxy: SocketAddr,
    /// The flags every start gives it (witnesses, checkpoint copy, settings).
    pub flags: Vec<String>,
    /// Mutual TLS on its peer channel, if it has it.
    pub tls: Option<PeerTls>,
    child: Option<Child>,
    starts: u32,
}

impl Node {
    /// A node not yet started, reached by the others through `proxy` (or directly).
    pub fn new(id: u64, slot: u8, dir: PathBuf, proxy: Option<SocketAddr>, flags: Vec<String>) -> Self {
        let port = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let peer = port(free_port());
        let proxy = proxy.unwrap_or(peer);
        Node { id, slot, dir, api: port(free_port()), peer, proxy, flags, tls: None, child: None, starts: 0 }
    }

    /// The node with mutual TLS on its peer channel, with these files.
    #[allow(dead_code)]
    pub fn with_tls(mut self, tls: PeerTls) -> Self {
        self.flags.extend(tls_flags(&tls));
        self.tls = Some(tls);
        self
    }

    /// Its process id, while it runs (examples/cluster_bench.rs reads its CPU time).
    #[allow(dead_code)]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its client URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// The URL the other nodes reach its peer listener at (through its proxy).
    pub fn peer_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.proxy)
    }

    /// Whether its process runs.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts it and waits until it listens.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "node {} already runs", self.id);
        self.starts += 1;
        let log = std::fs::File::create(self.dir.with_extension(format!("{}.log", self.starts))).unwrap();
        let mut child = Command::new(ebld())
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["--listen", &self.api.to_string(), "--node-id", &self.id.to_string()])
            .args(["--peer-listen", &self.peer.to_string(), "--advertise-peer", &self.peer_url()])
            .args(["--peer-source-address", &super::proxy::source_of(self.slot).to_string()])
            .args(&self.flags)
            .env("RUST_LOG", "warn,ebl_ledger=info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(line.starts_with("ebld listening on"), "node {} did not start: {line:?}", self.id);
        // The rest of its stdout is not read: it prints nothing more after the peers line.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        self.child = Some(child);
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM, and waits for it to end.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            Command::new("kill").arg(c.id().to_string()).status().unwrap();
            c.wait().unwrap();
        }
    }

    /// The cluster as it sees it (asked on its own peer listener, not through its proxy).
    pub async fn status(&self) -> Option<Status> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut c = Connector::new(self.tls.as_ref()).ok()?.client(&format!("{scheme}://{}", self.peer)).ok()?;
        let mut req = tonic::Request::new(Empty {});
        req.set_timeout(Duration::from_secs(2));
        let json = c.status(req).await.ok()?.into_inner().json;
        serde_json::from_slice(&json).ok()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `ebld cluster ARGS` against the peer listener at `peer`; its stdout.
pub fn admin<A: AsRef<std::ffi::OsStr> + std::fmt::Debug>(peer: &str, args: &[A]) -> String {
    admin_result(peer, args).unwrap_or_else(|e| panic!("ebld cluster {args:?}: {e}"))
}

/// `ebld cluster ARGS`: its stdout, or its stderr if it failed.
pub fn admin_result<A: AsRef<std::ffi::OsStr>>(peer: &str, args: &[A]) -> Result<String, String> {
    let out = Command::new(ebld()).args(["cluster", "--peer", peer]).args(args).output().unwrap();
    match out.status.success() {
        true => Ok(String::from_utf8(out.stdout).unwrap()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

/// `ebld --data-dir DIR ARGS`: its stdout, or its stderr if it failed.
#[allow(dead_code)]
pub fn ebld_in<A: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[A]) -> Result<String, String> {
    let out = Command::new(ebld()).arg("--data-dir").arg(dir).args(args).output().unwrap();
    match out.status.success() {
        true => Ok(String::from_utf8(out.stdout).unwrap()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

/// The flags that give a node, or `ebld cluster`, these TLS files.
pub fn tls_flags(tls: &PeerTls) -> Vec<String> {
    let p = |p: &Path| p.display().to_string();
    vec!["--peer-cert".into(), p(&tls.cert), "--peer-key".into(), p(&tls.key), "--cluster-ca".into(), p(&tls.ca)]
}

/// `ebld init` of a node's folder with the cluster's origin, operator key and log key.
pub fn init(dir: &Path, origin: &str, operator_hex: &str, ledger_key: Option<&Path>) {
    let mut cmd = Command::new(ebld());
    cmd.arg("--data-dir").arg(dir).args(["--operator-key", operator_hex, "init", "--origin", origin]);
    if let Some(k) = ledger_key {
        cmd.arg("--ledger-key-file").arg(k);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "ebld init: {}", String::from_utf8_lossy(&out.stderr));
}

/// A real `ebl witness`.
pub struct Witness {
    child: Child,
    /// `URL=VERIFIER_KEY`, as `ebld --witness` takes it.
    pub target: String,
}

impl Witness {
    /// Starts witness `name` for the log `log_key`, its files in `dir`.
    pub fn start(dir: &Path, name: &str, log_key: &str) -> Self {
        let key = dir.join(format!("{}.key", name.replace('/', "_")));
        let state = dir.join(format!("{}.state", name.replace('/', "_")));
        assert!(Command::new(ebl()).arg("keygen").arg("--out").arg(&key).output().unwrap().status.success());
        let out = Command::new(ebl()).args(["witness", "key", "--name", name, "--key"]).arg(&key).output().unwrap();
        let vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let log = std::fs::File::create(dir.join(format!("{}.log", name.replace('/', "_")))).unwrap();
        let mut child = Command::new(ebl())
            .args(["witness", "--listen", "127.0.0.1:0", "--name", name, "--log", log_key, "--key"])
            .arg(&key)
            .arg("--state-dir")
            .arg(&state)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.split_whitespace().nth(4).unwrap_or_else(|| panic!("witness: {line:?}")).to_string();
        Witness { child, target: format!("http://{addr}={vkey}") }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
