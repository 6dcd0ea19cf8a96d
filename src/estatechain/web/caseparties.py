"""Which of a case's materials the person looking at its page may open.

The case's materials are open to those the case is about (domain.md §7: the right holder sees all
data of their own unit, original materials included): the registry, which examines them, the org
that uploaded them, and whoever acts for one of the case's named applicants — the owner asked to
confirm a mortgage reads the loan contract they are confirming. Nobody else, and a material is
offered only where this node holds its bytes, so no page links a file that would answer 404.
"""

from __future__ import annotations

from estatechain.contract.records import Application
from estatechain.storage.materials import MaterialStore
from estatechain.storage.store import LedgerStore
from estatechain.web.cases import Viewer, acts_for

REGISTRY_TYPE = "registry"
"""The genesis org type that examines every case (``identity.genesis``)."""


def may_open(store: LedgerStore, viewer: Viewer, application: Application, holders: frozenset[str]) -> bool:
    """Whether ``viewer`` may open the case's materials: the registry, their uploader, the case's applicants.

    ``holders``: the material's uploaders as the store records them (``MaterialStore.holders``).
    Only a material the case cites is asked about; the case itself is one ``viewer`` may see.
    """
    if viewer.org_type == REGISTRY_TYPE or viewer.org in holders:
        return True
    return any(acts_for(store, viewer, party_id) for party_id in sorted(application.applicant_ids()))


def openable(store: LedgerStore, materials: MaterialStore, viewer: Viewer, application: Application) -> frozenset[str]:
    """The hashes of the case's materials ``viewer`` may open from this node's page.

    The registry keeps its links whatever this node holds (as before). Anyone else gets a link only
    to bytes this node holds: a material uploaded at another org's node is not fetched for them.
    """
    registry = viewer.org_type == REGISTRY_TYPE
    return frozenset(m.sha256 for m in application.materials
                     if may_open(store, viewer, application, materials.holders(m.sha256))
                     and (registry or materials.describe(m.sha256) is not None))
