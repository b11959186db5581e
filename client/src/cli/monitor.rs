//! `ebl monitor`: follows a ledger's checkpoints over time. Each poll opens the latest checkpoint
//! with the pinned log key (and, if asked, requires k of the given witness keys), then checks it
//! against the last checkpoint seen, kept in `--state` across runs: same size, same root; larger,
//! a consistency proof from the old size that verifies against both roots; smaller, a proof that
//! it is a prefix of what was seen. A bad signature or an inconsistency prints exactly what failed
//! and exits non-zero; a ledger that cannot be reached is reported and polled again.

use super::output::Out;
use crate::client::Client;
use crate::client::Servers;
use crate::file::{read, write_atomic};
use clap::Args;
use ebl_core::hash::Hash32;
use ebl_core::log::{require_witnesses, verify_consistency, Checkpoint, KeyKind, SignedNote, VerifierKey};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// `ebl monitor` arguments.
#[derive(Args, Debug)]
pub struct MonitorArgs {
    /// The ledger's verifier key (`ebl log key`), pinned out of band.
    #[arg(long)]
    pub log_key: String,
    /// Seconds between polls (fractions allowed).
    #[arg(long, default_value_t = 10.0)]
    pub interval: f64,
    /// File keeping the last checkpoint seen, across runs (without it, each run starts afresh).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// A witness's verifier key (cosignature/v1), repeatable.
    #[arg(long = "witness-key")]
    pub witness_keys: Vec<String>,
    /// How many of the witness keys must have cosigned each checkpoint.
    #[arg(long, default_value_t = 0)]
    pub min_witnesses: usize,
    /// Stop after this many polls (default: run until stopped).
    #[arg(long)]
    pub count: Option<u64>,
}

/// A failed poll: fatal (the log misbehaved: stop, exit non-zero) or not (try again later).
enum Failure {
    Fatal(String),
    Retry(String),
}

struct Monitor {
    server: Servers,
    log_key: VerifierKey,
    witnesses: Vec<VerifierKey>,
    k: usize,
    state: Option<PathBuf>,
    last: Option<Checkpoint>,
    client: Option<Client>,
}

