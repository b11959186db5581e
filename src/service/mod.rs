//! The transport-neutral service between the front doors (today gRPC, [`crate::api`]) and the
//! store: who is reading (signed reads, [`auth`], with the replay guard), what a reader may see
//! ([`visible`]), the order-free checks of arriving records ([`check`]), work in flight per party
//! ([`gate`]), and the read operations, each taking an authenticated reader and returning domain
//! types: a bill, its history, its title replayed ([`title`]), a page of bills found ([`find`]),
//! a handoff check. A front door decodes its request, calls one of these and encodes the answer;
//! a later HTTP door or PINT endpoint reuses them without touching the store.
//! Every function here blocks: async callers run them on the blocking pool ([`blocking`]).

pub mod access;
pub mod auth;
pub mod check;
pub mod find;
pub mod gate;
pub mod replay;
pub mod title;
pub mod visible;

use crate::error::LedgerError;
use crate::store::entry::StoredEntry;
use crate::store::Store;
use crate::writer::WriterHandle;
use auth::Reader;
pub use check::{check_record, check_record_with};
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::custody_check::{Asked, GoodsCheck};
use ebl_core::ids::ChainId;
use ebl_core::sig::PublicKey;
use replay::ReplayCache;
use std::sync::Arc;

/// Largest record payload accepted (bytes): a transport document plus its record.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
pub use crate::wire::MAX_MESSAGE_BYTES;
/// Most bills one FindBills answer lists.
pub const MAX_FOUND: usize = 1000;
/// Most records in one SubmitBatch call.
pub const MAX_BATCH_RECORDS: usize = 256;

/// What every front door shares.
pub struct Shared {
    /// The database.
    pub store: Arc<Store>,
    /// The single writer.
    pub writer: WriterHandle,
    /// The ledger's origin.
    pub origin: String,
    /// The operator's public key.
    pub operator: PublicKey,
    /// The ledger's own public key.
    pub ledger_key: PublicKey,
    /// Nonces of recent signed reads.
    pub replay: ReplayCache,
    /// The latest signed checkpoint and the signer's refusal, if any.
    pub log: Arc<crate::checkpoint::LogState>,
    /// Whether the ledger may write now (the disk reserve, the log's halt).
    pub hold: crate::hold::WriteHold,
    /// The ledger's checkpoint verifier key, signed-note format.
    pub verifier_key: String,
    /// Signs title statements with the ledger key.
    pub statements: crate::checkpoint::statement::StatementSigner,
    /// The ledger's own secret key (a backup carries it, like the data folder).
    pub ledger_secret: ed25519_dalek::SigningKey,
    /// Held while an audit runs (one at a time).
    pub auditing: std::sync::Mutex<()>,
    /// Records and reads in flight per party.
    pub gate: gate::Gate,
    /// What the operator's metrics count.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// When this process began serving.
    pub started: std::time::SystemTime,
    /// This node of a cluster (`None`: the single-process ledger).
    pub cluster: Option<Arc<crate::raft::node::Cluster>>,
}

/// Runs blocking work (the store, signature checks) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, LedgerError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| LedgerError::Internal(format!("blocking task failed: {e}")))?
}

/// Refuses while the log has halted: nothing the tree proves then can be trusted to verify
/// against what the log published (FAILED_PRECONDITION with the halting reason).
pub fn intact(shared: &Shared) -> Result<(), LedgerError> {
    match shared.log.halted() {
        None => Ok(()),
        Some(h) => Err(LedgerError::Halted {
            reason: h.reason,
            why: format!(
                "{}: the ledger serves no proof, statement or bundle until its operator recovers it",
                h.message
            ),
        }),
    }
}

/// A bill as its reader may see it.
#[derive(Debug, Clone)]
pub struct BillRead {
    /// Its title state.
    pub state: BillState,
    /// Its custody state (route, containers, holds), if it has a route.
    pub custody: Option<CustodyState>,
    /// Its transport document, as issued.
    pub document: Vec<u8>,
}

/// Bill `bill_id` (32 bytes) with its custody and document, if `reader` may see it; any other
/// is NOT_FOUND, exactly like a missing bill.
pub fn bill(shared: &Shared, reader: &Reader, bill_id: &[u8]) -> Result<BillRead, LedgerError> {
    let (state, custody) = visible::visible_bill(shared, reader, bill_id)?;
    let document = document_of(shared, &state)?;
    Ok(BillRead { state, custody, document })
}

/// The records of bill `bill_id`'s title chain (or custody chain), in chain order, each as
/// stored (payload and signatures as received, with its receipt), if `reader` may see the bill.
pub fn history(
    shared: &Shared,
    reader: &Reader,
    bill_id: &[u8],
    custody: bool,
) -> Result<Vec<StoredEntry>, LedgerError> {
    let (bill, _) = visible::visible_bill(shared, reader, bill_id)?;
    let chain = if custody { ChainId::Custody(bill.id) } else { ChainId::Title(bill.id) };
    records_of(shared, &chain, 0)
}

/// The registry chain's records from `from` on (every reader may read the registry).
pub fn registry(shared: &Shared, from: u64) -> Result<Vec<StoredEntry>, LedgerError> {
    records_of(shared, &ChainId::Registry, from)
}

/// Bill `bill_id` replayed from its records and compared with its stored state, with the heads
/// a title statement names, if `reader` may see it.
pub fn title(shared: &Shared, reader: &Reader, bill_id: &[u8]) -> Result<title::Snapshot, LedgerError> {
    let (bill, _) = visible::visible_bill(shared, reader, bill_id)?;
    title::snapshot(shared, &bill.id)
}

/// Whether the goods of bill `bill_id` asked about may be handed over (or delivered, at the end
/// of the last leg): the bill and its custody, and where the check was made and every reason
/// they may not move on, if `reader` may see the bill.
pub fn handoff(
    shared: &Shared,
    reader: &Reader,
    bill_id: &[u8],
    asked: Asked,
) -> Result<(BillState, CustodyState, GoodsCheck), LedgerError> {
    let (bill, custody) = visible::visible_bill(shared, reader, bill_id)?;
    let custody = custody.ok_or_else(ebl_core::custody_rules::no_route)?;
    let check = ebl_core::custody_check::check(&custody, &bill, asked);
    Ok((bill, custody, check))
}

/// The transport document of a bill, as issued (kept beside its ISSUE record).
pub fn document_of(shared: &Shared, bill: &BillState) -> Result<Vec<u8>, LedgerError> {
    shared.store.document(&bill.id)?.ok_or_else(|| LedgerError::Internal(format!("bill {} has no document", bill.id)))
}

fn records_of(shared: &Shared, chain: &ChainId, from: u64) -> Result<Vec<StoredEntry>, LedgerError> {
    shared
        .store
        .chain_seqs(chain, from)?
        .into_iter()
        .map(|s| shared.store.record(s)?.ok_or_else(|| LedgerError::Internal(format!("record {s} missing"))))
        .collect()
}
