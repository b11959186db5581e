//! Why `ebl` failed: the class of an error (its exit status), and the error as one line of text or
//! one JSON object on standard error. [`Failure::of`] is the one place an error gets its class;
//! commands return errors and never choose an exit status themselves.
//!
//! | exit | class | what |
//! |---|---|---|
//! | 0 | | done (also when the reader of standard output went away: `ebl ... \| head`) |
//! | 1 | `other` | anything else: local files, INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS |
//! | 2 | `usage` | a command line that does not parse, or a flag value the command cannot use |
//! | 3 | `refused` | a rule says no: INVALID_ARGUMENT, FAILED_PRECONDITION, ABORTED, ALREADY_EXISTS, OUT_OF_RANGE, RESOURCE_EXHAUSTED for a size (`*_TOO_LARGE`); or a local check failed (`ebl verify`, `ebl audit`, `ebl monitor`); or a gate says the goods may not move on (`ebl custody verify`) |
//! | 4 | `not_found` | NOT_FOUND: no such bill, record or party, or one the caller may not see |
//! | 5 | `permission` | PERMISSION_DENIED, UNAUTHENTICATED |
//! | 6 | `unavailable` | the ledger cannot be reached, or UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, RESOURCE_EXHAUSTED for a busy ledger (any other reason): trying again later may work |
//!
//! This module owns the mapping and its documentation in docs/operations.md ("Exit codes"); it
//! must not print anything itself.

use crate::client::log::LogClientError;
use crate::client::ConnectError;
use serde_json::{json, Value};
use std::error::Error;
use tonic::{Code, Status};

/// The class of a failure; each is one exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// Anything else (local I/O, a bug, an answer that cannot be used): 1.
    Other,
    /// The command line is wrong: 2, as clap's own usage errors.
    Usage,
    /// Refused by a rule, the ledger's or a local check's: 3.
    Refused,
    /// No such thing, or none the caller may see: 4.
    NotFound,
    /// The caller may not do this, or could not be authenticated: 5.
    Permission,
    /// The ledger could not be reached or cannot answer now: 6.
    Unavailable,
}

impl ExitClass {
    /// The exit status.
    pub fn exit(self) -> u8 {
        match self {
            ExitClass::Other => 1,
            ExitClass::Usage => 2,
            ExitClass::Refused => 3,
            ExitClass::NotFound => 4,
            ExitClass::Permission => 5,
            ExitClass::Unavailable => 6,
        }
    }

    /// The name in the JSON form of an error.
    pub fn name(self) -> &'static str {
        match self {
            ExitClass::Other => "other",
            ExitClass::Usage => "usage",
            ExitClass::Refused => "refused",
            ExitClass::NotFound => "not_found",
            ExitClass::Permission => "permission",
            ExitClass::Unavailable => "unavailable",
        }
    }
}

/// The class of an answer with `code` and `reason`, and the code's name as gRPC spells it.
pub fn answer_class(code: Code, reason: Option<&str>) -> (ExitClass, &'static str) {
    let name = crate::client::codes::code_name(code);
    match code_class(code) {
        // The ledger's limits are sizes (`MESSAGE_TOO_LARGE`, `BATCH_TOO_LARGE`, ...: the same
        // request is refused again) or its being busy (`PARTY_IN_FLIGHT`, `AUDIT_RUNNING`, ...).
        ExitClass::Refused if code == Code::ResourceExhausted => match reason {
            Some(r) if r.ends_with("_TOO_LARGE") => (ExitClass::Refused, name),
            _ => (ExitClass::Unavailable, name),
        },
        class => (class, name),
    }
}

/// The class of a gRPC status code (before [`answer_class`] looks at the reason).
fn code_class(code: Code) -> ExitClass {
    use ExitClass::*;
    match code {
        Code::Ok | Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => Other,
        // Cancelled reaches a client when the call was cut off (the ledger stopping, a dropped
        // connection), not by the CLI's own doing: try again.
        Code::Cancelled | Code::DeadlineExceeded | Code::Unavailable => Unavailable,
        Code::NotFound => NotFound,
        Code::PermissionDenied | Code::Unauthenticated => Permission,
        // The ledger's title and custody rules, a halted log, and a stale head (the record as
        // signed will never be accepted: read the bill again).
        Code::InvalidArgument
        | Code::AlreadyExists
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::OutOfRange => Refused,
    }
}

