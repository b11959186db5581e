//! Client side: building and signing record payloads and read envelopes exactly as
//! `docs/wire-format.md` specifies, and a small gRPC client over them. Used by the `ebl` CLI,
//! the demo and the tests; the server never calls it. The log's RPCs and exports are in [`log`].
//! A client may be given several servers of one ledger ([`Servers`]): its calls fail over
//! between them ([`failover`]).

pub mod codes;
mod connect;
pub mod failover;
pub mod log;
mod servers;

pub use connect::{ConnectError, Server, CONNECT_TIMEOUT};
pub use failover::{Failover, RetryPolicy};
pub use servers::Servers;

use crate::pb::{self, ledger_client::LedgerClient, record_payload::Action};
use crate::wire::read::READ_DOMAIN;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::record::{FORMAT_VERSION, RECORD_DOMAIN};
use ebl_core::sig::Signature;
use ebl_core::time::Timestamp;
use ed25519_dalek::SigningKey;
use prost::Message;
use rand::RngCore;
use tonic::Status;

/// A party and the key it signs with.
#[derive(Clone)]
pub struct Identity {
    /// The party.
    pub party: PartyId,
    /// Its secret key.
    pub key: SigningKey,
}

impl Identity {
    /// An identity from a party id and a key.
    pub fn new(party: &str, key: SigningKey) -> Self {
        Identity { party: PartyId::parse("party", party).expect("valid party id"), key }
    }

    /// The public key bytes.
    pub fn public(&self) -> Vec<u8> {
        self.key.verifying_key().to_bytes().to_vec()
    }
}

/// Where a record goes: a chain position and the hash it extends.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    /// Position in the chain.
    pub position: u64,
    /// Previous record hash (`None` at position 0).
    pub prev: Option<Hash32>,
}

impl Link {
    /// The link after a head at `position` with hash `head`.
    pub fn after(position: u64, head: &[u8]) -> Self {
        Link { position: position + 1, prev: Hash32::from_slice(head) }
    }
}

/// A record payload with the fixed header fields filled in.
pub fn payload(
    origin: &str,
    bill: Option<BillId>,
    link: Link,
    actor: &str,
    recipient: Option<&str>,
    time: Timestamp,
    action: Action,
) -> pb::RecordPayload {
    pb::RecordPayload {
        version: FORMAT_VERSION,
        domain: RECORD_DOMAIN.into(),
        origin: origin.into(),
        bill_id: bill.map(|b| b.0 .0.to_vec()).unwrap_or_default(),
        position: link.position,
        prev_hash: link.prev.map(|h| h.0.to_vec()).unwrap_or_default(),
        actor: actor.into(),
        recipient: recipient.unwrap_or_default().into(),
        claimed_time: time.to_rfc3339(),
        agent: String::new(),
        title_position: 0,
        title_head: vec![],
        action: Some(action),
    }
}

/// Encodes a payload canonically and signs it with each identity.
pub fn sign(payload: &pb::RecordPayload, signers: &[&Identity]) -> pb::SignedRecord {
    let bytes = payload.encode_to_vec();
    sign_bytes(bytes, signers)
}

/// Signs already encoded payload bytes with each identity.
pub fn sign_bytes(bytes: Vec<u8>, signers: &[&Identity]) -> pb::SignedRecord {
    let signatures = signers
        .iter()
        .map(|id| crate::wire::payload::encode_signature(&Signature::sign(&id.party, &id.key, &bytes)))
        .collect();
    pb::SignedRecord { payload: bytes, signatures }
}

/// A signed read of `request` for `method` (e.g. `/ebl.v1.Ledger/GetBill`).
pub fn signed_read<M: Message>(reader: &Identity, origin: &str, method: &str, request: &M) -> pb::SignedRead {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let env = pb::ReadEnvelope {
        version: 1,
        domain: READ_DOMAIN.into(),
        origin: origin.into(),
        method: method.into(),
        request: request.encode_to_vec(),
        claimed_time: Timestamp::now().to_rfc3339(),
        nonce: nonce.to_vec(),
    };
    let envelope = env.encode_to_vec();
    let sig = Signature::sign(&reader.party, &reader.key, &envelope);
    pb::SignedRead { envelope, signature: Some(crate::wire::payload::encode_signature(&sig)) }
}

