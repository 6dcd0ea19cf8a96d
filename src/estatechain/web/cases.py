"""What the desks read: applications, who may see them, and a unit's current register entries.

Everything here reads the node's ledger state at its head, on the event loop's thread like the API's
queries. Visibility follows domain.md §7 as the API applies it (``api/routes/workflow.py``): the
registry sees every case; a bank sees the cases it filed or in which it is a named party; a person
sees the cases that name the party their certificate is bound to. Anything else is "not found".

Listing goes through the desks' index (``caseindex.py``: by filing org, by party, by state) so that a
desk reads only the cases it shows, whatever the size of the register; without an index it scans
the ``application/`` rows, which is what small tools and the rule tests use.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import normalise
from estatechain.contract.certificates import certificate_key, load
from estatechain.contract.checks.unit import current_ownership
from estatechain.contract.records import Application, Cancellation, effective_state
from estatechain.contract.records.application import AppState
from estatechain.contract.records.inquiry import Consent
from estatechain.contract.records.mortgage import Mortgage
from estatechain.contract.records.notice import PURCHASE_KINDS, Notice
from estatechain.contract.records.ownership import OwnershipRight
from estatechain.contract.records.unit import Unit
from estatechain.contract.rules.inquiry import consent_problem
from estatechain.storage.store import LedgerStore
from estatechain.web.caseindex import COMPLETE, CaseIndex, Who, desk_state
from estatechain.web.consentindex import ConsentIndex
from estatechain.web.seizurestanding import SeizureEntry, live_seizures

DEFAULT_LIMIT: Final = 100
"""Cases a desk lists at once (a page); the page says how many there are in all."""
SHORT_ID: Final = 12
"""Hex digits of a case id the lists print: a case opens by any unique prefix at least this long."""
_HEX: Final = frozenset("0123456789abcdef")
BANK_TYPE: Final = "bank"
"""The genesis org type of lenders (``identity.genesis``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """Who looks: org, org type, role, and the party a person's certificate is bound to."""

    org: str
    org_type: str
    role: str
    party: str | None


_ENDS_A_MORTGAGE: Final = frozenset({AppState.RECORDED, AppState.CERTIFIED})
"""The states of a case whose mortgage entry can since have been cancelled: it was recorded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """An application with its state as of the head, and the end of the mortgage it registered, if ended.

    A case's state stays what its last step made it: a mortgage case whose mortgage a later case
    cancelled still reads CERTIFIED (已发证). Every case list says ``cancellation`` beside that state
    (``review_macros.case_state``), as the case page does (``cancellation.py``), so that no desk shows
    a charge as registered after it was removed. It is read from the mortgage entry, not kept in the
    case index: the cancellation writes that entry, never the mortgage case's own row.
    """

    application: Application
    state: AppState
    cancellation: Cancellation | None = None
    """The cancellation of the mortgage entry this case registered (its cause and block time), else None."""

    @property
    def desk_state(self) -> str:
        """The state as the desks name it: RECORDED_COMPLETE for a recorded case with nothing for the issuer."""
        application = self.application
        return desk_state(self.state.value, application.certificate_number, business_type=application.business_type,
                          steps=application.steps)

    @property
    def complete(self) -> bool:
        """Recorded, and finished: no registration certificate left for the issuer (``caseindex.desk_state``)."""
        return self.desk_state == COMPLETE

    @property
    def awaits_issuer(self) -> bool:
        """Recorded, with a registration certificate still to issue (the issuer's queue)."""
        return self.desk_state == AppState.RECORDED.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Paged:
    """One page of a desk's list: its cases, how many the list holds in all, and which page this is."""

    cases: list[Case]
    total: int
    page: int
    size: int = DEFAULT_LIMIT

    @property
    def pages(self) -> int:
        """Pages in all (at least one, the empty list's)."""
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of this page's first case in the whole list (1-based; 0 when empty)."""
        return min(self.total, (self.page - 1) * self.size + 1)

    @property
    def last(self) -> int:
        """The position of this page's last case in the whole list."""
        return min(self.total, self.page * self.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitEntries:
    """A unit's register page as of the head: the unit, its current rights, charges and seizures."""

    unit: Unit
    ownerships: tuple[OwnershipRight, ...]
    mortgages: tuple[Mortgage, ...]
    seizures: tuple[SeizureEntry, ...]
    """Those in effect or queued, each with its state and the period the queue derives (``seizurestanding``)."""
    open_applications: tuple[str, ...]


def now_ms(store: LedgerStore, fallback_ms: int) -> int:
    """The head block's time: states derived from deadlines read as of it (design §3.14)."""
    head = store.head
    return head.time_ms if head is not None else fallback_ms


def person_party(store: LedgerStore, fingerprint: str) -> str | None:
    """The party a person certificate is bound to by the identity authority."""
    row = store.get(keys.party_of_certificate(fingerprint))
    return None if row is None else str(row["party_id"])


def org_party(store: LedgerStore, org: str) -> str | None:
    """The party id a member org acts for (a bank's own party as mortgagee)."""
    return next((str(row["party_id"]) for _, row in store.scan("identity/orgparty/") if row.get("org") == org), None)


def acts_for(store: LedgerStore, viewer: Viewer, party_id: str) -> bool:
    """Whether ``viewer`` speaks for ``party_id`` (as the bound person, or as the org bound to it)."""
    if viewer.role == "person":
        return viewer.party == party_id
    row = store.get(keys.org_of_party(party_id))
    return row is not None and row.get("org") == viewer.org


def may_see(store: LedgerStore, viewer: Viewer, application: Application) -> bool:
    """The registry, the filing org (not for persons) and whoever acts for an applicant."""
    if viewer.org_type == "registry":
        return True
    if viewer.role != "person" and viewer.org == application.filer_org:
        return True
    return any(acts_for(store, viewer, party) for party in application.applicant_ids())


def mortgage_cancellation(store: LedgerStore, application_id: str) -> Cancellation | None:
    """The cancellation of the mortgage entry case ``application_id`` registered, else None.

    A mortgage registration, a 预抵押's conversion and a transfer with a new mortgage each keep their
    entry under the case's id (``keys.mortgage(application_id)``), current or not; other cases have
    none, and a mortgage that was changed rather than cancelled has no cancellation.
    """
    row = store.get(keys.mortgage(application_id))
    return None if row is None else Mortgage.from_json(row).cancellation


def case_of(store: LedgerStore, application: Application, at_ms: int) -> Case:
    """``application`` as a desk shows it at ``at_ms``: its state, and its mortgage's cancellation if recorded."""
    state = effective_state(application, at_ms)
    ended = mortgage_cancellation(store, application.application_id) if state in _ENDS_A_MORTGAGE else None
    return Case(application=application, state=state, cancellation=ended)


def case(store: LedgerStore, viewer: Viewer, application_id: str, at_ms: int) -> Case | None:
    """The case ``application_id`` if it exists and ``viewer`` may see it (else None: never say which)."""
    if len(application_id) != 64 or not set(application_id) <= _HEX:
        return None
    row = store.get(keys.application(application_id))
    if row is None:
        return None
    application = Application.from_json(row)
    if not may_see(store, viewer, application):
        return None
    return case_of(store, application, at_ms)


def matching(store: LedgerStore, viewer: Viewer, given: str) -> tuple[str, ...]:
    """Ids of the cases ``viewer`` may see that begin with ``given`` (``SHORT_ID`` to 64 hex digits), at most two.

    Two say the prefix is ambiguous. Cases the viewer may not see are never counted, so an
    ambiguous answer cannot tell that a hidden case shares the prefix.
    """
    prefix = given.strip().lower()
    if not SHORT_ID <= len(prefix) <= 64 or not set(prefix) <= _HEX:
        return ()
    found: list[str] = []
    for _, row in store.scan(keys.application(prefix)):
        application = Application.from_json(row)
        if may_see(store, viewer, application):
            found.append(application.application_id)
            if len(found) == 2:
                break
    return tuple(found)


def cases(store: LedgerStore, viewer: Viewer, at_ms: int) -> list[Case]:
    """Every case ``viewer`` may see, newest first, by scanning every ``application/`` row.

    For small registers and tools; the desks list through ``listed`` and the index.
    """
    found = []
    for _, row in store.scan("application/"):
        application = Application.from_json(row)
        if may_see(store, viewer, application):
            found.append(case_of(store, application, at_ms))
    found.sort(key=lambda c: (-c.application.filed_ms, c.application.application_id))
    return found


def listed(  # noqa: PLR0913  (after the four sources, keywords only: the filter, the order and the page)
        index: CaseIndex, store: LedgerStore, viewer: Viewer, at_ms: int, *,
        states: Collection[str] = (), oldest_first: bool = False, page: int = 1) -> list[Case]:
    """Page ``page`` (``DEFAULT_LIMIT`` cases) of those ``viewer`` may see, in ``states`` when given, via the index.

    Newest first for lists; oldest first for work queues (the cases nearest their time limit).
    ``states`` are desk states (``Case.desk_state``: the ledger's, with RECORDED_COMPLETE for a
    finished recorded case), as the index holds them.

    The index filters on the *stored* state; an expired filing is stored as FILED (design §3.14), so
    asking for EXPIRED asks the index for FILED and the deadline decides.
    """
    wanted = {str(state) for state in states}
    stored = wanted | ({AppState.FILED.value} if AppState.EXPIRED.value in wanted else set())
    found = []
    for application_id in index.ids(who(store, viewer), states=stored, limit=DEFAULT_LIMIT,
                                    offset=(max(1, page) - 1) * DEFAULT_LIMIT, oldest_first=oldest_first):
        row = store.get(keys.application(application_id))
        if row is None:
            continue
        application = Application.from_json(row)
        if not may_see(store, viewer, application):
            continue
        item = case_of(store, application, at_ms)
        if not wanted or item.desk_state in wanted:
            found.append(item)
    return found


def paged(  # noqa: PLR0913  (as ``listed``)
        index: CaseIndex, store: LedgerStore, viewer: Viewer, at_ms: int, *,
        states: Collection[str] = (), oldest_first: bool = False, page: int = 1) -> Paged:
    """Page ``page`` of a desk's list with how many cases the list holds (a page past the end shows the last).

    The count is the index's (``CaseIndex.count``), by the state it stores: exact for the registry's
    lists; an owner's or a bank's counts the cases naming them as the index has them.
    """
    total = index.count(who(store, viewer), states={str(state) for state in states})
    shown = min(max(1, page), Paged(cases=[], total=total, page=1).pages)
    found = listed(index, store, viewer, at_ms, states=states, oldest_first=oldest_first, page=shown)
    return Paged(cases=found, total=total, page=shown)


def who(store: LedgerStore, viewer: Viewer) -> Who:
    """What ``viewer`` may list, in the index's terms (the same rule as ``may_see``)."""
    if viewer.org_type == "registry":
        return Who(everything=True)
    if viewer.role == "person":
        return Who(parties=(viewer.party,) if viewer.party is not None else ())
    parties = tuple(sorted(str(row["party_id"]) for _, row in store.scan("identity/orgparty/")
                           if row.get("org") == viewer.org))
    return Who(org=viewer.org, parties=parties)


def awaiting(store: LedgerStore, viewer: Viewer, found: list[Case]) -> list[tuple[Case, str]]:
    """Filed cases with an applicant ``viewer`` acts for who has not confirmed yet, with that party."""
    waiting = []
    for item in found:
        if item.state is not AppState.FILED:
            continue
        confirmed = item.application.confirmed_ids()
        party = next((p for p in sorted(item.application.applicant_ids())
                      if p not in confirmed and acts_for(store, viewer, p)), None)
        if party is not None:
            waiting.append((item, party))
    return waiting


def unit_entries(store: LedgerStore, unit_number: str, at_ms: int | None = None) -> UnitEntries | None:
    """The unit's current register entries, or None when the register has no such unit.

    Seizures are those in effect or queued (轮候) at ``at_ms`` (default: the head block's time), in
    queue order: a released or lapsed seizure is history, shown only on the register page. Whether
    one is in effect or queued, and when, is derived from the queue (``seizurestanding``), never
    written: a bank that sees why a unit is blocked reads the same period as the court.
    """
    row = store.get(keys.unit(unit_number))
    if row is None:
        return None

    def ids(kind: str) -> list[str]:
        return [key.rsplit("/", 1)[1] for key, _ in store.scan(keys.unit_index(unit_number, kind))]

    ownerships = tuple(OwnershipRight.from_json(r) for i in ids("ownership") if (r := store.get(keys.ownership(i))))
    mortgages = tuple(m for i in ids("mortgage") if (r := store.get(keys.mortgage(i)))
                      and (m := Mortgage.from_json(r)).status.value == "current")
    when = now_ms(store, 0) if at_ms is None else at_ms
    seizures = live_seizures(store, unit_number, when)
    return UnitEntries(unit=Unit.from_json(row), ownerships=ownerships, mortgages=mortgages, seizures=seizures,
                       open_applications=tuple(ids("application")))


def unit_notices(store: LedgerStore, unit_number: str) -> tuple[Notice, ...]:
    """The unit's current advance notices (purchase notices and 预抵押) in priority order, via its notice index."""
    found = []
    for _, row in store.scan(keys.unit_index(unit_number, "notice")):
        record = store.get(keys.notice(str(row["notice_id"])))
        if record is not None and (notice := Notice.from_json(record)).status.value == "current":
            found.append(notice)
    return tuple(found)


def unit_of_certificate(store: LedgerStore, number: str, bank_party: str | None) -> str | None:
    """The unit of a certificate number the clerk's bank may look a unit up by, or None.

    A bank looks up by the documents presented to it (domain.md §7): a title certificate (the owner
    presents it), a purchase notice's registration certificate (the buyer presents it), or one of
    its own registration certificates (``bank_party`` holds the mortgage or notice it proves).
    Another holder's registration certificate answers None, exactly like an unknown number, so the
    lookup never tells a bank that another bank's certificate exists (§2). Only Guangzhou-format
    numbers are read (through the ``certificate/…`` rows recording and import write); anything
    else is None without a scan: the desk refuses such text on the field before asking.
    """
    certificate = load(store, normalise(number))
    right = None if certificate is None else store.get(certificate.right)
    if certificate is None or right is None:
        return None
    key = certificate.right
    if key.startswith("mortgage/"):
        presented = bank_party is not None and bank_party in Mortgage.from_json(right).mortgagee_ids()
    elif key.startswith("notice/"):
        notice = Notice.from_json(right)
        presented = notice.kind in PURCHASE_KINDS or (bank_party is not None and bank_party in notice.holder_ids())
    else:
        presented = key.startswith("ownership/")
    return str(right.get("unit_number")) if presented else None


def well_formed_certificate(number: str) -> bool:
    """Whether ``number`` reads as a Guangzhou title or registration certificate number (either bracket width)."""
    return certificate_key(normalise(number)) is not None


def consent_in_force(store: LedgerStore, index: ConsentIndex, unit_number: str, bank_party: str, today: int) -> bool:
    """Whether every current owner of the unit has a consent in force for ``bank_party`` on ``today`` (a day number)."""
    right = current_ownership(store, unit_number)
    if right is None:
        return False
    given = consents_in_force(store, index, unit_number, bank_party, today=today)
    return right.holder_ids() <= {c.owner for c in given}


def consents_in_force(  # noqa: PLR0913  (the store and its index, unit and bank; day and purpose by keyword)
        store: LedgerStore, index: ConsentIndex, unit_number: str, bank_party: str, *, today: int,
        purpose: str | None = None) -> list[Consent]:
    """The owners' consents to ``bank_party`` on the unit in force on ``today`` (for ``purpose``), newest first.

    A consent is in force from its block until its ``expires_on`` (inclusive, Guangzhou calendar)
    unless revoked (``inquiry.consent``). The bank's filing and inquiry pages ask this on every view,
    so the unit's consents to that bank come from the index by unit and bank (``consentindex.py``)
    and only those are read from the ledger and checked in full.
    """
    found = []
    for consent_id in index.ids(unit_number, bank_party):
        row = store.get(keys.consent(consent_id))
        if row is None:
            continue
        given = Consent.from_json(row)
        wanted = given.purpose if purpose is None else purpose  # no purpose asked: any of the unit's consents
        problem, _limited = consent_problem(given, unit_number=unit_number, requester=bank_party, purpose=wanted,
                                            today=today)
        if problem is None:  # the contract's own test of one consent (rules.inquiry), never a copy of it
            found.append(given)
    return found


def org_parties(store: LedgerStore) -> dict[str, str]:
    """Member bank → the party id it acts for (the banks a notice may be transferred to, or a consent names).

    Other member orgs have bound parties too (the developer its company, for its pre-sale contracts):
    they are not lenders, so a bank clerk must never be offered them as a notice's new holder.
    """
    banks = {org.id for org in store.genesis.orgs if org.type == BANK_TYPE}
    return {org: str(row.get("party_id")) for _, row in store.scan("identity/orgparty/")
            if (org := str(row.get("org"))) in banks}
