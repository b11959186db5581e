//! Domain state -> protobuf views and receipts (the outbound direction of the edge).

use crate::pb;
use ebl_core::bill::{BillKind, BillState, SurrenderKind};
use ebl_core::custody::CustodyState;
use ebl_core::document::{Profile, TypeCode};
use ebl_core::ids::ChainId;

/// What the writer answers for an accepted record (the core of a [`pb::Receipt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptInfo {
    /// Record hash.
    pub hash: ebl_core::hash::Hash32,
    /// Chain.
    pub chain: ChainId,
    /// Position in that chain.
    pub position: u64,
    /// Global sequence number.
    pub seq: u64,
    /// Server time.
    pub time: ebl_core::time::Timestamp,
    /// Action name.
    pub action: &'static str,
}

impl ReceiptInfo {
    /// The wire receipt; `duplicate` marks an answer to a record sent again.
    pub fn to_pb(&self, duplicate: bool) -> pb::Receipt {
        pb::Receipt {
            record_hash: self.hash.0.to_vec(),
            bill_id: match self.chain {
                ChainId::Title(b) | ChainId::Custody(b) => b.0 .0.to_vec(),
                ChainId::Registry => vec![],
            },
            position: self.position,
            seq: self.seq,
            server_time: self.time.to_rfc3339(),
            duplicate,
            action: self.action.to_string(),
        }
    }
}

/// The wire view of a bill with its custody; `document` is the transport document as issued.
pub fn bill_view(b: &BillState, custody: Option<&CustodyState>, document: Vec<u8>) -> pb::BillView {
    let s = |p: &Option<ebl_core::ids::PartyId>| p.as_ref().map(|p| p.to_string()).unwrap_or_default();
    pb::BillView {
        bill_id: b.id.0 .0.to_vec(),
        issuer: b.issuer.to_string(),
        reference: b.reference.clone(),
        amendment: b.amendment,
        document_checksum: b.document_checksum.0.to_vec(),
        type_code: match b.type_code {
            TypeCode::Bol => "BOL",
            TypeCode::Swb => "SWB",
        }
        .into(),
        profile: match b.profile {
            Profile::DcsaEbl3 => "DCSA_EBL_3",
            Profile::NoSeaLeg => "NO_SEA_LEG",
        }
        .into(),
        kind: match b.kind {
            BillKind::Straight => "STRAIGHT",
            BillKind::ToOrder => "TO_ORDER",
            BillKind::Waybill => "WAYBILL",
        }
        .into(),
        status: b.status.name().into(),
        possessor: b.possessor.to_string(),
        entitled: b.entitled().to_string(),
        consignee: s(&b.consignee),
        endorsee: s(&b.endorsee),
        blank_endorsed: b.is_blank(),
        endorsable: b.endorsable,
        rejectable_by: b.offer.as_ref().map(|o| o.to.to_string()).unwrap_or_default(),
        surrender: b
            .surrender
            .as_ref()
            .map(|s| match s.kind {
                SurrenderKind::Delivery => "DELIVERY",
                SurrenderKind::Amendment(r) => r.code(),
            })
            .unwrap_or_default()
            .into(),
        surrendered_by: b.surrender.as_ref().map(|s| s.by.to_string()).unwrap_or_default(),
        paper_bill_number: b.paper_bill_number.clone().unwrap_or_default(),
        amends: b.amends.map(|h| h.0.to_vec()).unwrap_or_default(),
        pledgee: b.pledge.as_ref().map(|pl| pl.pledgee.to_string()).unwrap_or_default(),
        pledgor: b.pledge.as_ref().map(|pl| pl.pledgor.to_string()).unwrap_or_default(),
        pledge_mode: b.pledge.as_ref().map(|pl| pl.mode.name()).unwrap_or_default().into(),
        pledge_enforced: b.pledge.as_ref().is_some_and(|pl| pl.enforced),
        successor: b.successor().map(|id| id.0 .0.to_vec()).unwrap_or_default(),
        head: b.head.0.to_vec(),
        head_position: b.head_position,
        head_seq: b.head_seq,
        parties: b.parties.iter().map(|p| p.to_string()).collect(),
        locations: b.locations.clone(),
        containers: b.containers.clone(),
        pint_exportable: b.profile == Profile::DcsaEbl3,
        custody: custody.map(super::custody_view::custody_view),
        document,
    }
}