/// A connected client that knows the ledger's origin.
#[derive(Clone)]
pub struct Client {
    /// The generated gRPC client, over the servers given (each call fails over between them).
    pub grpc: LedgerClient<Failover>,
    /// The ledger's public facts.
    pub info: pb::LedgerInfo,
    /// The service under `grpc`, to tell which server it calls.
    failover: Failover,
}

impl Client {
    /// Connects to `url` (e.g. `http://127.0.0.1:50051`; `https://` trusts the system's roots)
    /// and fetches the ledger's info.
    pub async fn connect(url: String) -> Result<Self, ConnectError> {
        Client::connect_to(Server::new(url)).await
    }

    /// Connects to a [`Server`], or to the first of several [`Servers`] that answers, and
    /// fetches the ledger's info; calls fail over to the others (see [`failover`]).
    pub fn connect_to(
        servers: impl Into<Servers>,
    ) -> impl std::future::Future<Output = Result<Self, ConnectError>> + Send {
        let servers: Servers = servers.into();
        async move {
            let (failover, info) = servers.connect().await?;
            let grpc = LedgerClient::new(failover.clone())
                .max_decoding_message_size(crate::wire::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(crate::wire::MAX_MESSAGE_BYTES);
            Ok(Client { grpc, info, failover })
        }
    }

    /// The servers calls go to, and which of them answered last.
    pub fn failover(&self) -> &Failover {
        &self.failover
    }

    /// The ledger's origin.
    pub fn origin(&self) -> &str {
        &self.info.origin
    }

    /// Submits one record.
    pub async fn submit(&mut self, rec: pb::SignedRecord) -> Result<pb::Receipt, Status> {
        Ok(self.grpc.submit(rec).await?.into_inner())
    }

    /// Submits records over SubmitStream, in this order, and returns each one's result in its
    /// place. When the stream ends UNAVAILABLE (a leader change, the ledger refusing writes for
    /// a while) or its connection fails before every result is in, the records without one are
    /// sent again on a new stream, after a pause that doubles each time (100 ms first), at most
    /// `retries` times: any the ledger did take come back with their original receipts, marked
    /// duplicate. Any other ending is the answer.
    pub async fn submit_stream(
        &mut self,
        records: &[pb::SignedRecord],
        retries: u32,
    ) -> Result<Vec<pb::SubmitResult>, Status> {
        let mut results = Vec::with_capacity(records.len());
        let mut tries = 0;
        while results.len() < records.len() {
            let rest = futures::stream::iter(records[results.len()..].to_vec());
            let ended = match self.grpc.submit_stream(rest).await {
                Ok(answer) => {
                    let mut stream = answer.into_inner();
                    loop {
                        match stream.message().await {
                            Ok(Some(r)) if results.len() < records.len() => results.push(r),
                            Ok(Some(_)) => break Err(Status::internal("the ledger sent more results than records")),
                            Ok(None) => break Ok(()),
                            Err(s) => break Err(s),
                        }
                    }
                }
                Err(s) => Err(s),
            };
            match ended {
                Ok(()) if results.len() < records.len() => {
                    return Err(Status::internal("the ledger ended the stream before every record had its result"))
                }
                Ok(()) => {}
                Err(s) if s.code() == tonic::Code::Unavailable && tries < retries => {
                    tokio::time::sleep(std::time::Duration::from_millis(100) * 2u32.pow(tries.min(10))).await;
                    tries += 1;
                }
                Err(s) => return Err(s),
            }
        }
        Ok(results)
    }

    /// A bill's state, read as `reader`.
    pub async fn bill(&mut self, reader: &Identity, id: BillId) -> Result<pb::BillView, Status> {
        let r = signed_read(
            reader,
            self.origin(),
            "/ebl.v1.Ledger/GetBill",
            &pb::GetBillRequest { bill_id: id.0 .0.to_vec() },
        );
        Ok(self.grpc.get_bill(r).await?.into_inner())
    }

    /// A bill's title records, read as `reader`.
    pub async fn history(&mut self, reader: &Identity, id: BillId) -> Result<Vec<pb::StoredRecord>, Status> {
        self.chain_records(reader, id, false).await
    }

    /// A bill's custody records, read as `reader`.
    pub async fn custody_history(&mut self, reader: &Identity, id: BillId) -> Result<Vec<pb::StoredRecord>, Status> {
        self.chain_records(reader, id, true).await
    }

    async fn chain_records(
        &mut self,
        reader: &Identity,
        id: BillId,
        custody: bool,
    ) -> Result<Vec<pb::StoredRecord>, Status> {
        let q = pb::GetHistoryRequest { bill_id: id.0 .0.to_vec(), custody };
        let r = signed_read(reader, self.origin(), "/ebl.v1.Ledger/GetHistory", &q);
        collect(self.grpc.get_history(r).await?.into_inner()).await
    }

    /// The bills `reader` may see that name a container, a party or a place.
    pub async fn find_bills(&mut self, reader: &Identity, query: pb::FindBillsRequest) -> Result<pb::BillList, Status> {
        let r = signed_read(reader, self.origin(), "/ebl.v1.Ledger/FindBills", &query);
        Ok(self.grpc.find_bills(r).await?.into_inner())
    }

    /// Every bill `reader` may see that `query` finds, page after page until the ledger says
    /// there is no more (a page may be short and still have a next one).
    pub async fn find_all_bills(
        &mut self,
        reader: &Identity,
        mut query: pb::FindBillsRequest,
    ) -> Result<Vec<pb::BillSummary>, Status> {
        let mut bills = Vec::new();
        loop {
            let page = self.find_bills(reader, query.clone()).await?;
            bills.extend(page.bills);
            if page.next.is_empty() {
                return Ok(bills);
            }
            query.after = page.next;
        }
    }

    /// Whether the goods may be handed over (or delivered, after the last leg) at the end of
    /// `leg`, read as `reader`.
    pub async fn verify_handoff(
        &mut self,
        reader: &Identity,
        id: BillId,
        leg: u32,
    ) -> Result<pb::HandoffCheck, Status> {
        self.verify_goods(reader, pb::VerifyHandoffRequest { bill_id: id.0 .0.to_vec(), leg, ..Default::default() })
            .await
    }

    /// The check of [`Client::verify_handoff`] asked by leg, place or container, read as `reader`.
    pub async fn verify_goods(
        &mut self,
        reader: &Identity,
        q: pb::VerifyHandoffRequest,
    ) -> Result<pb::HandoffCheck, Status> {
        let r = signed_read(reader, self.origin(), "/ebl.v1.Ledger/VerifyHandoff", &q);
        Ok(self.grpc.verify_handoff(r).await?.into_inner())
    }

    /// The next custody record on `bill` by `actor` (co-signed by `cosigners`, e.g. the incoming
    /// carrier of a HANDOFF), after the custody chain's head and naming the title head now.
    pub async fn custody_record(
        &mut self,
        actor: &Identity,
        bill: BillId,
        recipient: Option<&str>,
        action: Action,
        cosigners: &[&Identity],
    ) -> Result<pb::SignedRecord, Status> {
        let view = self.bill(actor, bill).await?;
        let custody = view.custody.unwrap_or_default();
        let link =
            if custody.head.is_empty() { Link::default() } else { Link::after(custody.head_position, &custody.head) };
        let mut p = payload(self.origin(), Some(bill), link, actor.party.as_str(), recipient, Timestamp::now(), action);
        (p.title_position, p.title_head) = (view.head_position, view.head);
        let signers: Vec<&Identity> = std::iter::once(actor).chain(cosigners.iter().copied()).collect();
        Ok(sign(&p, &signers))
    }

    /// Builds, signs and submits a custody record (see [`Client::custody_record`]).
    pub async fn custody(
        &mut self,
        actor: &Identity,
        bill: BillId,
        recipient: Option<&str>,
        action: Action,
        cosigners: &[&Identity],
    ) -> Result<pb::Receipt, Status> {
        let rec = self.custody_record(actor, bill, recipient, action, cosigners).await?;
        self.submit(rec).await
    }

    /// Title verified by the ledger, read as `reader`.
    pub async fn verify_title(&mut self, reader: &Identity, id: BillId) -> Result<pb::TitleView, Status> {
        self.title_check(reader, id, false).await
    }

    /// The chain check alone (rehashed and replayed), answered at once: no signed statement.
    pub async fn verify_chain(&mut self, reader: &Identity, id: BillId) -> Result<pb::TitleView, Status> {
        self.title_check(reader, id, true).await
    }

    async fn title_check(
        &mut self,
        reader: &Identity,
        id: BillId,
        without_statement: bool,
    ) -> Result<pb::TitleView, Status> {
        let q = pb::VerifyTitleRequest { bill_id: id.0 .0.to_vec(), without_statement };
        let r = signed_read(reader, self.origin(), "/ebl.v1.Ledger/VerifyTitle", &q);
        Ok(self.grpc.verify_title(r).await?.into_inner())
    }

    /// The proof bundle file of a bill (JSON, docs/transparency.md), read as `reader`.
    pub async fn proof_bundle(&mut self, reader: &Identity, id: BillId) -> Result<String, Status> {
        let r = signed_read(
            reader,
            self.origin(),
            "/ebl.v1.Ledger/GetProofBundle",
            &pb::GetProofBundleRequest { bill_id: id.0 .0.to_vec() },
        );
        Ok(self.grpc.get_proof_bundle(r).await?.into_inner().bundle)
    }

    /// Registry records from `from` on, read as `reader`.
    pub async fn registry(&mut self, reader: &Identity, from: u64) -> Result<Vec<pb::StoredRecord>, Status> {
        let r = signed_read(
            reader,
            self.origin(),
            "/ebl.v1.Ledger/GetRegistry",
            &pb::GetRegistryRequest { from_position: from },
        );
        collect(self.grpc.get_registry(r).await?.into_inner()).await
    }

    /// Asks the ledger for an online backup into `to` (a new folder on its machine), as the
    /// operator.
    pub async fn backup(&mut self, operator: &Identity, to: &str) -> Result<pb::BackupDone, Status> {
        let r = signed_read(operator, self.origin(), "/ebl.v1.Ledger/Backup", &pb::BackupRequest { to: to.into() });
        Ok(self.grpc.backup(r).await?.into_inner())
    }

    /// A page of the access log (who read what), read as `auditor` (an auditor or the operator).
    pub async fn access_log(
        &mut self,
        auditor: &Identity,
        query: pb::GetAccessLogRequest,
    ) -> Result<pb::AccessLog, Status> {
        let r = signed_read(auditor, self.origin(), "/ebl.v1.Ledger/GetAccessLog", &query);
        Ok(self.grpc.get_access_log(r).await?.into_inner())
    }

    /// Asks the ledger to audit itself (on an online backup), as an auditor or the operator.
    pub async fn audit(&mut self, auditor: &Identity) -> Result<pb::AuditReport, Status> {
        let r = signed_read(auditor, self.origin(), "/ebl.v1.Ledger/Audit", &pb::AuditRequest {});
        Ok(self.grpc.audit(r).await?.into_inner())
    }

    /// The link for the next registry record (from the ledger's info).
    pub async fn registry_link(&mut self) -> Result<Link, Status> {
        self.info = self.grpc.get_info(pb::GetInfoRequest {}).await?.into_inner();
        Ok(if self.info.registry_head.is_empty() {
            Link::default()
        } else {
            Link::after(self.info.registry_position, &self.info.registry_head)
        })
    }

    /// Signs and submits a registry record as the operator, after the current registry head.
    pub async fn operator(&mut self, operator: &Identity, action: Action) -> Result<pb::Receipt, Status> {
        let link = self.registry_link().await?;
        let p = payload(self.origin(), None, link, ebl_core::ids::OPERATOR, None, Timestamp::now(), action);
        self.submit(sign(&p, &[operator])).await
    }

    /// Signs and submits the next title record on `bill` as `actor`, after the bill's current head.
    pub async fn act(
        &mut self,
        actor: &Identity,
        bill: BillId,
        recipient: Option<&str>,
        action: Action,
    ) -> Result<pb::Receipt, Status> {
        self.title_act(actor, actor.party.as_str(), bill, recipient, action).await
    }

    /// As [`Client::act`], but `agent` signs on behalf of `principal` under a delegation.
    pub async fn act_for(
        &mut self,
        agent: &Identity,
        principal: &str,
        bill: BillId,
        recipient: Option<&str>,
        action: Action,
    ) -> Result<pb::Receipt, Status> {
        self.title_act(agent, principal, bill, recipient, action).await
    }

    /// `actor`'s title record on `bill` after its head, signed by `signer` (its agent, named in
    /// the record, when it is not the actor itself).
    async fn title_act(
        &mut self,
        signer: &Identity,
        actor: &str,
        bill: BillId,
        recipient: Option<&str>,
        action: Action,
    ) -> Result<pb::Receipt, Status> {
        let view = self.bill(signer, bill).await?;
        let link = Link::after(view.head_position, &view.head);
        let mut p = payload(self.origin(), Some(bill), link, actor, recipient, Timestamp::now(), action);
        if signer.party.as_str() != actor {
            p.agent = signer.party.to_string();
        }
        self.submit(sign(&p, &[signer])).await
    }

    /// Registers a delegation from `principal` to `agent`, signed by the operator and the principal.
    pub async fn delegate(
        &mut self,
        operator: &Identity,
        principal: &Identity,
        agent: &str,
        actions: &[&str],
        reference: &str,
    ) -> Result<pb::Receipt, Status> {
        let link = self.registry_link().await?;
        let action = delegate(principal.party.as_str(), agent, actions, reference);
        let p = payload(self.origin(), None, link, ebl_core::ids::OPERATOR, None, Timestamp::now(), action);
        self.submit(sign(&p, &[operator, principal])).await
    }
}

async fn collect(mut s: tonic::Streaming<pb::StoredRecord>) -> Result<Vec<pb::StoredRecord>, Status> {
    let mut out = Vec::new();
    while let Some(r) = s.message().await? {
        out.push(r);
    }
    Ok(out)
}

/// A REGISTER_PARTY action.
pub fn register_party(
    party: &str,
    name: &str,
    role: pb::Role,
    jurisdiction: &[&str],
    codes: Vec<pb::IdentifyingCode>,
) -> Action {
    Action::RegisterParty(pb::RegisterParty {
        party: party.into(),
        name: name.into(),
        role: role as i32,
        jurisdiction: jurisdiction.iter().map(|s| s.to_string()).collect(),
        codes,
    })
}

/// An ADD_KEY action.
pub fn add_key(party: &str, public_key: Vec<u8>) -> Action {
    Action::AddKey(pb::AddKey { party: party.into(), public_key })
}

/// A DELEGATE action: `principal` lets `agent` sign `actions` on its behalf.
pub fn delegate(principal: &str, agent: &str, actions: &[&str], reference: &str) -> Action {
    Action::Delegate(pb::Delegate {
        principal: principal.into(),
        agent: agent.into(),
        actions: actions.iter().map(|s| s.to_string()).collect(),
        reference: reference.into(),
    })
}

/// A REVOKE_DELEGATION action.
pub fn revoke_delegation(principal: &str, agent: &str, reason: &str) -> Action {
    Action::RevokeDelegation(pb::RevokeDelegation {
        principal: principal.into(),
        agent: agent.into(),
        reason: reason.into(),
    })
}
