"""The owner's own pages (domain.md §2, §7; design §3.18–3.19): my units, who looked at them, my consents.

A signed-in person sees the units where the party their certificate is bound to holds a current
right (an ownership right, or an advance notice they hold), each unit's register page as its owner
may see it (every current entry, parties by party id only), the inquiry log of those units (who
looked: org, role, basis, purpose, when, granted or not), and the inquiry consents they gave. A new
consent and a revocation go through the confirmation page like every signed step: the desk only
prepares the payload (``custody.prepare``), ``/portal/sign`` signs it.

A unit the person holds no current right on answers exactly like a missing one (404). A person's units
and consents are found through the node-local index by party (``partyindex.py``), so a page reads
only the rows that name the person, not every ``ownership/``, ``notice/`` and ``consent/`` row of the
register; each row found is read back from the ledger and checked again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.checks.unit import current_ownership
from estatechain.contract.civil_date import parse_iso_date, shanghai_day
from estatechain.contract.effects import Record
from estatechain.contract.records import Consent
from estatechain.contract.records.mortgage import Mortgage
from estatechain.contract.records.notice import Notice
from estatechain.contract.records.ownership import OwnershipRight
from estatechain.contract.records.party import Status
from estatechain.contract.records.unit import Unit
from estatechain.contract.rules.inquiry import PURPOSES, log_readers
from estatechain.contract.unit_number import UNIT_NUMBER_LENGTH
from estatechain.identity.genesis import Genesis
from estatechain.storage.follower import FirstBuild
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import cases as queries
from estatechain.web.accounts import Account
from estatechain.web.consentstanding import standings
from estatechain.web.i18n import N_
from estatechain.web.inquiryindex import InquiryIndex, who_looked
from estatechain.web.pages import redirect, render
from estatechain.web.partyindex import FILE as PARTY_INDEX
from estatechain.web.partyindex import PartyIndex
from estatechain.web.portal import (
    CheckedForm,
    Member,
    Portal,
    PortalDep,
    PortalProblem,
    PortalRoute,
    not_found,
    viewer_of,
)
from estatechain.web.seizurestanding import SEIZURE_STATES, SeizureEntry, live_seizures

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

PURPOSE_NAMES: Final = {
    "PRE_LOAN": N_("Pre-loan check"), "POST_LOAN": N_("Post-loan monitoring"), "TRANSACTION": N_("Sale or purchase"),
    "LEASE": N_("Lease"), "LITIGATION": N_("Litigation"), "CASE": N_("Case of a court or state organ"),
    "OTHER": N_("Other"),
}
"""The contract's purpose codes (``rules/inquiry.py`` PURPOSES) in words."""
CONSENT_PURPOSES: Final = {code: label for code, label in PURPOSE_NAMES.items() if code != "CASE"}
"""What an owner may consent to a bank's inquiring for: a court or state organ reads a unit by its case
(basis ``case``), never by an owner's consent, so a consent for that purpose helps no one [A]."""
BASIS_NAMES: Final = {
    "own_right": N_("Own right on the unit"), "consent": N_("The owners' consent"),
    "interest": N_("Interested party with evidence"), "intent": N_("Intent only (limited answer)"),
    "case": N_("Case of a court or state organ"),
}
OUTCOME_NAMES: Final = {"GRANTED": N_("Granted"), "REFUSED": N_("Not granted")}
FORM_NAMES: Final = {"sole": N_("Sole ownership"), "joint": N_("Joint ownership (共同共有)"),
                     "shares": N_("Ownership by shares (按份共有)")}
NOTICE_NAMES: Final = {1: N_("Pre-sale purchase notice"), 2: N_("Purchase notice"),
                       3: N_("Pre-sale mortgage notice"), 4: N_("Mortgage notice")}
CONSENT_STATES: Final = {"active": N_("In force"), "revoked": N_("Revoked by you"), "expired": N_("Expired")}
assert set(PURPOSE_NAMES) == PURPOSES


