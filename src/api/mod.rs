//! The gRPC front door `ebl.v1.Ledger`: each handler decodes its request (via
//! [`crate::wire`]), calls the transport-neutral [`crate::service`] (checks of arriving records
//! in parallel on the blocking pool, signed reads, the read operations) or hands checked records
//! to the single writer, and encodes the answer; [`status`] is the one place errors become
//! statuses.

pub mod cluster;
pub mod log;
pub mod status;
mod stream;
mod subject;
mod submit;

pub use crate::service::{
    auth, check, check_record, find, gate, replay, title, visible, Shared, MAX_BATCH_RECORDS, MAX_FOUND,
    MAX_MESSAGE_BYTES, MAX_PAYLOAD_BYTES,
};

use crate::error::LedgerError;
use crate::net::tls::Peer;
use crate::pb::{self, ledger_server::Ledger};
use crate::service::{self, blocking};
use crate::store::entry::StoredEntry;
use crate::store::Store;
use crate::wire::{decode_canonical, hash32, views::bill_view};
use crate::writer::Answer;
use auth::{authenticate, Reader};
use ebl_core::apply::Checked;
use ebl_core::custody_check::Asked;
use ebl_core::ids::BillId;
use ebl_core::ids::PartyId;
use ebl_core::time::Timestamp;
use ebl_core::RuleError;
use futures::Stream;
use gate::Work;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The `ebl.v1.Ledger` service.
#[derive(Clone)]
pub struct LedgerService {
    shared: Arc<Shared>,
}

type RecordStream = Pin<Box<dyn Stream<Item = Result<pb::StoredRecord, Status>> + Send>>;

/// The party whose share of the writer's queue a record uses: its first signer (the actor, or
/// the agent signing for it).
/// Who the connection's TLS client certificate names ([`Peer::Anyone`] without mutual TLS).
fn peer<T>(req: &Request<T>) -> Peer {
    req.extensions().get::<crate::net::ConnInfo>().map_or(Peer::Anyone, |c| c.peer.clone())
}

/// Refuses a read signed, or a record acted, by another party than the connection's client
/// certificate names (mutual TLS): PERMISSION_DENIED, before anything is looked up.
fn bound(peer: &Peer, party: &PartyId) -> Result<(), RuleError> {
    let why = match peer {
        Peer::Anyone => return Ok(()),
        Peer::Party(p) if p == party.as_str() => return Ok(()),
        Peer::Party(p) => format!("this connection's TLS client certificate is party {p}'s, not {party}'s"),
        Peer::Unnamed => format!(
            "this connection's TLS client certificate names no party (one SAN URI {}<party id>)",
            crate::net::tls::PARTY_URI
        ),
    };
    Err(RuleError::Forbidden { reason: "CERTIFICATE_PARTY", why })
}

fn signer(rec: &Checked) -> &PartyId {
    &rec.signatures.first().expect("prepare requires at least one signer").party
}

