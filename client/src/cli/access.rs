//! `ebl access-log`: who read what, for the operator and auditors: every signed read the ledger
//! served (reader, RPC, bill or query, time), all of them, one bill's or one party's, oldest
//! first.

use super::output::{shown, Out};
use super::{As, CliResult};
use crate::client::{Client, Servers};
use clap::Args;
use serde_json::json;

/// `ebl access-log` arguments.
#[derive(Args, Debug)]
pub struct AccessArgs {
    /// An auditor, or the operator (`--as operator`).
    #[command(flatten)]
    pub reader: As,
    /// Only the reads of this bill (64-hex id or CARRIER/REFERENCE[/AMENDMENT]).
    #[arg(long, conflicts_with = "by_party")]
    pub bill: Option<String>,
    /// Only the reads by this party.
    #[arg(long = "party", id = "by_party")]
    pub party: Option<String>,
    /// At most this many entries (the oldest first); all of them without it.
    #[arg(long)]
    pub limit: Option<usize>,
}

/// Runs `ebl access-log`, following the pages to the end (or to `--limit`).
pub async fn run(args: AccessArgs, server: &Servers, out: &Out) -> CliResult {
    let reader = args.reader.identity()?;
    let bill_id = match &args.bill {
        Some(b) => super::bill::parse_bill(b)?.0 .0.to_vec(),
        None => Vec::new(),
    };
    let mut c = Client::connect_to(server).await?;
    let mut q = crate::pb::GetAccessLogRequest { bill_id, party: args.party.unwrap_or_default(), ..Default::default() };
    let mut entries = Vec::new();
    loop {
        q.limit = args.limit.map_or(0, |l| (l - entries.len()).min(1000) as u32);
        let page = c.access_log(&reader, q.clone()).await?;
        entries.extend(page.entries);
        if page.next.is_empty() || args.limit.is_some_and(|l| entries.len() >= l) {
            break;
        }
        q.after = page.next;
    }
    let json = entries
        .iter()
        .map(|e| {
            json!({
                "party": e.party,
                "method": e.method,
                "bill_id": hex::encode(&e.bill_id),
                "query": e.query,
                "time": e.time,
            })
        })
        .collect::<Vec<_>>();
    out.emit(json!({ "entries": json }), || {
        let lines: Vec<String> = entries
            .iter()
            .map(|e| {
                let what =
                    if e.bill_id.is_empty() { shown(&e.query) } else { format!("bill {}", hex::encode(&e.bill_id)) };
                format!("{}  {:<16} {:<15} {what}", e.time, shown(&e.party), e.method)
            })
            .collect();
        if lines.is_empty() {
            "no reads logged".into()
        } else {
            lines.join("\n")
        }
    });
    Ok(())
}
