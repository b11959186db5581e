//! The `ebld` command line: configuration (flags and `EBL_*` variables), `init`, and serving
//! until SIGINT or SIGTERM.

use super::keys::read_public_key;
pub use super::{init_tracing, shutdown_signal};
use crate::checkpoint::push::WitnessTarget;
use crate::error::LedgerError;
use crate::net::NetLimits;
use crate::server::{init, Ledger};
use crate::store::Store;
use crate::writer::{command, commit_command, Answer, Command as WriterCommand};
use clap::{Parser, Subcommand};
use ebl_core::sig::PublicKey;
use std::path::PathBuf;

/// The eBL ledger server.
#[derive(Parser, Debug)]
#[command(
    name = "ebld",
    version,
    about = "The eBL ledger server: signed, hash-chained bills of lading over gRPC on RocksDB"
)]
pub struct Args {
    /// A configuration file (TOML): each key a long flag's name, its value that flag's default
    /// (flags and EBL_* variables still win). See docs/operations.md, "Configuration".
    #[arg(long, env = "EBL_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "EBL_LISTEN", default_value = "127.0.0.1:50051", global = true)]
    pub listen: String,
    /// Data folder (the RocksDB database and the ledger's key).
    #[arg(long, env = "EBL_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// The operator's public key: 64 hex characters, or its file (e.g. operator.key.pub: SPKI PEM
    /// or legacy hex); a secret key file is refused.
    #[arg(long, env = "EBL_OPERATOR_KEY", global = true)]
    pub operator_key: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "EBL_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
    /// A witness to push checkpoints to, `URL=VERIFIER_KEY` (repeatable; in `EBL_WITNESSES`,
    /// comma separated), e.g. `http://127.0.0.1:7380=witness.example/w1+1234abcd+BA...`.
    #[arg(long = "witness", env = "EBL_WITNESSES", value_delimiter = ',', global = true)]
    pub witnesses: Vec<String>,
    /// The CA bundle (PEM) to trust for `https://` witnesses instead of the system's roots.
    #[arg(long, env = "EBL_WITNESS_CA", global = true)]
    pub witness_ca: Option<PathBuf>,
    /// Most open client connections (also bounded by the open-file limit, after a reserve for
    /// the store); when all are taken, the longest-idle one is closed to make room.
    #[arg(long, env = "EBL_MAX_CONNECTIONS", default_value_t = NetLimits::default().max_connections, global = true)]
    pub max_connections: usize,
    /// Seconds a new connection may stay silent before it is closed.
    #[arg(long, env = "EBL_HANDSHAKE_TIMEOUT", default_value_t = NetLimits::default().handshake_timeout.as_secs_f64(), global = true)]
    pub handshake_timeout: f64,
    /// Seconds a connection may go without a call before it is closed.
    #[arg(long, env = "EBL_IDLE_TIMEOUT", default_value_t = NetLimits::default().idle_timeout.as_secs_f64(), global = true)]
    pub idle_timeout: f64,
    /// Most calls in flight on one connection; more are refused (RESOURCE_EXHAUSTED).
    #[arg(long, env = "EBL_MAX_CALLS_PER_CONNECTION", default_value_t = NetLimits::default().max_calls_per_connection, global = true)]
    pub max_calls_per_connection: usize,
    /// Bytes the data folder's disk must keep free: under it, writes are refused (UNAVAILABLE
    /// DISK_RESERVE) until space returns; reads go on.
    #[arg(long, env = "EBL_DISK_RESERVE", default_value_t = crate::store::space::DEFAULT_DISK_RESERVE, global = true)]
    pub disk_reserve: u64,
    /// A second place every checkpoint is written before it is served: a file on another disk or
    /// host mount, which backups of the data folder do not restore. At start the ledger's tree
    /// must extend it, or the log halts (no writes, no proofs) instead of forking.
    #[arg(long, env = "EBL_CHECKPOINT_COPY", global = true)]
    pub checkpoint_copy: Option<PathBuf>,
    /// Serve Prometheus metrics (`GET /metrics`) on this address, e.g. 127.0.0.1:9464: over TLS
    /// when the server has a certificate; plaintext only on loopback unless --insecure-plaintext.
    #[arg(long, env = "EBL_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
    /// The server's TLS certificate chain (PEM, leaf first); with --tls-key, gRPC is served over
    /// TLS. Reloaded when the file changes or on SIGHUP, without a restart.
    #[arg(long, env = "EBL_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, env = "EBL_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// With TLS: require every client to present a certificate from this CA bundle (PEM) naming
    /// its party in a SAN URI `urn:ebl:party:<party id>`; a request signed by another party is
    /// refused PERMISSION_DENIED.
    #[arg(long, env = "EBL_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Serve plaintext on an address other than loopback (e.g. behind a proxy that terminates
    /// TLS). Without it, ebld refuses to listen there without TLS.
    #[arg(long, env = "EBL_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
    /// Append every command the writer commits to this file, as `ebld apply-commands` reads
    /// them: a developer's record of exactly what was applied (not synced, not a backup).
    #[arg(long, env = "EBL_COMMAND_JOURNAL")]
    pub command_journal: Option<PathBuf>,
    /// Cluster membership and Raft settings (docs/replication.md).
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new ledger in the data folder (database, origin, operator key, ledger key).
    Init {
        /// The ledger's origin, bound into every signed record and naming its log, e.g.
        /// ledger.example/ebl: required, since it can never change.
        #[arg(long, env = "EBL_ORIGIN")]
        origin: String,
        /// Use this secret key file as the ledger's key instead of making a new one: a node
        /// that will join a cluster is created with the cluster's log key, brought out of band
        /// (with the cluster's --origin and --operator-key).
        #[arg(long)]
        ledger_key_file: Option<PathBuf>,
    },
    /// Administer a cluster through the node whose peer listener is at --peer.
    Cluster {
        /// The peer URL of the node to ask (the leader, for join, promote and remove).
        #[arg(long, env = "EBL_PEER")]
        peer: String,
        /// What to do.
        #[command(subcommand)]
        action: super::cluster::ClusterCommand,
    },
    /// Serve gRPC (the default).
    Serve,
    /// Measure this machine's synced RocksDB write batches a second, in a scratch database made
    /// in FOLDER (which must not exist; it is removed afterwards), and print them as JSON: the
    /// disk limit `ebl bench` reports beside the ledger's figures. Touches no ledger.
    ProbeDisk {
        /// The scratch folder, on the disk to measure.
        #[arg(long)]
        folder: PathBuf,
        /// How long to measure, in seconds.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// Back up a stopped ledger into a new folder (database, key, latest checkpoint). While the
    /// ledger serves, use `ebl backup` (an online backup signed by the operator) instead.
    Backup {
        /// The new folder.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into the data folder (the ledger stopped). The database it replaces is
    /// kept aside; if the backup predates what the log published, the ledger starts halted
    /// until `ebld recover`.
    Restore {
        /// The backup's folder.
        #[arg(long)]
        from: PathBuf,
    },
    /// Audit a stopped ledger's data folder (or, with --folder, a backup): every record
    /// re-verified and replayed through the ledger's checks and rules, everything stored compared
    /// with what the records derive, the tree checked against every published checkpoint. Names
    /// the first fault and exits non-zero.
    Audit {
        /// A backup (or another data folder) to audit instead of the data folder.
        #[arg(long)]
        folder: Option<PathBuf>,
    },
    /// Apply a file of commands (the byte format of docs/architecture.md, "Commands") to a
    /// stopped ledger, as its writer would: each command's records checked again, applied and
    /// committed. Prints one JSON line per command with each record's answer, then one with the
    /// tree's size, its leaf hashes and the ledger's logical digest. For developers: replaying
    /// the commands of one ledger into another shows that both reach the same ledger.
    ApplyCommands {
        /// The file of commands.
        file: PathBuf,
        /// Apply them to a copy of the database in memory instead (the data folder is only
        /// read): the same commands over the other storage engine.
        #[arg(long)]
        in_memory: bool,
    },
    /// Upgrade a stopped ledger's database from an older on-disk format to this version's: every
    /// record taken into a new database through the ledger's checks, which must then read
    /// exactly as the old one; the old one is kept as `db.v<version>` in the data folder.
    Migrate,
    /// End a halt after a restore: take back the acknowledged records the database lacks from
    /// another copy of it (a newer backup, a kept-aside database, the old machine's data folder),
    /// with their original receipts, and check the tree against every published checkpoint.
    Recover {
        /// A data folder, backup or database folder holding the missing records.
        #[arg(long)]
        from: PathBuf,
    },
}

/// Runs `ebld` with parsed arguments.
pub async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let operator = args.operator_key.as_deref().map(read_public_key).transpose()?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Cluster { peer, action } => super::cluster::run(&args.cluster, &peer, action).await,
        Command::Init { origin, ledger_key_file } => {
            let operator = operator.ok_or("init needs --operator-key (or EBL_OPERATOR_KEY)")?;
            let key = match ledger_key_file {
                Some(file) => {
                    let key = crate::server::read_secret_key(&file)?;
                    crate::server::init_with_key(&args.data_dir, &origin, operator, key)?
                }
                None => init(&args.data_dir, &origin, operator)?,
            };
            println!("initialised ledger '{origin}' in {}", args.data_dir.display());
            println!("ledger public key: {}", key.to_hex());
            Ok(())
        }
        Command::ProbeDisk { folder, seconds } => {
            if folder.exists() {
                return Err(format!("{}: exists; probe-disk makes a new scratch folder", folder.display()).into());
            }
            let probe = crate::store::probe::probe(&folder, seconds)?;
            println!("{}", serde_json::to_string(&probe)?);
            Ok(())
        }
        Command::Backup { to } => {
            let ledger = open_stopped(&args.data_dir, operator, args.checkpoint_copy)?;
            let latest = ledger.published().iter().max_by_key(|c| c.size());
            let b = crate::backup::backup(&ledger.store(), ledger.signing_key(), latest, &to)?;
            println!("backed up {} records (checkpoint {}) to {}", b.size, b.checkpoint, to.display());
            Ok(())
        }
        Command::Restore { from } => {
            let r = crate::backup::restore(&from, &args.data_dir, args.checkpoint_copy.as_deref())?;
            println!("restored {} records into {}", r.size, args.data_dir.join(crate::server::DB_DIR).display());
            if let Some(kept) = &r.kept {
                println!("the database it replaced is kept in {}", kept.display());
            }
            if let Some(published) = r.behind {
                println!(
                    "the log has published a checkpoint of {published} records: the ledger will start halted \
                     until `ebld recover --from <a newer copy>`{}",
                    r.kept.as_ref().map(|k| format!(" (e.g. --from {})", k.display())).unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Audit { folder } => {
            let folder = folder.unwrap_or_else(|| args.data_dir.clone());
            match crate::audit::audit_folder(&folder, args.checkpoint_copy.as_deref(), &crate::audit::scratch_folder())
            {
                Ok(a) => {
                    println!(
                        "clean: {} records re-verified and replayed, {} stored keys compared, the tree extends checkpoint {}",
                        a.records, a.keys, a.checkpoint
                    );
                    Ok(())
                }
                Err(f) => {
                    if let Some(d) = &f.detail {
                        eprintln!("ebld: {d}");
                    }
                    Err(format!("audit of {}: FAULT in {f}", folder.display()).into())
                }
            }
        }
        Command::Migrate => {
            let m = crate::migrate::migrate(&args.data_dir)?;
            match &m.kept {
                None => {
                    println!("{}: already on-disk format version {}: nothing to do", args.data_dir.display(), m.from)
                }
                Some(kept) => println!(
                    "migrated {} records from on-disk format version {} to {}; the old database is kept in {} \
                     (remove it once the ledger serves as before)",
                    m.records,
                    m.from,
                    crate::store::SCHEMA_VERSION,
                    kept.display()
                ),
            }
            Ok(())
        }
        Command::Recover { from } => {
            let ledger = open_stopped(&args.data_dir, operator, args.checkpoint_copy)?;
            let r = crate::recover::recover(&ledger, &from)?;
            println!(
                "recovered: took back {} records; the tree has {} and extends the published checkpoint of {}",
                r.appended, r.size, r.published
            );
            Ok(())
        }
        Command::ApplyCommands { file, in_memory } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let lines = if in_memory {
                let db = args.data_dir.join(crate::server::DB_DIR);
                let store = crate::store::Store::open_read_only(&db)?.memory_copy()?;
                store.check_schema()?;
                let meta = |m| -> Result<Vec<u8>, String> {
                    let v = store.meta(m).map_err(|e| e.to_string())?;
                    v.ok_or_else(|| format!("{}: not a ledger's database", db.display()))
                };
                let origin = String::from_utf8(meta(crate::store::keys::Meta::Origin)?)?;
                let operator = ebl_core::sig::PublicKey::from_slice(
                    "operator key",
                    &meta(crate::store::keys::Meta::OperatorKey)?,
                )?;
                apply_file(&store, &operator, &origin, &bytes)?
            } else {
                let ledger = open_stopped(&args.data_dir, operator, args.checkpoint_copy)?;
                apply_file(&ledger.store(), ledger.operator(), ledger.origin(), &bytes)?
            };
            for line in lines {
                println!("{line}");
            }
            Ok(())
        }
        Command::Serve => {
            let witnesses = args
                .witnesses
                .iter()
                .filter(|w| !w.trim().is_empty())
                .map(|w| WitnessTarget::parse(w.trim(), args.witness_ca.as_deref()))
                .collect::<Result<Vec<_>, _>>()?;
            let seconds = |what: &str, s: f64| {
                std::time::Duration::try_from_secs_f64(s)
                    .map_err(|_| format!("--{what}: {s} is not a number of seconds"))
            };
            let limits = NetLimits {
                max_connections: args.max_connections,
                handshake_timeout: seconds("handshake-timeout", args.handshake_timeout)?,
                idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
                max_calls_per_connection: args.max_calls_per_connection,
            };
            let mut ledger = Ledger::open(&args.data_dir, operator)?;
            if let Some(copy) = args.checkpoint_copy {
                ledger = ledger.with_checkpoint_copy(copy)?;
            }
            if let Some(journal) = args.command_journal {
                ledger = ledger.with_command_journal(journal);
            }
            if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
                ledger = ledger.with_tls(crate::net::tls::TlsFiles { cert, key })?;
            }
            if let Some(ca) = &args.tls_client_ca {
                ledger = ledger.with_client_ca(ca)?;
            }
            let mut ledger = ledger.with_witnesses(witnesses).with_limits(limits).with_disk_reserve(args.disk_reserve);
            let listener = tokio::net::TcpListener::bind(&args.listen).await?;
            let addr = listener.local_addr()?;
            ebl_client::tls::plaintext_allowed("ebld", addr, ledger.serves_tls(), args.insecure_plaintext)?;
            let mut metrics_at = None;
            if let Some(listen) = &args.metrics_listen {
                let metrics = tokio::net::TcpListener::bind(listen).await?;
                let at = metrics.local_addr()?;
                let what = "ebld --metrics-listen";
                ebl_client::tls::plaintext_allowed(what, at, ledger.serves_tls(), args.insecure_plaintext)?;
                ledger = ledger.with_metrics(metrics);
                metrics_at = Some(at);
            }
            // The address is the fourth word: scripts read it.
            let scheme = if ledger.serves_tls() { "https" } else { "http" };
            let peer_at = match args.cluster.spec((scheme, addr), args.insecure_plaintext).await? {
                Some((spec, at)) => {
                    ledger = ledger.with_cluster(spec);
                    Some(at)
                }
                None => None,
            };
            println!("ebld listening on {addr} ({scheme}, origin '{}')", ledger.origin());
            if let Some(at) = metrics_at {
                println!("ebld metrics on {scheme}://{at}/metrics");
            }
            if let Some(at) = peer_at {
                let peer_scheme = if args.cluster.tls().is_some() { "https" } else { "http" };
                println!("ebld peers on {peer_scheme}://{at} (node {})", args.cluster.node_id.unwrap_or_default());
            }
            ledger.serve(listener, shutdown_signal()).await?;
            Ok(())
        }
    }
}

/// Opens the ledger for a command that needs it stopped.
fn open_stopped(
    data_dir: &std::path::Path,
    operator: Option<ebl_core::sig::PublicKey>,
    copy: Option<PathBuf>,
) -> Result<Ledger, Box<dyn std::error::Error>> {
    let ledger = Ledger::open(data_dir, operator).map_err(|e| match e {
        crate::server::StartError::Store(s) if s.to_string().contains("lock") => format!(
            "{}: the database is in use (is the ledger running? stop it first; for a backup while it serves, use `ebl backup`)",
            data_dir.display()
        )
        .into(),
        e => Box::<dyn std::error::Error>::from(e),
    })?;
    Ok(match copy {
        Some(c) => ledger.with_checkpoint_copy(c)?,
        None => ledger,
    })
}

/// Applies and commits every command of a file of commands ([`command::frames`]) to `store`,
/// in order, as the writer would; returns one JSON line per command (each record's answer) and a
/// last one with the tree's size, its leaf hashes and the logical digest.
fn apply_file(
    store: &Store,
    operator: &PublicKey,
    origin: &str,
    file: &[u8],
) -> Result<Vec<serde_json::Value>, Box<dyn std::error::Error>> {
    let mut lines = Vec::new();
    for (index, bytes) in command::frames(file)? {
        let cmd = WriterCommand::decode_with(bytes, origin, store.strong_keys())
            .map_err(|e| format!("command {index}: {e}"))?;
        let done = commit_command(store, operator, index, &cmd);
        if !done.committed {
            let why = done.answers.iter().find_map(|a| a.as_ref().err()).map(ToString::to_string);
            return Err(format!("command {index} was not committed: {}", why.unwrap_or_default()).into());
        }
        let answers: Vec<_> = done.answers.iter().map(answer_json).collect();
        lines.push(serde_json::json!({ "index": index, "answers": answers }));
    }
    let size = store.next_seq()?;
    let leaves: Vec<_> = store.leaf_hashes(0, size)?.iter().map(|h| h.to_hex()).collect();
    let digest = store.logical_digest()?.to_hex();
    lines.push(serde_json::json!({ "size": size, "leaves": leaves, "logical_digest": digest }));
    Ok(lines)
}

/// One record's answer as JSON: its receipt, the place of its original, or the refusal's reason.
fn answer_json(a: &Result<Answer, LedgerError>) -> serde_json::Value {
    match a {
        Ok(Answer::Accepted(r)) => serde_json::json!({
            "accepted": { "seq": r.seq, "hash": r.hash.to_hex(), "time": r.time.to_rfc3339() }
        }),
        Ok(Answer::Duplicate(seq)) => serde_json::json!({ "duplicate": seq }),
        Err(LedgerError::Rule(e)) => serde_json::json!({ "refused": e.reason() }),
        Err(e) => serde_json::json!({ "failed": e.to_string() }),
    }
}
