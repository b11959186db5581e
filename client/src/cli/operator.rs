//! `ebl operator ...`: registry records signed by the operator's key. With `--out FILE` the
//! signed record is written to a file instead of sent (sign offline, carry, `ebl submit FILE`);
//! `--position` and `--prev` then name the registry head to extend without asking the server.

use super::error::Usage;
use super::keys::read_public_key;
use super::output::Out;
use super::CliResult;
use crate::client::Servers;
use crate::client::{self, payload, sign, Client, Identity, Link};
use crate::pb::{self, record_payload::Action};
use clap::{Args, Subcommand};
use ebl_core::hash::Hash32;
use ebl_core::time::Timestamp;
use std::path::PathBuf;

/// The operator's signing options.
#[derive(Args, Debug)]
pub struct Signing {
    /// The operator's secret key file.
    #[arg(long, env = "EBL_OPERATOR_SECRET")]
    pub key: PathBuf,
    /// Write the signed record here instead of submitting it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Offline: the registry position to write at (with --prev and --origin).
    #[arg(long, requires = "origin")]
    pub position: Option<u64>,
    /// Offline: hex hash of the registry head being extended (empty at position 0).
    #[arg(long)]
    pub prev: Option<String>,
    /// Offline: the ledger's origin.
    #[arg(long)]
    pub origin: Option<String>,
}

/// Registry commands.
#[derive(Subcommand, Debug)]
pub enum OperatorCmd {
    /// Register a party.
    #[command(
        after_help = "Example:\n  ebl operator register-party --key operator.key --party cq-bank --role BANK --name \"Bank of Chongqing\" --code GLEIF:3003000CQBANK000003:LEI"
    )]
    RegisterParty {
        #[command(flatten)]
        signing: Signing,
        /// Party id (a-z 0-9 . _ -).
        #[arg(long)]
        party: String,
        /// Legal name.
        #[arg(long)]
        name: String,
        /// CARRIER, TRADER, BANK, CUSTOMS or AUDITOR.
        #[arg(long)]
        role: String,
        /// CUSTOMS only: country code or UN/LOCODE covered (repeat).
        #[arg(long)]
        jurisdiction: Vec<String>,
        /// Identifying code PROVIDER:CODE[:LIST], e.g. GLEIF:5493001KJTIIGC8Y1R12:LEI (repeat).
        #[arg(long)]
        code: Vec<String>,
    },
    /// Add a key to a party.
    #[command(
        after_help = "Example:\n  ebl operator add-key --key operator.key --party cq-bank --public-key cq-bank.key.pub"
    )]
    AddKey {
        #[command(flatten)]
        signing: Signing,
        /// Party id.
        #[arg(long)]
        party: String,
        /// Public key: hex or a .pub file.
        #[arg(long)]
        public_key: String,
    },
    /// Revoke a party's key.
    #[command(
        after_help = "Example:\n  ebl operator revoke-key --key operator.key --party cq-bank --public-key cq-bank-2025.key.pub --reason \"laptop lost\""
    )]
    RevokeKey {
        #[command(flatten)]
        signing: Signing,
        /// Party id.
        #[arg(long)]
        party: String,
        /// Public key: hex or a .pub file.
        #[arg(long)]
        public_key: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Register that a principal lets an agent sign title actions on its behalf; the principal
    /// co-signs the record (its key is needed here too).
    #[command(
        after_help = "Example:\n  ebl operator delegate --key operator.key --principal cq-mto --principal-key cq-mto.key --agent sg-agency --actions SACC,SREJ,DELIVER --reference \"agency agreement SG-2026-14\""
    )]
    Delegate {
        #[command(flatten)]
        signing: Signing,
        /// The party that delegates.
        #[arg(long)]
        principal: String,
        /// The principal's secret key file (it co-signs).
        #[arg(long)]
        principal_key: PathBuf,
        /// The party that will sign on its behalf.
        #[arg(long)]
        agent: String,
        /// Action names the agent may sign, comma-separated (e.g. SACC,SREJ), or ALL.
        #[arg(long, value_delimiter = ',')]
        actions: Vec<String>,
        /// The mandate it rests on (power of attorney, agency agreement).
        #[arg(long, default_value = "")]
        reference: String,
    },
    /// End a delegation.
    #[command(
        after_help = "Example:\n  ebl operator revoke-delegation --key operator.key --principal cq-mto --agent sg-agency --reason \"agreement ended\""
    )]
    RevokeDelegation {
        #[command(flatten)]
        signing: Signing,
        /// The party that had delegated.
        #[arg(long)]
        principal: String,
        /// Its agent.
        #[arg(long)]
        agent: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Replace a party's key by another in one record.
    #[command(
        after_help = "Example:\n  ebl operator rotate-key --key operator.key --party cq-bank --old cq-bank-2025.key.pub --new cq-bank-2026.key.pub"
    )]
    RotateKey {
        #[command(flatten)]
        signing: Signing,
        /// Party id.
        #[arg(long)]
        party: String,
        /// Key to revoke.
        #[arg(long)]
        old: String,
        /// Key to add.
        #[arg(long)]
        new: String,
    },
}

