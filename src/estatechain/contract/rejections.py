"""Rule violations as values, with stable codes (design §3.21).

A code's wire name never changes once released; a V-rule code names its rule in domain.md §12
(``V13_UNIT_SEIZED``). Each code has one English message template saying what to do, the field it
concerns and, where domain.md gives one, its legal basis (``SPECS``). The portal and CLI localise by
code through one message catalogue at the edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class RejectionCode(StrEnum):
    """Stable machine-readable reasons a valid-looking transaction was marked invalid."""

    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    MALFORMED_COMMAND = "MALFORMED_COMMAND"
    ROLE_NOT_PERMITTED = "ROLE_NOT_PERMITTED"
    NOTE_EXISTS = "NOTE_EXISTS"
    REVOKE_OTHER_ORG = "REVOKE_OTHER_ORG"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    # Register bookkeeping (no V rule: these are lifecycle and reference errors).
    RECORD_EXISTS = "RECORD_EXISTS"
    RECORD_NOT_FOUND = "RECORD_NOT_FOUND"
    APPLICATION_NOT_FOUND = "APPLICATION_NOT_FOUND"
    APPLICATION_STATE = "APPLICATION_STATE"
    BUSINESS_TYPE_UNKNOWN = "BUSINESS_TYPE_UNKNOWN"
    PARTY_BINDING_CONFLICT = "PARTY_BINDING_CONFLICT"
    FILER_NOT_APPLICANT_BANK = "FILER_NOT_APPLICANT_BANK"
    SEIZURE_NOT_OWN = "SEIZURE_NOT_OWN"
    SEIZURE_ENDED = "SEIZURE_ENDED"
    FILER_ROLE_NOT_PERMITTED = "FILER_ROLE_NOT_PERMITTED"
    FILER_NOT_APPLICANT = "FILER_NOT_APPLICANT"
    ACTOR_NOT_PARTY = "ACTOR_NOT_PARTY"
    PRESALE_STATE = "PRESALE_STATE"
    NOTICE_NOT_LAPSED = "NOTICE_NOT_LAPSED"
    TRANSFER_NEEDS_MORTGAGEE = "TRANSFER_NEEDS_MORTGAGEE"
    CALENDAR_INVALID = "CALENDAR_INVALID"
    PRESALE_TERMINATION_BLOCKED = "PRESALE_TERMINATION_BLOCKED"
    # domain.md §12, one or more codes per rule.
    V1_UNIT_NUMBER_INVALID = "V1_UNIT_NUMBER_INVALID"
    V1_UNIT_OUT_OF_JURISDICTION = "V1_UNIT_OUT_OF_JURISDICTION"
    V2_UNIT_NOT_HOUSING = "V2_UNIT_NOT_HOUSING"
    V3_UNIT_NOT_FOUND = "V3_UNIT_NOT_FOUND"
    V3_NO_CURRENT_OWNERSHIP = "V3_NO_CURRENT_OWNERSHIP"
    V3_UNIT_KIND_MISMATCH = "V3_UNIT_KIND_MISMATCH"
    V4_CERTIFICATE_NUMBER_INVALID = "V4_CERTIFICATE_NUMBER_INVALID"
    V4_CERTIFICATE_NUMBER_MISMATCH = "V4_CERTIFICATE_NUMBER_MISMATCH"
    V5_ID_NUMBER_INVALID = "V5_ID_NUMBER_INVALID"
    V6_MORTGAGOR_NOT_OWNER = "V6_MORTGAGOR_NOT_OWNER"
    V6_CO_OWNERS_MISSING = "V6_CO_OWNERS_MISSING"
    V7_SIGNER_NOT_BOUND = "V7_SIGNER_NOT_BOUND"
    V7_NOT_AN_APPLICANT = "V7_NOT_AN_APPLICANT"
    V7_APPLICATION_HASH_MISMATCH = "V7_APPLICATION_HASH_MISMATCH"
    V7_PROXY_NOT_NOTARISED = "V7_PROXY_NOT_NOTARISED"
    V7_CONFIRMATIONS_MISSING = "V7_CONFIRMATIONS_MISSING"
    V8_RECORDER_IS_REVIEWER = "V8_RECORDER_IS_REVIEWER"
    V9_AMOUNT_INVALID = "V9_AMOUNT_INVALID"
    V10_AMOUNT_KIND_MISMATCH = "V10_AMOUNT_KIND_MISMATCH"
    V11_DATE_INVALID = "V11_DATE_INVALID"
    V11_TERM_INVALID = "V11_TERM_INVALID"
    V12_METHOD_INVALID = "V12_METHOD_INVALID"
    V12_NOTICE_KIND_INVALID = "V12_NOTICE_KIND_INVALID"
    V13_UNIT_SEIZED = "V13_UNIT_SEIZED"
    V14_NOTICE_HOLDER_CONSENT_MISSING = "V14_NOTICE_HOLDER_CONSENT_MISSING"
    V15_NO_PURCHASE_NOTICE = "V15_NO_PURCHASE_NOTICE"
    V15_NOTICE_HOLDER_CONSENT_MISSING = "V15_NOTICE_HOLDER_CONSENT_MISSING"
    V16_DUPLICATE_MORTGAGE = "V16_DUPLICATE_MORTGAGE"
    V17_CONSENT_MISSING = "V17_CONSENT_MISSING"
    V18_TRANSFER_INVALID = "V18_TRANSFER_INVALID"
    V19_CANCELLATION_TARGET_INVALID = "V19_CANCELLATION_TARGET_INVALID"
    V19_CANCELLATION_APPLICANT_INVALID = "V19_CANCELLATION_APPLICANT_INVALID"
    V20_CORRECTION_INVALID = "V20_CORRECTION_INVALID"
    V21_CONVERSION_INVALID = "V21_CONVERSION_INVALID"
    V22_WITHDRAWAL_NOT_ALLOWED = "V22_WITHDRAWAL_NOT_ALLOWED"
    V23_TX_TIME_OR_REPLAY = "V23_TX_TIME_OR_REPLAY"
    V24_MATERIAL_MISSING = "V24_MATERIAL_MISSING"
    V24_MATERIAL_INVALID = "V24_MATERIAL_INVALID"
    V25_CONFIRMATION_EXPIRED = "V25_CONFIRMATION_EXPIRED"
    V26_INQUIRY_NOT_ENTITLED = "V26_INQUIRY_NOT_ENTITLED"
    V26_PURPOSE_REQUIRED = "V26_PURPOSE_REQUIRED"
    V26_SEARCH_NOT_BY_PROPERTY = "V26_SEARCH_NOT_BY_PROPERTY"
    V27_ELICENCE_ID_INVALID = "V27_ELICENCE_ID_INVALID"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Why a transaction was refused by a rule: ``detail`` names the offending field or value."""

    code: str
    message: str
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """A code's English message template (``{name}`` placeholders), its field and legal basis."""

    message: str
    field: str
    basis: str = ""


