//! gRPC status codes as this ledger uses them, in one place: which code each kind of refusal
//! gets ([`code_of`], what the server answers and what the CLI says a local check would get),
//! and each code's name as the gRPC specification spells it ([`code_name`]: batch errors, the
//! CLI's errors, the metrics' labels).

use ebl_core::Kind;
use tonic::Code;

/// The code of a refusal of `kind`.
pub fn code_of(kind: Kind) -> Code {
    match kind {
        Kind::InvalidArgument => Code::InvalidArgument,
        Kind::Unauthenticated => Code::Unauthenticated,
        Kind::PermissionDenied => Code::PermissionDenied,
        Kind::FailedPrecondition => Code::FailedPrecondition,
        Kind::Aborted => Code::Aborted,
        Kind::NotFound => Code::NotFound,
        Kind::AlreadyExists => Code::AlreadyExists,
        Kind::ResourceExhausted => Code::ResourceExhausted,
    }
}

/// A code's name, e.g. `FAILED_PRECONDITION`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The reason of an UNAVAILABLE answer from a node of a cluster that is not the leader, or knows
/// none, given before it did anything with the request (it spent no read nonce and counted no
/// write): the client may send the same request again, to it or another node
/// (docs/replication.md).
pub const NOT_LEADER: &str = "NOT_LEADER";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_specifications_spelling_of_each_code() {
        for n in 0..=16 {
            let code = Code::from(n);
            let spelled: String = format!("{code:?}")
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = (i > 0 && c.is_uppercase()).then_some('_');
                    sep.into_iter().chain(std::iter::once(c.to_ascii_uppercase()))
                })
                .collect();
            assert_eq!(code_name(code), spelled.replace("O_K", "OK"), "{code:?}");
        }
    }
}
