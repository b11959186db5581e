//! The server under test: an `ebld` process the bench starts on a fresh data folder and reads
//! from outside: its CPU time and resident memory from /proc, its metrics over HTTP, its data
//! folder's size on disk, and how long a restart takes until it answers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The origin of the bench's ledgers.
pub const ORIGIN: &str = "bench.example/ebl";

type Error = Box<dyn std::error::Error>;

/// A running `ebld`.
pub struct Server {
    child: Child,
    ebld: PathBuf,
    data: PathBuf,
    operator_hex: String,
    /// The gRPC URL.
    pub url: String,
    /// The metrics address.
    metrics: String,
}

impl Server {
    /// Initialises a ledger in `data` (which must not exist) for the operator key `operator_hex`
    /// and starts `ebld` on it.
    pub fn start(ebld: &Path, data: &Path, operator_hex: &str) -> Result<Server, Error> {
        let init = Command::new(ebld)
            .args(["init", "--origin", ORIGIN, "--operator-key", operator_hex, "--data-dir"])
            .arg(data)
            .output()?;
        if !init.status.success() {
            return Err(format!("ebld init: {}", String::from_utf8_lossy(&init.stderr)).into());
        }
        Server::run(ebld, data, operator_hex)
    }

    fn run(ebld: &Path, data: &Path, operator_hex: &str) -> Result<Server, Error> {
        let mut child = Command::new(ebld)
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--operator-key", operator_hex])
            .arg("--data-dir")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", ebld.display()))?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let (mut url, mut metrics) = (None, None);
        for line in lines.by_ref() {
            let line = line?;
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["ebld", "listening", "on", addr, ..] => url = Some(format!("http://{addr}")),
                ["ebld", "metrics", "on", at, ..] => {
                    metrics = Some(at.trim_start_matches("http://").trim_end_matches("/metrics").to_string())
                }
                _ => {}
            }
            if url.is_some() && metrics.is_some() {
                break;
            }
        }
        // The rest of its output is read and dropped, so that it never writes to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let (Some(url), Some(metrics)) = (url, metrics) else {
            let status = child.wait()?;
            return Err(format!("ebld ended ({status}) before it was listening").into());
        };
        Ok(Server {
            child,
            ebld: ebld.to_path_buf(),
            data: data.to_path_buf(),
            operator_hex: operator_hex.into(),
            url,
            metrics,
        })
    }

    /// Stops the server (SIGTERM, as an operator would) and starts it again on the same folder;
    /// returns the time from the new process's start until it answered a call.
    pub async fn restart(&mut self) -> Result<Duration, Error> {
        self.stop()?;
        let t = Instant::now();
        *self = Server::run(&self.ebld.clone(), &self.data.clone(), &self.operator_hex.clone())?;
        let channel = tonic::transport::Endpoint::from_shared(self.url.clone())?;
        loop {
            if let Ok(c) = channel.connect().await {
                let mut grpc = crate::pb::ledger_client::LedgerClient::new(c);
                if grpc.get_info(crate::pb::GetInfoRequest {}).await.is_ok() {
                    return Ok(t.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) -> Result<(), Error> {
        // SAFETY: kill(2) on our own child's pid, which we have not waited for yet.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait()?;
        Ok(())
    }

    /// The server process's CPU time so far (user + system, every thread).
    pub fn cpu(&self) -> Result<Duration, Error> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name (which may hold spaces), from field 3 on.
        let rest = stat.rsplit_once(')').ok_or("no ')' in /proc/PID/stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        // SAFETY: sysconf reads a constant of the system.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_micros(ticks * 1_000_000 / hz))
    }

    /// The server's resident memory, in bytes.
    pub fn rss(&self) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS")?;
        let kb: u64 = line.split_whitespace().nth(1).ok_or("no VmRSS value")?.parse()?;
        Ok(kb * 1024)
    }

    /// The data folder's size on disk (every file: RocksDB's tables and logs, keys, journals).
    pub fn disk_bytes(&self) -> Result<u64, Error> {
        fn walk(p: &Path) -> std::io::Result<u64> {
            let mut n = 0;
            for e in std::fs::read_dir(p)? {
                let e = e?;
                let m = e.metadata()?;
                n += if m.is_dir() { walk(&e.path())? } else { m.len() };
            }
            Ok(n)
        }
        Ok(walk(&self.data)?)
    }

    /// The write-ahead log's share of [`Server::disk_bytes`] (RocksDB's `*.log` files).
    pub fn wal_bytes(&self) -> Result<u64, Error> {
        let mut n = 0;
        for e in std::fs::read_dir(self.data.join("db"))? {
            let e = e?;
            if e.file_name().to_string_lossy().ends_with(".log") {
                n += e.metadata()?.len();
            }
        }
        Ok(n)
    }

    /// The counters the bench reads from the metrics: RocksDB WAL syncs and commit groups.
    pub async fn counters(&self) -> Result<Counters, Error> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(&self.metrics).await?;
        s.write_all(format!("GET /metrics HTTP/1.0\r\nHost: {}\r\n\r\n", self.metrics).as_bytes()).await?;
        let mut text = String::new();
        s.read_to_string(&mut text).await?;
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0.0)
        };
        Ok(Counters {
            wal_syncs: value("ebl_wal_syncs_total") as u64,
            groups: value("ebl_commit_group_records_count") as u64,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counters of the server's metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Syncs of RocksDB's write-ahead log.
    pub wal_syncs: u64,
    /// Write batches that added records (each acknowledged after its sync).
    pub groups: u64,
}
