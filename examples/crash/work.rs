//! The work folder shared by the subcommands and the script: what setup registered and issued,
//! the acknowledgement log, the load's events and status, the saved checkpoints.

use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_ledger::client::{Client, Identity};
use ebl_ledger::pb;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A party and its secret key, as setup saved them (a test folder: the keys are throwaway).
#[derive(Serialize, Deserialize, Clone)]
pub struct SavedIdentity {
    /// The party id.
    pub party: String,
    /// The Ed25519 secret key, hex.
    pub secret: String,
}

impl SavedIdentity {
    /// The identity to sign with.
    pub fn identity(&self) -> Result<Identity, String> {
        let bytes: [u8; 32] = hex::decode(&self.secret)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("bad key for {}", self.party))?;
        Ok(Identity::new(&self.party, SigningKey::from_bytes(&bytes)))
    }

    /// Saves an identity.
    pub fn of(id: &Identity) -> Self {
        SavedIdentity { party: id.party.to_string(), secret: hex::encode(id.key.to_bytes()) }
    }
}

/// What setup made: the ledger's origin and pinned verifier key, the parties, the bills.
#[derive(Serialize, Deserialize)]
pub struct World {
    /// The ledger's origin.
    pub origin: String,
    /// The checkpoint verifier key, pinned at setup (before any crash).
    pub log_key: String,
    /// An auditor: it may read every bill.
    pub auditor: SavedIdentity,
    /// The traders that pass the bills round.
    pub traders: Vec<SavedIdentity>,
    /// The bills issued, hex ids.
    pub bills: Vec<String>,
}

impl World {
    /// Reads `world.json`.
    pub fn load(work: &Path) -> Result<World, String> {
        let text = std::fs::read(work.join("world.json")).map_err(|e| format!("world.json: {e} (run setup first)"))?;
        serde_json::from_slice(&text).map_err(|e| format!("world.json: {e}"))
    }

    /// Writes `world.json`.
    pub fn save(&self, work: &Path) -> Result<(), String> {
        std::fs::write(work.join("world.json"), serde_json::to_vec_pretty(self).unwrap()).map_err(|e| e.to_string())
    }

    /// The bill ids.
    pub fn bill_ids(&self) -> Result<Vec<BillId>, String> {
        self.bills.iter().map(|h| parse_bill(h)).collect()
    }
}

/// A bill id from hex.
pub fn parse_bill(h: &str) -> Result<BillId, String> {
    hex::decode(h).ok().and_then(|b| Hash32::from_slice(&b)).map(BillId).ok_or_else(|| format!("bad bill id {h}"))
}

/// One acknowledgement, as the client received it: one line of `acks.jsonl`.
#[derive(Serialize, Deserialize, Clone)]
pub struct Ack {
    /// The record hash, hex.
    pub hash: String,
    /// The bill, hex.
    pub bill: String,
    /// The chain position.
    pub position: u64,
    /// The global sequence number (log index).
    pub seq: u64,
    /// The server time stamped by the writer.
    pub time: String,
    /// The action.
    pub action: String,
    /// Answered as a duplicate: the record was sent again after a crash and had been accepted.
    pub duplicate: bool,
}

impl Ack {
    /// The acknowledgement a receipt gives.
    pub fn of(r: &pb::Receipt) -> Self {
        Ack {
            hash: hex::encode(&r.record_hash),
            bill: hex::encode(&r.bill_id),
            position: r.position,
            seq: r.seq,
            time: r.server_time.clone(),
            action: r.action.clone(),
            duplicate: r.duplicate,
        }
    }
}

/// An append-only JSON-lines file; each line is written whole and flushed at once.
pub struct Lines {
    // A std mutex: the critical section is one write(2), never held across an await.
    file: Mutex<std::fs::File>,
}

impl Lines {
    /// Opens `path` for appending.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Lines { file: Mutex::new(file) })
    }

    /// Appends one value as a line.
    pub fn write<T: Serialize>(&self, value: &T) {
        let mut line = serde_json::to_vec(value).unwrap();
        line.push(b'\n');
        let mut f = self.file.lock().unwrap();
        f.write_all(&line).expect("append to the work folder");
        f.flush().expect("flush");
    }
}

/// Reads every line of a JSON-lines file.
pub fn read_lines<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1)))
        .collect()
}

/// The acknowledgement log.
pub fn acks_path(work: &Path) -> PathBuf {
    work.join("acks.jsonl")
}

/// The load's events.
pub fn events_path(work: &Path) -> PathBuf {
    work.join("events.jsonl")
}

/// The checkpoints saved before the kills.
pub fn checkpoints_dir(work: &Path) -> PathBuf {
    work.join("checkpoints")
}

/// Connects, retrying for up to `secs` seconds (the server may be restarting).
pub async fn connect(url: &str, secs: u64) -> Result<Client, String> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match Client::connect(url.to_string()).await {
            Ok(c) => return Ok(c),
            Err(e) if std::time::Instant::now() > until => return Err(format!("cannot reach {url}: {e}")),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}