/// Runs `ebl monitor`.
pub async fn run(args: MonitorArgs, server: &Servers, out: &Out) -> super::CliResult {
    let log_key = VerifierKey::parse(&args.log_key).map_err(|e| format!("--log-key: {e}"))?;
    if log_key.kind() != KeyKind::Ed25519 {
        return Err("--log-key: a log key has signature type 0x01 (Ed25519)".into());
    }
    let witnesses = args
        .witness_keys
        .iter()
        .map(|k| match VerifierKey::parse(k) {
            Ok(v) if v.kind() == KeyKind::CosignatureV1 => Ok(v),
            Ok(_) => Err(format!("--witness-key {k}: not a cosignature/v1 key (signature type 0x04)")),
            Err(e) => Err(format!("--witness-key {k}: {e}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if args.min_witnesses > witnesses.len() {
        return Err(
            format!("--min-witnesses {} but only {} --witness-key given", args.min_witnesses, witnesses.len()).into()
        );
    }
    if !(args.interval.is_finite() && args.interval >= 0.0) {
        return Err("--interval: a number of seconds".into());
    }
    let last = match &args.state {
        Some(path) => match read(path).map_err(|e| format!("{}: {e}", path.display()))? {
            Some(note) => {
                let opened = SignedNote::parse(&note).and_then(|n| Checkpoint::open(&n, &log_key, &[]));
                Some(opened.map_err(|e| format!("{}: not a checkpoint of this log: {e}", path.display()))?.checkpoint)
            }
            None => None,
        },
        None => None,
    };
    if let Some(cp) = &last {
        out.emit(json!({"state": "loaded", "size": cp.size(), "root": cp.root().to_hex()}), || {
            format!("last seen (from state): size {}, root {}", cp.size(), cp.root().to_hex())
        });
    }
    let mut m = Monitor {
        server: server.clone(),
        log_key,
        witnesses,
        k: args.min_witnesses,
        state: args.state,
        last,
        client: None,
    };
    let (mut poll, mut verified) = (0u64, 0u64);
    loop {
        poll += 1;
        match m.poll().await {
            Ok((cp, step, cosigners)) => {
                verified += 1;
                out.emit(
                    json!({"poll": poll, "ok": true, "size": cp.size(), "root": cp.root().to_hex(),
                           "cosigners": cosigners, "step": step}),
                    || {
                        let w = if cosigners.is_empty() {
                            String::new()
                        } else {
                            format!(", cosigned by {}", cosigners.join(", "))
                        };
                        format!("poll {poll}: checkpoint size {}, root {}{w}: {step}", cp.size(), cp.root().to_hex())
                    },
                );
            }
            Err(Failure::Retry(why)) => out
                .emit(json!({"poll": poll, "ok": false, "retry": why}), || format!("poll {poll}: {why} (will retry)")),
            Err(Failure::Fatal(why)) => {
                out.emit(json!({"poll": poll, "ok": false, "failed": why}), || format!("poll {poll}: FAILED: {why}"));
                return Err(super::error::CheckFailed(format!("monitor: {why}")).into());
            }
        }
        // A reader that went away (`ebl monitor | head`) ends the watch.
        out.check()?;
        if args.count.is_some_and(|n| poll >= n) {
            break;
        }
        tokio::time::sleep(Duration::from_secs_f64(args.interval)).await;
    }
    if verified == 0 {
        return Err(format!("monitor: no checkpoint verified in {poll} polls").into());
    }
    Ok(())
}

impl Monitor {
    /// One poll: the checkpoint, what was checked, the witnesses that count.
    async fn poll(&mut self) -> Result<(Checkpoint, String, Vec<String>), Failure> {
        let mut client = match self.client.take() {
            Some(c) => c,
            None => Client::connect_to(&self.server)
                .await
                .map_err(|e| Failure::Retry(format!("cannot reach {}: {e}", self.server)))?,
        };
        let result = self.check(&mut client).await;
        // Keep the connection unless the ledger could not be asked.
        if !matches!(result, Err(Failure::Retry(_))) {
            self.client = Some(client);
        }
        result
    }

    async fn check(&mut self, client: &mut Client) -> Result<(Checkpoint, String, Vec<String>), Failure> {
        let fatal = |what: &str, e: &dyn std::fmt::Display| Failure::Fatal(format!("{what}: {e}"));
        let view = client.checkpoint_with(self.k as u32).await.map_err(|s| {
            Failure::Retry(if s.code() == tonic::Code::NotFound && self.k > 0 {
                format!("no recent checkpoint cosigned by {} witnesses yet", self.k)
            } else {
                format!("GetCheckpoint: {}", s.message())
            })
        })?;
        let note =
            SignedNote::parse(&view.note).map_err(|e| fatal("the served checkpoint is not a signed note", &e))?;
        let opened = Checkpoint::open(&note, &self.log_key, &self.witnesses)
            .map_err(|e| fatal("the checkpoint does not verify", &e))?;
        let cosigners = require_witnesses(&opened, self.k).map_err(|e| fatal("witness cosignatures", &e))?;
        let cp = opened.checkpoint;
        if view.size != cp.size() || view.root != cp.root().0 {
            return Err(Failure::Fatal(format!(
                "the answer's size {} and root {} are not the signed note's ({} and {})",
                view.size,
                hex::encode(&view.root),
                cp.size(),
                cp.root().to_hex()
            )));
        }
        let step =
            match self.last.clone() {
                None => "first checkpoint seen (nothing earlier to compare)".to_string(),
                Some(last) if last.size() == cp.size() => {
                    if last.root() != cp.root() {
                        return Err(Failure::Fatal(format!(
                            "fork: the checkpoint of size {} has root {}, but the one seen before has root {}",
                            cp.size(),
                            cp.root().to_hex(),
                            last.root().to_hex()
                        )));
                    }
                    "unchanged".to_string()
                }
                Some(last) => {
                    let (old, new) = if last.size() < cp.size() { (&last, &cp) } else { (&cp, &last) };
                    let proof = client.consistency(old.size(), Some(new.size())).await.map_err(|s| {
                        let why = format!("consistency proof from {} to {}: {}", old.size(), new.size(), s.message());
                        // The ledger can always prove a size it signed; refusing one it signed is a rollback.
                        if s.code() == tonic::Code::InvalidArgument {
                            Failure::Fatal(why)
                        } else {
                            Failure::Retry(why)
                        }
                    })?;
                    let hashes =
                        proof.hashes.iter().map(|h| Hash32::from_slice(h)).collect::<Option<Vec<_>>>().ok_or_else(
                            || Failure::Fatal("consistency proof holds a hash that is not 32 bytes".into()),
                        )?;
                    if (proof.first, proof.second) != (old.size(), new.size()) {
                        return Err(Failure::Fatal(format!(
                            "asked for a consistency proof from {} to {}, got one from {} to {}",
                            old.size(),
                            new.size(),
                            proof.first,
                            proof.second
                        )));
                    }
                    verify_consistency(old.size(), new.size(), &old.root(), &new.root(), &hashes).map_err(|e| {
                        Failure::Fatal(format!(
                        "the checkpoint of size {} is not consistent with the checkpoint of size {} seen before: {e}",
                        cp.size(),
                        last.size()
                    ))
                    })?;
                    if cp.size() < last.size() {
                        // Consistent, but older than what was seen: keep the newer one as the reference.
                        return Ok((
                            cp,
                            format!("older than size {} seen before, but a prefix of it", last.size()),
                            cosigners,
                        ));
                    }
                    format!("consistent with size {} seen before ({} proof hashes)", last.size(), hashes.len())
                }
            };
        if let Some(path) = &self.state {
            write_atomic(path, &view.note).map_err(|e| Failure::Fatal(format!("{}: {e}", path.display())))?;
        }
        self.last = Some(cp.clone());
        Ok((cp, step, cosigners))
    }
}
