//! The one place errors become gRPC statuses: the codes of docs/operations.md, a `google.rpc.ErrorInfo`
//! with the machine-readable reason (domain `ebl.v1`, metadata `field` where there is one), and
//! a message naming the field and what was expected.

use crate::error::LedgerError;
use crate::pb;
use ebl_client::client::codes::{code_name, code_of};
use std::collections::HashMap;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error this ledger returns.
pub const ERROR_DOMAIN: &str = "ebl.v1";

/// Code, reason, message and field of an error.
pub fn parts(e: &LedgerError) -> (Code, &'static str, String, Option<String>) {
    let (code, reason, message, field) = match e {
        LedgerError::Rule(r) => (code_of(r.kind()), r.reason(), r.to_string(), r.field().map(str::to_string)),
        LedgerError::Unavailable(_) => (Code::Unavailable, "LEDGER_UNAVAILABLE", e.to_string(), None),
        LedgerError::Pending { reason, .. } | LedgerError::Refusing { reason, .. } => {
            (Code::Unavailable, *reason, e.to_string(), None)
        }
        LedgerError::Halted { reason, .. } => (Code::FailedPrecondition, *reason, e.to_string(), None),
        LedgerError::Internal(_) => (Code::Internal, "INTERNAL", e.to_string(), None),
        LedgerError::ChainBroken(_) => (Code::Internal, "CHAIN_BROKEN", e.to_string(), None),
        LedgerError::Damaged => (Code::Internal, "DATABASE_DAMAGED", e.to_string(), None),
    };
    (code, reason, capped(message), field.map(capped))
}

/// Longest message (or field) an error carries, in bytes: messages may quote the caller's input,
/// which must not come back unbounded (gRPC metadata has a size limit of its own).
pub const MAX_MESSAGE_LEN: usize = 1024;

/// `s` cut to [`MAX_MESSAGE_LEN`] bytes at a character boundary, saying how much was cut.
fn capped(s: String) -> String {
    if s.len() <= MAX_MESSAGE_LEN {
        return s;
    }
    let mut end = MAX_MESSAGE_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes not shown)", &s[..end], s.len() - end)
}

/// The gRPC status for an error.
pub fn to_status(e: &LedgerError) -> Status {
    let (code, reason, message, field) = parts(e);
    let mut meta = HashMap::new();
    let mut details = ErrorDetails::new();
    if let Some(f) = field {
        meta.insert("field".to_string(), f.clone());
        details.add_bad_request_violation(f, message.clone());
    }
    details.set_error_info(reason, ERROR_DOMAIN, meta);
    Status::with_error_details(code, message, details)
}

/// An UNAVAILABLE status with this reason (one another node gave, e.g. `NOT_LEADER`).
pub fn unavailable(reason: &str, message: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::Unavailable, message, details)
}

/// The per-record error of a batch submission.
pub fn to_submit_error(e: &LedgerError) -> pb::SubmitError {
    let (code, reason, message, field) = parts(e);
    pb::SubmitError { code: code_name(code).into(), reason: reason.into(), message, field: field.unwrap_or_default() }
}

impl From<LedgerError> for Status {
    fn from(e: LedgerError) -> Self {
        to_status(&e)
    }
}

/// Rewrites two transport answers into this ledger's: a message past the size limit (tonic says
/// OUT_OF_RANGE) becomes RESOURCE_EXHAUSTED `MESSAGE_TOO_LARGE`, like every limit; a request that
/// is not valid protobuf (tonic says INTERNAL, though the fault is the caller's) becomes
/// INVALID_ARGUMENT `INVALID_FIELD` on field `request`.
pub fn transport_status(resp: http::Response<tonic::body::Body>) -> http::Response<tonic::body::Body> {
    let Some(status) = Status::from_header_map(resp.headers()) else { return resp };
    let error = match status.code() {
        tonic::Code::OutOfRange if status.message().contains("message length too large") => {
            let why = format!("the request is larger than the {} byte message limit", crate::api::MAX_MESSAGE_BYTES);
            ebl_core::RuleError::Limit { reason: "MESSAGE_TOO_LARGE", why }
        }
        tonic::Code::Internal if status.message().starts_with("failed to decode Protobuf message") => {
            ebl_core::RuleError::invalid("request", format!("not a valid protobuf message ({})", status.message()))
        }
        _ => return resp,
    };
    to_status(&LedgerError::Rule(error)).into_http()
}