# ------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    """A unit where the person holds a current right, and in which capacity."""

    unit_number: str
    title_number: str | None
    form: str
    """``sole`` / ``joint`` / ``shares`` for an ownership, ``notice`` for an advance notice held."""
    owners: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterPage:
    """A unit's current register entries as its holder sees them (parties by party id)."""

    unit: Unit
    ownership: OwnershipRight | None
    mortgages: tuple[Mortgage, ...]
    notices: tuple[Notice, ...]
    seizures: tuple[SeizureEntry, ...]
    """Those in effect or queued now, each with its state and effect period (not the record's ``queued`` flag,
    fixed at delivery: a queued seizure takes effect when the one before it ends)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentLine:
    """A consent the person gave, with its bank's org and its state as of the head."""

    consent: Consent
    bank_org: str | None
    state: str


def _current_holders(notice: Notice) -> frozenset[str]:
    return notice.holder_ids() if notice.status is Status.CURRENT else frozenset()


def _named(store: LedgerStore, index: PartyIndex, party: str, kind: str) -> Iterator[Record]:
    """The current rows of ``kind`` the index says name ``party`` (the caller checks each again)."""
    for key in index.keys(party, kind):
        row = store.get(key)
        if row is not None:
            yield row


def holdings(store: LedgerStore, index: PartyIndex, party: str) -> list[Holding]:
    """Every unit where ``party`` holds a current ownership right or a current advance notice, by unit number."""
    found: dict[str, Holding] = {}
    for row in _named(store, index, party, "ownership"):
        right = OwnershipRight.from_json(row)
        if right.status is Status.CURRENT and party in right.holder_ids():
            found[right.unit_number] = Holding(unit_number=right.unit_number, title_number=right.title_number,
                                               form=right.form.value, owners=len(right.holders))
    for row in _named(store, index, party, "notice"):
        notice = Notice.from_json(row)
        if party in _current_holders(notice) and notice.unit_number not in found:
            found[notice.unit_number] = Holding(unit_number=notice.unit_number, title_number=None, form="notice",
                                                owners=0)
    return [found[unit] for unit in sorted(found)]


def holds(store: LedgerStore, party: str | None, unit_number: str) -> bool:
    """Whether ``party`` holds a current right on the unit (its owner, or the holder of a current notice)."""
    if party is None or len(unit_number) != UNIT_NUMBER_LENGTH:
        return False
    right = current_ownership(store, unit_number)
    if right is not None and party in right.holder_ids():
        return True
    return any(party in _current_holders(n) for n in current_notices(store, unit_number))


def owns(store: LedgerStore, party: str | None, unit_number: str) -> bool:
    """Whether ``party`` is a current owner of the unit (who may consent to an inquiry)."""
    right = current_ownership(store, unit_number) if len(unit_number) == UNIT_NUMBER_LENGTH else None
    return party is not None and right is not None and party in right.holder_ids()


def register_page(store: LedgerStore, unit_number: str, at_ms: int) -> RegisterPage | None:
    """The unit's current entries: ownership, mortgages in rank order, notices, seizures in effect or queued.

    A seizure whose term ran out has lapsed (细则 92(2)) though nothing was written: it is no longer current.
    """
    row = store.get(keys.unit(unit_number))
    if row is None:
        return None
    return RegisterPage(
        unit=Unit.from_json(row), ownership=current_ownership(store, unit_number),
        mortgages=tuple(m for m in current_mortgages(store, unit_number) if m.status is Status.CURRENT),
        notices=tuple(n for n in current_notices(store, unit_number) if n.status is Status.CURRENT),
        seizures=live_seizures(store, unit_number, at_ms),
    )


