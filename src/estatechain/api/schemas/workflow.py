"""Request and response bodies of ``POST /v1/payloads/<step>``: one typed model per workflow step.

Each model's ``body()`` is the contract command's body exactly as the rules read it (field names
and shapes of ``contract/rules/*.py``); fields left out (``None``) are omitted from the body. The
models check what can be checked without the register — formats, lengths, code lists, signable
JSON — so a malformed step fails here with a 422 naming the field, before anyone signs it; the
contract still decides everything that depends on the register.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract.checks.materials import MATERIAL_TYPES, MAX_SIZE, MEDIA_TYPES
from estatechain.contract.checks.unit import check_v1_unit_number
from estatechain.contract.command import Rejected
from estatechain.contract.money import MAX_FEN
from estatechain.contract.records.application import Capacity
from estatechain.contract.records.seizure import SeizureKind
from estatechain.contract.rules.business_types import BUSINESS_TYPES
from estatechain.contract.rules.inquiry import BASES, INTEREST_KINDS, PURPOSES
from estatechain.contract.rules.registration import REFUSAL_CODES

HEX64: Final = r"^[0-9a-f]{64}$"
DATE: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # not \d: pydantic's regex engine takes Unicode digits for \d

Hex64 = Annotated[str, Field(pattern=HEX64, description="64 lower-case hex characters.")]
TxRef = Annotated[str, Field(pattern=HEX64, description="A transaction id (64 lower-case hex characters).")]
IsoDate = Annotated[str, Field(pattern=DATE, description="A civil date, YYYY-MM-DD (Guangzhou calendar).")]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,96}$",
                             description="1-96 characters of A-Z a-z 0-9 . _ : - (as the ledger keys it).")]


def _unit_number(value: str) -> str:
    rejected = check_v1_unit_number(value)
    if isinstance(rejected, Rejected):
        raise ValueError(  # noqa: TRY004  (pydantic reports ValueError as a 422 on the field)
            f"{rejected.rejection.code}: {rejected.rejection.message}")
    return value


def _choice(value: str, allowed: frozenset[str], what: str) -> str:
    if value not in allowed:
        msg = f"{value!r} is not a known {what}; use one of {', '.join(sorted(allowed))}"
        raise ValueError(msg)
    return value


class StepIn(BaseModel):
    """Fields every step takes: the envelope's nonce and creation time (the node fills them in if absent)."""

    model_config = ConfigDict(extra="forbid")

    nonce: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{8,64}$",
                              description="Replay nonce (8-64 of A-Z a-z 0-9 _ -); random when absent.")
    created_at: int | None = Field(None, ge=0, strict=True,
                                   description="Milliseconds since 1970; the node's time when absent.")

    def body(self) -> dict[str, JSONValue]:
        """The command body: every field but the envelope ones, ``None`` left out."""
        data: dict[str, JSONValue] = self.model_dump(mode="json", exclude={"nonce", "created_at"},
                                                     exclude_none=True)
        return data