/// A check made here, with no ledger to ask, failed: a bundle, a statement, a checkpoint or an
/// audit report that does not hold. Class [`ExitClass::Refused`].
#[derive(Debug, thiserror::Error)]
#[error("FAILED: {0}")]
pub struct CheckFailed(pub String);

/// The ledger answered that what a gate asked about would be refused now (`ebl custody verify`:
/// the handoff or delivery may not proceed). Class [`ExitClass::Refused`], with the first reason
/// the ledger gave.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Stopped {
    /// The first machine-readable reason, e.g. `CUSTOMS_HOLD`.
    pub reason: String,
    /// Every reason, for people.
    pub message: String,
}

/// A flag's value the command cannot use, found after clap parsed it. Class [`ExitClass::Usage`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The `ebl` flag that gives a record's or request's `field`, where one does: the ledger names
/// its fields, a person typed flags.
pub fn flag_of(field: &str) -> Option<&'static str> {
    let last = field.rsplit('.').next().unwrap_or(field);
    Some(match last {
        "recipient" | "to" => "--to",
        "bill_id" => "--bill",
        "actor" | "signatures" => "--as/--key",
        "agent" => "--agent",
        "principal" => "--principal",
        "leg" => "--leg",
        "place" | "locode" => "--place",
        "container" | "containers" => "--container",
        "seals" => "--seal",
        "document" => "--document",
        "legs" => "--route",
        "jurisdiction" => "--jurisdiction",
        "reference" => "--reference",
        _ => return None,
    })
}

/// Shorthand for a boxed [`Usage`] error.
pub fn usage(why: impl Into<String>) -> Box<dyn Error> {
    Box::new(Usage(why.into()))
}

/// An error as the CLI reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its class.
    pub class: ExitClass,
    /// The gRPC status code, when the ledger (or the transport) answered with one.
    pub code: Option<&'static str>,
    /// The ledger's machine-readable reason (`ErrorInfo.reason`), or a local rule's.
    pub reason: Option<String>,
    /// The field the reason is about, where there is one.
    pub field: Option<String>,
    /// What went wrong, for people.
    pub message: String,
}

