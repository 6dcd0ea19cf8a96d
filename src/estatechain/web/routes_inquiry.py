"""The inquiry desk (查询登记结果, domain.md §7; design §3.19): a bank asks about one unit and reads the signed answer.

A bank clerk names one unit, by its unit number or a certificate number (never a person), the
purpose, and the basis the bank has: the owners' consent (their consent ids; the full register
result), its own registration on the unit (a mortgage or notice it holds; full), or none (the
limited answer: yes/no flags only). The desk checks the form field by field, then prepares the
``inquiry.request`` exactly as an SDK client would sign it and hands it to ``/portal/sign``; after
the clerk confirms, it goes to the node's pipeline like every portal transaction. The contract
decides (``contract/rules/inquiry.py``): a refused inquiry is a valid transaction with outcome
REFUSED and its rule code, so the refusal is on the ledger and the owner sees it.

The answer is the API's, not a second rendering of the register: ``node/inquiry_answers.py``
builds it as of the inquiry's height and the registry's node signs it, for ``GET
/v1/inquiries/{id}/answer`` and for this desk alike. The desk applies the API's rules itself: only
the requester's org sees a record (any other id reads as not found), and only a GRANTED one has an
answer. The page checks the registry's signature before it shows anything and offers the signed
JSON — the same document the API returns — for download.

Courts use the same answer pages: the court desk (``routes_court.py``) prepares their inquiries,
basis ``case`` with the case number (案号). Each org lists only its own inquiries.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

import orjson
from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.certificate_number import normalise
from estatechain.contract.certificates import load
from estatechain.contract.civil_date import shanghai_day
from estatechain.contract.effects import Record
from estatechain.contract.records.mortgage import Mortgage
from estatechain.contract.records.notice import Notice
from estatechain.contract.records.ownership import CoOwner
from estatechain.contract.records.seizure import Seizure
from estatechain.contract.rules.inquiry import PURPOSES
from estatechain.contract.unit_number import UNIT_NUMBER_LENGTH
from estatechain.errors import EstatechainError, Unavailable
from estatechain.identity.membership import resolve_signer
from estatechain.node.inquiry_answers import ANSWER_TYPE, answer_identity, signed_answer
from estatechain.storage.store import LedgerStore
from estatechain.web import cases as queries
from estatechain.web import i18n
from estatechain.web.accounts import Account, Session
from estatechain.web.i18n import N_
from estatechain.web.inquiryindex import InquiryIndex
from estatechain.web.pages import redirect, render, secure
from estatechain.web.portal import CheckedForm, Member, Portal, PortalDep, PortalProblem, PortalRoute, not_found
from estatechain.web.routes_owner import (
    BASIS_NAMES,
    FORM_NAMES,
    NOTICE_NAMES,
    OUTCOME_NAMES,
    PURPOSE_NAMES,
    org_names,
)
from estatechain.web.routes_register import SEIZURE_KINDS
from estatechain.web.seizurestanding import SEIZURE_STATES, seizure_entries

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

BANK_ROLES: Final = frozenset({"bank.operator", "bank.approver"})
AUTHORITY_ROLES: Final = frozenset({"court", "state_organ"})
"""Who inquires through the portal (the contract's ``REQUESTERS`` less persons, who read their own units)."""
BANK_PURPOSES: Final = ("PRE_LOAN", "POST_LOAN", "TRANSACTION", "LEASE", "LITIGATION", "OTHER")
"""A bank's purposes: every code but ``CASE``, which is a court's or state organ's (domain.md §7)."""
BANK_BASES: Final = {
    "consent": N_("The owners' consent (full register result)"),
    "own_right": N_("Our own mortgage or notice on the unit (full register result)"),
    "intent": N_("No consent: intent to lend only (limited answer, yes/no)"),
}
"""The bases a bank may state, as ``contract/rules/inquiry.py`` decides them."""
MAX_CONSENTS: Final = 20
LISTED: Final = 50
"""The org's inquiries listed, newest first."""
_HEX64: Final = re.compile("^[0-9a-f]{64}$")
assert set(BANK_PURPOSES) < PURPOSES
FLAG_NAMES: Final = {
    "co_ownership": N_("Co-owned"), "mortgage_flag": N_("Mortgaged"), "notice_flag": N_("Advance notice registered"),
    "objection_flag": N_("Objection registered"), "seizure_flag": N_("Seized or seizure queued"),
    "residence_right_flag": N_("Residence right registered"),
}
"""The limited answer's yes/no flags (查询办法 21(3)) in words, in the contract's ``LIMITED`` order."""


@dataclass(slots=True)
class Ask:
    """The inquiry form's values and the problem of each field (message ids)."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedAnswer:
    """A registry-signed answer as the API returned it, its signature checked, and its sections decoded."""

    answer: Mapping[str, Any]
    raw: Mapping[str, Any]
    registry_node: str
    owners: tuple[CoOwner, ...] = ()
    mortgages: tuple[Mortgage, ...] = ()
    notices: tuple[Notice, ...] = ()
    seizures: tuple[Seizure, ...] = ()
    flags: tuple[tuple[str, bool], ...] = ()


def require_requester(account: Account) -> None:
    """Banks and state organs use these pages; persons read their own units on their pages."""
    if account.role not in BANK_ROLES | AUTHORITY_ROLES:
        raise PortalProblem(403, N_("This desk is not for your role."))


def prepare_inquiry(parts: Portal, session: Session, body: dict[str, JSONValue], summary: list[list[str]]) -> Response:
    """Keep the ``inquiry.request`` for the confirmation page; after signing, its answer page opens."""
    assert session.account is not None
    pending = parts.custody.prepare(handle=session.account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="inquiry.request", body=body, now_ms=parts.service.clock.now_ms(),
                                    summary=summary, back="/inquiries")
    pending = replace(pending, back=f"/inquiries/{pending.tx_id}")  # the back page is not signed
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


def own_inquiries(store: LedgerStore, index: InquiryIndex, org: str) -> list[Record]:
    """Up to ``LISTED`` inquiries ``org`` made, newest first, found through the index by requesting org."""
    found = []
    for inquiry_id in index.ids(org, limit=LISTED):
        record = store.get(keys.inquiry(inquiry_id))
        if record is not None:
            found.append(record)
    return found


def _consent_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;，；]+", text.strip().lower()) if part]


def read_ask(form: FormData, store: LedgerStore) -> Ask:
    """The form's fields, each checked the way the contract will check it (one unit, a purpose, a basis)."""
    names = ("unit_number", "certificate", "purpose", "basis", "consent_ids")
    ask = Ask(values={name: str(form.get(name, "")).strip()[:2000 if name == "consent_ids" else 64]
                      for name in names})
    values, problems = ask.values, ask.problems
    unit, number = values["unit_number"], values["certificate"]
    if bool(unit) == bool(number):
        problems["unit_number"] = N_("Enter either the unit number or a certificate number: one unit per inquiry.")
    elif unit and (len(unit) != UNIT_NUMBER_LENGTH or store.get(keys.unit(unit)) is None):
        problems["unit_number"] = N_("The register has no unit with this number.")
    elif number and not queries.well_formed_certificate(number):
        problems["certificate"] = N_(
            "Enter a Guangzhou certificate number: 粤(YYYY)广州市不动产权第NNNNNNNN号 for a title or "
            "粤(YYYY)广州市不动产证明第NNNNNNNN号 for a registration certificate (8 digits).")
    elif number and load(store, normalise(number)) is None:
        problems["certificate"] = N_("The register has no certificate with this number.")
    if values["purpose"] not in BANK_PURPOSES:
        problems["purpose"] = N_("Choose the purpose of the inquiry.")
    if values["basis"] not in BANK_BASES:
        problems["basis"] = N_("Choose the basis of the inquiry.")
    ids = _consent_ids(values["consent_ids"])
    if values["basis"] == "consent" and (len(ids) > MAX_CONSENTS or not all(_HEX64.fullmatch(i) for i in ids)):
        problems["consent_ids"] = N_("Enter the owners' consent ids, one per owner: 64 hexadecimal characters each.")
    elif values["basis"] != "consent" and ids:
        problems["consent_ids"] = N_("Consent ids go with the consent basis only: choose it, or clear this field.")
    return ask


def _consents_in_force(parts: Portal, ask: Ask, bank_party: str) -> None:
    """No consent ids typed: cite the newest consent in force of each owner who gave one to this bank for the purpose.

    The clerk need not copy ids from the owner: the owner's consent on the ledger is what entitles
    the bank, and the contract checks every cited consent again at the inquiry's block.
    """
    if _consent_ids(ask.values["consent_ids"]):
        return
    store = parts.service.store
    unit = ask.values["unit_number"] or queries.unit_of_certificate(store, ask.values["certificate"], bank_party) or ""
    today = shanghai_day(queries.now_ms(store, parts.service.clock.now_ms()))
    newest: dict[str, str] = {}
    for given in queries.consents_in_force(store, parts.consents.index, unit, bank_party, today=today,
                                           purpose=ask.values["purpose"]):
        newest.setdefault(given.owner, given.consent_id)
    if not newest:
        ask.problems["consent_ids"] = N_("No owner of this unit has a consent to your bank for this purpose in force. "
                                         "Ask the owners to give one on their desk, or enter the ids they gave you.")
        return
    ask.values["consent_ids"] = " ".join(newest.values())


def _body(ask: Ask, bank_party: str) -> dict[str, JSONValue]:
    values = ask.values
    body: dict[str, JSONValue] = {"basis": values["basis"], "purpose": values["purpose"], "requester_party": bank_party}
    if values["unit_number"]:
        body["unit_number"] = values["unit_number"]
    else:
        body["certificate_number"] = normalise(values["certificate"])
    if values["basis"] == "consent":
        body["consent_ids"] = list(dict.fromkeys(_consent_ids(values["consent_ids"])))
    return body


def _summary(body: Mapping[str, JSONValue]) -> list[list[str]]:
    rows = [[N_("Action"), N_("Inquire into registration results (查询登记结果)"), "t"]]
    if "unit_number" in body:
        rows.append([N_("Unit number"), str(body["unit_number"])])
    else:
        rows.append([N_("Certificate number"), str(body["certificate_number"])])
    rows += [[N_("Purpose"), PURPOSE_NAMES[str(body["purpose"])], "t"],
             [N_("Basis"), BANK_BASES[str(body["basis"])], "t"]]
    consents = body.get("consent_ids")
    if isinstance(consents, list):
        rows.append([N_("Consent ids"), ", ".join(str(c) for c in consents)])
    return rows


def _names(parts: Portal) -> dict[str, object]:
    """Code → words tables of the pages, and member org party → org (to name mortgagees and holders)."""
    return {"orgs": org_names(parts.service.genesis), "purposes": PURPOSE_NAMES, "bases": BASIS_NAMES,
            "outcomes": OUTCOME_NAMES, "bank_bases": BANK_BASES, "flags": FLAG_NAMES, "forms": FORM_NAMES,
            "notice_kinds": NOTICE_NAMES, "seizure_kinds": SEIZURE_KINDS, "seizure_states": SEIZURE_STATES,
            "parties": {party: org for org, party in queries.org_parties(parts.service.store).items()}}


async def _desk(session: Session, parts: Portal, ask: Ask, *, status: int = 200) -> Response:
    assert session.account is not None
    inquiries = await parts.inquiries.ready()  # a first build reads every inquiry: off the loop that commits blocks
    return render("inquiry.html", session, status=status, ask=ask, purposes=BANK_PURPOSES,
                  inquiries=own_inquiries(parts.service.store, inquiries, session.account.org),
                  total=inquiries.count(session.account.org), names=_names(parts),
                  bank=session.account.role in BANK_ROLES)


@router.get("/inquiries")
async def inquiry_desk(session: Member, parts: PortalDep, unit: str = "") -> Response:
    """The inquiry form (banks) and the org's own inquiries, newest first, each linking to its answer."""
    assert session.account is not None
    require_requester(session.account)
    values = {"unit_number": unit.strip()[:UNIT_NUMBER_LENGTH], "purpose": "PRE_LOAN", "basis": "consent"}
    return await _desk(session, parts, Ask(values=values))


@router.post("/inquiries")
async def inquire(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Check the form and prepare the bank's ``inquiry.request`` for the confirmation page."""
    assert session.account is not None
    account = session.account
    if account.role not in BANK_ROLES:
        raise PortalProblem(403, N_("This desk is not for your role."))
    store = parts.service.store
    ask = read_ask(form, store)
    bank_party = queries.org_party(store, account.org)
    if bank_party is None:
        ask.problems.setdefault("basis", N_("Your bank is not bound to a party on the ledger yet; ask the identity "
                                            "authority."))
    if not ask.problems and bank_party is not None and ask.values["basis"] == "consent":
        await parts.consents.ready()  # a first build reads every consent: off the loop that commits blocks
        _consents_in_force(parts, ask, bank_party)
    if ask.problems or bank_party is None:
        return await _desk(session, parts, ask, status=422)
    body = _body(ask, bank_party)
    return prepare_inquiry(parts, session, body, _summary(body))


def _record(parts: Portal, account: Account, inquiry_id: str) -> dict[str, JSONValue]:
    """The org's own inquiry-log record; anything else answers exactly like a missing one."""
    require_requester(account)
    row = parts.service.store.get(keys.inquiry(inquiry_id)) if _HEX64.fullmatch(inquiry_id) else None
    if row is None or row.get("requester_org") != account.org:
        raise not_found()
    return dict(row)


def fetch_answer(parts: Portal, record: dict[str, JSONValue]) -> dict[str, Any]:
    """The registry-signed answer of the org's own GRANTED inquiry: the API's document (``node/inquiry_answers.py``).

    Raises:
        EstatechainError: this node holds no registry node key to sign answers with.

    """
    try:
        signer = answer_identity(parts.service)
    except Unavailable as missing:
        raise EstatechainError(str(missing)) from None
    return signed_answer(parts.service, record, signer)


def checked_answer(parts: Portal, data: Mapping[str, Any], inquiry_id: str) -> SignedAnswer:
    """The answer after checking it is this inquiry's, on this chain, signed by a registry's node.

    Raises:
        EstatechainError: the signature, the bytes or the signer do not hold (nothing is shown then).

    """
    genesis = parts.service.genesis
    try:
        signed = str(data["canonical"]).encode("utf-8")
        signature = base64.b64decode(str(data["signature"]), validate=True)
        signer = resolve_signer(genesis, base64.b64decode(str(data["certificate"]), validate=True))
    except (KeyError, binascii.Error, EstatechainError) as exc:
        raise EstatechainError(f"the inquiry answer is malformed: {exc}") from None
    answer = data.get("answer")
    if (not isinstance(answer, dict) or signer.org_type != "registry" or signer.role != "node"
            or not parts.service.suite.verify(signer.public_key, signed, signature)
            or canonical.encode(answer) != signed or answer.get("type") != ANSWER_TYPE
            or answer.get("chain_id") != genesis.chain_id or answer.get("inquiry_id") != inquiry_id):
        raise EstatechainError("the inquiry answer's registry signature does not verify; nothing is shown")
    result = answer.get("result")
    sections: dict[str, Any] = result if isinstance(result, dict) else {}
    return SignedAnswer(
        answer=answer, raw=data, registry_node=signer.org_id,
        owners=tuple(CoOwner.from_json(o) for o in sections.get("owners") or ()),
        mortgages=tuple(Mortgage.from_json(m) for m in sections.get("mortgages") or ()),
        notices=tuple(Notice.from_json(n) for n in sections.get("notices") or ()),
        seizures=tuple(Seizure.from_json(s) for s in sections.get("seizures") or ()),
        flags=tuple((name, bool(sections[name])) for name in FLAG_NAMES if name in sections),
    )


@router.get("/inquiries/{inquiry_id}")
async def inquiry_answer(inquiry_id: str, session: Member, parts: PortalDep,
                         done: str | None = None) -> Response:
    """One inquiry of the org: its refusal (code, both languages) or the registry-signed answer laid out."""
    assert session.account is not None
    require_requester(session.account)
    waiting = parts.service.status(inquiry_id) if _HEX64.fullmatch(inquiry_id) else None
    if waiting is not None and waiting.status == "pending":  # signed, its block not cut yet: not an unknown id
        return render("problem.html", session, status=202,
                      problem=N_("The inquiry is waiting for its block. Reload this page in a moment."))
    record = _record(parts, session.account, inquiry_id)
    answer = texts = None
    if record.get("outcome") == "GRANTED":
        answer = checked_answer(parts, fetch_answer(parts, record), inquiry_id)
    else:
        texts = i18n.rule_texts(str(record.get("code") or ""), {"problem": str(record.get("problem") or "")})
    # each seizure's state as of the answer's block, by the queue's own rule (a queued one may be in effect by then)
    seizures = () if answer is None else seizure_entries(answer.seizures, int(answer.answer["time_ms"]))
    return render("inquiry_answer.html", session, record=record, answer=answer, texts=texts, done=done,
                  names=_names(parts), seizures=seizures)


@router.get("/inquiries/{inquiry_id}/answer.json")
async def answer_file(inquiry_id: str, session: Member, parts: PortalDep) -> Response:
    """The signed answer as the API gives it (answer, canonical bytes, signature, certificate), to keep."""
    assert session.account is not None
    record = _record(parts, session.account, inquiry_id)
    if record.get("outcome") != "GRANTED":
        raise not_found()
    data = checked_answer(parts, fetch_answer(parts, record), inquiry_id).raw
    response = Response(orjson.dumps(data, option=orjson.OPT_INDENT_2), media_type="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="inquiry-answer-{inquiry_id[:16]}.json"'
    return secure(response, session)
