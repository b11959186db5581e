//! Identities: parties, bills and chains. Owns their validation and the bill-id derivation.

use crate::error::RuleError;
use crate::hash::Hash32;
use std::fmt;

/// The reserved party id of the ledger operator, whose key is given to the server at start.
pub const OPERATOR: &str = "operator";

/// A registered party's id: 1-64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct PartyId(String);

impl PartyId {
    /// Validates `s` as a party id; `field` names it in the error.
    pub fn parse(field: &str, s: &str) -> Result<Self, RuleError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(PartyId(s.to_string()))
        } else {
            Err(RuleError::invalid(
                field,
                format!("'{s}' is not a party id (1-64 of a-z 0-9 . _ -, starting with a letter or digit)"),
            ))
        }
    }

    /// The operator's id.
    pub fn operator() -> Self {
        PartyId(OPERATOR.to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bill's identity: derived from the issuing carrier, the document reference and the
/// amendment number, so an amended bill can reuse its reference.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub struct BillId(pub Hash32);

/// Domain tag of the bill-id derivation.
pub const BILL_ID_TAG: &str = "ebl.v1/bill-id";

impl BillId {
    /// `SHA-256("ebl.v1/bill-id" || 0x00 || carrier || 0x00 || reference || 0x00 || amendment as u32 big-endian)`.
    pub fn derive(carrier: &PartyId, reference: &str, amendment: u32) -> Self {
        BillId(Hash32::tagged(
            BILL_ID_TAG,
            &[carrier.as_str().as_bytes(), &[0], reference.as_bytes(), &[0], &amendment.to_be_bytes()],
        ))
    }
}

impl fmt::Display for BillId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A hash chain: the registry's single chain, or one bill's title chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub enum ChainId {
    /// Party and key records, signed by the operator.
    Registry,
    /// A bill's title records.
    Title(BillId),
    /// A bill's custody records (legs, handoffs, customs), apart from its title.
    Custody(BillId),
}

impl ChainId {
    /// The bill a title or custody chain belongs to.
    pub fn bill(&self) -> Option<BillId> {
        match self {
            ChainId::Registry => None,
            ChainId::Title(b) | ChainId::Custody(b) => Some(*b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_ids() {
        assert!(PartyId::parse("p", "cq-mto.01").is_ok());
        for bad in ["", "-x", "Upper", "a b", &"x".repeat(65)] {
            assert!(PartyId::parse("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bill_id_separates_its_parts() {
        let c = PartyId::parse("c", "carrier").unwrap();
        let a = BillId::derive(&c, "REF1", 0);
        assert_ne!(a, BillId::derive(&c, "REF1", 1));
        assert_ne!(a, BillId::derive(&c, "REF2", 0));
        assert_ne!(a, BillId::derive(&PartyId::parse("c", "carrier2").unwrap(), "REF1", 0));
    }
}
