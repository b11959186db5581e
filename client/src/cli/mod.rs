//! The `ebl` command-line client: keys, operator (registry) records, bill actions, reads, log
//! exports, and the log's watchers: `ebl witness` (a C2SP witness) and `ebl monitor`.
//! Readable output by default, `--json` for scripts; every failure has an exit status by its
//! class ([`error`]), and with `--json` is one JSON object on standard error.

pub mod access;
pub mod bill;
pub mod bundle;
pub mod cluster;
pub mod config;
pub mod container;
pub mod custody;
pub mod directory;
pub mod error;
pub mod events;
pub mod keys;
pub mod log;
pub mod monitor;
pub mod operator;
pub mod output;
pub mod route;
pub mod shapes;
pub mod show;
pub mod verify;
pub mod witness;

use crate::client::{Client, Identity, Servers};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Result type of CLI commands.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The eBL ledger command-line client.
#[derive(Parser, Debug)]
#[command(name = "ebl", version, about = "Command-line client of the eBL ledger")]
pub struct Cli {
    /// Ledger server URL: http://HOST:PORT (plaintext) or https://HOST:PORT (TLS). Several
    /// servers of one ledger, separated by commas, are tried in order, and each call fails over
    /// to the next when one cannot be reached or is unavailable.
    #[arg(
        long,
        env = "EBL_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true,
        value_delimiter = ',',
        value_name = "URL[,URL...]",
        value_parser = server_url
    )]
    pub server: Vec<String>,
    /// For an https:// server: the CA bundle (PEM) to trust instead of the system's roots.
    #[arg(long, env = "EBL_CA", global = true)]
    pub ca: Option<std::path::PathBuf>,
    /// For a server that requires mutual TLS: this client's certificate (PEM), naming its party.
    #[arg(long, env = "EBL_CLIENT_CERT", global = true, requires = "client_key")]
    pub client_cert: Option<std::path::PathBuf>,
    /// The client certificate's key (PEM): not the party's signing key.
    #[arg(long, env = "EBL_CLIENT_KEY", global = true, requires = "client_cert")]
    pub client_key: Option<std::path::PathBuf>,
    /// The environment variable holding the passphrase of encrypted secret key files: `keygen`
    /// encrypts the new key with it, every command that reads an encrypted key decrypts with it.
    #[arg(long, env = "EBL_PASSPHRASE_ENV", global = true, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Print JSON instead of readable text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The configuration file (TOML, with profiles: docs/operations.md, "Configuration");
    /// without it, `$XDG_CONFIG_HOME/ebl/config.toml` (or `~/.config/ebl/config.toml`) if any.
    #[arg(long, env = "EBL_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The configuration file's profile to use (server, CA, party, key file), instead of the
    /// one the file names.
    #[arg(long, env = "EBL_PROFILE", global = true)]
    pub profile: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// One URL of `--server`: of one of the two schemes (a usage error otherwise, before any
/// connection is tried).
fn server_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    match s.starts_with("http://") || s.starts_with("https://") {
        true => Ok(s.to_string()),
        false => {
            Err("expected http://HOST:PORT (plaintext) or https://HOST:PORT (TLS), several separated by commas".into())
        }
    }
}

/// Who acts: a party id and its secret key file.
#[derive(Args, Debug, Clone)]
pub struct As {
    /// The party that signs.
    #[arg(long = "as", env = "EBL_PARTY")]
    pub party: String,
    /// Its secret key file.
    #[arg(long, env = "EBL_KEY")]
    pub key: PathBuf,
}

