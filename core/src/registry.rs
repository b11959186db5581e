//! Parties and their keys: the registry's state and the rules of its records. A key is valid
//! for records placed in the log after its registration and before its revocation.

use crate::document::IdentifyingCode;
use crate::error::{AuthFailure, RuleError};
use crate::ids::PartyId;

/// What a party may do on the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// Issues bills, records custody, accepts surrenders.
    Carrier,
    /// Shipper, consignee, trader: holds and moves bills.
    Trader,
    /// Lends against bills; takes them as endorsee or pledgee.
    Bank,
    /// Sees bills touching its jurisdiction; holds and releases.
    Customs,
    /// Sees everything, changes nothing.
    Auditor,
}

impl Role {
    /// Upper-case name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Role::Carrier => "CARRIER",
            Role::Trader => "TRADER",
            Role::Bank => "BANK",
            Role::Customs => "CUSTOMS",
            Role::Auditor => "AUDITOR",
        }
    }
}

/// The content of a REGISTER_PARTY record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Registration {
    /// The new party's id.
    pub party: PartyId,
    /// Legal name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// For CUSTOMS: ISO country codes (2 letters) or UN/LOCODEs (5) it covers; empty otherwise.
    pub jurisdiction: Vec<String>,
    /// DCSA-style identifying codes (LEI, DID, DUNS, SCAC, platform codes...).
    pub codes: Vec<IdentifyingCode>,
}

/// A registered party, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Party {
    /// The registration it was created by.
    pub registration: Registration,
    /// Global sequence number of that registration.
    pub registered_at: u64,
}

impl Party {
    /// Whether any of the party's identifying codes equals one of `codes` (provider and code).
    pub fn matches_any(&self, codes: &[IdentifyingCode]) -> bool {
        self.registration
            .codes
            .iter()
            .any(|mine| codes.iter().any(|c| c.provider == mine.provider && c.party_code == mine.party_code))
    }

    /// Whether a customs party's jurisdiction covers a UN/LOCODE.
    pub fn covers(&self, locode: &str) -> bool {
        jurisdiction_covers(&self.registration.jurisdiction, locode)
    }
}

/// Whether a jurisdiction (ISO country codes or UN/LOCODEs) covers a UN/LOCODE: the place
/// itself, or the country it is in.
pub fn jurisdiction_covers(jurisdiction: &[String], locode: &str) -> bool {
    jurisdiction.iter().any(|j| j == locode || (j.len() == 2 && locode.starts_with(j.as_str())))
}

/// A registered key, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    /// Owner.
    pub party: PartyId,
    /// Global sequence number of the record that added it.
    pub added_at: u64,
    /// Global sequence number of the record that revoked it.
    pub revoked_at: Option<u64>,
}

impl KeyRecord {
    /// Whether a record placed at global sequence `seq` may be signed with this key.
    pub fn valid_at(&self, seq: u64) -> bool {
        self.added_at < seq && self.revoked_at.is_none_or(|r| seq < r)
    }

    /// Refuses unless this key belongs to `party` and is valid at `seq`.
    pub fn check(&self, party: &PartyId, seq: u64) -> Result<(), RuleError> {
        if &self.party != party {
            return Err(RuleError::auth(
                AuthFailure::KeyNotOwned,
                party.as_str(),
                format!("key belongs to party '{}'", self.party),
            ));
        }
        if !self.valid_at(seq) {
            return Err(RuleError::auth(
                AuthFailure::KeyRevoked,
                party.as_str(),
                "key was revoked before this point of the log",
            ));
        }
        Ok(())
    }
}

/// Validates a registration's own fields.
pub fn check_registration(r: &Registration) -> Result<(), RuleError> {
    if r.party.as_str() == crate::ids::OPERATOR {
        return Err(RuleError::invalid("register_party.party", "'operator' is reserved"));
    }
    if r.name.trim().is_empty() || r.name.len() > 200 {
        return Err(RuleError::invalid("register_party.name", "1-200 characters required"));
    }
    if (r.role == Role::Customs) == r.jurisdiction.is_empty() {
        return Err(RuleError::invalid("register_party.jurisdiction", "required for CUSTOMS and only for CUSTOMS"));
    }
    if r.jurisdiction.len() > MAX_JURISDICTION {
        return Err(RuleError::invalid(
            "register_party.jurisdiction",
            format!("{} places; at most {MAX_JURISDICTION}", r.jurisdiction.len()),
        ));
    }
    if r.codes.len() > MAX_CODES {
        return Err(RuleError::invalid(
            "register_party.codes",
            format!("{} codes; at most {MAX_CODES}", r.codes.len()),
        ));
    }
    for (i, j) in r.jurisdiction.iter().enumerate() {
        if r.jurisdiction[..i].contains(j) {
            return Err(RuleError::invalid(
                format!("register_party.jurisdiction[{i}]"),
                format!("'{j}' is listed twice"),
            ));
        }
        let country = j.len() == 2 && j.bytes().all(|b| b.is_ascii_uppercase());
        if !country && !crate::document::is_locode(j) {
            return Err(RuleError::invalid(
                format!("register_party.jurisdiction[{i}]"),
                format!("'{j}' is neither an ISO country code nor a UN/LOCODE"),
            ));
        }
    }
    for (i, c) in r.codes.iter().enumerate() {
        if c.provider.is_empty() || c.party_code.is_empty() {
            return Err(RuleError::invalid(
                format!("register_party.codes[{i}]"),
                "provider and party_code are required",
            ));
        }
        if r.codes[..i].contains(c) {
            return Err(RuleError::invalid(format!("register_party.codes[{i}]"), "this code is listed twice"));
        }
    }
    Ok(())
}

/// Most places a customs party's jurisdiction lists.
pub const MAX_JURISDICTION: usize = 64;
/// Most identifying codes a party lists.
pub const MAX_CODES: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_validity_is_by_log_position() {
        let p = PartyId::parse("p", "bank").unwrap();
        let k = KeyRecord { party: p.clone(), added_at: 5, revoked_at: Some(9) };
        assert!(!k.valid_at(5));
        assert!(k.valid_at(6) && k.valid_at(8));
        assert!(!k.valid_at(9));
        assert_eq!(k.check(&PartyId::parse("p", "other").unwrap(), 7).unwrap_err().reason(), "KEY_NOT_OWNED");
        assert_eq!(k.check(&p, 10).unwrap_err().reason(), "KEY_REVOKED");
    }

    #[test]
    fn customs_jurisdiction() {
        let reg = |role, j: &[&str]| Registration {
            party: PartyId::parse("p", "x").unwrap(),
            name: "X".into(),
            role,
            jurisdiction: j.iter().map(|s| s.to_string()).collect(),
            codes: vec![],
        };
        assert!(check_registration(&reg(Role::Customs, &["SG", "CNQZH"])).is_ok());
        assert!(check_registration(&reg(Role::Customs, &[])).is_err());
        assert!(check_registration(&reg(Role::Trader, &["SG"])).is_err());
        assert!(check_registration(&reg(Role::Customs, &["sg"])).is_err());
        let party = Party { registration: reg(Role::Customs, &["SG"]), registered_at: 1 };
        assert!(party.covers("SGSIN") && !party.covers("CNQZH"));
    }
}
