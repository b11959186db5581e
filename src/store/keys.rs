//! Every column family and key encoding of the ledger's RocksDB, in one place. Numbers in keys
//! are big-endian so that byte order is numeric order.

use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId};

/// Global sequence number -> the record with its receipt, in the store's own encoding
/// ([`super::entry::encode_record`]): payload bytes as received, signatures as the leaf commits
/// to them, the receipt's fields.
pub const CF_RECORDS: &str = "records";
/// Record hash -> global sequence number.
pub const CF_BY_HASH: &str = "by_hash";
/// Chain key ++ position (u64 BE) -> global sequence number (u64 BE) ++ record hash
/// ([`super::entry::encode_chain`]).
pub const CF_CHAINS: &str = "chains";
/// Bill id -> `BillState` (JSON).
pub const CF_BILLS: &str = "bills";
/// Party id -> `Party` (JSON).
pub const CF_PARTIES: &str = "parties";
/// Public key -> `KeyRecord` (JSON).
pub const CF_KEYS: &str = "keys";
/// Bill id -> `CustodyState` (JSON): route, containers, customs holds, custody chain head.
pub const CF_CUSTODY: &str = "custody";
/// Principal party id ++ 0x00 ++ agent party id -> `Grants` (JSON): every delegation between them.
pub const CF_DELEGATIONS: &str = "delegations";
/// Bill id -> its transport document exactly as issued (the ISSUE's JSON bytes), so that reads
/// need not decode the ISSUE record.
pub const CF_DOCUMENTS: &str = "documents";
/// Secondary indexes: `p` party 0x00 bill, `l` locode bill, `k` country bill, `c` container 0x00
/// bill -> empty.
pub const CF_INDEX: &str = "index";
/// Typed metadata keys, see [`Meta`].
pub const CF_META: &str = "meta";
/// The transparency log's Merkle tree: [`tree_key`] (level, index) -> the 32-byte hash of that
/// perfect subtree (level 0: leaf hashes). Written only by the writer, in the commit batch.
pub const CF_TREE: &str = "tree";

/// The access log (who read what, [`super::access`]): beside the ledger's data, not part of it,
/// so not in [`ALL_CFS`] (the digest, the audit and migrations leave it out).
pub const CF_ACCESS: &str = "access";

/// Every column family the server opens: the ledger's ([`ALL_CFS`]), and the access log.
pub const SERVED_CFS: [&str; ALL_CFS.len() + 1] = {
    let mut cfs = [CF_ACCESS; ALL_CFS.len() + 1];
    let mut i = 0;
    while i < ALL_CFS.len() {
        cfs[i] = ALL_CFS[i];
        i += 1;
    }
    cfs
};

/// Every column family of the ledger's data, in the order the ledger digest walks them.
pub const ALL_CFS: [&str; 12] = [
    CF_RECORDS,
    CF_BY_HASH,
    CF_CHAINS,
    CF_BILLS,
    CF_DOCUMENTS,
    CF_CUSTODY,
    CF_PARTIES,
    CF_KEYS,
    CF_DELEGATIONS,
    CF_INDEX,
    CF_META,
    CF_TREE,
];

/// The column families of format version 1 (no documents), which `ebld migrate` reads.
pub const V1_CFS: [&str; 11] = [
    CF_RECORDS,
    CF_BY_HASH,
    CF_CHAINS,
    CF_BILLS,
    CF_CUSTODY,
    CF_PARTIES,
    CF_KEYS,
    CF_DELEGATIONS,
    CF_INDEX,
    CF_META,
    CF_TREE,
];

/// Metadata keys.
#[derive(Debug, Clone, Copy)]
pub enum Meta {
    /// The ledger's origin string (set by init).
    Origin,
    /// The operator's public key (set by init).
    OperatorKey,
    /// The ledger's own public key (set by init).
    LedgerKey,
    /// Next global sequence number (u64 BE).
    NextSeq,
    /// Last server time stamped (i64 BE, ms).
    LastTime,
    /// Registry chain head: position (u64 BE) ++ hash.
    RegistryHead,
    /// The latest signed checkpoint: the signed note text, UTF-8 (written by the checkpoint
    /// signer, never by the writer).
    Checkpoint,
    /// The on-disk format's version (u32 BE), see [`super::SCHEMA_VERSION`].
    SchemaVersion,
    /// The index (u64 BE) of the last command applied (`crate::writer::command`): where a
    /// replicated log's state machine stands. A command whose records were all refused still
    /// moves it, so it is not part of what the records make.
    LastCommand,
    /// In a cluster, the Raft log id (JSON) of the last entry applied, written in the same batch
    /// as its effects (docs/replication.md).
    RaftApplied,
    /// In a cluster, the last membership applied (openraft's `StoredMembership`, JSON).
    RaftMembership,
    /// Set (synced) while a Raft snapshot replaces the database and removed once it is whole:
    /// a database that still holds it is neither the old state nor the new one.
    RaftInstalling,
}

