//! This machine's limits, measured in the same run as the ledger's figures so that they can be
//! read as ratios (the machines here are shared and noisy): one core's strict signature checks
//! with an already decoded key, apart from the key's own checks; synced RocksDB batches (by
//! `ebld probe-disk`, on the data folder's disk); and the calls a second of the server's most
//! trivial RPC.

use crate::pb::{self, ledger_client::LedgerClient};
use ebl_core::ids::PartyId;
use ebl_core::sig::{PublicKey, Signature};
use ed25519_dalek::{Signature as DalekSignature, SigningKey};
use std::path::Path;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// Runs `f` repeatedly for about `dur`; how many times a second.
fn rate(dur: Duration, mut f: impl FnMut()) -> f64 {
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed() < dur {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// `verify_strict` a second on one core, over `message`, with the key decoded and checked once
/// beforehand: the cost the ledger cannot avoid per signature.
pub fn verify_strict_rate(message: &[u8]) -> f64 {
    let key = SigningKey::from_bytes(&[9; 32]);
    let sig = Signature::sign(&PartyId::operator(), &key, message);
    let vk = PublicKey(key.verifying_key().to_bytes()).check_strong("bench").expect("a strong key");
    let s = DalekSignature::from_bytes(&sig.sig);
    rate(Duration::from_millis(600), || {
        vk.verify_strict(std::hint::black_box(message), &s).expect("verifies");
    })
}

/// A key's own checks a second on one core (decompression, canonical encoding, small order,
/// prime-order subgroup): what the ledger does once per key, not per signature.
pub fn key_check_rate() -> f64 {
    let key = PublicKey(SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes());
    rate(Duration::from_millis(300), || {
        std::hint::black_box(key).check_strong("bench").expect("a strong key");
    })
}

/// Synced RocksDB batches a second on the disk of `folder`'s parent, as `ebld probe-disk` prints
/// them.
pub fn disk(ebld: &Path, folder: &Path) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let out =
        std::process::Command::new(ebld).args(["probe-disk", "--seconds", "2", "--folder"]).arg(folder).output()?;
    if !out.status.success() {
        return Err(format!("ebld probe-disk: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// GetInfo calls a second, 100 calls by each of `in_flight` callers at once: the server's gRPC
/// path with no ledger work. A fixed number of calls, not a fixed time, so that an instruction
/// profile of the server sees the same work every run.
pub async fn trivial_calls_rate(channels: &[Channel], in_flight: usize) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|k| {
            let mut grpc = LedgerClient::new(channels[k % channels.len()].clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                for _ in 0..100 {
                    if grpc.get_info(pb::GetInfoRequest {}).await.is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap_or(0);
    }
    n as f64 / start.elapsed().as_secs_f64()
}
