"""Whether a node answers another node's request for a material on behalf of a case's applicant (``peers.may_fetch``).

The holder decides on its own ledger copy: the named case must exist and cite the hash, and the asking
org must act for one of its applicants — bound to an organisation applicant, or keeping the key of a
person applicant (``?for=``: a certificate its own officer bound, not revoked). Everything else is the
plain 403 any org gets.
"""

from __future__ import annotations

from estatechain.contract import keys
from estatechain.contract.records import Application
from estatechain.contract.records.application import Applicant, AppState, Capacity, Material
from estatechain.contract.records.party import PartyRef
from estatechain.contract.rules.governance import revoked_key
from estatechain.ledger.admission import cert_key
from estatechain.node.peers import may_fetch
from estatechain.testing.contract_view import DictView

CASE, OTHER_CASE = "c" * 64, "e" * 64
LOAN, DEED = "1" * 64, "2" * 64
RESIDENT, STRANGER = "a" * 64, "b" * 64
"""Person certificates: the applicant owner's, and another resident's (bound to a party not on the case)."""
IDENTITY_OFFICER, BANK_OFFICER = "d" * 64, "f" * 64
OWNER, ICBC = "5" * 64, "6" * 64
"""Party ids: the owner (a person applicant) and ICBC's branch (an organisation applicant)."""


def _case(application_id: str, material: str) -> Application:
    return Application(
        application_id=application_id, business_type="mortgage.register", unit_number="4" * 28,
        applicants=(Applicant(party=PartyRef(party_id=OWNER), capacity=Capacity.MORTGAGOR),
                    Applicant(party=PartyRef(party_id=ICBC), capacity=Capacity.MORTGAGEE)),
        materials=(Material(type="loan_contract", sha256=material, size=10, media_type="application/pdf"),),
        details={}, state=AppState.FILED, filer="f", filer_org="icbc-gz", filed_ms=1, confirm_deadline_ms=2)


def ledger(*extra: tuple[str, dict[str, object]]) -> DictView:
    """A case citing LOAN for an owner (a person) and ICBC; another case citing DEED; two bound residents."""
    rows: dict[str, object] = {
        keys.application(CASE): _case(CASE, LOAN).to_json(),
        keys.application(OTHER_CASE): _case(OTHER_CASE, DEED).to_json(),
        keys.org_of_party(ICBC): {"party_id": ICBC, "org": "icbc-gz"},
        cert_key(IDENTITY_OFFICER): {"org": "gz-identity", "role": "identity.officer"},
        cert_key(BANK_OFFICER): {"org": "ccb-gz", "role": "identity.officer"},
        keys.party_of_certificate(RESIDENT): {"party_id": OWNER, "bound_by": IDENTITY_OFFICER},
        keys.party_of_certificate(STRANGER): {"party_id": "3" * 64, "bound_by": IDENTITY_OFFICER},
    }
    rows.update(dict(extra))
    return DictView(rows)  # type: ignore[arg-type]


def test_the_applicant_bank_and_the_resident_s_keeper_are_answered() -> None:
    view = ledger()
    assert may_fetch(view, org="icbc-gz", case=CASE, sha256=LOAN, person=None)
    assert may_fetch(view, org="gz-identity", case=CASE, sha256=LOAN, person=RESIDENT)


def test_a_case_the_asker_is_party_to_that_does_not_cite_the_hash_gives_nothing() -> None:
    view = ledger()
    assert not may_fetch(view, org="icbc-gz", case=CASE, sha256=DEED, person=None)
    assert not may_fetch(view, org="gz-identity", case=CASE, sha256=DEED, person=RESIDENT)
    assert not may_fetch(view, org="icbc-gz", case="9" * 64, sha256=LOAN, person=None)  # no such case


def test_for_names_only_a_person_applicant_whose_key_the_asking_org_keeps() -> None:
    view = ledger()
    assert not may_fetch(view, org="gz-identity", case=CASE, sha256=LOAN, person=STRANGER)  # not an applicant
    assert not may_fetch(view, org="gz-identity", case=CASE, sha256=LOAN, person=None)
    assert not may_fetch(view, org="ccb-gz", case=CASE, sha256=LOAN, person=RESIDENT)  # another org's resident
    bound_by_ccb = ledger((keys.party_of_certificate(RESIDENT), {"party_id": OWNER, "bound_by": BANK_OFFICER}))
    assert not may_fetch(bound_by_ccb, org="gz-identity", case=CASE, sha256=LOAN, person=RESIDENT)


def test_a_revoked_resident_certificate_is_asked_for_in_vain() -> None:
    view = ledger((revoked_key(RESIDENT), {"reason": "lost"}))
    assert not may_fetch(view, org="gz-identity", case=CASE, sha256=LOAN, person=RESIDENT)
    assert not may_fetch(view, org=None, case=CASE, sha256=LOAN, person=RESIDENT)