fn role(s: &str) -> Result<pb::Role, Usage> {
    pb::Role::from_str_name(&format!("ROLE_{}", s.to_uppercase()))
        .filter(|r| *r != pb::Role::Unspecified)
        .ok_or_else(|| Usage(format!("--role {s}: expected CARRIER, TRADER, BANK, CUSTOMS or AUDITOR")))
}

fn code(s: &str) -> Result<pb::IdentifyingCode, Usage> {
    let mut parts = s.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(p), Some(c), list) if !p.is_empty() && !c.is_empty() => Ok(pb::IdentifyingCode {
            code_list_provider: p.into(),
            party_code: c.into(),
            code_list_name: list.unwrap_or_default().into(),
        }),
        _ => Err(Usage(format!("--code {s}: expected PROVIDER:CODE[:LIST]"))),
    }
}

/// Runs an operator command.
pub async fn run(cmd: OperatorCmd, server: &Servers, out: &Out) -> CliResult {
    let key = |s: &str| -> Result<Vec<u8>, Box<dyn std::error::Error>> { Ok(read_public_key(s)?.0.to_vec()) };
    let mut cosigners = vec![];
    let (signing, action) = match cmd {
        OperatorCmd::Delegate { signing, principal, principal_key, agent, actions, reference } => {
            let party = ebl_core::ids::PartyId::parse("--principal", &principal)?;
            cosigners.push(Identity { party, key: super::keys::load(&principal_key)? });
            let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
            (signing, client::delegate(&principal, &agent, &actions, &reference))
        }
        OperatorCmd::RevokeDelegation { signing, principal, agent, reason } => {
            (signing, client::revoke_delegation(&principal, &agent, &reason))
        }
        OperatorCmd::RegisterParty { signing, party, name, role: r, jurisdiction, code: codes } => {
            let codes = codes.iter().map(|c| code(c)).collect::<Result<_, _>>()?;
            let j: Vec<&str> = jurisdiction.iter().map(String::as_str).collect();
            (signing, client::register_party(&party, &name, role(&r)?, &j, codes))
        }
        OperatorCmd::AddKey { signing, party, public_key } => (signing, client::add_key(&party, key(&public_key)?)),
        OperatorCmd::RevokeKey { signing, party, public_key, reason } => {
            (signing, Action::RevokeKey(pb::RevokeKey { party, public_key: key(&public_key)?, reason }))
        }
        OperatorCmd::RotateKey { signing, party, old, new } => (
            signing,
            Action::RotateKey(pb::RotateKey { party, old_public_key: key(&old)?, new_public_key: key(&new)? }),
        ),
    };
    let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: super::keys::load(&signing.key)? };
    let offline = signing.position.map(|position| {
        let prev = signing
            .prev
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| Hash32::from_hex(p).ok_or(Usage("--prev: 64 hex characters".into())))
            .transpose();
        prev.map(|prev| (Link { position, prev }, signing.origin.clone().unwrap_or_default()))
    });
    let (link, origin, mut conn) = match offline {
        Some(o) => {
            let (link, origin) = o?;
            (link, origin, None)
        }
        None => {
            let mut c = Client::connect_to(server).await?;
            let link = c.registry_link().await?;
            (link, c.origin().to_string(), Some(c))
        }
    };
    let signers: Vec<&Identity> = std::iter::once(&operator).chain(&cosigners).collect();
    let rec = sign(&payload(&origin, None, link, ebl_core::ids::OPERATOR, None, Timestamp::now(), action), &signers);
    if let Some(path) = signing.out {
        std::fs::write(&path, prost::Message::encode_to_vec(&rec)).map_err(|e| format!("{}: {e}", path.display()))?;
        out.line(&format!("signed registry record written to {}", path.display()));
        return Ok(());
    }
    let mut c = match conn.take() {
        Some(c) => c,
        None => Client::connect_to(server).await?,
    };
    out.receipt(&c.submit(rec).await?);
    Ok(())
}