impl LedgerService {
    /// A service over shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        LedgerService { shared }
    }

    /// One record through the checks, the party's share of the queue and the writer.
    async fn submit_one(&self, req: Request<pb::SignedRecord>) -> Result<Answer, LedgerError> {
        let peer = peer(&req);
        let rec = req.into_inner();
        let again = self.shared.cluster.is_some().then(|| rec.clone());
        let mut checked = self.check_one(rec, peer.clone()).await;
        if let Some(rec) = again.filter(|_| checked.is_err()) {
            if cluster::recheck(&self.shared, &checked).await? {
                checked = self.check_one(rec, peer).await;
            }
        }
        let checked = checked?;
        let _pass = self.shared.gate.enter(signer(&checked), Work::Records, 1)?;
        self.shared.writer.submit(checked).await
    }

    /// A record's checks before the writer.
    async fn check_one(&self, rec: pb::SignedRecord, peer: Peer) -> Result<Checked, LedgerError> {
        let shared = self.shared.clone();
        blocking(move || {
            let rec = check::arrive(rec, &shared.origin)?;
            bound(&peer, &rec.payload.actor)?;
            check::admit(&shared.store, &shared.operator, rec, &HashSet::new())
        })
        .await
    }

    async fn read<T: Send + 'static>(
        &self,
        req: Request<pb::SignedRead>,
        method: &'static str,
        f: impl FnOnce(&Shared, Reader, Vec<u8>) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, Status> {
        cluster::before_read(&self.shared, &req).await?;
        let shared = self.shared.clone();
        let peer = peer(&req);
        let req = req.into_inner();
        let result = blocking(move || {
            let (reader, request) =
                authenticate(&shared.store, &shared.origin, &shared.operator, &shared.replay, &req, method)?;
            let party = reader.party();
            bound(&peer, &party)?;
            let _pass = shared.gate.enter(&party, Work::Reads, 1)?;
            let name = method.rsplit('/').next().unwrap_or(method);
            let (bill, query) = subject::subject(name, &request);
            let answer = f(&shared, reader, request)?;
            service::access::record(&shared, &party, name, bill, query);
            Ok(answer)
        })
        .await;
        if let Err(e) = &result {
            self.shared.metrics.read_refused(e);
        }
        Ok(result?)
    }
}

/// The receipt for the writer's answer: a new one, or the original receipt of a record accepted
/// before, marked `duplicate` (read from the store, where it is by the time the writer answers).
async fn receipt(shared: &Arc<Shared>, answer: Answer) -> Result<pb::Receipt, LedgerError> {
    match answer {
        Answer::Accepted(info) => Ok(info.to_pb(false)),
        Answer::Duplicate(seq) => {
            let shared = shared.clone();
            blocking(move || {
                let stored = shared.store.record(seq)?;
                let stored =
                    stored.ok_or_else(|| LedgerError::Internal(format!("record {seq} indexed but missing")))?;
                Ok(stored.receipt.to_pb(true))
            })
            .await
        }
    }
}