impl Failure {
    /// The failure that `e` is: the first error in its chain of sources that has a class, else
    /// [`ExitClass::Other`] with `e`'s own message.
    pub fn of(e: &(dyn Error + 'static)) -> Failure {
        let mut next = Some(e);
        while let Some(cause) = next {
            if let Some(f) = Failure::known(cause) {
                return f;
            }
            next = cause.source();
        }
        Failure::new(ExitClass::Other, e.to_string())
    }

    fn new(class: ExitClass, message: String) -> Failure {
        Failure { class, code: None, reason: None, field: None, message }
    }

    /// A command line that does not parse, as clap says why.
    pub fn usage(why: &str) -> Failure {
        Failure::new(ExitClass::Usage, why.to_string())
    }

    /// The failure of an error whose type says its class; `None` for any other.
    fn known(e: &(dyn Error + 'static)) -> Option<Failure> {
        if let Some(s) = e.downcast_ref::<Status>() {
            return Some(Failure::status(s));
        }
        if let Some(c) = e.downcast_ref::<ConnectError>() {
            return Some(match c {
                ConnectError::Unreachable { .. } | ConnectError::NoneAnswered(_) => {
                    Failure::new(ExitClass::Unavailable, c.to_string())
                }
                ConnectError::Status(s) => {
                    Failure { message: format!("GetInfo: {}", s.message()), ..Failure::status(s) }
                }
            });
        }
        if let Some(l) = e.downcast_ref::<LogClientError>() {
            // Transparent over the status, so the chain of sources would skip it.
            return Some(match l {
                LogClientError::Status(s) => Failure::status(s),
                _ => Failure::new(ExitClass::Refused, l.to_string()),
            });
        }
        if let Some(r) = e.downcast_ref::<ebl_core::error::RuleError>() {
            let (class, code) = answer_class(crate::client::codes::code_of(r.kind()), Some(r.reason()));
            return Some(Failure {
                class,
                code: Some(code),
                reason: Some(r.reason().to_string()),
                field: r.field().map(str::to_string),
                message: r.to_string(),
            });
        }
        if let Some(s) = e.downcast_ref::<Stopped>() {
            return Some(Failure {
                reason: Some(s.reason.clone()),
                ..Failure::new(ExitClass::Refused, s.message.clone())
            });
        }
        if e.is::<CheckFailed>() {
            return Some(Failure::new(ExitClass::Refused, e.to_string()));
        }
        // A configuration file is part of the command line.
        if e.is::<Usage>() || e.is::<crate::config::ConfigError>() {
            return Some(Failure::new(ExitClass::Usage, e.to_string()));
        }
        if let Some(k) = e.downcast_ref::<crate::cli::keys::KeyFileError>() {
            // A key file of the wrong kind is a flag value the command cannot use.
            let class = if k.is_wrong_file() { ExitClass::Usage } else { ExitClass::Other };
            return Some(Failure::new(class, k.to_string()));
        }
        None
    }

    /// The failure of a gRPC status: its code's class, and the ledger's reason and field.
    fn status(s: &Status) -> Failure {
        use tonic_types::StatusExt;
        let info = s.get_details_error_info();
        let reason = info.as_ref().map(|i| i.reason.clone()).filter(|r| !r.is_empty());
        let (class, code) = answer_class(s.code(), reason.as_deref());
        Failure {
            class,
            code: Some(code),
            reason,
            field: info.and_then(|i| i.metadata.get("field").cloned()),
            message: s.message().to_string(),
        }
    }

    /// One line for people: for an answer of the ledger, its code, reason, field and message.
    pub fn text(&self) -> String {
        let Some(code) = self.code else { return self.message.clone() };
        // A reason that only repeats the code (NOT_FOUND NOT_FOUND) is said once.
        let reason = self.reason.as_deref().filter(|r| *r != code).map(|r| format!(" {r}")).unwrap_or_default();
        let field = self
            .field
            .as_deref()
            .map(|f| match flag_of(f) {
                Some(flag) => format!(" [field {f}, given by {flag}]"),
                None => format!(" [field {f}]"),
            })
            .unwrap_or_default();
        format!("refused: {code}{reason}{field}: {}", self.message)
    }

    /// The JSON form: `{"error": {"exit", "class", "code", "reason", "field", "message"}}`, with
    /// `null` for what is not known.
    pub fn json(&self) -> Value {
        json!({"error": {
            "exit": self.class.exit(),
            "class": self.class.name(),
            "code": self.code,
            "reason": self.reason,
            "field": self.field,
            "message": self.message,
        }})
    }
}

/// The class of `e` (see [`Failure::of`]).
pub fn class(e: &(dyn Error + 'static)) -> ExitClass {
    Failure::of(e).class
}

/// Whether `e` says that the reader of standard output went away (`ebl ... | head`): not a
/// failure to report.
pub fn reader_gone(e: &(dyn Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(cause) = next {
        if cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
            return true;
        }
        next = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tonic_types::{ErrorDetails, StatusExt};

    fn refusal(code: Code, reason: &str, field: Option<&str>) -> Status {
        let mut meta = HashMap::new();
        if let Some(f) = field {
            meta.insert("field".to_string(), f.to_string());
        }
        let mut details = ErrorDetails::new();
        details.set_error_info(reason, "ebl.v1", meta);
        Status::with_error_details(code, "the message", details)
    }

    #[test]
    fn each_code_has_its_class() {
        use ExitClass::*;
        let cases = [
            (Code::InvalidArgument, Refused),
            (Code::FailedPrecondition, Refused),
            (Code::AlreadyExists, Refused),
            (Code::Aborted, Refused),
            (Code::ResourceExhausted, Unavailable),
            (Code::NotFound, NotFound),
            (Code::PermissionDenied, Permission),
            (Code::Unauthenticated, Permission),
            (Code::Unavailable, Unavailable),
            (Code::DeadlineExceeded, Unavailable),
            (Code::Internal, Other),
            (Code::Unknown, Other),
        ];
        for (code, want) in cases {
            let e: Box<dyn Error> = Box::new(Status::new(code, "x"));
            assert_eq!(class(e.as_ref()), want, "{code:?}");
        }
        let too_large = refusal(Code::ResourceExhausted, "MESSAGE_TOO_LARGE", None);
        assert_eq!(class(&too_large), Refused, "a size is refused again");
        assert_eq!(class(&refusal(Code::ResourceExhausted, "PARTY_IN_FLIGHT", None)), Unavailable, "busy");
        let exits: Vec<u8> = [Other, Usage, Refused, NotFound, Permission, Unavailable].map(ExitClass::exit).to_vec();
        assert_eq!(exits, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_refusal_carries_code_reason_and_field() {
        let e: Box<dyn Error> = Box::new(refusal(Code::FailedPrecondition, "NOT_HOLDER", Some("recipient")));
        let f = Failure::of(e.as_ref());
        assert_eq!(
            f.json(),
            json!({"error": {"exit": 3, "class": "refused", "code": "FAILED_PRECONDITION", "reason": "NOT_HOLDER", "field": "recipient", "message": "the message"}})
        );
        assert_eq!(f.text(), "refused: FAILED_PRECONDITION NOT_HOLDER [field recipient, given by --to]: the message");
    }

    #[test]
    fn errors_of_the_client_and_of_the_cli_are_classed_through_their_sources() {
        let unreachable = ConnectError::Unreachable { url: "http://127.0.0.1:1".into(), why: "refused".into() };
        let e: Box<dyn Error> = Box::new(unreachable);
        assert_eq!(class(e.as_ref()), ExitClass::Unavailable);
        let busy = ConnectError::Status(Status::unavailable("not now"));
        let none = ConnectError::NoneAnswered(vec![("http://127.0.0.1:2".into(), busy)]);
        let e: Box<dyn Error> = Box::new(none);
        assert_eq!(class(e.as_ref()), ExitClass::Unavailable);
        assert!(Failure::of(e.as_ref()).message.contains("http://127.0.0.1:2: GetInfo answered UNAVAILABLE: not now"));
        let e: Box<dyn Error> = Box::new(ConnectError::Status(refusal(Code::PermissionDenied, "NOT_BOUND", None)));
        assert_eq!(Failure::of(e.as_ref()).reason.as_deref(), Some("NOT_BOUND"));
        assert_eq!(class(e.as_ref()), ExitClass::Permission);
        let e: Box<dyn Error> = Box::new(LogClientError::Status(Status::not_found("no such record")));
        assert_eq!(class(e.as_ref()), ExitClass::NotFound);
        let e: Box<dyn Error> = Box::new(CheckFailed("bundle: signature".into()));
        assert_eq!(class(e.as_ref()), ExitClass::Refused);
        assert_eq!(class(usage("--mode x: expected possession or endorsement").as_ref()), ExitClass::Usage);
        let local = ebl_core::ids::PartyId::parse("--as", "Not A Party").unwrap_err();
        let f = Failure::of(&local);
        assert_eq!((f.class, f.code, f.field.as_deref()), (ExitClass::Refused, Some("INVALID_ARGUMENT"), Some("--as")));
        let e: Box<dyn Error> = "a local file".into();
        let f = Failure::of(e.as_ref());
        assert_eq!((f.class, f.code, f.message.as_str()), (ExitClass::Other, None, "a local file"));
        assert_eq!(f.json()["error"]["reason"], Value::Null);
    }

    #[test]
    fn a_closed_pipe_is_seen_through_the_chain() {
        let e: Box<dyn Error> = Box::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(reader_gone(e.as_ref()));
        assert!(!reader_gone(usage("x").as_ref()));
    }
}
