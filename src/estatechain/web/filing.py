"""The bank clerk's filing form: read and check the fields, keep the materials, build the filing body.

Form problems that are not rules (an amount that is not money, a date that is not a date, a file
that is not a PDF or image) are answered here, on the field, before anything is prepared; the rules
(V1–V27) are the contract's, run by the precheck and by the ledger. Amounts are read as decimal 元
and kept as integer fen; no float is involved anywhere (design §3.2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from starlette.datastructures import FormData, UploadFile

from estatechain.canonical import JSONValue
from estatechain.errors import InputError
from estatechain.storage.materials import MaterialStore
from estatechain.web.cases import UnitEntries
from estatechain.web.i18n import N_

MATERIALS: Final = ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT")
"""What an ordinary mortgage first registration needs (``contract/rules/mortgage.py`` required_materials)."""
MAX_TEXT: Final = 200


@dataclass(slots=True)
class Filing:
    """The form's values as typed (shown again on errors) and the problems by field."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


def read_form(form: FormData) -> Filing:
    """The text fields of the filing form, trimmed and bounded."""
    names = ("unit_number", "principal_yuan", "term_start", "term_end", "contract_number", "scope")
    return Filing(values={name: str(form.get(name, "")).strip()[:MAX_TEXT] for name in names})


def fen(text: str) -> int | None:
    """Decimal 元 with at most two decimals as integer fen, or None."""
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def _date(text: str) -> str | None:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


async def store_materials(form: FormData, filing: Filing, materials: MaterialStore, org: str) -> list[JSONValue]:
    """Keep each uploaded material (content-addressed) and return the references the filing carries."""
    refs: list[JSONValue] = []
    for kind in MATERIALS:
        upload = form.get(f"material_{kind}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            filing.problems[f"material_{kind}"] = N_("Attach this material (PDF, JPEG or PNG).")
            continue
        data = await upload.read()
        try:
            stored = materials.put(data, org=org)
        except InputError:
            filing.problems[f"material_{kind}"] = N_("This file is not a PDF, JPEG or PNG, or it is too large.")
            continue
        refs.append({"type": kind, "sha256": stored.sha256, "size": stored.size, "media_type": stored.media_type})
    return refs


def filing_body(filing: Filing, entries: UnitEntries, bank_party: str, materials: list[JSONValue]
                ) -> dict[str, JSONValue] | None:
    """The ``application.file`` body of a mortgage first registration, or None with ``filing.problems`` set."""
    values = filing.values
    amount = fen(values["principal_yuan"])
    start, end = _date(values["term_start"]), _date(values["term_end"])
    if amount is None:
        filing.problems["principal_yuan"] = N_("Enter the secured principal in yuan, e.g. 1200000 or 1200000.50.")
    if start is None:
        filing.problems["term_start"] = N_("Enter a date as YYYY-MM-DD.")
    if end is None:
        filing.problems["term_end"] = N_("Enter a date as YYYY-MM-DD.")
    if not values["contract_number"]:
        filing.problems["contract_number"] = N_("Enter the loan contract number.")
    if not entries.ownerships:
        filing.problems["unit_number"] = N_("The register shows no current owner of this unit.")
    if filing.problems or amount is None:
        return None
    right = entries.ownerships[0]
    applicants: list[JSONValue] = []
    for holder in right.holders:
        applicant: dict[str, JSONValue] = {"party_id": holder.party.party_id, "capacity": "mortgagor"}
        if holder.party.record_ref is not None:
            applicant["record_ref"] = holder.party.record_ref
        applicants.append(applicant)
    applicants.append({"party_id": bank_party, "capacity": "mortgagee"})
    return {
        "business_type": "mortgage.first", "unit_number": entries.unit.unit_number, "applicants": applicants,
        "materials": materials,
        "details": {"method": 1, "secured_principal_fen": amount, "currency": "CNY",
                    "debt_term": {"start": start, "end": end}, "scope": values["scope"] or "主债权及利息",
                    "contract_numbers": [values["contract_number"]], "transfer_restricted": False,
                    "title_number": right.title_number},
    }
