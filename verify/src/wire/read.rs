//! Signed reads: the envelope a registered party signs around every read request.

use super::decode_canonical;
use super::payload::decode_signature;
use crate::pb;
use ebl_core::sig::Signature;
use ebl_core::time::Timestamp;
use ebl_core::RuleError;

/// Domain tag of a read envelope.
pub const READ_DOMAIN: &str = "ebl.v1/read";

/// A read envelope whose signature verified (strictly) over its bytes.
#[derive(Debug, Clone)]
pub struct SignedReadChecked {
    /// Who signed, with which key.
    pub signer: Signature,
    /// The encoded request message.
    pub request: Vec<u8>,
    /// When the reader says it asked.
    pub claimed_time: Timestamp,
    /// 16 bytes, never to be used twice.
    pub nonce: [u8; 16],
}

/// Decodes a signed read for `method`, refusing a wrong origin, method, domain or signature.
pub fn decode_read(r: &pb::SignedRead, origin: &str, method: &str) -> Result<SignedReadChecked, RuleError> {
    let env: pb::ReadEnvelope = decode_canonical("envelope", &r.envelope)?;
    if env.version != 1 {
        return Err(RuleError::invalid(
            "envelope.version",
            format!("version {} is not supported (expected 1)", env.version),
        ));
    }
    if env.domain != READ_DOMAIN {
        return Err(RuleError::invalid(
            "envelope.domain",
            format!("domain tag '{}' is not '{READ_DOMAIN}'", env.domain),
        ));
    }
    if env.origin != origin {
        return Err(RuleError::invalid(
            "envelope.origin",
            format!("read was signed for ledger '{}', this is '{origin}'", env.origin),
        ));
    }
    if env.method != method {
        return Err(RuleError::invalid(
            "envelope.method",
            format!("read was signed for '{}', not '{method}'", env.method),
        ));
    }
    let nonce = <[u8; 16]>::try_from(env.nonce.as_slice())
        .map_err(|_| RuleError::invalid("envelope.nonce", "must be 16 bytes"))?;
    let claimed_time = Timestamp::parse("envelope.claimed_time", &env.claimed_time)?;
    let sig = r.signature.as_ref().ok_or_else(|| {
        RuleError::auth(
            ebl_core::error::AuthFailure::MissingSignature,
            "",
            "a read must be signed by a registered party",
        )
    })?;
    let signer = decode_signature("signature", sig)?;
    signer.verify(&r.envelope)?;
    Ok(SignedReadChecked { signer, request: env.request, claimed_time, nonce })
}
