"""Register records as frozen values with their stored JSON form (``to_json`` / ``from_json``).

Every record names the transactions it rests on (``source_txs``); a superseded record stays with
status ``historic`` and a link to what replaced it, while the ledger keeps every version of every
key as history (design §3.15).
"""

from estatechain.contract.records.application import (
    OPEN_STATES,
    Applicant,
    Application,
    AppState,
    Capacity,
    Confirmation,
    Material,
    effective_state,
)
from estatechain.contract.records.certificate import Certificate, CertificateStatus
from estatechain.contract.records.fields import FieldError
from estatechain.contract.records.inquiry import Answer, Consent, InquiryLog, Outcome
from estatechain.contract.records.mortgage import Cancellation, DateRange, Method, Mortgage
from estatechain.contract.records.notice import MORTGAGE_KINDS, PURCHASE_KINDS, Notice, NoticeKind
from estatechain.contract.records.ownership import CoOwner, CoOwnership, OwnershipRight, shares_complete
from estatechain.contract.records.party import PartyRef, Status
from estatechain.contract.records.presale import PresaleContract, PresaleState
from estatechain.contract.records.seizure import Seizure, SeizureKind
from estatechain.contract.records.unit import Unit, UnitKind, UnitUse

__all__ = [
    "MORTGAGE_KINDS", "OPEN_STATES", "PURCHASE_KINDS", "Answer", "AppState", "Applicant", "Application",
    "Cancellation", "Capacity", "Certificate", "CertificateStatus", "CoOwner", "CoOwnership", "Confirmation",
    "Consent", "DateRange", "FieldError", "InquiryLog", "Material", "Method", "Mortgage", "Notice", "NoticeKind",
    "Outcome", "OwnershipRight", "PartyRef", "PresaleContract", "PresaleState", "Seizure", "SeizureKind", "Status",
    "Unit", "UnitKind", "UnitUse", "effective_state", "shares_complete",
]
