//! `documentParties`: shipper, issuing party, and the consignee or endorsee that decide who is
//! entitled to the goods. Owns the to-order / straight rules; title itself is not its business.

use super::access::{fail, Obj, Text};
use super::rules::{BAD_VALUE, CONSIGNEE_AND_ENDORSEE, STRAIGHT_WITHOUT_CONSIGNEE};
use super::{DocParty, IdentifyingCode};
use crate::error::RuleError;

/// The consignee and endorsee a document names.
pub struct Named {
    /// `documentParties.consignee`.
    pub consignee: Option<DocParty>,
    /// `documentParties.endorsee`.
    pub endorsee: Option<DocParty>,
}

/// Checks `documentParties` against `isToOrder`.
pub fn check(root: &Obj, is_to_order: bool) -> Result<Named, RuleError> {
    let parties = root.obj("documentParties")?;
    parties.obj("shipper")?.str("partyName", 70, Text::Trimmed)?;
    issuing_party(&parties.obj("issuingParty")?)?;
    let consignee = parties.opt_obj("consignee")?.map(|p| doc_party(&p)).transpose()?;
    let endorsee = parties.opt_obj("endorsee")?.map(|p| doc_party(&p)).transpose()?;
    if consignee.is_some() && endorsee.is_some() {
        let why = "expected a consignee or an endorsee, not both: they are mutually exclusive";
        return Err(fail(parties.at("endorsee"), CONSIGNEE_AND_ENDORSEE, why));
    }
    if !is_to_order && consignee.is_none() {
        let why = "expected a consignee: a straight bill (isToOrder=false) names who receives the goods";
        return Err(fail(parties.at("consignee"), STRAIGHT_WITHOUT_CONSIGNEE, why));
    }
    Ok(Named { consignee, endorsee })
}

/// The carrier (or its agent) issuing the document: a name and a postal address.
fn issuing_party(party: &Obj) -> Result<(), RuleError> {
    party.str("partyName", 70, Text::Trimmed)?;
    let address = party.obj("address")?;
    address.str("street", 70, Text::Free)?;
    address.str("city", 35, Text::Trimmed)?;
    let country = address.str("countryCode", 2, Text::Trimmed)?;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        let why = format!("expected an ISO 3166-1 alpha-2 country code, found {country:?}");
        return Err(fail(address.at("countryCode"), BAD_VALUE, why));
    }
    Ok(())
}

/// A consignee or endorsee: a name and at least one identifying code.
fn doc_party(party: &Obj) -> Result<DocParty, RuleError> {
    let name = party.str("partyName", 70, Text::Trimmed)?.to_owned();
    let codes = party
        .objs("identifyingCodes", 1)?
        .iter()
        .map(|code| {
            Ok(IdentifyingCode {
                provider: code.str("codeListProvider", 100, Text::Free)?.to_owned(),
                party_code: code.str("partyCode", 150, Text::Free)?.to_owned(),
                code_list_name: code.opt_str("codeListName", 100, Text::Free)?.map(str::to_owned),
            })
        })
        .collect::<Result<_, RuleError>>()?;
    Ok(DocParty { name, codes })
}
