//! Two digests of the database. [`Store::digest`] is over the stored bytes: equal digests mean
//! nothing changed (the tests hold refusals to it). [`Store::logical_digest`] is over what the
//! ledger holds, decoded, in a defined order, whatever the keys and value encodings: two nodes
//! (or two storage engines, or two format versions) that applied the same commands in the same
//! order have equal logical digests.
//!
//! The logical digest is SHA-256 over, in this order, each part named and each field
//! length-prefixed (u64 BE):
//! 1. `records`: by sequence number: the number, the record hash, the payload bytes, the
//!    signatures as stored, the receipt's bill, position, time and action;
//! 2. `chains`: each chain position in key order: chain, position, sequence number;
//! 3. `by_hash`: record hash and sequence number, in hash order, then `documents`: bill id and
//!    document bytes, in bill order;
//! 4. `bills`, `custody`, `parties`, `keys`, `delegations`: each state, decoded and written again
//!    as JSON, in key order, with its key decoded;
//! 5. `index`: each entry as (what it is looked up by, the value, the bill id), in key order;
//! 6. `tree`: level, index and hash of each node;
//! 7. `meta`: origin, operator key, ledger key, next sequence number, last time, registry head,
//!    last command applied (each empty when absent). The checkpoint and the format version are
//!    left out: the first is rewritten by the signer beside the write path, the second is how
//!    the rest is stored, not what.

use super::keys::*;
use super::{Store, StoreError};
use ebl_core::hash::Hash32;
use sha2::{Digest, Sha256};

/// A hasher of named parts and length-prefixed fields.
struct Fields(Sha256);

impl Fields {
    fn part(&mut self, name: &str) {
        self.field(b"part");
        self.field(name.as_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }
}

fn corrupt(cf: &'static str, why: impl Into<String>) -> StoreError {
    StoreError::Corrupt { cf, why: why.into() }
}

/// A chain key decoded: its kind, its bill id (none for the registry) and its position.
fn chain_fields(k: &[u8]) -> Result<(u8, &[u8], &[u8]), StoreError> {
    let bad = || corrupt(CF_CHAINS, "chain key of an unknown shape");
    let (&kind, rest) = k.split_first().ok_or_else(bad)?;
    let bill_len = match kind {
        0 => 0,
        1 | 2 => 32,
        _ => return Err(bad()),
    };
    if rest.len() != bill_len + 8 {
        return Err(bad());
    }
    Ok((kind, &rest[..bill_len], &rest[bill_len..]))
}

/// An index key decoded: what it is looked up by, the value, the bill id.
fn index_fields(k: &[u8]) -> Result<(u8, &[u8], &[u8]), StoreError> {
    let bad = || corrupt(CF_INDEX, "index key of an unknown shape");
    if k.len() < 33 {
        return Err(bad());
    }
    let (head, bill) = k.split_at(k.len() - 32);
    let (&kind, value) = head.split_first().ok_or_else(bad)?;
    let value = match kind {
        b'p' | b'c' => value.strip_suffix(&[0]).ok_or_else(bad)?,
        b'l' | b'k' => value,
        _ => return Err(bad()),
    };
    Ok((kind, value, bill))
}

impl Store {
    /// SHA-256 over every key and value of every column family, in order: equal digests mean
    /// the ledger is byte-for-byte unchanged (tests assert refusals change nothing with it).
    /// The bookkeeping keys of `meta` are left out ([`Meta::is_bookkeeping`]).
    pub fn digest(&self) -> Result<Hash32, StoreError> {
        let mut h = Sha256::new();
        for name in ALL_CFS {
            h.update(name.as_bytes());
            for item in self.entries(name) {
                let (k, v) = item?;
                if name == CF_META && Meta::is_bookkeeping(&k) {
                    continue;
                }
                h.update((k.len() as u64).to_be_bytes());
                h.update(&k);
                h.update((v.len() as u64).to_be_bytes());
                h.update(&v);
            }
        }
        Ok(Hash32(h.finalize().into()))
    }

    /// The digest of what the ledger holds (see the module's comment for what and in which
    /// order): equal for two databases that applied the same commands, whatever their engine.
    pub fn logical_digest(&self) -> Result<Hash32, StoreError> {
        let mut h = Fields(Sha256::new());
        h.part("records");
        for seq in 0..self.next_seq()? {
            let stored = self.record(seq)?.ok_or_else(|| corrupt(CF_RECORDS, format!("record {seq} is missing")))?;
            let receipt = stored.receipt.to_pb(false);
            h.field(&seq.to_be_bytes());
            h.field(&receipt.record_hash);
            h.field(&stored.payload);
            h.field(&stored.signatures);
            h.field(&receipt.bill_id);
            h.field(&receipt.position.to_be_bytes());
            h.field(receipt.server_time.as_bytes());
            h.field(receipt.action.as_bytes());
        }
        h.part("chains");
        for item in self.entries(CF_CHAINS) {
            let (k, v) = item?;
            let (kind, bill, position) = chain_fields(&k)?;
            h.field(&[kind]);
            h.field(bill);
            h.field(position);
            h.field(&super::entry::decode_chain(&v).map_err(|why| corrupt(CF_CHAINS, why))?.0.to_be_bytes());
        }
        h.part("by_hash");
        for item in self.entries(CF_BY_HASH) {
            let (k, v) = item?;
            h.field(&k);
            h.field(&be_u64(&v).ok_or_else(|| corrupt(CF_BY_HASH, "value is not a u64"))?.to_be_bytes());
        }
        h.part("documents");
        for item in self.entries(CF_DOCUMENTS) {
            let (k, v) = item?;
            h.field(&k);
            h.field(&v);
        }
        self.states::<ebl_core::bill::BillState>(&mut h, CF_BILLS)?;
        self.states::<ebl_core::custody::CustodyState>(&mut h, CF_CUSTODY)?;
        self.states::<ebl_core::registry::Party>(&mut h, CF_PARTIES)?;
        self.states::<ebl_core::registry::KeyRecord>(&mut h, CF_KEYS)?;
        self.states::<ebl_core::delegation::Grants>(&mut h, CF_DELEGATIONS)?;
        h.part("index");
        for item in self.entries(CF_INDEX) {
            let (k, _) = item?;
            let (kind, value, bill) = index_fields(&k)?;
            h.field(&[kind]);
            h.field(value);
            h.field(bill);
        }
        h.part("tree");
        for item in self.entries(CF_TREE) {
            let (k, v) = item?;
            h.field(&k);
            h.field(&v);
        }
        h.part("meta");
        for m in [
            Meta::Origin,
            Meta::OperatorKey,
            Meta::LedgerKey,
            Meta::NextSeq,
            Meta::LastTime,
            Meta::RegistryHead,
            Meta::LastCommand,
        ] {
            h.field(m.key());
            h.field(&self.meta(m)?.unwrap_or_default());
        }
        Ok(Hash32(h.0.finalize().into()))
    }

    /// One part of states: each key, and its value decoded as `T` and written again.
    fn states<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        h: &mut Fields,
        cf: &'static str,
    ) -> Result<(), StoreError> {
        h.part(cf);
        for item in self.entries(cf) {
            let (k, v) = item?;
            let state: T = self.decode_json(cf, &v)?;
            h.field(&k);
            h.field(&serde_json::to_vec(&state).map_err(|e| corrupt(cf, e.to_string()))?);
        }
        Ok(())
    }
}