def inquiries(store: LedgerStore, index: InquiryIndex, units: Iterable[str]) -> list[dict[str, JSONValue]]:
    """The inquiry log of ``units``, granted or refused, newest first (found through the node's inquiry index)."""
    found = [dict(record) for unit in units for record in who_looked(store, index, unit)]
    found.sort(key=lambda r: (int(str(r["as_of_height"])), int(str(r["at_ms"]))), reverse=True)
    return found


def consents(store: LedgerStore, index: PartyIndex, party: str, today: int) -> list[ConsentLine]:
    """The consents ``party`` gave, newest first, each in force, revoked or expired on ``today`` (a day number)."""
    found = []
    for row in _named(store, index, party, "consent"):
        given = Consent.from_json(row)
        if given.owner != party:
            continue
        expiry = parse_iso_date(given.expires_on)
        state = ("revoked" if given.revoked_ms is not None
                 else "expired" if expiry is None or expiry < today else "active")
        bank = store.get(keys.org_of_party(given.bank_party))
        found.append(ConsentLine(consent=given, bank_org=None if bank is None else str(bank["org"]), state=state))
    found.sort(key=lambda line: (line.consent.given_ms, line.consent.consent_id), reverse=True)
    return found


def member_banks(store: LedgerStore, genesis: Genesis) -> dict[str, str]:
    """Member bank org → the party id a consent to it names (who an owner may consent to).

    An org may be bound to several parties (its branches). The bank's inquiry desk inquires as the
    first of them in key order (``cases.org_party``) and finds only consents to that party, so a
    consent must name the same one: another branch's would never be found by the bank.
    """
    banks = {org.id for org in genesis.orgs if org.type == "bank"}
    found: dict[str, str] = {}
    for _, row in store.scan("identity/orgparty/"):
        if row.get("org") in banks:
            found.setdefault(str(row["org"]), str(row["party_id"]))
    return found


def org_names(genesis: Genesis) -> dict[str, tuple[str, str]]:
    """Org id → (Chinese name, English name), from the genesis display name ``中文 / English``."""
    names = {}
    for org in genesis.orgs:
        zh, _, en = org.name.partition(" / ")
        names[org.id] = (zh, en or zh)
    return names


def mortgagee_orgs(store: LedgerStore, mortgages: Iterable[Mortgage]) -> dict[str, str]:
    """Mortgagee party id → member org, for the mortgagees that are member banks."""
    found = {}
    for mortgage in mortgages:
        for party in mortgage.mortgagee_ids():
            row = store.get(keys.org_of_party(party))
            if row is not None:
                found[party] = str(row["org"])
    return found


# ------------------------------------------------------------------------------------------- pages


def _owner(parts: Portal, account: Account | None) -> tuple[Account, str | None]:
    """The signed-in person and their bound party (403 for any other role)."""
    if account is None or account.role != "person":
        raise PortalProblem(403, N_("This desk is not for your role."))
    return account, viewer_of(parts, account).party


def _today(parts: Portal) -> int:
    """The Guangzhou day of the head block (consents expire by block time, design §3.14)."""
    store = parts.service.store
    return shanghai_day(queries.now_ms(store, parts.service.clock.now_ms()))


async def party_index(request: Request, parts: PortalDep) -> PartyIndex:
    """The node's index by party (``partyindex.py``), opened beside the ledger on first use.

    Its first build (tens of seconds at a million units) runs in a worker thread, so the event loop
    keeps committing blocks; owner pages asked for meanwhile wait for it, other pages do not.
    """
    state = request.app.state
    found: FirstBuild[PartyIndex] | None = getattr(state, "party_index", None)
    if found is None:
        found = state.party_index = FirstBuild(
            PartyIndex(parts.service.settings.ledger_dir / PARTY_INDEX, parts.service.store.connection),
            parts.service.settings.ledger_dir / LEDGER_FILE)
    return await found.ready()


PartiesDep = Annotated[PartyIndex, Depends(party_index)]


