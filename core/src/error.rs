//! The core's errors: [`RuleError`] is the one type of a rule's refusal; [`Unreadable`] is a read
//! the storage could not answer; [`ApplyError`] is either. Each variant carries its cause;
//! [`RuleError::kind`] says which of the ledger's status classes (docs/operations.md) it belongs
//! to and [`RuleError::reason`] gives the machine-readable reason. The gRPC layer maps `kind` to a
//! status code in exactly one place.

use crate::hash::Hash32;

/// The classes of refusal (each maps to one gRPC status code, docs/operations.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Malformed input; the error names the field.
    InvalidArgument,
    /// Bad, unknown, expired or revoked key or signature.
    Unauthenticated,
    /// A valid signer without the right to act.
    PermissionDenied,
    /// A title rule refuses the action in the bill's current state.
    FailedPrecondition,
    /// Stale head: someone else moved the chain first.
    Aborted,
    /// No such bill, or one the caller may not see.
    NotFound,
    /// A different object already uses that identity.
    AlreadyExists,
    /// A size or rate limit.
    ResourceExhausted,
}

/// Why an authentication check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// The signature does not verify (strictly) over the signed bytes.
    BadSignature,
    /// The public key is malformed or of small order.
    WeakKey,
    /// The named party is not registered.
    UnknownParty,
    /// The key is not registered at all.
    UnknownKey,
    /// The key is registered to another party.
    KeyNotOwned,
    /// The key was revoked before this record's place in the log.
    KeyRevoked,
    /// A party that must sign did not.
    MissingSignature,
    /// A signature from a party that has no part in this record.
    UnexpectedSigner,
    /// A read envelope was already used (same nonce).
    Replayed,
    /// A read envelope's time is outside its window.
    Expired,
}

impl AuthFailure {
    /// Machine-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            AuthFailure::BadSignature => "BAD_SIGNATURE",
            AuthFailure::WeakKey => "WEAK_KEY",
            AuthFailure::UnknownParty => "UNKNOWN_PARTY",
            AuthFailure::UnknownKey => "UNKNOWN_KEY",
            AuthFailure::KeyNotOwned => "KEY_NOT_OWNED",
            AuthFailure::KeyRevoked => "KEY_REVOKED",
            AuthFailure::MissingSignature => "MISSING_SIGNATURE",
            AuthFailure::UnexpectedSigner => "UNEXPECTED_SIGNER",
            AuthFailure::Replayed => "READ_REPLAYED",
            AuthFailure::Expired => "READ_EXPIRED",
        }
    }
}

/// The state could not be read (the storage under a [`crate::apply::View`] or a
/// [`crate::log::NodeSource`] failed): not a rule's answer. Callers tell their client the ledger
/// is unavailable (or damaged), never that a rule refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the ledger's state could not be read: {what}")]
pub struct Unreadable {
    /// What failed.
    pub what: String,
    /// Whether the storage says it is damaged (a block failing its checksum, a value that does
    /// not decode), as opposed to unavailable for now.
    pub damaged: bool,
}

/// Why `apply` did not accept a record: a rule refused it, or the state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A rule refused the record.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The state could not be read; nothing was decided.
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
}

/// Every refusal the core can produce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A field is missing or malformed.
    #[error("{field}: {why}")]
    Invalid {
        /// The field, as a path in the request or payload.
        field: String,
        /// What was expected.
        why: String,
    },
    /// Signed bytes (a payload, a read envelope or its request) are not the one canonical encoding
    /// of their content.
    #[error("{field}: not the canonical encoding of its content ({why})")]
    NonCanonical {
        /// Which bytes: `payload`, `envelope` or `envelope.request`.
        field: String,
        /// What differs.
        why: String,
    },
    /// The transport document breaks a validation rule.
    #[error("document {path}: {why}")]
    Document {
        /// JSON path of the offending value, e.g. `$.transports.portOfLoading.UNLocationCode`.
        path: String,
        /// Machine-readable rule name.
        rule: &'static str,
        /// What was expected.
        why: String,
    },
    /// The claimed time lies outside the accepted window around server time.
    #[error("claimed_time: {claimed} is outside the window [{earliest}, {latest}] around server time")]
    TimeWindow {
        /// The time the actor claimed.
        claimed: String,
        /// Earliest accepted claim.
        earliest: String,
        /// Latest accepted claim.
        latest: String,
    },
    /// A signature or key check failed.
    #[error("party '{party}': {why}")]
    Auth {
        /// Which check.
        failure: AuthFailure,
        /// The party named by the signature or the record.
        party: String,
        /// Detail.
        why: String,
    },
    /// A valid signer without the right to act.
    #[error("{why}")]
    Forbidden {
        /// Machine-readable reason.
        reason: &'static str,
        /// Detail naming the party and the right it lacks.
        why: String,
    },
    /// A rule refuses the action in the current state.
    #[error("{why}")]
    Refused {
        /// Machine-readable reason.
        reason: &'static str,
        /// Detail naming the rule.
        why: String,
    },
    /// The record names a previous head that is no longer the head.
    #[error("stale head: record is for position {position} after {expected}, but the chain's head is now position {head_position} ({head})")]
    Stale {
        /// Position the record claims.
        position: u64,
        /// Previous hash the record names.
        expected: String,
        /// Current head position.
        head_position: u64,
        /// Current head hash.
        head: String,
    },
    /// No such object, or one the caller may not see.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up.
        what: String,
    },
    /// A different object already has this identity.
    #[error("{why}")]
    Exists {
        /// Machine-readable reason.
        reason: &'static str,
        /// Detail.
        why: String,
    },
    /// A limit was reached.
    #[error("{why}")]
    Limit {
        /// Machine-readable reason.
        reason: &'static str,
        /// Detail naming the limit.
        why: String,
    },
}