impl As {
    /// Loads the identity.
    pub fn identity(&self) -> Result<Identity, Box<dyn std::error::Error>> {
        let party = ebl_core::ids::PartyId::parse("--as", &self.party)?;
        Ok(Identity { party, key: keys::load(&self.key)? })
    }
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a key pair: FILE, the secret key (PKCS#8 PEM, mode 0600; encrypted with
    /// --passphrase-env VAR), and FILE.pub, the public key (SPKI PEM).
    #[command(
        after_help = "Example:\n  ebl keygen --out cq-bank.key\nEncrypted, the passphrase in $EBL_KEY_PASS (and so for every command reading the key):\n  ebl keygen --passphrase-env EBL_KEY_PASS --out cq-bank.key"
    )]
    Keygen {
        /// Secret key file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// The ledger's public facts (origin, keys, log size).
    #[command(after_help = "Example:\n  ebl --server https://ledger.example:50051 --ca ca.pem info")]
    Info,
    /// Registry records, signed by the operator.
    #[command(subcommand)]
    Operator(operator::OperatorCmd),
    /// A cluster of ledger nodes: `ebl cluster status` (docs/replication.md).
    #[command(subcommand)]
    Cluster(cluster::ClusterCmd),
    /// Ask the ledger to audit itself (auditors and the operator): every record re-verified and
    /// replayed, everything stored compared, the tree checked against the latest checkpoint.
    /// Exits non-zero if it finds a fault.
    #[command(after_help = "Example:\n  ebl audit --as auditor --key auditor.key")]
    Audit {
        #[command(flatten)]
        reader: As,
    },
    /// Who read what: the signed reads the ledger served (auditors and the operator).
    #[command(
        name = "access-log",
        after_help = "Example:\n  ebl access-log --as auditor --key auditor.key --bill cq-mto/CQ-SIN-0001"
    )]
    AccessLog(access::AccessArgs),
    /// An online backup of the running ledger into a new folder on its machine (database, key,
    /// latest checkpoint), asked for by the operator. Restore it with `ebld restore`.
    #[command(after_help = "Example:\n  ebl backup --key operator.key --to /var/backups/ebl/2026-03-04")]
    Backup {
        /// The operator's secret key file.
        #[arg(long, env = "EBL_OPERATOR_SECRET")]
        key: PathBuf,
        /// The new folder, an absolute path on the ledger's machine.
        #[arg(long)]
        to: String,
    },
    /// Bill actions and reads.
    #[command(subcommand)]
    Bill(bill::BillCmd),
    /// The goods: departures, arrivals, handoffs, delivery, customs holds, re-routing.
    #[command(subcommand)]
    Custody(custody::CustodyCmd),
    /// Verify who holds title to a bill (the ledger rehashes and replays its chain, and signs a
    /// title statement bound to its latest checkpoint).
    #[command(
        after_help = "Example:\n  ebl title --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187 --statement title.note"
    )]
    Title {
        /// Reader.
        #[command(flatten)]
        reader: As,
        /// Bill: 64-hex id, or CARRIER/REFERENCE[/AMENDMENT].
        #[arg(long)]
        bill: String,
        /// Write the signed title statement (a signed note) to this file, after checking it
        /// with the ledger's verifier key.
        #[arg(long)]
        statement: Option<PathBuf>,
    },
    /// Fetch a bill's proof bundle (a self-contained copy for offline checks) into a file.
    #[command(
        after_help = "Example:\n  ebl bundle --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187 --out bill.bundle.json"
    )]
    Bundle {
        /// Reader (a party that may see the bill).
        #[command(flatten)]
        reader: As,
        /// Bill: 64-hex id, or CARRIER/REFERENCE[/AMENDMENT].
        #[arg(long)]
        bill: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a bank's evidence offline (no server): a proof bundle (every signature, proof,
    /// chain, key and rule), a signed title statement, or a record's tlog-proof, against the
    /// ledger's log key. Exits 3 if any check fails.
    #[command(after_help = "Example:\n  ebl verify bill.bundle.json --log-key ledger.vkey --max-age 3600")]
    Verify {
        /// The file: a bundle (`ebl bundle`), a title statement (`ebl title --statement`) or a
        /// tlog-proof (`ebl log proof`); which, is told by its first bytes.
        file: PathBuf,
        /// Read the file as this kind instead of telling it from its first bytes.
        #[arg(long, value_enum)]
        kind: Option<verify::Kind>,
        /// The ledger's log verifier key (`origin+keyid+base64`, from `ebl log key`), or a file
        /// holding it.
        #[arg(long)]
        log_key: String,
        /// Fail if the title statement is older than this many seconds (bundle, statement).
        #[arg(long)]
        max_age: Option<u64>,
        /// Fail unless the evidence is about this bill: 64-hex id, or CARRIER/REFERENCE[/AMENDMENT]
        /// (bundle, statement).
        #[arg(long)]
        bill: Option<String>,
        /// Fail unless the proof is for this record hash, 64 hex (tlog-proof).
        #[arg(long)]
        record: Option<String>,
        /// A witness's verifier key (cosignature form, from `ebl witness key`); repeat.
        #[arg(long = "witness-key")]
        witness_keys: Vec<String>,
        /// Require at least this many of the given witnesses to have cosigned the checkpoint
        /// (bundle, tlog-proof).
        #[arg(long, default_value_t = 0)]
        min_witnesses: usize,
    },
    /// Find the bills you may see that name a container, a party or a place.
    #[command(after_help = "Example:\n  ebl find --as sg-customs --key sg-customs.key --container CQLU4518208")]
    Find {
        /// Reader.
        #[command(flatten)]
        reader: As,
        /// A container number.
        #[arg(long, group = "by")]
        container: Option<String>,
        /// A party id.
        #[arg(long = "party", id = "named_party", group = "by")]
        party: Option<String>,
        /// A UN/LOCODE.
        #[arg(long, group = "by")]
        place: Option<String>,
    },
    /// Customs' view of one container: every bill you may see that names it, and every custody
    /// event touching it across legs and bills, in log order.
    #[command(after_help = "Example:\n  ebl container CQLU4518208 --as sg-customs --key sg-customs.key")]
    Container(container::ContainerArgs),
    /// List the registry records.
    #[command(after_help = "Example:\n  ebl registry --as cq-bank --key cq-bank.key")]
    Registry {
        /// Reader.
        #[command(flatten)]
        reader: As,
    },
    /// The transparency log's exports: verifier key, checkpoint, tlog-proof.
    #[command(subcommand)]
    Log(log::LogCmd),
    /// Run a C2SP witness (POST /add-checkpoint), or print its verifier key (`ebl witness key`).
    #[command(
        after_help = "Example:\n  ebl witness --listen 127.0.0.1:7380 --key w1.key --name witness.example/w1 --log \"$(ebl log key)\" --state-dir w1",
        mut_subcommand("key", |key| key.after_help("Example:\n  ebl witness key --key w1.key --name witness.example/w1"))
    )]
    Witness(witness::WitnessArgs),
    /// Follow the ledger's checkpoints: verify each, and check it is consistent with the last seen.
    #[command(after_help = "Example:\n  ebl monitor --log-key \"$(ebl log key)\" --state monitor.state --interval 60")]
    Monitor(monitor::MonitorArgs),
    /// Submit a signed record file (from `--out` of another command).
    #[command(after_help = "Example:\n  ebl submit add-key.rec")]
    Submit {
        /// The file.
        file: PathBuf,
    },
    /// The configuration file: the profile in use, or make another the default.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Measure a ledger under load, from this separate process: starts `ebld` on a new data
    /// folder, drives signed records into it through SubmitBatch and Submit, and reports durable
    /// records a second, latency, the server's CPU time per record, disk, memory and restart
    /// time, beside this machine's own limits measured in the same run (docs/performance.md).
    #[command(after_help = "Example:\n  ebl bench --records 20000 --runs 3 --json-out bench.json")]
    Bench(crate::bench::BenchArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:\n  ebl completion bash > ~/.local/share/bash-completion/completions/ebl")]
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Parses the command line, runs it, and reports how it ended: the exit status of its class
/// ([`error`]) and, on failure, one line on standard error (one JSON object with `--json`).
pub async fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = args.iter().any(|a| a == "--json");
    let cmd = match config::configured(Cli::command(), &args) {
        Ok(cmd) => cmd,
        Err(e) => return report(&error::Failure::usage(&e.to_string()), json),
    };
    let cli = match cmd.try_get_matches_from(&args).and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        // Help and version, and usage errors without --json, as clap says them (status 2).
        Err(e) if !e.use_stderr() || !std::env::args_os().any(|a| a == "--json") => e.exit(),
        Err(e) => {
            let text = e.render().to_string();
            let first = text.split("\n\n").next().unwrap_or_default();
            let why = first.trim().trim_start_matches("error: ");
            return report(&error::Failure::usage(why), true);
        }
    };
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if error::reader_gone(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => report(&as_typed(error::Failure::of(e.as_ref()), &args), json),
    }
}