@dataclass(frozen=True, slots=True)
class Names:
    """Code → message id tables and org names the owner templates show (``names.purposes[code]|t``)."""

    orgs: Mapping[str, tuple[str, str]]
    purposes: Mapping[str, str]
    bases: Mapping[str, str]
    outcomes: Mapping[str, str]
    forms: Mapping[str, str]
    notice_kinds: Mapping[int, str]
    consent_states: Mapping[str, str]


def _names(parts: Portal) -> Names:
    return Names(orgs=org_names(parts.service.genesis), purposes=PURPOSE_NAMES, bases=BASIS_NAMES,
                 outcomes=OUTCOME_NAMES, forms=FORM_NAMES, notice_kinds=NOTICE_NAMES, consent_states=CONSENT_STATES)


@router.get("/owner/units")
async def my_units(session: Member, parts: PortalDep, index: PartiesDep) -> Response:
    """The units where the person holds a current right, each linking to its register page."""
    _, party = _owner(parts, session.account)
    found = [] if party is None else holdings(parts.service.store, index, party)
    return render("owner_units.html", session, holdings=found, party=party, names=_names(parts))


@router.get("/owner/units/{unit_number}")
async def my_unit(unit_number: str, session: Member, parts: PortalDep) -> Response:
    """The unit's register page as its holder may see it, and who looked at the unit."""
    _, party = _owner(parts, session.account)
    store = parts.service.store
    at_ms = queries.now_ms(store, parts.service.clock.now_ms())
    page = register_page(store, unit_number, at_ms) if holds(store, party, unit_number) else None
    if page is None:
        raise not_found()
    reader = party in log_readers(store, unit_number)  # owners and buyers (``rules/inquiry.py`` may_list)
    looked = inquiries(store, await parts.inquiries.ready(), [unit_number]) if reader else []
    return render("owner_unit.html", session, page=page, party=party, owner=owns(store, party, unit_number),
                  reader=reader, looked=looked,
                  banks=mortgagee_orgs(store, page.mortgages), names=_names(parts), seizure_states=SEIZURE_STATES)


@router.get("/owner/inquiries")
async def who_looked_at_my_units(session: Member, parts: PortalDep, index: PartiesDep) -> Response:
    """The inquiry log of every unit the person owns or is buying (who, why, when, granted or not): ``may_list``.

    A unit the person holds only a mortgage notice on (a private lender's 预抵押) is not theirs to
    list; the page names such units and says so, rather than reading "nobody has looked".
    """
    _, party = _owner(parts, session.account)
    store = parts.service.store
    held = [] if party is None else [h.unit_number for h in holdings(store, index, party)]
    units = [unit for unit in held if party in log_readers(store, unit)]
    looked = inquiries(store, await parts.inquiries.ready(), units)
    return render("owner_inquiries.html", session, looked=looked, party=party,
                  notice_units=[unit for unit in held if unit not in units], names=_names(parts))


@dataclass(slots=True)
class ConsentForm:
    """The new-consent form's values, the problem of each field (message ids), and what was just done (if any)."""

    values: dict[str, str]
    problems: dict[str, str]
    done: str | None = None


def _consents_page(parts: Portal, index: PartyIndex, session: Member, form: ConsentForm, *,
                   status: int = 200) -> Response:
    _, party = _owner(parts, session.account)
    store = parts.service.store
    owned = [] if party is None else [h for h in holdings(store, index, party) if h.form != "notice"]
    today = _today(parts)
    given = [] if party is None else consents(store, index, party, today)
    banks = member_banks(store, parts.service.genesis)
    standing = standings(store, parts.consents.index, [h.unit_number for h in owned], banks, today)
    return render("owner_consents.html", session, status=status, consents=given, units=owned, form=form,
                  banks=sorted(banks), done=form.done, names=_names(parts), consent_purposes=CONSENT_PURPOSES,
                  standings=standing)