def _s(message: str, field_name: str, basis: str = "") -> Spec:
    return Spec(message=message, field=field_name, basis=basis)


_C = RejectionCode
SPECS: Final[Mapping[RejectionCode, Spec]] = {
    _C.RECORD_EXISTS: _s("A {kind} with id {id} already exists; import each record once.", "id"),
    _C.RECORD_NOT_FOUND: _s("No {kind} with id {id} exists; check the reference.", "id"),
    _C.APPLICATION_NOT_FOUND: _s("No application {application_id} exists; check the id.", "application_id"),
    _C.APPLICATION_STATE: _s("Application {application_id} is {state}; '{step}' needs it to be {expected}.",
                             "application_id", "domain.md §5.1"),
    _C.BUSINESS_TYPE_UNKNOWN: _s("Business type '{business_type}' is not offered; use one of {known}.",
                                 "business_type"),
    _C.PARTY_BINDING_CONFLICT: _s("{subject} is already bound to another party id; revoke and re-issue instead.",
                                  "party_id", "design.md §3.18"),
    _C.FILER_NOT_APPLICANT_BANK: _s("The filing bank {org} acts for none of the mortgagees named; file as "
                                    "the mortgagee's own bank.", "applicants", "domain.md §2"),
    _C.SEIZURE_NOT_OWN: _s("Seizure {seizure_id} was delivered by {authority}; only that authority may "
                           "release or renew it.", "seizure_id", "细则 93"),
    _C.SEIZURE_ENDED: _s("Seizure {seizure_id} has ended ({problem}); deliver a new order instead.", "seizure_id",
                         "查封规定 27"),
    _C.FILER_ROLE_NOT_PERMITTED: _s("Role {role} may not file a {business_type} application; it is filed by "
                                    "{filers}.", "business_type", "domain.md §5.1"),
    _C.FILER_NOT_APPLICANT: _s("The filer ({org}) acts for none of the applicants in capacity {capacities}; "
                               "file as one of them.", "applicants", "domain.md §2"),
    _C.ACTOR_NOT_PARTY: _s("The signer ({org}) does not act for party {party_id}; have the identity authority "
                           "bind it first.", "party_id", "design.md §3.18"),
    _C.PRESALE_STATE: _s("Pre-sale contract {contract_id} cannot be used: {problem}.", "contract_id", "细则 86"),
    _C.NOTICE_NOT_LAPSED: _s("Notice {notice_id} has not lapsed: {problem}.", "certificate_number", "民法典 221"),
    _C.TRANSFER_NEEDS_MORTGAGEE: _s("Mortgage {mortgage_id} {problem}; its mortgagee must co-sign the transfer.",
                                    "applicants", "民法典 406(2); 担保制度解释 43"),
    _C.CALENDAR_INVALID: _s("The {year} holiday calendar is not valid: {problem}.", "holidays",
                            "domain.md §5.1 (working days)"),
    _C.PRESALE_TERMINATION_BLOCKED: _s("Pre-sale contract {contract_id} cannot be terminated while mortgage "
                                       "notice {certificate_number} rests on its purchase notice; cancel that "
                                       "notice first.", "details.presale_contract", "细则 85, 89; 民法典 221"),
    _C.V1_UNIT_NUMBER_INVALID: _s("Unit number '{unit_number}' is not a valid 28-character GB/T 37346 unit "
                                  "number: {problem}.", "unit_number", "GB/T 37346-2019"),
    _C.V1_UNIT_OUT_OF_JURISDICTION: _s("Unit number '{unit_number}' has county code {county}, which is not in "
                                       "this registry's jurisdiction.", "unit_number", "条例 7"),
    _C.V2_UNIT_NOT_HOUSING: _s("Unit {unit_number} is not a residential building unit ({problem}); the "
                               "platform registers housing only.", "unit_number"),
    _C.V3_UNIT_NOT_FOUND: _s("Unit {unit_number} is not in the register; import or register it first.",
                             "unit_number", "条例 8"),
    _C.V3_NO_CURRENT_OWNERSHIP: _s("Unit {unit_number} has no current ownership right; register ownership "
                                   "first.", "unit_number", "细则 65"),
    _C.V3_UNIT_KIND_MISMATCH: _s("Unit {unit_number} is a {kind} unit; this business needs a {expected} unit.",
                                 "unit_number"),
    _C.V4_CERTIFICATE_NUMBER_INVALID: _s("'{number}' is not a valid {expected} number: {problem}.",
                                         "certificate_number", "domain.md §4.2"),
    _C.V4_CERTIFICATE_NUMBER_MISMATCH: _s("'{number}' does not match the register's {expected} for this case.",
                                          "certificate_number", "条例 18"),
    _C.V5_ID_NUMBER_INVALID: _s("The ID number does not pass the check for its type.", "id_number",
                                "GB 11643, GB 32100"),
    _C.V6_MORTGAGOR_NOT_OWNER: _s("Party {party_id} is named as mortgagor or transferor but is not a current "
                                  "owner of unit {unit_number}.", "applicants", "条例 14, 细则 66"),
    _C.V6_CO_OWNERS_MISSING: _s("The mortgagors or transferors do not include the co-owners needed to burden "
                                "or dispose of unit {unit_number} ({problem}); add them.", "applicants",
                                "民法典 301, 细则 10"),
    _C.V7_SIGNER_NOT_BOUND: _s("Certificate {signer} is not bound to a real-name verified party by the "
                               "identity authority.", "signer", "细则 9"),
    _C.V7_NOT_AN_APPLICANT: _s("Party {party_id} is not an applicant of application {application_id}, or this "
                               "key may not act for it.", "party_id", "条例 14"),
    _C.V7_APPLICATION_HASH_MISMATCH: _s("The confirmation covers {given}, but application {application_id} "
                                        "has content hash {expected}; review the current application.",
                                        "application_hash", "细则 9"),
    _C.V7_PROXY_NOT_NOTARISED: _s("Party {party_id} must confirm with their own key: no notarised power of "
                                  "attorney is recorded for the bank.", "party_id", "细则 12(3)"),
    _C.V7_CONFIRMATIONS_MISSING: _s("Not every applicant has confirmed; missing: {missing}.", "confirmations",
                                    "条例 14, 17"),
    _C.V8_RECORDER_IS_REVIEWER: _s("The reviewer of application {application_id} may not also record it; "
                                   "another recorder must.", "signer", "domain.md §2 (two-person rule)"),
    _C.V9_AMOUNT_INVALID: _s("Amount '{field_name}' must be an integer number of fen in CNY, greater than 0 "
                             "and at most 10^13.", "amount", "design.md §3.2"),
    _C.V10_AMOUNT_KIND_MISMATCH: _s("A method-{method} mortgage needs {needs}; {problem}.", "method",
                                    "民法典 420-423"),
    _C.V11_DATE_INVALID: _s("'{value}' is not a valid calendar date YYYY-MM-DD.", "date"),
    _C.V11_TERM_INVALID: _s("The term {start}..{end} is not valid: {problem}.", "term"),
    _C.V12_METHOD_INVALID: _s("Method '{value}' is not 1 (ordinary) or 2 (maximum amount).", "method",
                              "DYFS code list"),
    _C.V12_NOTICE_KIND_INVALID: _s("Notice kind '{value}' is not 3 (pre-sale commercial-housing mortgage).",
                                   "notice_kind", "YGDJZL code list"),
    _C.V13_UNIT_SEIZED: _s("Unit {unit_number} is under seizure order {order_no} of {authority_org} in effect "
                           "(seizure {seizure_id}); it cannot be mortgaged until the seizure is released or "
                           "lapses.", "unit_number", "民法典 399(5)"),
    _C.V14_NOTICE_HOLDER_CONSENT_MISSING: _s("Advance notice {notice_id} on unit {unit_number} is held by "
                                             "another party ({missing}); name that holder as consenter so it "
                                             "signs.", "applicants",
                                             "民法典 221, 细则 85"),
    _C.V15_NO_PURCHASE_NOTICE: _s("Unit {unit_number} has no current purchase notice in the mortgagor's "
                                  "name.", "unit_number", "细则 85"),
    _C.V15_NOTICE_HOLDER_CONSENT_MISSING: _s("Unit {unit_number} already has mortgage notice {notice_id}; name "
                                             "its holders ({missing}) as consenters so they sign.", "applicants",
                                             "细则 85(2)"),
    _C.V16_DUPLICATE_MORTGAGE: _s("{existing} already secures contract {contract_number} for the same "
                                  "mortgagee on unit {unit_number}.", "contract_numbers"),
    _C.V17_CONSENT_MISSING: _s("The change may prejudice later-ranked holders ({missing}); name them as "
                               "consenters so they sign.", "applicants", "细则 68(2), 72(2); 民法典 409"),
    _C.V18_TRANSFER_INVALID: _s("The transfer is not valid: {problem}.", "transferee", "民法典 421; 细则 69"),
    _C.V19_CANCELLATION_TARGET_INVALID: _s("Entry {target} cannot be cancelled: {problem}.",
                                           "certificate_number", "细则 70"),
    _C.V19_CANCELLATION_APPLICANT_INVALID: _s("These applicants may not cancel the mortgage: {problem}.",
                                              "applicants", "细则 70; 条例 14"),
    _C.V20_CORRECTION_INVALID: _s("The correction is not valid: {problem}.", "fields", "细则 79-81"),
    _C.V21_CONVERSION_INVALID: _s("The conversion is not valid: {problem}.", "notice", "细则 78(2)"),
    _C.V22_WITHDRAWAL_NOT_ALLOWED: _s("Application {application_id} is {state}; it can no longer be "
                                      "withdrawn.", "application_id", "条例 15; 细则 13"),
    _C.V23_TX_TIME_OR_REPLAY: _s("The transaction time is outside the window or its id was seen before.",
                                 "created_at", "design.md §3.4"),
    _C.V24_MATERIAL_MISSING: _s("Required materials are missing: {missing}.", "materials", "条例 16-17"),
    _C.V24_MATERIAL_INVALID: _s("Material {index} is not acceptable: {problem}.", "materials", "条例 16"),
    _C.V25_CONFIRMATION_EXPIRED: _s("The confirmation deadline of application {application_id} has passed; "
                                    "the bank must file again.", "application_id"),
    _C.V26_INQUIRY_NOT_ENTITLED: _s("The requester is not entitled to this inquiry: {problem}.", "basis",
                                    "条例 27-28"),
    _C.V26_PURPOSE_REQUIRED: _s("State the purpose of the inquiry.", "purpose", "细则 98"),
    _C.V26_SEARCH_NOT_BY_PROPERTY: _s("Search by the unit number or a certificate number of one unit: {problem}.",
                                      "lookup", "条例 27-28; 查询办法"),
    _C.V27_ELICENCE_ID_INVALID: _s("'{value}' is not a valid e-licence identifier: {problem}.", "elicence_id",
                                   "GB/T 36904"),
}
"""Message template, field and legal basis of every register code."""
