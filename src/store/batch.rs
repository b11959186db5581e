//! One commit's writes: records, their chain and hash entries, the effects of apply, indexes,
//! the log's tree nodes and metadata, gathered in one atomic write of the engine.

use super::cache::States;
use super::engine::Op;
use super::entry::{encode_chain, encode_record_parts};
use super::keys::*;
use crate::wire::views::ReceiptInfo;
use ebl_core::apply::{Checked, Effect};
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::ids::{BillId, ChainId};
use ebl_core::log::Node;
use ebl_core::record::Action;

/// A write batch under construction for one commit.
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
    /// Apply's new states, for its cache once the batch is written.
    states: Option<States>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    fn put(&mut self, cf: &'static str, k: &[u8], v: &[u8]) {
        self.ops.push(Op::Put { cf, key: k.to_vec(), value: v.to_vec() });
    }

    /// A raw value (`ebld migrate` copies what a format change leaves as it was).
    pub fn put_raw(&mut self, cf: &'static str, k: &[u8], v: &[u8]) {
        self.put(cf, k, v);
    }

    fn put_json<T: serde::Serialize>(&mut self, cf: &'static str, k: &[u8], v: &T) {
        self.put(cf, k, &serde_json::to_vec(v).expect("state types serialise"));
    }

    /// An accepted record: its bytes, `signatures` (as its leaf commits to them) and receipt,
    /// its hash, its place in its chain, and for an ISSUE the bill's document.
    pub fn record(&mut self, rec: &Checked, receipt: &ReceiptInfo, signatures: &[u8]) {
        let seq = receipt.seq;
        self.ops.push(Op::Put {
            cf: CF_RECORDS,
            key: seq_key(seq).to_vec(),
            value: encode_record_parts(receipt, &rec.bytes, signatures),
        });
        self.put(CF_BY_HASH, &rec.hash.0, &seq.to_be_bytes());
        self.put(CF_CHAINS, &chain_key(&rec.payload.chain, rec.payload.position), &encode_chain(seq, &rec.hash));
        if let (Action::Issue(issue), ChainId::Title(bill)) = (&rec.payload.action, rec.payload.chain) {
            self.put(CF_DOCUMENTS, &bill.0 .0, &issue.document);
        }
    }

    /// A state change from apply, with the index entries it implies that the state `before` it
    /// did not already imply (index entries are never removed, so those are stored already).
    pub fn effect(&mut self, e: &Effect, before: &Before) {
        let new_entries = |now: Vec<Vec<u8>>, then: Option<Vec<Vec<u8>>>| {
            let then: std::collections::HashSet<Vec<u8>> = then.into_iter().flatten().collect();
            now.into_iter().filter(move |k| !then.contains(k))
        };
        match e {
            Effect::Party(p) => self.put_json(CF_PARTIES, p.registration.party.as_str().as_bytes(), p),
            Effect::Key(k, rec) => self.put_json(CF_KEYS, &k.0, rec),
            Effect::Custody(c) => {
                self.put_json(CF_CUSTODY, &c.bill.0 .0, c);
                for k in new_entries(custody_index(c), before.custody.map(custody_index)) {
                    self.put(CF_INDEX, &k, &[]);
                }
            }
            Effect::Delegation(principal, agent, grants) => {
                self.put_json(CF_DELEGATIONS, &delegation_key(principal.as_str(), agent.as_str()), grants)
            }
            Effect::RegistryHead(pos, h) => self.meta(Meta::RegistryHead, &[&pos.to_be_bytes()[..], &h.0].concat()),
            Effect::Bill(b) => {
                self.put_json(CF_BILLS, &b.id.0 .0, b);
                for k in new_entries(bill_index(b), before.bill.map(bill_index)) {
                    self.put(CF_INDEX, &k, &[]);
                }
            }
        }
    }

    /// Tree nodes completed by this commit's leaves (from `ebl_core::log::append`).
    pub fn tree_nodes(&mut self, nodes: &[Node]) {
        for n in nodes {
            self.put(CF_TREE, &tree_key(n.level, n.index), &n.hash.0);
        }
    }

    /// A metadata value.
    pub fn meta(&mut self, m: Meta, v: &[u8]) {
        self.put(CF_META, m.key(), v);
    }

    /// How many values it writes in column family `cf` (what a record costs the store).
    pub fn puts(&self, cf: &str) -> usize {
        self.ops.iter().filter(|op| matches!(op, Op::Put { cf: c, .. } if *c == cf)).count()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Apply's new states (the last of each id), which the store keeps in its cache of apply's
    /// states once this batch is written.
    pub fn keep_states(&mut self, states: States) {
        self.states = Some(states);
    }

    pub(super) fn into_parts(self) -> (Vec<Op>, Option<States>) {
        (self.ops, self.states)
    }
}

/// The state of a bill before a record changed it, as far as its index entries go.
#[derive(Debug, Default, Clone, Copy)]
pub struct Before<'a> {
    /// The bill's state, if it had one.
    pub bill: Option<&'a BillState>,
    /// Its custody state, if it had one.
    pub custody: Option<&'a CustodyState>,
}

/// The index entries a bill's state implies: its parties, places (and their countries) and
/// containers.
fn bill_index(b: &BillState) -> Vec<Vec<u8>> {
    let parties = b.parties.iter().map(|p| party_bill_key(p.as_str(), &b.id));
    let places = b.locations.iter().flat_map(|l| place_keys(l, &b.id));
    let containers = b.containers.iter().map(|c| container_bill_key(c, &b.id));
    parties.chain(places).chain(containers).collect()
}

/// The index entries a custody state implies: the route in force may name carriers and places
/// the bill's state does not (a re-routing), and they see the bill, so FindBills must find it
/// through them too.
fn custody_index(c: &CustodyState) -> Vec<Vec<u8>> {
    let carriers = c.carriers().into_iter().map(|p| party_bill_key(p.as_str(), &c.bill));
    let places = c.route.iter().flat_map(|l| [&l.from.locode, &l.to.locode]).flat_map(|l| place_keys(l, &c.bill));
    carriers.chain(places).collect()
}

/// The place and its country index entries of a bill.
fn place_keys(locode: &str, bill: &BillId) -> Vec<Vec<u8>> {
    let mut out = vec![location_bill_key(locode, bill)];
    if let Some(country) = locode.get(..2) {
        out.push([IndexKey::Country(country).prefix(), bill.0 .0.to_vec()].concat());
    }
    out
}