impl Meta {
    /// The key bytes.
    pub fn key(self) -> &'static [u8] {
        match self {
            Meta::Origin => b"origin",
            Meta::OperatorKey => b"operator_key",
            Meta::LedgerKey => b"ledger_key",
            Meta::NextSeq => b"next_seq",
            Meta::LastTime => b"last_time",
            Meta::RegistryHead => b"registry_head",
            Meta::Checkpoint => b"checkpoint",
            Meta::SchemaVersion => b"schema_version",
            Meta::LastCommand => b"last_command",
            Meta::RaftApplied => b"raft_applied",
            Meta::RaftMembership => b"raft_membership",
            Meta::RaftInstalling => b"raft_installing",
        }
    }

    /// Whether this key is the ledger's bookkeeping rather than its content: the checkpoint
    /// (the signer rewrites it beside the write path, and it is derived from the tree), the
    /// last command applied and a cluster's Raft state. Refusals change nothing else; the records
    /// alone do not make these.
    pub fn is_bookkeeping(key: &[u8]) -> bool {
        [Meta::Checkpoint, Meta::LastCommand, Meta::RaftApplied, Meta::RaftMembership, Meta::RaftInstalling]
            .iter()
            .any(|m| m.key() == key)
    }
}

/// Key of a global sequence number.
pub fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Key of a tree node: level (u8) ++ index (u64 BE), so one level's nodes are contiguous and
/// in index order.
pub fn tree_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Prefix of a chain's entries: `0x00` for the registry, `0x01 ++ bill id` for a title chain,
/// `0x02 ++ bill id` for a custody chain.
pub fn chain_prefix(chain: &ChainId) -> Vec<u8> {
    match chain {
        ChainId::Registry => vec![0],
        ChainId::Title(b) => [&[1u8][..], &b.0 .0].concat(),
        ChainId::Custody(b) => [&[2u8][..], &b.0 .0].concat(),
    }
}

/// Key of one chain position.
pub fn chain_key(chain: &ChainId, position: u64) -> Vec<u8> {
    [chain_prefix(chain), position.to_be_bytes().to_vec()].concat()
}

/// Key of the delegations from `principal` to `agent` (party ids never contain 0x00).
pub fn delegation_key(principal: &str, agent: &str) -> Vec<u8> {
    [principal.as_bytes(), &[0], agent.as_bytes()].concat()
}

/// Index key: party -> bill.
pub fn party_bill_key(party: &str, bill: &BillId) -> Vec<u8> {
    [IndexKey::Party(party).prefix(), bill.0 .0.to_vec()].concat()
}

/// What a secondary index is looked up by.
#[derive(Debug, Clone, Copy)]
pub enum IndexKey<'a> {
    /// A party id.
    Party(&'a str),
    /// A UN/LOCODE (always 5 bytes, so no separator is needed).
    Location(&'a str),
    /// An ISO country code, the first two letters of a UN/LOCODE (always 2 bytes).
    Country(&'a str),
    /// A container number.
    Container(&'a str),
}

impl IndexKey<'_> {
    /// The key of `bill`'s entry under this key.
    pub fn entry(self, bill: &BillId) -> Vec<u8> {
        [self.prefix(), bill.0 .0.to_vec()].concat()
    }

    /// The prefix of every index entry under this key; the bill id (32 bytes) follows it.
    pub fn prefix(self) -> Vec<u8> {
        match self {
            IndexKey::Party(p) => [b"p", p.as_bytes(), &[0]].concat(),
            IndexKey::Location(l) => [b"l", l.as_bytes()].concat(),
            IndexKey::Country(c) => [b"k", c.as_bytes()].concat(),
            IndexKey::Container(c) => [b"c", c.as_bytes(), &[0]].concat(),
        }
    }
}

/// Index key: UN/LOCODE -> bill.
pub fn location_bill_key(locode: &str, bill: &BillId) -> Vec<u8> {
    [IndexKey::Location(locode).prefix(), bill.0 .0.to_vec()].concat()
}

/// Index key: container number -> bill.
pub fn container_bill_key(container: &str, bill: &BillId) -> Vec<u8> {
    [IndexKey::Container(container).prefix(), bill.0 .0.to_vec()].concat()
}

/// Decodes a u64 stored big-endian.
pub fn be_u64(v: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(v).ok().map(u64::from_be_bytes)
}

/// Decodes the registry head value.
pub fn registry_head(v: &[u8]) -> Option<(u64, Hash32)> {
    if v.len() != 40 {
        return None;
    }
    Some((be_u64(&v[..8])?, Hash32::from_slice(&v[8..])?))
}
