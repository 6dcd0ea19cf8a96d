"""Who a case page names, in words the person looking at it can read, and which of its materials they may open.

The application record names its parties by party id and its signers by certificate fingerprint.
A resident reading their own case should not have to guess which 64-hex id is them, which is their
bank, or why one step of the timeline shows a party and the next a signer: every party bound to a
member org is named by that org, the viewer's own party and signature say "you", and every signed
step (a confirmation as much as a registry decision) reads the same way — its signer's org, its
signer, and the applicant it acted for when it acted for one.

The case's materials are open to those the case is about (domain.md §7: the right holder sees all
data of their own unit, original materials included): the registry, which examines them, the org
that uploaded them, and whoever acts for one of the case's named applicants — the owner asked to
confirm a mortgage reads the loan contract they are confirming. Nobody else. A material is offered
where this node holds its bytes or, on a cluster node, can fetch them from the node of the org that
uploaded them (``node/peers.py``: the holder checks the same right on its own ledger copy); a single
node never links a file it does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.records import Application
from estatechain.ledger.admission import cert_key
from estatechain.storage.materials import MaterialStore
from estatechain.storage.store import LedgerStore
from estatechain.web import history
from estatechain.web.cases import Viewer, acts_for

REGISTRY_TYPE = "registry"
"""The genesis org type that examines every case (``identity.genesis``)."""
IDENTITY_TYPE = "identity_authority"
"""The genesis org type whose certificates are persons': each keeps what it holds apart (``api.deps.principal``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Named:
    """A party or a signer as a page prints it.

    ``short``: the start of the party id, or the signer's certificate common name; ``org``: the
    member org it is bound to (a bank's party) or signed for, else None; ``own``: it is the viewer.
    """

    short: str
    org: str | None
    own: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One signed step of a case's timeline: what, when, who signed it, for which applicant, its record."""

    name: str
    at_ms: int
    by: Named
    party: Named | None
    tx_id: str
    record: Mapping[str, JSONValue]
    confirmation: bool = False


def party(store: LedgerStore, viewer: Viewer, party_id: str) -> Named:
    """``party_id`` as the viewer reads it: the member org bound to it, and whether the viewer acts for it."""
    row = store.get(keys.org_of_party(party_id))
    org = None if row is None else str(row.get("org"))
    return Named(short=party_id[:12] + "…", org=org, own=acts_for(store, viewer, party_id))


def parties(store: LedgerStore, viewer: Viewer, application: Application) -> dict[str, Named]:
    """Every applicant of ``application`` by party id, named for ``viewer``."""
    return {a.party.party_id: party(store, viewer, a.party.party_id) for a in application.applicants}


def signer(store: LedgerStore, fingerprint: str, own_fingerprint: str, names: dict[str, str]) -> Named:
    """The signer of ``fingerprint``: its certificate's common name and org; ``own`` when it is the viewer's key."""
    row = store.get(cert_key(fingerprint)) if fingerprint else None
    org = str(row.get("org", "")) if row is not None else ""
    return Named(short=history.signer_name(store, fingerprint, names), org=org or None,
                 own=bool(fingerprint) and fingerprint == own_fingerprint)


def entries(store: LedgerStore, viewer: Viewer, application: Application, steps: Iterable[history.Step],
            own_fingerprint: str) -> list[Entry]:
    """The case's confirmations, then its other signed steps (``history.timeline``), each named the same way.

    A step that acted for an applicant (a decline records its ``party_id``) names that applicant,
    as a confirmation does.
    """
    names: dict[str, str] = {}
    found = [Entry(name="confirmed", at_ms=c.at_ms, by=signer(store, c.signer, own_fingerprint, names),
                   party=party(store, viewer, c.party_id), tx_id=c.tx_id, record={}, confirmation=True)
             for c in application.confirmations]
    for step in steps:
        by = str(step.record.get("by", ""))
        acted_for = step.record.get("party_id")
        found.append(Entry(
            name=step.name, at_ms=step.at_ms, tx_id=step.tx_id, record=step.record,
            by=Named(short=step.who, org=step.org or None, own=bool(by) and by == own_fingerprint),
            party=party(store, viewer, acted_for) if isinstance(acted_for, str) and acted_for else None))
    return found


def may_open(store: LedgerStore, viewer: Viewer, application: Application, holders: frozenset[str]) -> bool:
    """Whether ``viewer`` may open the case's materials: the registry, their uploader, the case's applicants.

    ``holders``: the material's uploaders as the store records them (``MaterialStore.holders``).
    Only a material the case cites is asked about; the case itself is one ``viewer`` may see.
    """
    if viewer.org_type == REGISTRY_TYPE or viewer.org in holders:
        return True
    return any(acts_for(store, viewer, party_id) for party_id in sorted(application.applicant_ids()))


def openable(store: LedgerStore, materials: MaterialStore, viewer: Viewer, application: Application, *,
             fetches: bool = False) -> frozenset[str]:
    """The hashes of the case's materials ``viewer`` may open from this node's page.

    The registry keeps its links whatever this node holds (as before). Anyone else gets a link to
    bytes this node holds, or (``fetches``: a cluster node that knows its peers) can fetch for them.
    """
    registry = viewer.org_type == REGISTRY_TYPE
    return frozenset(m.sha256 for m in application.materials
                     if may_open(store, viewer, application, materials.holders(m.sha256))
                     and (registry or fetches or materials.describe(m.sha256) is not None))


def holder(viewer: Viewer, fingerprint: str) -> str:
    """Whom a copy fetched for ``viewer`` (signing as ``fingerprint``) is kept for, as the API's ``principal``.

    At the identity authority a copy is the signer's alone (``<org>.<fingerprint>``): its persons share
    the org, and keeping a resident's copy must grant no other resident or officer a read. Elsewhere it
    is the org's, which acts for the applicant (or examines the case) anyway.
    """
    return f"{viewer.org}.{fingerprint}" if viewer.org_type == IDENTITY_TYPE else viewer.org
