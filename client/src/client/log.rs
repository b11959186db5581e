//! The client's side of the transparency log: checkpoints, proofs, leaf hashes, and the offline
//! c2sp.org/tlog-proof of a record, checked here before it is handed out.

use super::Client;
use crate::pb::{self, get_inclusion_proof_request::Leaf};
use ebl_core::hash::Hash32;
use ebl_core::log::{LogEntry, NoteError, SignedNote, TlogProof, VerifierKey};
use tonic::Status;

/// Why a log export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LogClientError {
    /// The ledger refused.
    #[error(transparent)]
    Status(#[from] Status),
    /// What the ledger sent does not parse or verify.
    #[error("the ledger's answer does not verify: {0}")]
    Note(#[from] NoteError),
    /// What the ledger sent is malformed.
    #[error("the ledger's answer is malformed: {0}")]
    Malformed(String),
}

impl Client {
    /// The latest signed checkpoint, with the cosignatures gathered so far.
    pub async fn checkpoint(&mut self) -> Result<pb::CheckpointView, Status> {
        self.checkpoint_with(0).await
    }

    /// The newest recent checkpoint cosigned by at least `min_cosignatures` witnesses (0: the
    /// latest); NOT_FOUND if there is none yet.
    pub async fn checkpoint_with(&mut self, min_cosignatures: u32) -> Result<pb::CheckpointView, Status> {
        Ok(self.grpc.get_checkpoint(pb::GetCheckpointRequest { min_cosignatures }).await?.into_inner())
    }

    /// The inclusion proof of a leaf in the tree of `tree_size` (default: the latest checkpoint's).
    pub async fn inclusion(&mut self, leaf: Leaf, tree_size: Option<u64>) -> Result<pb::InclusionProof, Status> {
        let req = pb::GetInclusionProofRequest { leaf: Some(leaf), tree_size };
        Ok(self.grpc.get_inclusion_proof(req).await?.into_inner())
    }

    /// The consistency proof from `first` to `second` (default: the latest checkpoint's size).
    pub async fn consistency(&mut self, first: u64, second: Option<u64>) -> Result<pb::ConsistencyProof, Status> {
        let req = pb::GetConsistencyProofRequest { first, second };
        Ok(self.grpc.get_consistency_proof(req).await?.into_inner())
    }

    /// Leaf hashes `[start, start + count)`.
    pub async fn leaf_hashes(&mut self, start: u64, count: u64) -> Result<pb::LeafHashes, Status> {
        Ok(self.grpc.get_leaf_hashes(pb::GetLeafHashesRequest { start, count }).await?.into_inner())
    }

    /// The ledger's checkpoint verifier key, as its info publishes it.
    pub fn verifier_key(&self) -> Result<VerifierKey, LogClientError> {
        Ok(VerifierKey::parse(&self.info.log_verifier_key)?)
    }

    /// The c2sp.org/tlog-proof@v1 of the record with `hash` in the latest checkpoint: the
    /// 80-byte log entry as `extra`, the leaf index, the audit path and the signed checkpoint.
    /// Verified against the ledger's verifier key before it is returned.
    pub async fn tlog_proof(&mut self, hash: Hash32) -> Result<TlogProof, LogClientError> {
        let cp = self.checkpoint().await?;
        let proof = self.inclusion(Leaf::RecordHash(hash.0.to_vec()), Some(cp.size)).await?;
        let entry = LogEntry::decode(&proof.entry).ok_or_else(|| LogClientError::Malformed("entry".into()))?;
        if entry.record_hash != hash {
            return Err(LogClientError::Malformed(format!("entry is for record {}", entry.record_hash)));
        }
        let path = proof
            .hashes
            .iter()
            .map(|h| Hash32::from_slice(h).ok_or_else(|| LogClientError::Malformed("proof hash".into())))
            .collect::<Result<Vec<_>, _>>()?;
        let tlog = TlogProof::new(proof.entry.clone(), proof.index, path, SignedNote::parse(&cp.note)?)?;
        tlog.verify(&entry.leaf_hash(), &self.verifier_key()?, &[])?;
        Ok(tlog)
    }
}
