//! Agents: a party (the principal) authorises another (the agent) to sign named title actions on
//! its behalf, by a DELEGATE record on the registry chain that the operator registers and the
//! principal co-signs; REVOKE_DELEGATION ends it. Like a key, a grant is valid for records placed
//! in the log after it and before its revocation, judged at each record's own sequence number, so
//! replaying an old record judges it by the grant in force then.
//! Owns the grant rules and the refusals of an agent's record; the registry chain itself and key
//! checks are in [`crate::apply`].

use crate::error::{Result, RuleError};
use crate::ids::PartyId;
use crate::registry::{Party, Role};

/// The title and custody actions a principal may delegate (registry actions are the operator's
/// alone; customs act themselves).
pub const DELEGABLE: [&str; 20] = [
    "ISSUE",
    "TRANSFER",
    "ENDORSE",
    "ENDORSE_TO_ORDER",
    "BLANK_ENDORSE",
    "SIGN",
    "REJECT",
    "SURRENDER_FOR_DELIVERY",
    "SURRENDER_FOR_AMENDMENT",
    "SACC",
    "SREJ",
    "PLEDGE",
    "RELEASE_PLEDGE",
    "ENFORCE_PLEDGE",
    "DEPART",
    "ARRIVE",
    "HANDOFF",
    "DELIVER",
    "REROUTE",
    "ALL",
];

/// The content of a DELEGATE record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delegation {
    /// The party on whose behalf the agent signs; it co-signs the record.
    pub principal: PartyId,
    /// The party that will sign.
    pub agent: PartyId,
    /// The action names the agent may sign (see [`DELEGABLE`]; `ALL` means every title action).
    pub actions: Vec<String>,
    /// The mandate it rests on (power of attorney, agency agreement), free text, stored.
    pub reference: String,
}

/// One grant between a principal and an agent, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    /// What the agent may sign.
    pub actions: Vec<String>,
    /// The mandate it rests on.
    pub reference: String,
    /// Global sequence number of the DELEGATE record.
    pub added_at: u64,
    /// Global sequence number of the REVOKE_DELEGATION record.
    pub revoked_at: Option<u64>,
}

impl Grant {
    /// Whether a record at sequence `seq` falls within the grant's life.
    pub fn live_at(&self, seq: u64) -> bool {
        self.added_at < seq && self.revoked_at.is_none_or(|r| seq < r)
    }

    /// Whether the grant covers the action `name`.
    pub fn covers(&self, name: &str) -> bool {
        self.actions.iter().any(|a| a == name || a == "ALL")
    }
}

/// Every grant ever made by one principal to one agent, oldest first: at most the last is live.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grants(pub Vec<Grant>);

impl Grants {
    /// The grant in force now (not revoked), if any.
    pub fn current(&self) -> Option<&Grant> {
        self.0.last().filter(|g| g.revoked_at.is_none())
    }

    /// Whether any grant lets the agent sign `action` at sequence `seq`.
    pub fn allows(&self, action: &str, seq: u64) -> bool {
        self.0.iter().any(|g| g.live_at(seq) && g.covers(action))
    }
}

fn may_take_part(field: &str, p: &Party) -> Result<()> {
    match p.registration.role {
        Role::Carrier | Role::Trader | Role::Bank => Ok(()),
        r => Err(RuleError::invalid(
            field,
            format!("party '{}' has role {} and takes no part in delegations", p.registration.party, r.name()),
        )),
    }
}

/// Checks a DELEGATE record against the registry: both parties registered and able to act on
/// bills, distinct, the actions known and unrepeated, and no grant between them already in force.
pub fn check_grant(d: &Delegation, principal: Option<&Party>, agent: Option<&Party>, existing: &Grants) -> Result<()> {
    let principal = principal.ok_or_else(|| {
        RuleError::invalid("delegate.principal", format!("party '{}' is not registered", d.principal))
    })?;
    let agent =
        agent.ok_or_else(|| RuleError::invalid("delegate.agent", format!("party '{}' is not registered", d.agent)))?;
    may_take_part("delegate.principal", principal)?;
    may_take_part("delegate.agent", agent)?;
    if d.principal == d.agent {
        return Err(RuleError::invalid("delegate.agent", "a party is not its own agent"));
    }
    if d.actions.is_empty() {
        return Err(RuleError::invalid("delegate.actions", "name at least one action (or ALL)"));
    }
    for (i, a) in d.actions.iter().enumerate() {
        if !DELEGABLE.contains(&a.as_str()) {
            return Err(RuleError::invalid(
                format!("delegate.actions[{i}]"),
                format!("'{a}' is not a title action that can be delegated ({})", DELEGABLE.join(", ")),
            ));
        }
        if d.actions[..i].contains(a) {
            return Err(RuleError::invalid(format!("delegate.actions[{i}]"), format!("'{a}' is named twice")));
        }
    }
    if d.reference.len() > 200 {
        return Err(RuleError::invalid("delegate.reference", "at most 200 bytes"));
    }
    if existing.current().is_some() {
        return Err(RuleError::Exists {
            reason: "DELEGATION_EXISTS",
            why: format!(
                "'{}' already acts for '{}': revoke that delegation before granting another",
                d.agent, d.principal
            ),
        });
    }
    Ok(())
}