/// Audits an online backup taken now against the latest checkpoint signed before it (blocking).
fn audit_online(s: &Shared) -> Result<pb::AuditReport, LedgerError> {
    let published: Vec<_> = s.log.latest().iter().map(|c| (**c).clone()).collect();
    let scratch = crate::audit::scratch_folder();
    let snapshot = scratch.join("snapshot");
    let result = (|| {
        std::fs::create_dir_all(&scratch)
            .map_err(|e| LedgerError::Unavailable(format!("audit scratch folder: {e}")))?;
        s.store.backup(&snapshot)?;
        let store = Store::open_read_only(&snapshot)?;
        Ok::<_, LedgerError>(crate::audit::audit(&store, &published, &scratch.join("replay")))
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    let (clean, records, keys, checkpoint_size, fault_part, fault) = match result? {
        Ok(a) => (true, a.records, a.keys, a.checkpoint, String::new(), String::new()),
        Err(f) => {
            tracing::error!(fault = %f, detail = f.detail.as_deref().unwrap_or(""), "the audit found a fault");
            (false, 0, 0, 0, f.part.to_string(), f.what)
        }
    };
    Ok(pb::AuditReport { clean, records, keys, checkpoint_size, fault_part, fault })
}

/// What a VerifyHandoff request asks about: a leg, or (with leg 0) a place or a container.
fn handoff_asked(q: &pb::VerifyHandoffRequest) -> Result<Asked<'_>, LedgerError> {
    match (q.leg, q.place.as_str(), q.container.as_str()) {
        (leg, "", "") => Ok(Asked::Leg(leg)),
        (0, place, "") if ebl_core::document::is_locode(place) => Ok(Asked::Place(place)),
        (0, _, "") => Err(RuleError::invalid("place", "expected a UN/LOCODE, e.g. CNQZH").into()),
        (0, "", container) => Ok(Asked::Container(container)),
        _ => Err(RuleError::invalid(
            "envelope.request",
            "ask by one of leg, place (a UN/LOCODE) or container: place and container need leg 0",
        )
        .into()),
    }
}

/// What a FindBills request looks bills up by, and after which bill.
fn find_query(q: &pb::FindBillsRequest) -> Result<(find::FindBy, Option<BillId>), LedgerError> {
    let by = match (q.container.as_str(), q.party.as_str(), q.locode.as_str()) {
        (c, "", "") if !c.is_empty() => find::FindBy::Container(c.into()),
        ("", p, "") if !p.is_empty() => find::FindBy::Party(p.into()),
        ("", "", l) if ebl_core::document::is_locode(l) => find::FindBy::Location(l.into()),
        _ => {
            return Err(RuleError::invalid(
                "envelope.request",
                "give exactly one of container, party, locode (a UN/LOCODE)",
            )
            .into())
        }
    };
    let after = if q.after.is_empty() { None } else { Some(BillId(hash32("envelope.request.after", &q.after)?)) };
    Ok((by, after))
}

/// A page of bills found, as FindBills answers it.
fn bill_list(found: find::Found) -> pb::BillList {
    let bills = found
        .bills
        .iter()
        .map(|b| pb::BillSummary {
            bill_id: b.id.0 .0.to_vec(),
            issuer: b.issuer.to_string(),
            reference: b.reference.clone(),
            amendment: b.amendment,
            status: b.status.name().into(),
            possessor: b.possessor.to_string(),
            entitled: b.entitled().to_string(),
        })
        .collect();
    pb::BillList { bills, next: found.next.map(|n| n.0 .0.to_vec()).unwrap_or_default() }
}

/// Stored records in their public form, as a stream.
fn stream(records: Vec<StoredEntry>) -> Result<Response<RecordStream>, LedgerError> {
    let records = records
        .iter()
        .map(|r| r.to_pb().map_err(|e| LedgerError::Internal(format!("record {}: {e}", r.receipt.seq))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Response::new(Box::pin(futures::stream::iter(records.into_iter().map(Ok)))))
}

#[tonic::async_trait]
impl Ledger for LedgerService {
    async fn get_info(&self, _: Request<pb::GetInfoRequest>) -> Result<Response<pb::LedgerInfo>, Status> {
        let shared = self.shared.clone();
        let (log_size, head, write) =
            blocking(move || Ok((shared.store.next_seq()?, shared.store.registry_head()?, shared.hold.check().err())))
                .await?;
        let write = write.map(|e| status::parts(&e));
        let refusal = self.shared.log.refusal();
        Ok(Response::new(pb::LedgerInfo {
            origin: self.shared.origin.clone(),
            operator_public_key: self.shared.operator.0.to_vec(),
            ledger_public_key: self.shared.ledger_key.0.to_vec(),
            log_size,
            max_message_bytes: MAX_MESSAGE_BYTES as u32,
            max_batch_records: MAX_BATCH_RECORDS as u32,
            registry_position: head.map(|h| h.0).unwrap_or_default(),
            registry_head: head.map(|h| h.1 .0.to_vec()).unwrap_or_default(),
            log_verifier_key: self.shared.verifier_key.clone(),
            checkpoint_size: self.shared.log.latest().map(|c| c.size()).unwrap_or_default(),
            checkpoint_refusal: refusal.as_ref().map(|r| r.reason.to_string()).unwrap_or_default(),
            checkpoint_refusal_message: refusal.map(|r| r.message).unwrap_or_default(),
            write_refusal: write.as_ref().map(|w| w.1.to_string()).unwrap_or_default(),
            write_refusal_message: write.map(|w| w.2).unwrap_or_default(),
        }))
    }

    async fn submit(&self, req: Request<pb::SignedRecord>) -> Result<Response<pb::Receipt>, Status> {
        if let Some(c) = cluster::follower_of(&self.shared, &req)? {
            return cluster::forward_submit(&self.shared, &c, req).await;
        }
        let answer = self.submit_one(req).await;
        self.shared.metrics.record(&answer);
        Ok(Response::new(receipt(&self.shared, answer?).await?))
    }

    async fn submit_batch(
        &self,
        req: Request<pb::SubmitBatchRequest>,
    ) -> Result<Response<pb::SubmitBatchResponse>, Status> {
        if let Some(c) = cluster::follower_of(&self.shared, &req)? {
            return cluster::forward_batch(&self.shared, &c, req).await;
        }
        let peer = peer(&req);
        let records = req.into_inner().records;
        if records.len() > MAX_BATCH_RECORDS {
            let e = LedgerError::Rule(RuleError::Limit {
                reason: "BATCH_TOO_LARGE",
                why: format!("{} records in one batch; the limit is {MAX_BATCH_RECORDS}", records.len()),
            });
            let status = status::to_status(&e);
            let refused = Err(e);
            records.iter().for_each(|_| self.shared.metrics.record(&refused));
            return Err(status);
        }
        let (mut checked, _) = submit::check_records(&self.shared, &peer, records, &HashSet::new()).await?;
        let passes = submit::enter_queue(&self.shared, &mut checked);
        let answers = self.shared.writer.submit_all(checked).await;
        drop(passes);
        let mut results = Vec::with_capacity(answers.len());
        for a in answers {
            results.push(submit::result(&self.shared, a).await);
        }
        Ok(Response::new(pb::SubmitBatchResponse { results }))
    }

    type SubmitStreamStream = stream::Results;

    async fn submit_stream(
        &self,
        req: Request<tonic::Streaming<pb::SignedRecord>>,
    ) -> Result<Response<stream::Results>, Status> {
        Ok(Response::new(stream::submit_stream(self.shared.clone(), req)))
    }

    async fn get_bill(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::BillView>, Status> {
        let view = self
            .read(req, "/ebl.v1.Ledger/GetBill", |s, reader, request| {
                let q: pb::GetBillRequest = decode_canonical("envelope.request", &request)?;
                let b = service::bill(s, &reader, &q.bill_id)?;
                Ok(bill_view(&b.state, b.custody.as_ref(), b.document))
            })
            .await?;
        Ok(Response::new(view))
    }

    type GetHistoryStream = RecordStream;

    async fn get_history(&self, req: Request<pb::SignedRead>) -> Result<Response<RecordStream>, Status> {
        let records = self
            .read(req, "/ebl.v1.Ledger/GetHistory", |s, reader, request| {
                let q: pb::GetHistoryRequest = decode_canonical("envelope.request", &request)?;
                service::history(s, &reader, &q.bill_id, q.custody)
            })
            .await?;
        Ok(stream(records)?)
    }

    async fn verify_title(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::TitleView>, Status> {
        let (snap, with_statement) = self
            .read(req, "/ebl.v1.Ledger/VerifyTitle", |s, reader, request| {
                let q: pb::VerifyTitleRequest = decode_canonical("envelope.request", &request)?;
                Ok((service::title(s, &reader, &q.bill_id)?, !q.without_statement))
            })
            .await?;
        let cp =
            if with_statement { Some(title::covering_checkpoint(&self.shared, snap.needed()).await) } else { None };
        let shared = self.shared.clone();
        let view = blocking(move || {
            let r = &snap.replayed;
            let mut view = pb::TitleView {
                bill: Some(bill_view(&r.state, r.custody.as_ref(), vec![])),
                chain_verified: true,
                records_checked: r.records,
                checked_at: Timestamp::now().to_rfc3339(),
                ..Default::default()
            };
            match cp {
                Some(Ok(cp)) => {
                    view.statement = title::statement(&shared, &snap, &cp)?.1;
                    view.checkpoint = cp.note.clone();
                }
                Some(Err(e)) => view.statement_refusal = format!("{}: {e}", status::parts(&e).1),
                None => {}
            }
            Ok(view)
        })
        .await?;
        Ok(Response::new(view))
    }

    async fn get_proof_bundle(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::ProofBundleFile>, Status> {
        let snap = self
            .read(req, "/ebl.v1.Ledger/GetProofBundle", |s, reader, request| {
                let q: pb::GetProofBundleRequest = decode_canonical("envelope.request", &request)?;
                service::title(s, &reader, &q.bill_id)
            })
            .await?;
        let cp = title::covering_checkpoint(&self.shared, snap.needed()).await?;
        let shared = self.shared.clone();
        let bundle = blocking(move || {
            let (_, note) = title::statement(&shared, &snap, &cp)?;
            title::bundle(&shared, &snap, &cp, note)
        })
        .await?;
        let bundle = bundle.to_json();
        // The whole registry chain travels in a bundle (a pruned one could not prove that a key
        // was not revoked before it signed), so a large registry can outgrow one message.
        if bundle.len() > MAX_MESSAGE_BYTES - 64 {
            return Err(LedgerError::Rule(RuleError::Limit {
                reason: "BUNDLE_TOO_LARGE",
                why: format!(
                    "the bill's proof bundle is {} bytes, past the {MAX_MESSAGE_BYTES} byte message limit",
                    bundle.len()
                ),
            })
            .into());
        }
        Ok(Response::new(pb::ProofBundleFile { bundle }))
    }

    async fn verify_handoff(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::HandoffCheck>, Status> {
        let check = self
            .read(req, "/ebl.v1.Ledger/VerifyHandoff", |s, reader, request| {
                let q: pb::VerifyHandoffRequest = decode_canonical("envelope.request", &request)?;
                let (bill, custody, check) = service::handoff(s, &reader, &q.bill_id, handoff_asked(&q)?)?;
                Ok(pb::HandoffCheck {
                    bill: Some(bill_view(&bill, Some(&custody), vec![])),
                    may_proceed: check.blockers.is_empty(),
                    reasons: check.blockers.iter().map(|e| format!("{}: {e}", e.reason())).collect(),
                    checked_at: Timestamp::now().to_rfc3339(),
                    leg: check.leg.unwrap_or_default(),
                    place: check.place,
                    delivery: check.delivery,
                })
            })
            .await?;
        Ok(Response::new(check))
    }

    async fn find_bills(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::BillList>, Status> {
        let list = self
            .read(req, "/ebl.v1.Ledger/FindBills", |s, reader, request| {
                let q: pb::FindBillsRequest = decode_canonical("envelope.request", &request)?;
                let (by, after) = find_query(&q)?;
                let found = find::find(s, &reader, &by, after, q.limit as usize)?;
                Ok(bill_list(found))
            })
            .await?;
        Ok(Response::new(list))
    }

    type GetRegistryStream = RecordStream;

    async fn get_registry(&self, req: Request<pb::SignedRead>) -> Result<Response<RecordStream>, Status> {
        let records = self
            .read(req, "/ebl.v1.Ledger/GetRegistry", |s, _reader, request| {
                let q: pb::GetRegistryRequest = decode_canonical("envelope.request", &request)?;
                service::registry(s, q.from_position)
            })
            .await?;
        Ok(stream(records)?)
    }

    async fn backup(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::BackupDone>, Status> {
        let done = self
            .read(req, "/ebl.v1.Ledger/Backup", |s, reader, request| {
                let q: pb::BackupRequest = decode_canonical("envelope.request", &request)?;
                if !matches!(reader, Reader::Operator) {
                    return Err(RuleError::Forbidden {
                        reason: "NOT_OPERATOR",
                        why: "only the operator may back up the ledger".into(),
                    }
                    .into());
                }
                let to = std::path::Path::new(&q.to);
                if !to.is_absolute() {
                    return Err(RuleError::invalid("to", format!("'{}' is not an absolute path", q.to)).into());
                }
                let latest = s.log.latest();
                crate::backup::backup(&s.store, &s.ledger_secret, latest.as_deref(), to).map_err(|e| match e {
                    crate::backup::BackupError::Refused(why) => RuleError::invalid("to", why).into(),
                    e => LedgerError::Unavailable(format!("backup failed: {e}")),
                })
            })
            .await?;
        Ok(Response::new(pb::BackupDone { size: done.size, checkpoint_size: done.checkpoint }))
    }

    async fn audit(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::AuditReport>, Status> {
        let report = self
            .read(req, "/ebl.v1.Ledger/Audit", |s, reader, request| {
                let _: pb::AuditRequest = decode_canonical("envelope.request", &request)?;
                service::access::auditor(&reader, "audit the ledger")?;
                let Ok(_one) = s.auditing.try_lock() else {
                    let why = "an audit is already running: ask again when it ends".into();
                    return Err(RuleError::Limit { reason: "AUDIT_RUNNING", why }.into());
                };
                audit_online(s)
            })
            .await?;
        Ok(Response::new(report))
    }

    async fn get_access_log(&self, req: Request<pb::SignedRead>) -> Result<Response<pb::AccessLog>, Status> {
        let log = self
            .read(req, "/ebl.v1.Ledger/GetAccessLog", |s, reader, request| {
                let q: pb::GetAccessLogRequest = decode_canonical("envelope.request", &request)?;
                let (entries, next) =
                    service::access::list(s, &reader, &q.bill_id, &q.party, &q.after, q.limit as usize)?;
                let entries = entries
                    .into_iter()
                    .map(|a| pb::AccessEntry {
                        party: a.party,
                        method: a.method,
                        bill_id: a.bill.map(|b| b.0 .0.to_vec()).unwrap_or_default(),
                        query: a.query,
                        time: a.time.to_rfc3339(),
                    })
                    .collect();
                Ok(pb::AccessLog { entries, next })
            })
            .await?;
        Ok(Response::new(log))
    }

    async fn get_checkpoint(
        &self,
        req: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::CheckpointView>, Status> {
        cluster::before_read(&self.shared, &req).await?;
        let q = crate::wire::log::checkpoint_query(req.get_ref());
        Ok(Response::new(log::checkpoint(&self.shared, q)?))
    }

    async fn get_inclusion_proof(
        &self,
        req: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        cluster::before_read(&self.shared, &req).await?;
        let q = crate::wire::log::inclusion_query(req.get_ref()).map_err(LedgerError::from)?;
        let shared = self.shared.clone();
        Ok(Response::new(blocking(move || log::inclusion(&shared, q)).await?))
    }

    async fn get_consistency_proof(
        &self,
        req: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        cluster::before_read(&self.shared, &req).await?;
        let q = crate::wire::log::consistency_query(req.get_ref());
        let shared = self.shared.clone();
        Ok(Response::new(blocking(move || log::consistency(&shared, q)).await?))
    }

    async fn get_cluster_status(
        &self,
        _: Request<pb::GetClusterStatusRequest>,
    ) -> Result<Response<pb::ClusterStatus>, Status> {
        Ok(Response::new(self.shared.cluster.as_ref().map_or_else(pb::ClusterStatus::default, |c| cluster::status(c))))
    }

    async fn get_leaf_hashes(
        &self,
        req: Request<pb::GetLeafHashesRequest>,
    ) -> Result<Response<pb::LeafHashes>, Status> {
        cluster::before_read(&self.shared, &req).await?;
        let r = crate::wire::log::leaf_range(req.get_ref()).map_err(LedgerError::from)?;
        let shared = self.shared.clone();
        Ok(Response::new(blocking(move || log::leaf_hashes(&shared, r)).await?))
    }
}
