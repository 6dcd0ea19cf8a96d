"""Whom a node asks for a case's material: the nodes of the orgs the ledger says the case involves.

A request naming a case (and perhaps a resident) must not reach another bank's or the court's node,
even one that would refuse it; the registry's requests name neither and go to every peer.
"""

from __future__ import annotations

from estatechain.contract import keys
from estatechain.contract.records import Application
from estatechain.contract.records.application import Applicant, AppState, Capacity
from estatechain.contract.records.party import PartyRef
from estatechain.node.peers import peers_to_ask
from estatechain.testing.contract_view import DictView

CASE = "c" * 64
PEERS = {org: f"http://{org}.test" for org in ("ccb-gz", "gz-court", "gz-dev", "gz-identity", "icbc-gz", "gz-bdc")}


def ledger(*, filer_org: str, bound: dict[str, str]) -> DictView:
    """A case filed by ``filer_org`` for a buyer (a person), a developer and a bank; ``bound``: party → org."""
    applicants = tuple(Applicant(party=PartyRef(party_id=party), capacity=capacity) for party, capacity in (
        ("p-buyer", Capacity.BUYER), ("p-dev", Capacity.DEVELOPER), ("p-icbc", Capacity.MORTGAGEE)))
    case = Application(application_id=CASE, business_type="presale.purchase", unit_number="4" * 28,
                       applicants=applicants, materials=(), details={}, state=AppState.FILED, filer="f",
                       filer_org=filer_org, filed_ms=1, confirm_deadline_ms=2)
    return DictView({keys.application(CASE): case.to_json(),
                     **{keys.org_of_party(party): {"party_id": party, "org": org} for party, org in bound.items()}})


def test_the_filer_s_node_first_then_the_applicants_orgs_and_no_one_else() -> None:
    view = ledger(filer_org="icbc-gz", bound={"p-dev": "gz-dev", "p-icbc": "icbc-gz"})
    asked = peers_to_ask(view, PEERS, case=CASE)
    assert [org for org, _ in asked] == ["icbc-gz", "gz-dev"]  # never ccb-gz, the court, the registry
    assert dict(asked)["gz-dev"] == PEERS["gz-dev"]


def test_an_unbound_applicant_party_and_an_unknown_case_tell_nobody() -> None:
    view = ledger(filer_org="gz-dev", bound={})
    assert [org for org, _ in peers_to_ask(view, PEERS, case=CASE)] == ["gz-dev"]
    assert peers_to_ask(view, PEERS, case="d" * 64) == ()


def test_the_registry_names_no_case_and_asks_every_peer_in_name_order() -> None:
    assert [org for org, _ in peers_to_ask(DictView(), PEERS, case=None)] == sorted(PEERS)
