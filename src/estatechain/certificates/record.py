"""The certificate record (电子不动产登记证明): every box of the national form, built from the register.

The record is the source of truth of a certificate (domain.md §6.2): the PDF is a rendering of it, an
OFD rendering can be added later. It is RFC 8785 canonical JSON (ASCII keys, integer money) with a
type tag and the chain id (design §3.12), so its signature verifies in this consortium only, and
``document_sha256`` = hex SHA-256 of its canonical bytes is what the issue transaction puts on the
ledger. Names of the right holders and obligors are personal data: they stand in the copies issued
to the entitled parties only, never on the shared ledger (design §3.10), which keeps the hash.

Field ↔ form box (domain.md §6.1): ``number`` the header number, ``right_or_matter`` 证明权利或事项,
``right_holders`` 权利人(申请人), ``obligors`` 义务人, ``location`` 坐落, ``unit_number`` 不动产单元号,
``secured_amount`` / ``debt_term`` / ``mortgage_type`` and the rest of ``other`` 其他, ``notes`` 附记,
``registry`` 登记机构(章), ``date`` the 年月日 line; ``elicence_id`` the GB/T 36904 identifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, CertificateNumber, parse
from estatechain.contract.certificates import load
from estatechain.contract.checks.elicence import PROOF_TYPE_CODE, TITLE_TYPE_CODE, mod37_36_check
from estatechain.contract.checks.unit import current_ownership
from estatechain.contract.civil_date import civil_from_days, shanghai_day
from estatechain.contract.records import Application, AppState
from estatechain.contract.records.mortgage import DateRange, Method, Mortgage
from estatechain.contract.records.notice import Notice, NoticeKind
from estatechain.contract.records.party import PartyRef
from estatechain.contract.rules.transfer_mortgage import mortgage_certificate, mortgage_certificate_pending
from estatechain.contract.view import StateView
from estatechain.errors import Conflict, NotFound

RECORD_TYPE: Final = "estatechain.certificate.v1"
FIELDS: Final = (
    "application_id", "chain_id", "date", "debt_term", "elicence_id", "entry", "issuer", "location",
    "mortgage_type", "notes", "number", "obligors", "other", "registry", "right_holders", "right_or_matter",
    "secured_amount", "source_txs", "type", "unit_number",
)
"""Every key of a record, sorted as in its canonical bytes."""

ELICENCE_VERSION: Final = "001"
_METHODS: Final = {Method.ORDINARY: "一般抵押", Method.MAXIMUM: "最高额抵押"}
_NOTICE_KINDS: Final = {
    NoticeKind.PRESALE_PURCHASE: "预售商品房买卖预告登记",
    NoticeKind.OTHER_PURCHASE: "其它不动产买卖预告登记",
    NoticeKind.PRESALE_MORTGAGE: "预售商品房抵押权预告登记",
    NoticeKind.OTHER_MORTGAGE: "其它不动产抵押权预告登记",
}
_DISTRICTS: Final = {"440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
                     "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区",
                     "440118": "增城区", "440184": "从化区"}
"""County codes of Guangzhou (GB/T 2260, with the legacy 440184) for the 坐落 line [A: the address text
itself is kept with the encrypted records; the register holds the registry's location code]."""

PartyNames = Callable[[PartyRef], Mapping[str, JSONValue]]
"""Resolves a party to ``{"kind": "person" | "company", "name": ...}`` at the registry's node."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    """Who issues: the registry org, its name on the seal line, its USCC for the e-licence identifier."""

    org_id: str
    name: str
    uscc: str


def document_sha256(record: Mapping[str, JSONValue]) -> str:
    """Hex SHA-256 of the record's canonical bytes: what the issue transaction puts on the ledger."""
    return hashlib.sha256(canonical.encode(dict(record))).hexdigest()


def elicence_id(number: str, registry: Registry) -> str:
    """The GB/T 36904 identifier of a certificate number (domain.md §6.2), check character included.

    Serial = year + the number's serial, so it is unique per registry and never reused [A].
    """
    parsed = _parse_number(number)
    type_code = PROOF_TYPE_CODE if parsed.kind is CertificateKind.PROOF else TITLE_TYPE_CODE
    serial = f"{parsed.year:04d}{parsed.serial:08d}"
    check = mod37_36_check(type_code + registry.uscc + serial + ELICENCE_VERSION)
    return f"1.2.156.3005.2.{type_code}.{registry.uscc}.{serial}.{ELICENCE_VERSION}.{check}"


def wan_yuan(fen: int) -> str:
    """An amount in 万元 exactly as the form shows it, never rounded: 120 000 000 fen → ``120万元``."""
    whole, rest = divmod(fen, 1_000_000)
    decimals = f"{rest:06d}".rstrip("0")
    return f"{whole}.{decimals}万元" if decimals else f"{whole}万元"


def chinese_date(iso: str) -> str:
    """``2026-01-04`` → ``2026年01月04日``."""
    year, month, day = iso.split("-")
    return f"{year}年{month}月{day}日"


def displayed_fields(record: Mapping[str, JSONValue]) -> list[tuple[str, str]]:
    """Every value of ``record`` the page shows, as (field, text exactly as printed), in page order.

    What ``pdf_check.check_page`` requires to be on a certificate's page, and what the command line
    prints for a reader to hold against it: the number, each box's value (each party's name on its
    own, each 其他 and 附记 line, amounts and terms as the record's lines print them), the registry's
    name, the recording date and the e-licence identifier.
    """
    fields: list[tuple[str, str]] = [("number", str(record.get("number", ""))),
                                     ("right_or_matter", str(record.get("right_or_matter", "")))]
    for box in ("right_holders", "obligors"):
        parties = record.get(box)
        for index, party in enumerate(parties if isinstance(parties, list) else []):
            if isinstance(party, dict):
                fields.append((f"{box}[{index}].name", str(party.get("name", ""))))
    fields += [("location", str(record.get("location", ""))), ("unit_number", str(record.get("unit_number", "")))]
    fields += [(f"other[{i}]", line) for i, line in enumerate(lines_of(record.get("other")))]
    fields += [(f"notes[{i}]", line) for i, line in enumerate(lines_of(record.get("notes")))]
    fields += [("registry.name", registry_name(record)),
               ("date", chinese_date(str(record.get("date", "0000-00-00")))),
               ("elicence_id", str(record.get("elicence_id", "")))]
    return [(name, text) for name, text in fields if text]


def registry_name(record: Mapping[str, JSONValue]) -> str:
    """The registry's name on the seal line (登记机构（章）)."""
    registry = record.get("registry")
    return str(registry.get("name", "")) if isinstance(registry, dict) else ""


def lines_of(value: JSONValue) -> list[str]:
    """The lines of a 其他 or 附记 box (empty when the record holds none)."""
    return [str(line) for line in value] if isinstance(value, list) else []


def issued_here(certificate_number: str | None) -> bool:
    """Whether the certificate a recording assigned is one this desk issues: a 不动产登记证明.

    The recording draws a number only when the business type issues a certificate
    (``BusinessType.issues_certificate``: none for a mortgage or 预抵押 cancellation), and of the kind
    the type draws (``certificate_kind``: a 不动产权证书 for an ownership transfer, which this desk does
    not issue). A combined case (转移 + 抵押) draws a title as its own number and a 不动产登记证明 for
    the buyers' new mortgage besides (``case_certificates``).
    """
    return certificate_number is not None and isinstance(
        parse(certificate_number, CertificateKind.PROOF, current_year=9999), CertificateNumber)


def awaits_issuer(state: str, certificate_number: str | None, *, business_type: str,
                  steps: Mapping[str, object]) -> bool:
    """Whether a 不动产登记证明 of this case is still for the issuer's desk, from the application record alone.

    The case's own certificate waits while the case is RECORDED; a combined case's mortgage
    certificate waits until its own issue step (``transfer_mortgage.mortgage_certificate_pending``),
    whether or not the title was issued before it. The desks queue and label cases by this, and the
    desks' index keeps only the application rows.
    """
    return ((state == AppState.RECORDED.value and issued_here(certificate_number))
            or mortgage_certificate_pending(business_type, state, steps))


def case_certificates(view: StateView, application: Application) -> tuple[str, ...]:
    """The 不动产登记证明 numbers the recording of ``application`` drew, its own first: what this desk issues.

    One for a mortgage or notice, none for a cancellation or a plain transfer (its title is not issued
    here), the new mortgage's for a combined case (转移 + 抵押), whose own number is the title.
    """
    if application.state not in {AppState.RECORDED, AppState.CERTIFIED}:
        return ()
    own = application.certificate_number if issued_here(application.certificate_number) else None
    return tuple(n for n in (own, mortgage_certificate(view, application)) if n is not None)


def issued_certificate(view: StateView, application: Application) -> str | None:
    """The case's 不动产登记证明 that was issued (the one its parties download), else None."""
    return next((n for n in case_certificates(view, application) if _issued(view, n)), None)


def build_record(  # noqa: PLR0913  (keywords only; each is one input of the record)
    view: StateView, *, application_id: str, chain_id: str, registry: Registry, issuer: str, names: PartyNames,
    number: str | None = None,
) -> dict[str, JSONValue]:
    """The record of a certificate a RECORDED (or CERTIFIED) application was assigned.

    ``number``: which of the case's 不动产登记证明 (``case_certificates``); by default the first not
    issued yet, else its own (which the desk then reports as issued already).

    Raises:
        NotFound: no such application, ``number`` is not one of its certificates, or the entry is missing.
        Conflict: the application has no certificate this desk issues (not recorded, a type that issues
            none, or a title certificate).

    """
    row = view.get(keys.application(application_id))
    if row is None:
        raise NotFound(f"application {application_id}: not on this node's ledger; check the id")
    application = Application.from_json(row)
    numbers = case_certificates(view, application)
    if not numbers:
        own = application.certificate_number
        if own is None or application.result is None:
            raise Conflict(f"application {application_id}: in state {application.state.value} it has no "
                           "certificate; certificates are issued for recorded registrations only")
        raise Conflict(f"application {application_id}: {own} is a title certificate; "
                       "this desk issues 不动产登记证明 only")
    if number is None:
        number = next((n for n in numbers if not _issued(view, n)), numbers[0])
    elif number not in numbers:
        raise NotFound(f"application {application_id}: {number} is not one of its registration certificates "
                       f"({'、'.join(numbers)}); name one of those, or none for the next to issue")
    certificate = load(view, number)
    entry = None if certificate is None else view.get(certificate.right)
    if certificate is None or entry is None:
        raise NotFound(f"application {application_id}: the register entry of {number} is missing")
    body = (_mortgage_boxes(view, Mortgage.from_json(entry), names) if certificate.right.startswith("mortgage/")
            else _notice_boxes(Notice.from_json(entry), names))
    return {
        "type": RECORD_TYPE, "chain_id": chain_id, "number": number, "elicence_id": elicence_id(number, registry),
        **body, "unit_number": application.unit_number, "location": _location(view, application.unit_number),
        "registry": {"org": registry.org_id, "name": registry.name},
        "date": _iso_day(_registered_ms(entry)), "entry": certificate.right, "application_id": application_id,
        "source_txs": list(application.source_txs), "issuer": issuer,
    }


def _issued(view: StateView, number: str) -> bool:
    certificate = load(view, number)
    return certificate is not None and certificate.issued_ms is not None


# ---------------------------------------------------------------------------------------------- boxes


def _mortgage_boxes(view: StateView, mortgage: Mortgage, names: PartyNames) -> dict[str, JSONValue]:
    other: list[JSONValue] = []
    ownership = current_ownership(view, mortgage.unit_number)
    if ownership is not None:
        other.append(f"不动产权证书号：{ownership.title_number}")
    other.append("抵押不动产类型：土地和房屋")
    other.append(f"抵押方式：{_METHODS[mortgage.method]}")
    amount = _amount(mortgage.method, mortgage.secured_principal.fen if mortgage.secured_principal else None,
                     mortgage.max_claim.fen if mortgage.max_claim else None)
    other.extend(_amount_lines(amount, mortgage.debt_term, mortgage.determination_period))
    other.append(f"担保范围：{mortgage.scope}")
    if mortgage.contract_numbers:
        other.append(f"合同编号：{'、'.join(mortgage.contract_numbers)}")
    notes: list[JSONValue] = [f"抵押顺位：第{mortgage.rank}顺位"]
    if mortgage.transfer_restricted:
        notes.append("存在禁止或限制转让抵押不动产的约定" + (f"：{mortgage.transfer_restriction_text}"
                                                 if mortgage.transfer_restriction_text else ""))
    if mortgage.notes:
        notes.append(mortgage.notes)
    return {
        "right_or_matter": "抵押权",
        "right_holders": [dict(names(p)) | {"party_id": p.party_id} for p in mortgage.mortgagees],
        "obligors": [dict(names(p)) | {"party_id": p.party_id} for p in mortgage.mortgagors],
        "secured_amount": amount, "debt_term": _term(mortgage.debt_term), "mortgage_type": _METHODS[mortgage.method],
        "other": other, "notes": notes,
    }


def _notice_boxes(notice: Notice, names: PartyNames) -> dict[str, JSONValue]:
    other: list[JSONValue] = [f"预告登记种类：{_NOTICE_KINDS[notice.kind]}"]
    amount: dict[str, JSONValue] | None = None
    if notice.kind in {NoticeKind.PRESALE_MORTGAGE, NoticeKind.OTHER_MORTGAGE}:
        method = notice.method or Method.ORDINARY
        other.append(f"抵押方式：{_METHODS[method]}")
        amount = _amount(method, notice.amount.fen, notice.amount.fen)
        other.extend(_amount_lines(amount, notice.debt_term, notice.determination_period))
        if notice.scope:
            other.append(f"担保范围：{notice.scope}")
    else:
        amount = {"basis": "取得价格", "currency": notice.amount.currency, "fen": notice.amount.fen}
        other.append(f"取得价格：{wan_yuan(notice.amount.fen)}")
    if notice.contract_numbers:
        other.append(f"合同编号：{'、'.join(notice.contract_numbers)}")
    notes: list[JSONValue] = []
    if notice.corrects is not None:
        notes.append(f"更正登记：更正 {notice.corrects}")
    return {
        "right_or_matter": "预告登记",
        "right_holders": [dict(names(p)) | {"party_id": p.party_id} for p in notice.holders],
        "obligors": [dict(names(p)) | {"party_id": p.party_id} for p in notice.obligors],
        "secured_amount": amount, "debt_term": _term(notice.debt_term),
        "mortgage_type": _METHODS[notice.method] if notice.method is not None else None,
        "other": other, "notes": notes,
    }


def _amount(method: Method, principal: int | None, ceiling: int | None) -> dict[str, JSONValue] | None:
    fen = principal if method is Method.ORDINARY else ceiling
    if fen is None:
        return None
    return {"basis": "被担保主债权数额" if method is Method.ORDINARY else "最高债权额", "currency": "CNY", "fen": fen}


def _amount_lines(amount: dict[str, JSONValue] | None, term: DateRange | None,
                  period: DateRange | None) -> list[JSONValue]:
    lines: list[JSONValue] = []
    if amount is not None:
        fen = amount["fen"]
        assert isinstance(fen, int)
        lines.append(f"{amount['basis']}：{wan_yuan(fen)}")
    if term is not None:
        lines.append(f"债务履行期限：{chinese_date(term.start)}至{chinese_date(term.end)}")
    if period is not None:
        lines.append(f"债权确定期间：{chinese_date(period.start)}至{chinese_date(period.end)}")
    return lines


def _term(term: DateRange | None) -> dict[str, JSONValue] | None:
    return None if term is None else {"end": term.end, "start": term.start}


def _location(view: StateView, unit_number: str) -> str:
    unit = view.get(keys.unit(unit_number)) or {}
    code = unit.get("location_code")
    district = _DISTRICTS.get(unit_number[:6], "")
    return f"广州市{district}{'' if code is None else f' {code}'}"


def _registered_ms(entry: Mapping[str, JSONValue]) -> int:
    value = entry.get("registered_ms")
    assert isinstance(value, int)  # both entry kinds require it
    return value


def _iso_day(time_ms: int) -> str:
    year, month, day = civil_from_days(shanghai_day(time_ms))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _parse_number(number: str) -> CertificateNumber:
    for kind in CertificateKind:
        parsed = parse(number, kind, current_year=9999)
        if isinstance(parsed, CertificateNumber):
            return parsed
    raise Conflict(f"certificate number {number!r} is not a Guangzhou certificate number")