/// `f` naming the bill as the user typed it (`--bill cq-mto/REF`) where the ledger named only
/// its id, the hash derived from it.
fn as_typed(mut f: error::Failure, args: &[std::ffi::OsString]) -> error::Failure {
    let typed = args.iter().position(|a| a == "--bill").and_then(|i| args.get(i + 1)).and_then(|b| b.to_str());
    let Some(typed) = typed.filter(|b| b.contains('/')) else { return f };
    if let Ok(id) = bill::parse_bill(typed) {
        let hex = id.0.to_hex();
        if f.message.contains(&hex) {
            f.message = f.message.replacen(&hex, &format!("{typed} ({hex})"), 1);
        }
    }
    f
}

/// Writes `f` on standard error (cleaned for a terminal, or as JSON) and gives its exit status.
fn report(f: &error::Failure, json: bool) -> ExitCode {
    let line = if json { f.json().to_string() } else { format!("ebl: {}", output::clean(&f.text())) };
    // Nothing is left to tell if standard error is gone too.
    let _ = writeln!(std::io::stderr(), "{line}");
    ExitCode::from(f.class.exit())
}

/// Runs the CLI; a failure to write its output is an error too (see [`error::reader_gone`]).
pub async fn run(cli: Cli) -> CliResult {
    let out = output::Out::new(cli.json);
    if let Some(var) = cli.passphrase_env.clone() {
        keys::set_passphrase_env(var);
    }
    dispatch(cli, &out).await?;
    Ok(out.check()?)
}

