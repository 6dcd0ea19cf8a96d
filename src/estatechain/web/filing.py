"""The bank clerk's filing forms, one per business type: fields, materials, and the filing body each builds.

A business type's form (``KINDS``) names its fields and its file inputs; ``build`` reads the typed
values against the register's current entries of the unit and returns the ``application.file`` body
the contract expects (the same shapes ``estatechain demo`` files), or None with the problems set on
the fields. Form problems that are not rules (an amount that is not money, a date that is not a
date, no mortgage chosen, a file that is not a PDF or image) are answered here, before anything is
prepared; the rules (V1–V27) are the contract's, run by the precheck on the confirmation page and by
the ledger. Amounts are read as decimal 元 and kept as integer fen; no float is involved (design §3.2).

Without JavaScript a form cannot change its file inputs when the clerk picks a cause, so a cause's
proof is one input ("proof of the cause") whose material type follows the chosen cause when the
form is read (``PROOF_OF_CAUSE``, ``TRANSFER_CAUSES``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from starlette.datastructures import FormData, UploadFile

from estatechain.canonical import JSONValue
from estatechain.contract.records import Mortgage, Notice, PartyRef, Status
from estatechain.contract.records.notice import PURCHASE_KINDS
from estatechain.contract.rules.mortgage_cancel import MORTGAGEE_ALONE, PROOF_OF_CAUSE
from estatechain.contract.rules.notice_change import TRANSFER_CAUSES
from estatechain.errors import InputError
from estatechain.storage.materials import MaterialStore
from estatechain.web.cases import UnitEntries
from estatechain.web.i18n import N_
from estatechain.web.seizurestanding import SeizureEntry

MAX_TEXT: Final = 200
PURCHASE_KIND: Final = 1
MORTGAGE_NOTICE_KIND: Final = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One input of a form: its name (also its element id), label, widget and whether it must be filled."""

    name: str
    label: str
    widget: str = "text"
    """``text``, ``money`` (decimal 元), ``date`` or ``select`` (options from ``Register.options``)."""
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """A file input: ``material_<name>``; its material type is ``name`` unless the cause decides it."""

    name: str
    label: str
    type_of: Callable[[Mapping[str, str]], str] | None = None

    def material_type(self, values: Mapping[str, str]) -> str:
        """The material type this input carries for the form's ``values``."""
        return self.name if self.type_of is None else self.type_of(values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """A business type as the clerk files it: the contract's type, its form and its file inputs."""

    key: str
    business_type: str
    label: str
    fields: tuple[Field, ...]
    slots: tuple[Slot, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """A choice of a select: its value, its text (a message id when ``translate``) and an amount to show."""

    value: str
    label: str
    translate: bool = False
    fen: int | None = None


@dataclass(slots=True)
class Filing:
    """The form's values as typed (shown again on errors) and the problems by field."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shown:
    """A unit's entries as a bank clerk's page shows them (domain.md §2, §7).

    In full (``full``) with every current owner's inquiry consent to the bank in force; otherwise the
    limited answer: the bank's own mortgages and notices in full, and of everything else only that
    it exists: the rank of another mortgagee's mortgage, the kind of another holder's notice (a
    purchase notice with its certificate number, which the buyer presents to the bank), whether a
    seizure or other restriction is in effect, how many owners and whether co-owned, and the title
    number (the owner presents the title). Never other parties' ids, amounts, other banks'
    certificate numbers or court orders.
    """

    full: bool
    titles: tuple[str, ...]
    owners: int
    co_owned: bool
    mortgages: tuple[Mortgage, ...]
    """Shown in full: all when ``full``, else those the clerk's bank holds."""
    notices: tuple[Notice, ...]
    other_mortgages: tuple[int, ...]
    """Ranks of the current mortgages not shown in full."""
    other_notices: tuple[tuple[int, str | None], ...]
    """(kind, purchase notice certificate number or None) of the current notices not shown in full."""
    seizures: tuple[SeizureEntry, ...]
    """In effect or queued, with the state and period the queue derives; only when ``full``."""
    restricted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    """What the form is checked against: the unit's entries and notices, the clerk's bank, the member banks."""

    entries: UnitEntries
    notices: tuple[Notice, ...]
    bank_party: str
    banks: Mapping[str, str]
    """Member org → party id."""
    evidence: Mapping[str, frozenset[str]]
    """Notice id → hashes of the documents the entry was recorded from (what a correction may cite)."""
    full: bool = False
    """Every current owner's inquiry consent to the clerk's bank is in force: it may see every entry (§7)."""

    def own_mortgages(self) -> list[Mortgage]:
        """The unit's current mortgages the clerk's bank holds (what it may cancel)."""
        return [m for m in self.entries.mortgages if self.bank_party in {p.party_id for p in m.mortgagees}
                and m.certificate_number]

    def mortgage_notices(self, *, own: bool) -> list[Notice]:
        """Current 预抵押 on the unit with a certificate; ``own``: only those the clerk's bank holds.

        Other banks' notices (a transfer to the clerk's bank) only with the owners' consent in force:
        without it a bank never sees another bank's certificate numbers or amounts (domain.md §2, §7).
        """
        return [n for n in self.notices if n.kind == MORTGAGE_NOTICE_KIND and n.certificate_number
                and ((not own and self.full) or self.bank_party in n.holder_ids())]

    def shown(self, *, restricted: bool) -> Shown:
        """The entries as the clerk's bank may see them; ``restricted``: a seizure is in effect or queued."""
        entries = self.entries
        current = [r for r in entries.ownerships if r.status is Status.CURRENT]
        mortgages = [m for m in entries.mortgages if self.full or self.bank_party in m.mortgagee_ids()]
        notices = [n for n in self.notices if self.full or self.bank_party in n.holder_ids()]
        return Shown(
            full=self.full, titles=tuple(r.title_number for r in current),
            owners=sum(len(r.holders) for r in current), co_owned=any(len(r.holders) > 1 for r in current),
            mortgages=tuple(mortgages), notices=tuple(notices),
            other_mortgages=tuple(m.rank for m in entries.mortgages if m not in mortgages),
            other_notices=tuple((int(n.kind), n.certificate_number if n.kind in PURCHASE_KINDS else None)
                                for n in self.notices if n not in notices),
            seizures=entries.seizures if self.full else (), restricted=restricted)

    def purchase_notices(self) -> list[Notice]:
        """Current purchase notices on the unit (a 预抵押 cites one; its buyers are the mortgagors)."""
        return [n for n in self.notices if n.kind == PURCHASE_KIND and n.certificate_number]

    def options(self, kind: Kind) -> dict[str, list[Option]]:
        """The choices of every select of ``kind``'s form."""
        choices: dict[str, list[Option]] = {
            "reason": [Option(code, label, translate=True) for code, label in REASONS.items()],
            "cause": [Option(code, label, translate=True) for code, label in CAUSES.items()],
            "correct_field": [Option(code, label, translate=True) for code, label in CORRECTABLE.items()],
            "transferee": [Option("", N_("(my bank is the transferee)"), translate=True)]
            + [Option(org, org) for org, party in sorted(self.banks.items()) if party != self.bank_party],
        }
        if kind.business_type == "mortgage.cancel":
            choices["target"] = [Option(str(m.certificate_number), str(m.certificate_number), fen=_amount(m))
                                 for m in self.own_mortgages()]
        elif kind.business_type == "mortgage_notice.first":
            choices["target"] = [Option(str(n.certificate_number), str(n.certificate_number))
                                 for n in self.purchase_notices()]
        else:
            own = kind.business_type != "mortgage_notice.transfer"
            choices["target"] = [Option(str(n.certificate_number), str(n.certificate_number), fen=n.amount.fen)
                                 for n in self.mortgage_notices(own=own)]
        choices["evidence"] = [Option(sha, f"{sha[:16]}… ({n.certificate_number})")
                               for n in self.mortgage_notices(own=True)
                               for sha in sorted(self.evidence.get(n.notice_id, ()))]
        return choices


def _amount(mortgage: Mortgage) -> int | None:
    money = mortgage.secured_principal or mortgage.max_claim
    return None if money is None else money.fen


REASONS: Final = {"REPAID": N_("The loan is repaid"), "WAIVED": N_("The bank waives the mortgage"),
                  "JUDGMENT": N_("Effective court judgment"), "REALISED": N_("The mortgage was realised"),
                  "OTHER": N_("Other legal cause")}
"""Causes of a cancellation (细则 70) as the contract codes them (``mortgage_cancel.PROOF_OF_CAUSE``)."""
CAUSES: Final = {"ASSIGNMENT": N_("Assignment of the loan"), "MERGER": N_("Bank merger or division"),
                 "JUDGMENT": N_("Effective court judgment")}
"""Causes of a 预抵押 transfer (``notice_change.TRANSFER_CAUSES``)."""
CORRECTABLE: Final = {"contract_numbers": N_("Loan contract number"), "scope": N_("Scope of the secured claim"),
                      "amount": N_("Secured principal")}
"""Entry fields a clerk's correction may fix (a subset of ``notice_correct.CORRECTABLE``)."""

_PRINCIPAL = Field(name="principal_yuan", label=N_("Secured principal (yuan)"), widget="money")
_TERM = (Field(name="term_start", label=N_("Debt term from"), widget="date"),
         Field(name="term_end", label=N_("Debt term to"), widget="date"))
_CONTRACT = Field(name="contract_number", label=N_("Loan contract number"))
_SCOPE = Field(name="scope", label=N_("Scope of the secured claim"), required=False)
_FORM = Slot(name="APPLICATION_FORM", label=N_("Application form"))
_ATTORNEY = Slot(name="POWER_OF_ATTORNEY", label=N_("Power of attorney"))
_LOAN = Slot(name="LOAN_CONTRACT", label=N_("Loan contract"))
_NOTICE_TARGET = Field(name="target", label=N_("The pre-sale mortgage notice it concerns (certificate)"),
                       widget="select")
_CANCEL_PROOF = Slot(name="PROOF", label=N_("Proof of the cause (payoff statement, waiver, judgment …)"),
                     type_of=lambda values: PROOF_OF_CAUSE.get(values.get("reason", ""), "OTHER_PROOF"))
_REASON = Field(name="reason", label=N_("Cause"), widget="select")

KINDS: Final = {kind.key: kind for kind in (
    Kind(key="mortgage.first", business_type="mortgage.first", label=N_("Mortgage first registration (ordinary)"),
         fields=(_PRINCIPAL, *_TERM, _CONTRACT, _SCOPE), slots=(_FORM, _ATTORNEY, _LOAN)),
    Kind(key="mortgage.first.maximum", business_type="mortgage.first",
         label=N_("Mortgage first registration (maximum amount)"),
         fields=(Field(name="max_claim_yuan", label=N_("Maximum claim amount (yuan)"), widget="money"),
                 Field(name="period_start", label=N_("Determination period from (if agreed)"), widget="date",
                       required=False),
                 Field(name="period_end", label=N_("Determination period to (if agreed)"), widget="date",
                       required=False),
                 Field(name="contract_number", label=N_("Maximum-amount mortgage contract number")), _SCOPE),
         slots=(_FORM, _ATTORNEY, Slot(name="MAX_MORTGAGE_CONTRACT", label=N_("Maximum-amount mortgage contract")))),
    Kind(key="mortgage.cancel", business_type="mortgage.cancel", label=N_("Mortgage cancellation"),
         fields=(Field(name="target", label=N_("The mortgage it concerns (certificate)"), widget="select"), _REASON),
         slots=(_FORM, _CANCEL_PROOF)),
    Kind(key="mortgage_notice.first", business_type="mortgage_notice.first",
         label=N_("Pre-sale mortgage notice filing"),
         fields=(Field(name="target", label=N_("Purchase notice (certificate)"), widget="select"),
                 _PRINCIPAL, *_TERM, _CONTRACT, _SCOPE),
         slots=(_FORM, _ATTORNEY, _LOAN, Slot(name="NOTICE_AGREEMENT", label=N_("Agreement on the notice")))),
    Kind(key="mortgage_notice.change", business_type="mortgage_notice.change",
         label=N_("Pre-sale mortgage notice change (terms)"),
         fields=(_NOTICE_TARGET,
                 Field(name="principal_yuan", label=N_("New secured principal (yuan)"), widget="money",
                       required=False),
                 Field(name="term_start", label=N_("New debt term from"), widget="date", required=False),
                 Field(name="term_end", label=N_("New debt term to"), widget="date", required=False),
                 Field(name="scope", label=N_("New scope of the secured claim"), required=False)),
         slots=(_FORM, Slot(name="SUPPLEMENTARY_AGREEMENT", label=N_("Supplementary agreement")))),
    Kind(key="mortgage_notice.transfer", business_type="mortgage_notice.transfer",
         label=N_("Pre-sale mortgage notice transfer"),
         fields=(_NOTICE_TARGET, Field(name="cause", label=N_("Cause"), widget="select"),
                 Field(name="transferee", label=N_("Transferee bank"), widget="select", required=False)),
         slots=(_FORM, Slot(name="CAUSE_DOCUMENT", label=N_("Document of the cause (assignment agreement …)"),
                            type_of=lambda values: TRANSFER_CAUSES.get(values.get("cause", ""), "OTHER_PROOF")),
                Slot(name="DEBTOR_NOTICE", label=N_("Proof that the debtor was notified")))),
    Kind(key="mortgage_notice.correct", business_type="mortgage_notice.correct",
         label=N_("Pre-sale mortgage notice correction"),
         fields=(_NOTICE_TARGET, Field(name="correct_field", label=N_("Field in error"), widget="select"),
                 Field(name="correct_new", label=N_("Correct value")),
                 Field(name="evidence", label=N_("Document the entry was recorded from"), widget="select")),
         slots=(_FORM, Slot(name="ERROR_PROOF", label=N_("Proof of the error")))),
    Kind(key="mortgage_notice.cancel", business_type="mortgage_notice.cancel",
         label=N_("Pre-sale mortgage notice cancellation"),
         fields=(_NOTICE_TARGET, _REASON), slots=(_FORM, _CANCEL_PROOF)),
)}
"""The business types the bank desk files, in the order the type choice lists them."""
DEFAULT_KIND: Final = "mortgage.first"
FORM_FIELDS: Final = frozenset(f.name for kind in KINDS.values() for f in kind.fields)


def kind_of(key: str) -> Kind:
    """The form of ``key``; the ordinary mortgage first registration for anything unknown."""
    return KINDS.get(key, KINDS[DEFAULT_KIND])


def read_form(form: FormData) -> tuple[Kind, Filing]:
    """The business type chosen and the form's text fields, trimmed and bounded."""
    kind = kind_of(str(form.get("kind", "")))
    names = ("unit_number", *(f.name for f in kind.fields))
    values = {name: str(form.get(name, "")).strip()[:MAX_TEXT] for name in names}
    values["kind"] = kind.key
    return kind, Filing(values=values)


def fen(text: str) -> int | None:
    """Decimal 元 with at most two decimals as integer fen, or None.

    Up to 13 digits of 元 (below 10¹³ 元, far above any loan), ASCII digits only; thousands
    separators only in their correct places (``1,234,567.89``), so ``1,20`` is not read as 120.
    """
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if not _AMOUNT.fullmatch(text):
        return None
    amount = int(Decimal(text) * 100)
    return amount if amount > 0 else None


_AMOUNT: Final = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")
_GROUPED: Final = re.compile(r"[0-9]{1,3}(,[0-9]{3}){1,4}(\.[0-9]{1,2})?")


def _date(text: str) -> str | None:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


async def store_materials(form: FormData, kind: Kind, filing: Filing, materials: MaterialStore, org: str
                          ) -> list[JSONValue]:
    """Keep each uploaded material (content-addressed) and return the references the filing carries."""
    refs: list[JSONValue] = []
    for slot in kind.slots:
        upload = form.get(f"material_{slot.name}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            filing.problems[f"material_{slot.name}"] = N_("Attach this material (PDF, OFD, JPEG or PNG).")
            continue
        data = await upload.read()
        try:
            stored = await materials.put_in_thread(data, org=org)
        except InputError:
            filing.problems[f"material_{slot.name}"] = N_(
                "This file is not a PDF, OFD, JPEG or PNG, or it is too large.")
            continue
        refs.append({"type": slot.material_type(filing.values), "sha256": stored.sha256, "size": stored.size,
                     "media_type": stored.media_type})
    return refs


def _party(ref: PartyRef, capacity: str) -> dict[str, JSONValue]:
    applicant: dict[str, JSONValue] = {"party_id": ref.party_id, "capacity": capacity}
    if ref.record_ref is not None:
        applicant["record_ref"] = ref.record_ref
    return applicant


class _Reader:
    """Reads typed values of one filing, noting a problem on each field that does not parse."""

    def __init__(self, filing: Filing) -> None:
        self.values, self.problems = filing.values, filing.problems

    def text(self, name: str, problem: str) -> str:
        value = self.values.get(name, "")
        if not value:
            self.problems[name] = problem
        return value

    def amount(self, name: str, *, optional: bool = False) -> int | None:
        text = self.values.get(name, "")
        if optional and not text:
            return None
        amount = fen(text)
        if amount is None:
            self.problems[name] = N_("Enter an amount in yuan, e.g. 1200000 or 1200000.50.")
        return amount

    def period(self, start: str, end: str, *, optional: bool = False) -> dict[str, JSONValue] | None:
        first, last = self.values.get(start, ""), self.values.get(end, "")
        if optional and not first and not last:
            return None
        for name, text in ((start, first), (end, last)):
            if _date(text) is None:
                self.problems[name] = N_("Enter a date as YYYY-MM-DD.")
        if start in self.problems or end in self.problems:
            return None
        return {"start": _date(first), "end": _date(last)}

    def choice(self, name: str, options: Collection[str], problem: str) -> str:
        value = self.values.get(name, "")
        if value not in options:
            self.problems[name] = problem
        return value


_CHOOSE_CAUSE: Final = N_("Choose one of the listed causes.")


def _mortgage_first(kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    read = _Reader(filing)
    terms: dict[str, JSONValue]
    if kind.key == "mortgage.first.maximum":
        terms = {"method": 2, "max_claim_fen": read.amount("max_claim_yuan")}
        if (period := read.period("period_start", "period_end", optional=True)) is not None:
            terms["determination_period"] = period
    else:
        terms = {"method": 1, "secured_principal_fen": read.amount("principal_yuan"),
                 "debt_term": read.period("term_start", "term_end")}
    contract = read.text("contract_number", N_("Enter the loan contract number."))
    rights = register.entries.ownerships
    if not rights:
        filing.problems["unit_number"] = N_("The register shows no current owner of this unit.")
        return {}
    applicants: list[JSONValue] = [_party(h.party, "mortgagor") for h in rights[0].holders]
    return {"applicants": [*applicants, {"party_id": register.bank_party, "capacity": "mortgagee"}],
            "details": {**terms, "currency": "CNY", "scope": filing.values.get("scope") or "主债权及利息",
                        "contract_numbers": [contract], "transfer_restricted": False,
                        "title_number": rights[0].title_number}}


def _mortgage_cancel(_kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    read = _Reader(filing)
    mortgages = {str(m.certificate_number): m for m in register.own_mortgages()}
    number = read.choice("target", mortgages, N_("Choose one of your bank's current mortgages on this unit."))
    reason = read.choice("reason", REASONS, _CHOOSE_CAUSE)
    mortgage = mortgages.get(number)
    if mortgage is None:
        return {}
    applicants: list[JSONValue] = [_party(p, "mortgagee") for p in mortgage.mortgagees]
    if reason not in MORTGAGEE_ALONE | {"JUDGMENT"}:
        applicants += [_party(p, "mortgagor") for p in mortgage.mortgagors]
    return {"applicants": applicants, "details": {"certificate_number": number, "reason": reason}}


def _notice_first(_kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    read = _Reader(filing)
    purchases = {str(n.certificate_number): n for n in register.purchase_notices()}
    number = read.choice("target", purchases, N_("Choose the unit's purchase notice the new notice rests on."))
    amount, term = read.amount("principal_yuan"), read.period("term_start", "term_end")
    contract = read.text("contract_number", N_("Enter the loan contract number."))
    purchase = purchases.get(number)
    if purchase is None:
        return {}
    return {"applicants": [*(_party(p, "mortgagor") for p in purchase.holders),
                           {"party_id": register.bank_party, "capacity": "mortgagee"}],
            "details": {"notice_kind": MORTGAGE_NOTICE_KIND, "method": 1, "secured_principal_fen": amount,
                        "currency": "CNY", "debt_term": term, "scope": filing.values.get("scope") or "详见抵押合同",
                        "contract_numbers": [contract], "transfer_restricted": False,
                        "purchase_notice_certificate_number": number}}


def _notice_target(filing: Filing, register: Register, *, own: bool) -> Notice | None:
    notices = {str(n.certificate_number): n for n in register.mortgage_notices(own=own)}
    problem = (N_("Choose one of your bank's current pre-sale mortgage notices on this unit.") if own
               else N_("Choose one of the current pre-sale mortgage notices on this unit."))
    return notices.get(_Reader(filing).choice("target", notices, problem))


def _holders(notice: Notice) -> list[JSONValue]:
    return [_party(p, "mortgagee") for p in notice.holders]


def _notice_change(_kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    notice, read = _notice_target(filing, register, own=True), _Reader(filing)
    changes: dict[str, JSONValue] = {}
    if (amount := read.amount("principal_yuan", optional=True)) is not None:
        changes["secured_principal_fen"] = amount
    if (term := read.period("term_start", "term_end", optional=True)) is not None:
        changes["debt_term"] = term
    if filing.values.get("scope"):
        changes["scope"] = filing.values["scope"]
    if not changes and not filing.problems:
        filing.problems["principal_yuan"] = N_("Enter at least one new term: principal, debt term or scope.")
    if notice is None:
        return {}
    return {"applicants": [*(_party(p, "mortgagor") for p in notice.obligors), *_holders(notice)],
            "details": {"certificate_number": notice.certificate_number, "change_kind": "terms", "changes": changes}}


def _notice_transfer(_kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    notice, read = _notice_target(filing, register, own=False), _Reader(filing)
    cause = read.choice("cause", CAUSES, _CHOOSE_CAUSE)
    if notice is None:
        return {}
    transferee = register.bank_party
    if register.bank_party in notice.holder_ids():
        others = {org: party for org, party in register.banks.items() if party not in notice.holder_ids()}
        transferee = others.get(read.choice("transferee", others, N_("Name the bank the notice goes to.")), "")
    transferors = _holders(notice) if cause == "ASSIGNMENT" else []
    return {"applicants": [*transferors, {"party_id": transferee, "capacity": "transferee"}],
            "details": {"certificate_number": notice.certificate_number, "cause": cause}}


def _notice_correct(_kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    notice, read = _notice_target(filing, register, own=True), _Reader(filing)
    name = read.choice("correct_field", CORRECTABLE, N_("Choose the field in error."))
    text = read.text("correct_new", N_("Enter the value the register should show."))
    evidence = read.choice("evidence", {sha for hashes in register.evidence.values() for sha in hashes},
                           N_("Choose the document the entry was recorded from."))
    if notice is None or filing.problems:
        return {}
    old: JSONValue = notice.to_json().get(name)
    new: JSONValue = text
    if name == "contract_numbers":
        new = [part.strip() for part in text.split(",") if part.strip()]
    elif name == "amount":
        amount = read.amount("correct_new")
        new = None if amount is None else {"fen": amount, "currency": "CNY"}
    return {"applicants": _holders(notice),
            "details": {"certificate_number": notice.certificate_number, "error_evidence_sha256": evidence,
                        "corrections": [{"field": name, "old": old, "new": new}]}}


def _notice_cancel(_kind: Kind, filing: Filing, register: Register) -> dict[str, JSONValue]:
    notice, read = _notice_target(filing, register, own=True), _Reader(filing)
    reason = read.choice("reason", REASONS, _CHOOSE_CAUSE)
    if notice is None:
        return {}
    applicants = _holders(notice)
    if reason not in MORTGAGEE_ALONE | {"JUDGMENT"}:
        applicants += [_party(p, "mortgagor") for p in notice.obligors]
    return {"applicants": applicants, "details": {"certificate_number": notice.certificate_number, "reason": reason}}


_BUILDERS: Final[Mapping[str, Callable[[Kind, Filing, Register], dict[str, JSONValue]]]] = {
    "mortgage.first": _mortgage_first, "mortgage.cancel": _mortgage_cancel, "mortgage_notice.first": _notice_first,
    "mortgage_notice.change": _notice_change, "mortgage_notice.transfer": _notice_transfer,
    "mortgage_notice.correct": _notice_correct, "mortgage_notice.cancel": _notice_cancel,
}


def build(kind: Kind, filing: Filing, register: Register, materials: list[JSONValue]
          ) -> dict[str, JSONValue] | None:
    """The ``application.file`` body of ``kind``, or None with ``filing.problems`` set."""
    parts = _BUILDERS[kind.business_type](kind, filing, register)
    if filing.problems or not parts:
        return None
    return {"business_type": kind.business_type, "unit_number": register.entries.unit.unit_number,
            "materials": materials, **parts}


def summary(kind: Kind, filing: Filing, body: Mapping[str, JSONValue]) -> list[list[str]]:
    """The confirmation page's rows: what is filed, on which unit, with the terms the clerk typed."""
    values, details = filing.values, body.get("details")
    assert isinstance(details, dict)
    rows = [[N_("Action"), N_("File an application"), "t"], [N_("Business type"), kind.label, "t"],
            [N_("Unit number"), str(body["unit_number"])]]
    if values.get("target"):
        rows.append([N_("Certificate concerned"), values["target"]])
    changes = details.get("changes")
    terms = {**details, **(changes if isinstance(changes, dict) else {})}  # a change shows its new terms
    for key, label in (("secured_principal_fen", N_("Secured principal")), ("max_claim_fen", N_("Maximum claim"))):
        if isinstance(amount := terms.get(key), int):
            rows.append([label, str(amount), "money"])
    if values.get("term_start") or values.get("term_end"):
        rows.append([N_("Debt term"), f"{values.get('term_start', '')} – {values.get('term_end', '')}"])
    if values.get("contract_number"):
        rows.append([N_("Loan contract"), values["contract_number"]])
    for key, table in (("reason", REASONS), ("cause", CAUSES), ("correct_field", CORRECTABLE)):
        if values.get(key) in table:
            rows.append([N_("Cause") if key != "correct_field" else N_("Field in error"), table[values[key]], "t"])
    if values.get("correct_new"):
        rows.append([N_("Correct value"), values["correct_new"]])
    applicants = body.get("applicants")
    rows.append([N_("Applicants"), str(len(applicants) if isinstance(applicants, list) else 0)])
    return rows