class MaterialIn(BaseModel):
    """A material uploaded with ``POST /v1/materials``: referenced by hash and size (design §3.11)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Material type code, e.g. APPLICATION_FORM, LOAN_CONTRACT.")
    sha256: Hex64
    size: int = Field(ge=1, le=MAX_SIZE, strict=True, description="Size in bytes.")
    media_type: str = Field(description="application/pdf, application/ofd, image/jpeg or image/png.")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _choice(value, MATERIAL_TYPES, "material type")

    @field_validator("media_type")
    @classmethod
    def _media(cls, value: str) -> str:
        return _choice(value, MEDIA_TYPES, "media type")


class ApplicantIn(BaseModel):
    """One applicant: a party id and the capacity it applies in."""

    model_config = ConfigDict(extra="forbid")

    party_id: Hex64
    record_ref: Hex64 | None = Field(None, description="The party's sealed personal record (64 lower-case hex).")
    capacity: Capacity
    proxy_notarial_sha256: Hex64 | None = None


class FileIn(StepIn):
    """``application.file``: the filer names the unit, the applicants, the materials and the type's details."""

    business_type: str = Field(description="e.g. mortgage.first, mortgage.cancel.")
    unit_number: str = Field(min_length=28, max_length=28, description="The 28-character unit number.")
    applicants: list[ApplicantIn] = Field(min_length=1, max_length=20)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=50)
    details: dict[str, Any] = Field(description="The business type's own fields (see docs/api.md).")

    @field_validator("business_type")
    @classmethod
    def _business(cls, value: str) -> str:
        return _choice(value, frozenset(BUSINESS_TYPES), "business type")

    @field_validator("unit_number")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _unit_number(value)

    @field_validator("details")
    @classmethod
    def _signable(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            canonical.encode(value)
        except canonical.NonCanonicalError as exc:
            raise ValueError(str(exc).replace("$", "details", 1)) from None
        return value

    @field_validator("applicants")
    @classmethod
    def _once(cls, value: list[ApplicantIn]) -> list[ApplicantIn]:
        if len({a.party_id for a in value}) != len(value):
            msg = "must name each party once"
            raise ValueError(msg)
        return value


class ApplicationIn(StepIn):
    """A step that names only the application (accept, review, record, resume)."""

    application_id: TxRef


class ConfirmIn(ApplicationIn):
    """``application.confirm`` / ``application.decline``: one applicant, for the exact filed content (V7)."""

    party_id: Hex64
    application_hash: TxRef | None = Field(None, description="The filed payload's hash; the application id "
                                           "when absent.")

    def body(self) -> dict[str, JSONValue]:
        """The body with ``application_hash`` defaulting to the application id."""
        data = super().body()
        data.setdefault("application_hash", self.application_id)
        return data


class WithdrawIn(ApplicationIn):
    """``application.withdraw``: one applicant's signature on the withdrawal (V22)."""

    party_id: Hex64


class MissingItem(BaseModel):
    """One missing or defective item of a 不予受理 notice."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=1000)


class NotAcceptIn(ApplicationIn):
    """``application.not_accept``: every missing item at once (条例 17)."""

    missing: list[MissingItem] = Field(min_length=1, max_length=50)


class RefuseIn(ApplicationIn):
    """``application.refuse``: 不予登记 with a reason code and the written reasons (条例 22)."""

    reason_code: str = Field(description="UNLAWFUL, OWNERSHIP_DISPUTE, RIGHT_EXPIRED, LEGAL_BAR or OTHER.")
    reason_text: str = Field(min_length=1, max_length=2000)

    @field_validator("reason_code")
    @classmethod
    def _code(cls, value: str) -> str:
        return _choice(value, REFUSAL_CODES, "refusal reason code")


class HoldIn(ApplicationIn):
    """``application.hold``: site visit or investigation."""

    reason: str = Field(min_length=1, max_length=1000)


class IssueIn(ApplicationIn):
    """``application.issue``: the hash of the signed certificate document, and its e-licence id (V27)."""

    document_sha256: Hex64
    elicence_id: str | None = Field(None, min_length=1, max_length=128)
    certificate_number: str | None = Field(None, min_length=8, max_length=64, description=(
        "Which certificate of the application this issues, when not its own number: the new mortgage's "
        "不动产登记证明 of an ownership.transfer_mortgage case."))


class SeizureIn(StepIn):
    """``seizure.register``: a delivered seizure order on one unit."""

    unit_number: str = Field(min_length=28, max_length=28)
    kind: SeizureKind = Field(description='"1" seizure (查封) or "3" pre-seizure (预查封).')
    order_no: str = Field(min_length=1, max_length=100)
    start_date: IsoDate
    end_date: IsoDate

    @field_validator("unit_number")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _unit_number(value)


class SeizureReleaseIn(StepIn):
    """``seizure.release``: the delivering authority lifts its own seizure."""

    seizure_id: TxRef
    order_no: str = Field(min_length=1, max_length=100)


class SeizureRenewIn(StepIn):
    """``seizure.renew``: a later end date, before the term lapsed."""

    seizure_id: TxRef
    end_date: IsoDate


class InquiryIn(StepIn):
    """``inquiry.request``: one unit, by unit number or certificate number, on a stated basis (V26)."""

    unit_number: str | None = Field(None, min_length=28, max_length=28)
    certificate_number: str | None = Field(None, min_length=1, max_length=64)
    basis: str = Field(description="own_right, consent, interest, intent or case.")
    purpose: str | None = Field(None, description="Purpose code; optional only for an owner's own unit.")
    requester_party: Hex64 | None = Field(None, description="The org's party the requester speaks for.")
    consent_ids: list[TxRef] | None = Field(None, max_length=20)
    evidence_sha256: Hex64 | None = None
    interest_kind: str | None = None
    case_no: str | None = Field(None, min_length=1, max_length=100)

    @field_validator("unit_number")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        return None if value is None else _unit_number(value)

    @field_validator("basis")
    @classmethod
    def _basis(cls, value: str) -> str:
        return _choice(value, BASES, "basis")

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str | None) -> str | None:
        return None if value is None else _choice(value, PURPOSES, "purpose")

    @field_validator("interest_kind")
    @classmethod
    def _interest(cls, value: str | None) -> str | None:
        return None if value is None else _choice(value, INTEREST_KINDS, "interest kind")


class ConsentIn(StepIn):
    """``inquiry.consent``: an owner lets one bank query one unit for one purpose until a date."""

    unit_number: str = Field(min_length=28, max_length=28)
    bank_party: Hex64
    purpose: str
    expires_on: IsoDate

    @field_validator("unit_number")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _unit_number(value)

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        return _choice(value, PURPOSES, "purpose")


class PresaleContractIn(StepIn):
    """``presale.contract``: the developer files a pre-sale contract (商品房预售合同) on one predicted unit.

    The developer's filing tx is its signature on the document; each buyer then signs the same
    ``document_sha256`` (``PresaleSignIn``). What the register decides (the unit is a predicted flat of
    the developer's project, not yet first-registered, not seized, not already pre-sold; the signer's
    org acts for ``developer``) is left to the contract.
    """

    unit_number: str = Field(min_length=28, max_length=28, description="The predicted unit's 28-character number.")
    developer: Hex64 = Field(description="The developer's organisation party id (bound to the signer's org).")
    buyers: list[Hex64] = Field(min_length=1, max_length=100, description="Each buyer's party id, once.")
    price_fen: int = Field(ge=1, le=MAX_FEN, strict=True, description="The contract price in fen (V9).")
    contract_no: Ident = Field(description="The contract's own number.")
    filing_no: Ident = Field(description="The pre-sale contract filing (备案) number.")
    document_sha256: Hex64 = Field(description="SHA-256 of the contract document every buyer signs.")

    @field_validator("unit_number")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _unit_number(value)

    @field_validator("buyers")
    @classmethod
    def _buyers(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if len(set(value)) != len(value):
            msg = "must name each buyer once"
            raise ValueError(msg)
        if info.data.get("developer") in value:  # absent when ``developer`` itself failed (its own error)
            msg = "must not name the developer: it sells to the buyers, it cannot be one"
            raise ValueError(msg)
        return value


class PresaleSignIn(StepIn):
    """``presale.sign``: one buyer signs the exact contract document with their own key (V7)."""

    contract_id: TxRef = Field(description="The pre-sale contract's id: its presale.contract tx id.")
    document_sha256: Hex64 = Field(description="The contract document's SHA-256, as filed.")


class PreparedOut(BaseModel):
    """An unsigned payload: sign ``canonical`` (its exact UTF-8 bytes) and submit the envelope."""

    command: str = Field(description="The contract command, e.g. application.confirm.")
    payload: dict[str, Any] = Field(description="The payload object (body, chain_id, command, created_at, "
                                    "nonce, signer, type).")
    canonical: str = Field(description="The RFC 8785 bytes of the payload as a UTF-8 string: sign exactly these.")
    tx_id: str = Field(description="Hex SHA-256 of the canonical bytes: the id the transaction will have.")



class ApplicationOut(BaseModel):
    """An application as its parties and the registry may see it."""

    application_id: str
    business_type: str
    unit_number: str
    state: str = Field(description="FILED, CONFIRMED, ACCEPTED, APPROVED, ON_HOLD, RECORDED, CERTIFIED, DECLINED, "
                       "WITHDRAWN, NOT_ACCEPTED, REFUSED or EXPIRED.")
    filer_org: str
    applicants: list[str] = Field(description="Party ids of the applicants.")
    confirmed: list[str] = Field(description="Party ids that have confirmed.")
    materials: list[dict[str, Any]]
    result: str | None = Field(None, description="The register key the recording created or changed.")
    certificate_number: str | None = None
    mortgage_certificate_number: str | None = Field(None, description=(
        "ownership.transfer_mortgage, once recorded: the new mortgage's registration certificate (不动产登记证明), "
        "issued by its own issue step; certificate_number is the buyers' title."))
    steps: dict[str, Any] = Field(description="Each registry step: who signed, when, in which tx.")
    confirm_deadline_ms: int = Field(description="Until when every applicant may confirm (ms since the epoch); "
                                     "past it an unconfirmed application reads EXPIRED, which no event announces.")
    complete: bool = Field(description="Nothing more will happen to it: decided, withdrawn, expired, or recorded "
                           "with no registration certificate left for the issuer to issue (a cancellation; an "
                           "ownership transfer, whose title certificate this platform does not issue; a "
                           "transfer with a new mortgage once the mortgage's certificate is issued).")