/// The grants after a REVOKE_DELEGATION at sequence `seq`.
pub fn revoke(principal: &PartyId, agent: &PartyId, existing: &Grants, seq: u64) -> Result<Grants> {
    if existing.current().is_none() {
        return Err(RuleError::invalid(
            "revoke_delegation.agent",
            format!("'{agent}' holds no delegation in force from '{principal}'"),
        ));
    }
    let mut next = existing.clone();
    if let Some(last) = next.0.last_mut() {
        last.revoked_at = Some(seq);
    }
    Ok(next)
}

/// Refuses a title record that `agent` signs for `principal` unless a grant in force at `seq`
/// covers `action`.
pub fn authorise(principal: &PartyId, agent: &PartyId, grants: &Grants, action: &str, seq: u64) -> Result<()> {
    if grants.allows(action, seq) {
        return Ok(());
    }
    let held_then = grants.0.iter().find(|g| g.live_at(seq));
    Err(match held_then {
        Some(g) => RuleError::forbidden(
            "OUTSIDE_DELEGATION",
            format!("'{agent}' may sign only {} for '{principal}', not {action}", g.actions.join(", ")),
        ),
        None if grants.0.iter().any(|g| g.added_at < seq && g.revoked_at.is_some_and(|r| r <= seq)) => {
            RuleError::forbidden(
                "DELEGATION_REVOKED",
                format!("the delegation from '{principal}' to '{agent}' was revoked before this point of the log"),
            )
        }
        None => RuleError::forbidden(
            "NOT_AGENT",
            format!("'{agent}' holds no delegation from '{principal}' and cannot sign on its behalf"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(actions: &[&str], added_at: u64, revoked_at: Option<u64>) -> Grant {
        Grant {
            actions: actions.iter().map(|s| s.to_string()).collect(),
            reference: String::new(),
            added_at,
            revoked_at,
        }
    }

    #[test]
    fn grants_are_judged_by_log_position_and_scope() {
        let p = PartyId::parse("p", "carrier").unwrap();
        let a = PartyId::parse("a", "agent").unwrap();
        let g = Grants(vec![grant(&["SACC", "SREJ"], 5, Some(9))]);
        assert!(authorise(&p, &a, &g, "SACC", 6).is_ok());
        assert_eq!(authorise(&p, &a, &g, "SACC", 5).unwrap_err().reason(), "NOT_AGENT");
        assert_eq!(authorise(&p, &a, &g, "TRANSFER", 6).unwrap_err().reason(), "OUTSIDE_DELEGATION");
        assert_eq!(authorise(&p, &a, &g, "SACC", 9).unwrap_err().reason(), "DELEGATION_REVOKED");
        assert_eq!(authorise(&p, &a, &Grants::default(), "SACC", 9).unwrap_err().reason(), "NOT_AGENT");
        let all = Grants(vec![grant(&["ALL"], 1, None)]);
        assert!(authorise(&p, &a, &all, "ENFORCE_PLEDGE", 2).is_ok());
        // A grant made again after a revocation covers records after it, not the gap between.
        let again = Grants(vec![grant(&["SACC"], 5, Some(9)), grant(&["SACC"], 12, None)]);
        assert!(authorise(&p, &a, &again, "SACC", 7).is_ok());
        assert_eq!(authorise(&p, &a, &again, "SACC", 10).unwrap_err().reason(), "DELEGATION_REVOKED");
        assert!(authorise(&p, &a, &again, "SACC", 13).is_ok());
    }

    #[test]
    fn revoke_needs_a_grant_in_force() {
        let p = PartyId::parse("p", "carrier").unwrap();
        let a = PartyId::parse("a", "agent").unwrap();
        let g = Grants(vec![grant(&["SACC"], 5, None)]);
        let r = revoke(&p, &a, &g, 8).unwrap();
        assert_eq!(r.0[0].revoked_at, Some(8));
        assert!(revoke(&p, &a, &r, 9).is_err());
    }
}
