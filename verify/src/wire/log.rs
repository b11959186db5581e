//! The log RPCs' requests -> checked queries (the inbound edge of `api::log`). Shapes only;
//! whether a size or index fits the tree is judged by the handler against the latest checkpoint.

use crate::pb;
use ebl_core::hash::Hash32;
use ebl_core::RuleError;

/// Most leaf hashes one GetLeafHashes call returns.
pub const MAX_LEAF_HASHES: u64 = 1000;

/// Which leaf an inclusion proof is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// The leaf of the record with this hash.
    Record(Hash32),
    /// The leaf at this index.
    Index(u64),
}

/// A checked GetInclusionProof request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusionQuery {
    /// The leaf.
    pub leaf: Leaf,
    /// The tree size; `None` for the latest checkpoint's.
    pub tree_size: Option<u64>,
}

/// A checked GetConsistencyProof request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsistencyQuery {
    /// The older size.
    pub first: u64,
    /// The newer size; `None` for the latest checkpoint's.
    pub second: Option<u64>,
}

/// A checked GetCheckpoint request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointQuery {
    /// Serve the newest recent checkpoint with at least this many cosignatures (0: the latest).
    pub min_cosignatures: usize,
}

/// Checks a GetCheckpoint request.
pub fn checkpoint_query(r: &pb::GetCheckpointRequest) -> CheckpointQuery {
    CheckpointQuery { min_cosignatures: r.min_cosignatures as usize }
}

/// A checked GetLeafHashes request: `[start, start + count)`, `count` within the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafRange {
    /// First leaf index.
    pub start: u64,
    /// How many.
    pub count: u64,
}

/// Checks a GetInclusionProof request.
pub fn inclusion_query(r: &pb::GetInclusionProofRequest) -> Result<InclusionQuery, RuleError> {
    use pb::get_inclusion_proof_request::Leaf as L;
    let leaf = match &r.leaf {
        Some(L::RecordHash(h)) => Leaf::Record(super::hash32("record_hash", h)?),
        Some(L::Index(i)) => Leaf::Index(*i),
        None => return Err(RuleError::invalid("leaf", "give record_hash or index")),
    };
    Ok(InclusionQuery { leaf, tree_size: r.tree_size })
}

/// Checks a GetConsistencyProof request.
pub fn consistency_query(r: &pb::GetConsistencyProofRequest) -> ConsistencyQuery {
    ConsistencyQuery { first: r.first, second: r.second }
}

/// Checks a GetLeafHashes request.
pub fn leaf_range(r: &pb::GetLeafHashesRequest) -> Result<LeafRange, RuleError> {
    if r.count > MAX_LEAF_HASHES {
        return Err(RuleError::Limit {
            reason: "LEAF_RANGE_TOO_LARGE",
            why: format!("count is {}; at most {MAX_LEAF_HASHES} leaf hashes per call", r.count),
        });
    }
    Ok(LeafRange { start: r.start, count: r.count })
}