@router.get("/owner/consents")
async def my_consents(session: Member, parts: PortalDep, index: PartiesDep, unit: str = "",
                      done: str | None = None) -> Response:
    """The inquiry consents the person gave (in force, revoked, expired) and the form for a new one.

    Beside them, per unit, bank and purpose: whether every current owner's consent is in force, so
    a joint owner sees whether their consent lets the bank read anything (``consentstanding.py``).
    """
    _owner(parts, session.account)
    await parts.consents.ready()  # a first build reads every consent: off the loop that commits blocks
    return _consents_page(parts, index, session,
                          ConsentForm(values={"unit_number": unit[:28]}, problems={}, done=done))


def read_consent(values: Mapping[str, str], *, units: set[str], banks: set[str], today: int) -> dict[str, str]:
    """The problem of each field of a new consent (empty when the form is complete and sound)."""
    problems = {}
    if values.get("unit_number") not in units:
        problems["unit_number"] = N_("Choose one of the units you own.")
    if values.get("bank") not in banks:
        problems["bank"] = N_("Choose a member bank.")
    if values.get("purpose") not in CONSENT_PURPOSES:
        problems["purpose"] = N_("Choose the purpose the bank may query for.")
    expiry = parse_iso_date(values.get("expires_on", ""))
    if expiry is None or expiry < today:
        problems["expires_on"] = N_("Enter a date from today on, as YYYY-MM-DD.")
    return problems


@router.post("/owner/consents")
async def give_consent(session: Member, form: CheckedForm, parts: PortalDep, index: PartiesDep) -> Response:
    """Check the form and prepare the ``inquiry.consent`` for the confirmation page."""
    account, party = _owner(parts, session.account)
    store = parts.service.store
    values = {name: str(form.get(name, "")).strip()[:32]
              for name in ("unit_number", "bank", "purpose", "expires_on")}
    banks = member_banks(store, parts.service.genesis)
    units = set() if party is None else {h.unit_number for h in holdings(store, index, party) if h.form != "notice"}
    problems = read_consent(values, units=units, banks=set(banks), today=_today(parts))
    if problems:
        await parts.consents.ready()
        return _consents_page(parts, index, session, ConsentForm(values=values, problems=problems), status=422)
    names = org_names(parts.service.genesis)
    summary = [[N_("Action"), N_("Give an inquiry consent"), "t"], [N_("Unit number"), values["unit_number"]],
               [N_("Bank"), names[values["bank"]][0 if session.locale == "zh-CN" else 1]],
               [N_("Purpose"), PURPOSE_NAMES[values["purpose"]], "t"], [N_("Valid until"), values["expires_on"]]]
    body = {"unit_number": values["unit_number"], "bank_party": banks[values["bank"]], "purpose": values["purpose"],
            "expires_on": values["expires_on"]}
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="inquiry.consent", body=dict(body), now_ms=parts.service.clock.now_ms(),
                                    summary=summary, back="/owner/consents")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


@router.post("/owner/consents/{consent_id}/revoke")
async def revoke_consent(consent_id: str, session: Member, form: CheckedForm, parts: PortalDep,
                         index: PartiesDep) -> Response:
    """Prepare the revocation of one of the person's consents in force for the confirmation page."""
    assert form is not None
    account, party = _owner(parts, session.account)
    line = next((c for c in ([] if party is None else consents(parts.service.store, index, party, _today(parts)))
                 if c.consent.consent_id == consent_id), None)
    if line is None:
        raise not_found()
    if line.state != "active":
        raise PortalProblem(409, N_("This consent is no longer in force."))
    given = line.consent
    summary = [[N_("Action"), N_("Revoke an inquiry consent"), "t"], [N_("Unit number"), given.unit_number],
               [N_("Purpose"), PURPOSE_NAMES.get(given.purpose, given.purpose), "t"],
               [N_("Valid until"), given.expires_on], [N_("Consent"), consent_id]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="inquiry.consent_revoke", body={"consent_id": consent_id},
                                    now_ms=parts.service.clock.now_ms(), summary=summary, back="/owner/consents")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action