impl RuleError {
    /// The status class of this error.
    pub fn kind(&self) -> Kind {
        match self {
            RuleError::Invalid { .. }
            | RuleError::NonCanonical { .. }
            | RuleError::Document { .. }
            | RuleError::TimeWindow { .. } => Kind::InvalidArgument,
            RuleError::Auth { .. } => Kind::Unauthenticated,
            RuleError::Forbidden { .. } => Kind::PermissionDenied,
            RuleError::Refused { .. } => Kind::FailedPrecondition,
            RuleError::Stale { .. } => Kind::Aborted,
            RuleError::NotFound { .. } => Kind::NotFound,
            RuleError::Exists { .. } => Kind::AlreadyExists,
            RuleError::Limit { .. } => Kind::ResourceExhausted,
        }
    }

    /// The machine-readable reason (SCREAMING_SNAKE_CASE).
    pub fn reason(&self) -> &'static str {
        match self {
            RuleError::Invalid { .. } => "INVALID_FIELD",
            RuleError::NonCanonical { .. } => "NON_CANONICAL_ENCODING",
            RuleError::Document { rule, .. } => rule,
            RuleError::TimeWindow { .. } => "CLAIMED_TIME_OUT_OF_WINDOW",
            RuleError::Auth { failure, .. } => failure.reason(),
            RuleError::Forbidden { reason, .. }
            | RuleError::Refused { reason, .. }
            | RuleError::Exists { reason, .. }
            | RuleError::Limit { reason, .. } => reason,
            RuleError::Stale { .. } => "STALE_HEAD",
            RuleError::NotFound { .. } => "NOT_FOUND",
        }
    }

    /// The field the error is about, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            RuleError::Invalid { field, .. } => Some(field),
            RuleError::Document { path, .. } => Some(path),
            RuleError::TimeWindow { .. } => Some("claimed_time"),
            _ => None,
        }
    }

    /// Shorthand for [`RuleError::Invalid`].
    pub fn invalid(field: impl Into<String>, why: impl Into<String>) -> Self {
        RuleError::Invalid { field: field.into(), why: why.into() }
    }

    /// Shorthand for [`RuleError::Refused`].
    pub fn refused(reason: &'static str, why: impl Into<String>) -> Self {
        RuleError::Refused { reason, why: why.into() }
    }

    /// Shorthand for [`RuleError::Forbidden`].
    pub fn forbidden(reason: &'static str, why: impl Into<String>) -> Self {
        RuleError::Forbidden { reason, why: why.into() }
    }

    /// Shorthand for [`RuleError::Auth`].
    pub fn auth(failure: AuthFailure, party: impl Into<String>, why: impl Into<String>) -> Self {
        RuleError::Auth { failure, party: party.into(), why: why.into() }
    }

    /// A stale-head error for a chain whose head is `(head_position, head)`.
    pub fn stale(position: u64, expected: Option<Hash32>, head_position: u64, head: Option<Hash32>) -> Self {
        let show = |h: Option<Hash32>| h.map(|h| h.to_hex()).unwrap_or_else(|| "none".into());
        RuleError::Stale { position, expected: show(expected), head_position, head: show(head) }
    }
}

/// Result alias for the core.
pub type Result<T, E = RuleError> = std::result::Result<T, E>;
