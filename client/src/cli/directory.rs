//! Who is who, from the registry chain's records: each party's name, role and identifying codes
//! (LEI...), its keys with their validity (added, revoked or rotated out: from which record to
//! which), and delegations likewise. Built from the records `GetRegistry` returns (online) or a
//! proof bundle carries (offline), decoded here with the wire format's own decoder; it checks
//! nothing (the ledger or `ebl verify` did) and asks nothing.

use ebl_core::document::IdentifyingCode;
use ebl_core::ids::PartyId;
use ebl_core::record::Action;
use ebl_core::registry::Role;
use ebl_verify::wire::payload::decode_payload;
use std::collections::BTreeMap;

/// A point of the log: a record's log index and server time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// Log index (seq).
    pub seq: u64,
    /// The ledger's server time of that record.
    pub time: String,
}

/// A registered party.
#[derive(Debug, Clone)]
pub struct PartyEntry {
    /// Legal name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Identifying codes (LEI, DID, DUNS...).
    pub codes: Vec<IdentifyingCode>,
    /// For customs: the places it covers.
    pub jurisdiction: Vec<String>,
    /// Its registration.
    pub registered: At,
}

impl PartyEntry {
    /// Its LEI, if one of its codes is one (code list `LEI`, or provider `GLEIF`).
    pub fn lei(&self) -> Option<&str> {
        self.codes
            .iter()
            .find(|c| c.code_list_name.as_deref() == Some("LEI") || c.provider == "GLEIF")
            .map(|c| c.party_code.as_str())
    }
}

/// A party's key and when it may sign: records after `added`, and before `ended` if it ended.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// Owner.
    pub party: PartyId,
    /// The public key, 64 hex.
    pub key: String,
    /// The ADD_KEY or ROTATE_KEY record that added it.
    pub added: At,
    /// The REVOKE_KEY or ROTATE_KEY record that ended it, with that record's action and reason.
    pub ended: Option<(At, &'static str, String)>,
}

/// A delegation from a principal to an agent.
#[derive(Debug, Clone)]
pub struct DelegationEntry {
    /// Who delegated.
    pub principal: PartyId,
    /// Who signs for it.
    pub agent: PartyId,
    /// The actions the agent may sign.
    pub actions: Vec<String>,
    /// The mandate it rests on.
    pub reference: String,
    /// The DELEGATE record.
    pub added: At,
    /// The REVOKE_DELEGATION record and its reason, if it ended.
    pub ended: Option<(At, String)>,
}

/// The registry as of the last record given.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Parties by id.
    pub parties: BTreeMap<PartyId, PartyEntry>,
    /// Keys in log order.
    pub keys: Vec<KeyEntry>,
    /// Delegations in log order.
    pub delegations: Vec<DelegationEntry>,
}

impl Directory {
    /// From registry records as `(log index, server time, payload bytes)`, in log order;
    /// records that do not decode or are not registry records are passed over.
    pub fn from_records<'a>(records: impl IntoIterator<Item = (u64, &'a str, &'a [u8])>) -> Self {
        let mut d = Directory::default();
        for (seq, time, bytes) in records {
            let Ok(p) = decode_payload(bytes) else { continue };
            d.apply(At { seq, time: time.to_string() }, p.action);
        }
        d
    }

    /// From the records `GetRegistry` returns.
    pub fn from_stored(records: &[crate::pb::StoredRecord]) -> Self {
        Self::from_records(records.iter().filter_map(|r| {
            let (receipt, rec) = (r.receipt.as_ref()?, r.record.as_ref()?);
            Some((receipt.seq, receipt.server_time.as_str(), rec.payload.as_slice()))
        }))
    }

    /// From a proof bundle's registry records.
    pub fn from_bundle(b: &crate::bundle::Bundle) -> Self {
        Self::from_records(
            b.records
                .iter()
                .filter(|r| r.chain == crate::bundle::ChainKind::Registry)
                .map(|r| (r.seq, r.server_time.as_str(), r.payload.as_slice())),
        )
    }

    fn apply(&mut self, at: At, action: Action) {
        match action {
            Action::RegisterParty(r) => {
                let entry = PartyEntry {
                    name: r.name,
                    role: r.role,
                    codes: r.codes,
                    jurisdiction: r.jurisdiction,
                    registered: at,
                };
                self.parties.insert(r.party, entry);
            }
            Action::AddKey { party, key } => {
                self.keys.push(KeyEntry { party, key: key.to_hex(), added: at, ended: None })
            }
            Action::RevokeKey { party, key, reason } => self.end_key(&party, &key.to_hex(), at, "REVOKE_KEY", reason),
            Action::RotateKey { party, old, new } => {
                self.end_key(&party, &old.to_hex(), at.clone(), "ROTATE_KEY", String::new());
                self.keys.push(KeyEntry { party, key: new.to_hex(), added: at, ended: None });
            }
            Action::Delegate(g) => self.delegations.push(DelegationEntry {
                principal: g.principal,
                agent: g.agent,
                actions: g.actions,
                reference: g.reference,
                added: at,
                ended: None,
            }),
            Action::RevokeDelegation { principal, agent, reason } => {
                let live = self
                    .delegations
                    .iter_mut()
                    .rev()
                    .find(|g| g.principal == principal && g.agent == agent && g.ended.is_none());
                if let Some(g) = live {
                    g.ended = Some((at, reason));
                }
            }
            _ => {}
        }
    }

    fn end_key(&mut self, party: &PartyId, key: &str, at: At, how: &'static str, reason: String) {
        let live = self.keys.iter_mut().rev().find(|k| &k.party == party && k.key == key && k.ended.is_none());
        if let Some(k) = live {
            k.ended = Some((at, how, reason));
        }
    }

    /// The party registered as `id`, if any.
    pub fn party(&self, id: &str) -> Option<&PartyEntry> {
        PartyId::parse("party", id).ok().and_then(|p| self.parties.get(&p))
    }
}