async fn dispatch(cli: Cli, out: &output::Out) -> CliResult {
    let server = Servers { ca: cli.ca, identity: cli.client_cert.zip(cli.client_key), ..Servers::new(cli.server) };
    match cli.command {
        Command::Keygen { out: path } => {
            let passphrase = keys::passphrase()?;
            let public = keys::keygen_with(&path, passphrase.as_deref().map(Vec::as_slice))?;
            out.keygen(&path, &keys::pub_path(&path), &public, passphrase.is_some());
            Ok(())
        }
        Command::Info => {
            let c = Client::connect_to(&server).await?;
            out.info(&c.info);
            Ok(())
        }
        Command::Operator(cmd) => operator::run(cmd, &server, out).await,
        Command::Cluster(cmd) => cluster::run(cmd, &server, out).await,
        Command::Audit { reader } => {
            let mut c = Client::connect_to(&server).await?;
            let r = c.audit(&reader.identity()?).await?;
            if !r.clean {
                let fault = format!("the audit found a fault in {}: {}", r.fault_part, r.fault);
                return Err(error::CheckFailed(fault).into());
            }
            out.line(&format!(
                "clean: {} records re-verified and replayed, {} stored keys compared, the tree extends checkpoint {}",
                r.records, r.keys, r.checkpoint_size
            ));
            Ok(())
        }
        Command::Backup { key, to } => {
            let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: keys::load(&key)? };
            let mut c = Client::connect_to(&server).await?;
            let done = c.backup(&operator, &to).await?;
            out.line(&format!(
                "backed up {} records (checkpoint {}) to {to} on the ledger's machine",
                done.size, done.checkpoint_size
            ));
            Ok(())
        }
        Command::Bill(cmd) => bill::run(cmd, &server, out).await,
        Command::AccessLog(args) => access::run(args, &server, out).await,
        Command::Custody(cmd) => custody::run(cmd, &server, out).await,
        Command::Log(cmd) => log::run(cmd, &server, out).await,
        Command::Witness(args) => witness::run(args, out).await,
        Command::Monitor(args) => monitor::run(args, &server, out).await,
        Command::Title { reader, bill, statement } => {
            let mut c = Client::connect_to(&server).await?;
            let (id, reader) = (bill::parse_bill(&bill)?, reader.identity()?);
            let view = c.verify_title(&reader, id).await?;
            // The statement is checked whenever there is one: a bank reads what it says.
            let stated = match view.statement.is_empty() {
                true => None,
                false => {
                    let note = ebl_core::log::SignedNote::parse(&view.statement)
                        .map_err(|e| error::CheckFailed(format!("the ledger's statement: {e}")))?;
                    let st = ebl_core::statement::TitleStatement::open(&note, &c.verifier_key()?)
                        .map_err(|e| error::CheckFailed(format!("the ledger's statement: {e}")))?;
                    Some(st)
                }
            };
            if let Some(file) = statement {
                bundle::write_statement(&view, &file)?;
            }
            let dir = directory::Directory::from_stored(&c.registry(&reader, 0).await?);
            out.title(&view, stated.as_ref(), &dir);
            Ok(())
        }
        Command::Find { reader, container, party, place } => {
            if let Some(n) = &container {
                custody::container_number("--container", n)?;
            }
            if let Some(p) = place.as_deref().filter(|p| !ebl_core::document::is_locode(p)) {
                return Err(error::usage(format!("--place {p}: expected a UN/LOCODE, e.g. SGSIN")));
            }
            let mut c = Client::connect_to(&server).await?;
            let q = crate::pb::FindBillsRequest {
                container: container.unwrap_or_default(),
                party: party.unwrap_or_default(),
                locode: place.unwrap_or_default(),
                ..Default::default()
            };
            let bills = c.find_all_bills(&reader.identity()?, q).await?;
            out.bill_list(&crate::pb::BillList { bills, next: vec![] });
            Ok(())
        }
        Command::Container(args) => container::run(args, &server, out).await,
        Command::Bundle { reader, bill, out: file } => bundle::fetch(&server, &reader, &bill, &file, out).await,
        Command::Verify { file, kind, log_key, max_age, bill, record, witness_keys, min_witnesses } => {
            let against = verify::Against { log_key, witness_keys, min_witnesses, max_age, bill, record };
            verify::run(&file, kind, &against, out)
        }
        Command::Registry { reader } => {
            let mut c = Client::connect_to(&server).await?;
            let records = c.registry(&reader.identity()?, 0).await?;
            out.registry(&records, &directory::Directory::from_stored(&records));
            Ok(())
        }
        Command::Config(cmd) => config::run(cmd, &server, out),
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Completion { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ebl", &mut script);
            let script = String::from_utf8_lossy(&script);
            out.exact(serde_json::json!({"shell": shell.to_string(), "script": script}), &script);
            Ok(())
        }
        Command::Submit { file } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let rec = <crate::pb::SignedRecord as prost::Message>::decode(bytes.as_slice())?;
            let mut c = Client::connect_to(&server).await?;
            out.receipt(&c.submit(rec).await?);
            Ok(())
        }
    }
}

