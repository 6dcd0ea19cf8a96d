"""What the desks read: applications, who may see them, and a unit's current register entries.

Everything here reads the node's ledger state at its head, on the event loop's thread like the API's
queries. Visibility follows domain.md §7 as the API applies it (``api/routes/workflow.py``): the
registry sees every case; a bank sees the cases it filed or in which it is a named party; a person
sees the cases that name the party their certificate is bound to. Anything else is "not found".

Listing scans the ``application/`` rows: fine for a development register, and the place where an
index by filing org and by party will go when the desks must hold at a million units (issue 9).
"""

from __future__ import annotations

from dataclasses import dataclass

from estatechain.contract import keys
from estatechain.contract.records import Application, effective_state
from estatechain.contract.records.application import AppState
from estatechain.contract.records.mortgage import Mortgage
from estatechain.contract.records.ownership import OwnershipRight
from estatechain.contract.records.seizure import Seizure
from estatechain.contract.records.unit import Unit
from estatechain.storage.store import LedgerStore


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """Who looks: org, org type, role, and the party a person's certificate is bound to."""

    org: str
    org_type: str
    role: str
    party: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """An application with its state as of the head."""

    application: Application
    state: AppState


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitEntries:
    """A unit's register page as of the head: the unit, its current rights, charges and seizures."""

    unit: Unit
    ownerships: tuple[OwnershipRight, ...]
    mortgages: tuple[Mortgage, ...]
    seizures: tuple[Seizure, ...]
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


def case(store: LedgerStore, viewer: Viewer, application_id: str, at_ms: int) -> Case | None:
    """The case ``application_id`` if it exists and ``viewer`` may see it (else None: never say which)."""
    if len(application_id) != 64 or not all(c in "0123456789abcdef" for c in application_id):
        return None
    row = store.get(keys.application(application_id))
    if row is None:
        return None
    application = Application.from_json(row)
    if not may_see(store, viewer, application):
        return None
    return Case(application=application, state=effective_state(application, at_ms))


def cases(store: LedgerStore, viewer: Viewer, at_ms: int) -> list[Case]:
    """Every case ``viewer`` may see, newest first."""
    found = []
    for _, row in store.scan("application/"):
        application = Application.from_json(row)
        if may_see(store, viewer, application):
            found.append(Case(application=application, state=effective_state(application, at_ms)))
    found.sort(key=lambda c: c.application.filed_ms, reverse=True)
    return found


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


def unit_entries(store: LedgerStore, unit_number: str) -> UnitEntries | None:
    """The unit's current register entries, or None when the register has no such unit."""
    row = store.get(keys.unit(unit_number))
    if row is None:
        return None

    def ids(kind: str) -> list[str]:
        return [key.rsplit("/", 1)[1] for key, _ in store.scan(keys.unit_index(unit_number, kind))]

    ownerships = tuple(OwnershipRight.from_json(r) for i in ids("ownership") if (r := store.get(keys.ownership(i))))
    mortgages = tuple(m for i in ids("mortgage") if (r := store.get(keys.mortgage(i)))
                      and (m := Mortgage.from_json(r)).status.value == "current")
    seizures = tuple(Seizure.from_json(r) for i in ids("seizure") if (r := store.get(keys.seizure(i))))
    return UnitEntries(unit=Unit.from_json(row), ownerships=ownerships, mortgages=mortgages, seizures=seizures,
                       open_applications=tuple(ids("application")))