/// Sets up structured logging on standard error (`RUST_LOG` filters, default `info`) in `format`
/// (`text` or `json`).
pub fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colour codes only for a person at a terminal, never into a file or a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};

    /// The words of an example as a shell would pass them: double quotes group, and a
    /// redirection or a comment ends the command.
    fn words(example: &str) -> Vec<String> {
        let (mut words, mut word, mut quoted, mut any) = (vec![], String::new(), false, false);
        for ch in example.chars() {
            match ch {
                '"' => (quoted, any) = (!quoted, true),
                ' ' if !quoted => {
                    if any {
                        words.push(std::mem::take(&mut word));
                    }
                    any = false;
                }
                '>' | '|' | '#' if !quoted && !any => break,
                c => (word, any) = (word + &c.to_string(), true),
            }
        }
        if any {
            words.push(word);
        }
        words
    }

    /// Every command that runs (a leaf, or one whose subcommand is optional), by its path.
    fn runnable(cmd: &clap::Command, path: Vec<String>, found: &mut Vec<(Vec<String>, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = [path.clone(), vec![sub.get_name().to_string()]].concat();
            if !sub.has_subcommands() || !sub.is_subcommand_required_set() {
                found.push((path.clone(), sub.clone()));
            }
            runnable(sub, path, found);
        }
    }

    #[test]
    fn every_command_has_an_example_in_its_help_and_the_example_parses() {
        let mut found = vec![];
        runnable(&Cli::command(), vec![], &mut found);
        assert!(found.len() > 40, "{} commands", found.len());
        for (path, cmd) in found {
            let name = path.join(" ");
            let help = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            let example = help.split_once("Example:\n  ").map(|(_, e)| e.lines().next().unwrap_or_default());
            let Some(example) = example else { panic!("`ebl {name}` has no \"Example:\" in its --help") };
            let words = words(example);
            let matches = match Cli::command().try_get_matches_from(&words) {
                Ok(m) => m,
                Err(e) => panic!("`ebl {name}`'s example does not parse: {example}\n{e}"),
            };
            let mut ran = vec![];
            let mut next = matches.subcommand();
            while let Some((sub, m)) = next {
                ran.push(sub.to_string());
                next = m.subcommand();
            }
            assert_eq!(ran, path, "`ebl {name}`'s example runs another command: {example}");
            assert!(Cli::try_parse_from(&words).is_ok(), "{example}");
        }
    }

    #[test]
    fn several_servers_are_one_flag_separated_by_commas_each_with_a_scheme() {
        let cli = Cli::try_parse_from(["ebl", "--server", "http://a.example:1, https://b.example:2", "info"]).unwrap();
        assert_eq!(cli.server, ["http://a.example:1", "https://b.example:2"]);
        let e = Cli::try_parse_from(["ebl", "--server", "http://a.example:1,b.example:2", "info"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("several separated by commas"), "{e}");
    }

    #[test]
    fn a_server_url_without_a_scheme_is_a_usage_error() {
        let e = Cli::try_parse_from(["ebl", "--server", "127.0.0.1:50051", "info"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("expected http://HOST:PORT"), "{e}");
    }
}
