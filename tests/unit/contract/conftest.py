"""A small synthetic register and the actors of domain.md §2, driving the real contract."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping

import pytest

from estatechain.contract.command import Accepted, Rejected
from estatechain.contract.effects import JSON
from estatechain.contract.rejections import Rejection
from estatechain.testing.contract_view import ContractDriver


def h(label: str) -> str:
    """A stable 64-hex id for a test label (party ids, fingerprints, hashes)."""
    return hashlib.sha256(label.encode()).hexdigest()


UNIT_A = "440106001001GB00123F00010203"
UNIT_B = "440106001001GB00123F00010204"
UNIT_JOINT = "440184001016GB00009F00800039"
UNIT_SHARES = "440105002003GB00456F00020001"
UNIT_SHOP = "440105002003GB00456F00020002"
UNIT_LAND = "440105002003GB00457W00000000"
TITLE_A = "粤(2020)广州市不动产权第09400110号"

REGISTRY, BANK_A, BANK_B, COURT, IDA = "gz-registry", "icbc-gz", "ccb-gz", "gz-court", "gd-identity"
DEVELOPER = "yuexiu-dev"
OWNER_A, OWNER_B, SPOUSE, CO_1, CO_2, CO_3 = (h(f"party:{n}") for n in ("a", "b", "spouse", "co1", "co2", "co3"))
BUYER, BUYER_2 = h("party:buyer"), h("party:buyer2")
BANK_A_PARTY, BANK_B_PARTY = h("party:icbc-branch"), h("party:ccb-branch")
BANK_C_PARTY = h("party:boc-branch")
BANK_A_RENAMED = h("party:icbc-branch-renamed")
DEVELOPER_PARTY = h("party:developer")
PERSON_CERT = {party: h(f"cert:{party}") for party in (OWNER_A, OWNER_B, SPOUSE, CO_1, CO_2, CO_3, BUYER, BUYER_2)}

PREDICTED = "440106001001GB00200F00010101"
PREDICTED_2 = "440106001001GB00200F00010102"
SURVEYED = "440106001001GB00201F00010101"
SURVEYED_2 = "440106001001GB00201F00010102"
"""Pre-sale flats 1-0101 and 1-0102 of a project in 天河, and the numbers their surveyed units get."""

ACTORS: dict[str, tuple[str, str, str]] = {
    "admin": ("registry.admin", h("cert:admin"), REGISTRY),
    "intake": ("registry.intake", h("cert:intake"), REGISTRY),
    "reviewer": ("registry.reviewer", h("cert:reviewer"), REGISTRY),
    "reviewer2": ("registry.reviewer", h("cert:reviewer2"), REGISTRY),
    "recorder": ("registry.recorder", h("cert:recorder"), REGISTRY),
    "issuer": ("registry.issuer", h("cert:issuer"), REGISTRY),
    "bank_a": ("bank.operator", h("cert:icbc-op"), BANK_A),
    "bank_a_approver": ("bank.approver", h("cert:icbc-ap"), BANK_A),
    "bank_b": ("bank.operator", h("cert:ccb-op"), BANK_B),
    "bank_b_approver": ("bank.approver", h("cert:ccb-ap"), BANK_B),
    "court": ("court", h("cert:court"), COURT),
    "developer": ("developer", h("cert:developer"), DEVELOPER),
    "bank_c": ("bank.operator", h("cert:boc-op"), "boc-gz"),
    "bank_c_approver": ("bank.approver", h("cert:boc-ap"), "boc-gz"),
    "officer": ("identity.officer", h("cert:officer"), IDA),
}


ORG_APPROVERS = {BANK_A_PARTY: "bank_a_approver", BANK_B_PARTY: "bank_b_approver", BANK_C_PARTY: "bank_c_approver",
                 BANK_A_RENAMED: "bank_a_approver", DEVELOPER_PARTY: "developer"}
"""Which actor confirms for an organisation party."""


def unit(number: str, use: str = "residential") -> dict[str, JSON]:
    return {"unit_number": number, "kind": "surveyed", "use": use, "area_centi_m2": 8912,
            "location_code": "GZ-TH-0001"}


def sole(right_id: str, number: str, owner: str, title: str) -> dict[str, JSON]:
    return {"right_id": right_id, "unit_number": number, "title_number": title, "form": "sole",
            "holders": [{"party_id": owner, "share_numerator": 1, "share_denominator": 1}]}


def material(kind: str, label: str = "") -> dict[str, JSON]:
    return {"type": kind, "sha256": h(f"material:{kind}:{label}"), "size": 123_456, "media_type": "application/pdf"}


FIRST_MATERIALS = [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")]


def first_details(**changes: JSON) -> dict[str, JSON]:
    details: dict[str, JSON] = {
        "method": 1, "secured_principal_fen": 70_000_000, "currency": "CNY",
        "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "详见抵押合同",
        "contract_numbers": ["ICBC-GZ-2026-0001"], "transfer_restricted": False, "title_number": TITLE_A,
    }
    details.update(changes)
    return {key: value for key, value in details.items() if value is not None}


class Register:
    """The driver plus the steps a scenario repeats."""

    def __init__(self) -> None:
        self.d = ContractDriver()

    def ok(self, name: str, body: Mapping[str, JSON], actor: str) -> Accepted:
        role, signer, org = self.actor(actor)
        outcome = self.d.run(name, body, role=role, signer=signer, org=org)
        assert isinstance(outcome, Accepted), outcome
        return outcome

    def no(self, name: str, body: Mapping[str, JSON], actor: str) -> Rejection:
        """Run a command that must be rejected and must change nothing."""
        before = copy.deepcopy(self.d.view.rows)
        role, signer, org = self.actor(actor)
        outcome = self.d.run(name, body, role=role, signer=signer, org=org)
        assert isinstance(outcome, Rejected), outcome
        assert self.d.view.rows == before
        return outcome.rejection

    def actor(self, name: str) -> tuple[str, str, str]:
        if name in ACTORS:
            return ACTORS[name]
        return "person", PERSON_CERT[name], IDA

    def seed(self) -> None:
        """Units, owners and identity bindings of the test register."""
        self.ok("register.import", {
            "units": [unit(UNIT_A), unit(UNIT_B), unit(UNIT_JOINT), unit(UNIT_SHARES), unit(UNIT_SHOP, "commercial"),
                      unit(UNIT_LAND)],
            "ownerships": [
                sole("own-a", UNIT_A, OWNER_A, TITLE_A),
                sole("own-b", UNIT_B, OWNER_B, "粤(2021)广州市不动产权第00000002号"),
                {"right_id": "own-joint", "unit_number": UNIT_JOINT,
                 "title_number": "粤(2020)广州市不动产权第00000003号", "form": "joint",
                 "holders": [{"party_id": OWNER_B, "share_numerator": 1, "share_denominator": 1},
                             {"party_id": SPOUSE, "share_numerator": 1, "share_denominator": 1}]},
                {"right_id": "own-shares", "unit_number": UNIT_SHARES,
                 "title_number": "粤(2020)广州市不动产权第00000004号", "form": "shares",
                 "holders": [{"party_id": CO_1, "share_numerator": 1, "share_denominator": 2},
                             {"party_id": CO_2, "share_numerator": 1, "share_denominator": 6},
                             {"party_id": CO_3, "share_numerator": 1, "share_denominator": 3}]},
                sole("own-shop", UNIT_SHOP, OWNER_A, "粤(2020)广州市不动产权第00000005号"),
            ],
        }, "admin")
        for party, cert in PERSON_CERT.items():
            self.ok("identity.bind_party", {"fingerprint": cert, "party_id": party, "auth_ref": h(f"auth:{party}")},
                    "officer")
        self.ok("identity.bind_party", {"org": BANK_A, "party_id": BANK_A_PARTY}, "officer")
        self.ok("identity.bind_party", {"org": BANK_B, "party_id": BANK_B_PARTY}, "officer")
        self.ok("identity.bind_party", {"org": "boc-gz", "party_id": BANK_C_PARTY}, "officer")
        self.ok("identity.bind_party", {"org": DEVELOPER, "party_id": DEVELOPER_PARTY}, "officer")
        self.ok("register.import", {"units": [{**unit(PREDICTED), "kind": "predicted"},
                                              {**unit(PREDICTED_2), "kind": "predicted"}]}, "admin")

    def file(self, body_changes: Mapping[str, JSON] | None = None, *, actor: str = "bank_a", **details: JSON) -> str:
        outcome = self.ok("application.file", self.filing(body_changes, **details), actor)
        return str(outcome.effects[0].value["application_id"])  # type: ignore[union-attr]

    def filing(self, body_changes: Mapping[str, JSON] | None = None, **details: JSON) -> dict[str, JSON]:
        body: dict[str, JSON] = {
            "business_type": "mortgage.first", "unit_number": UNIT_A,
            "applicants": [{"party_id": OWNER_A, "capacity": "mortgagor"},
                           {"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
            "materials": list(FIRST_MATERIALS), "details": first_details(**details),
        }
        body.update(body_changes or {})
        return body

    def confirm(self, app: str, party: str, actor: str) -> None:
        self.ok("application.confirm", {"application_id": app, "application_hash": app, "party_id": party}, actor)

    def confirm_all(self, app: str) -> None:
        record = self.app(app)
        for applicant in record["applicants"]:  # type: ignore[union-attr]
            party = str(applicant["party_id"])  # type: ignore[index,call-overload]
            self.confirm(app, party, ORG_APPROVERS.get(party, party))

    def accept_review(self, app: str) -> None:
        self.confirm_all(app)
        self.ok("application.accept", {"application_id": app}, "intake")
        self.ok("application.review", {"application_id": app}, "reviewer")

    def register_mortgage(self, app: str) -> None:
        self.accept_review(app)
        self.ok("application.record", {"application_id": app}, "recorder")
        self.ok("application.issue", {"application_id": app, "document_sha256": h(f"doc:{app}")}, "issuer")

    def app(self, app_id: str) -> Mapping[str, JSON]:
        row = self.d.view.get(f"application/{app_id}")
        assert row is not None
        return row

    def row(self, key: str) -> Mapping[str, JSON]:
        value = self.d.view.get(key)
        assert value is not None, key
        return value


@pytest.fixture
def reg() -> Register:
    register = Register()
    register.seed()
    return register


NOTICE_MATERIALS = [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT"),
                    material("NOTICE_AGREEMENT")]


def notice_details(purchase_number: str, **changes: JSON) -> dict[str, JSON]:
    """Details of a 预抵押 filing: 120万元 over 30 years, ICBC's loan contract."""
    details: dict[str, JSON] = {
        "notice_kind": 3, "method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
        "debt_term": {"start": "2026-01-04", "end": "2056-01-03"}, "scope": "详见抵押合同",
        "contract_numbers": ["ICBC-YG-2026-0001"], "transfer_restricted": False,
        "purchase_notice_certificate_number": purchase_number,
    }
    details.update(changes)
    return {key: value for key, value in details.items() if value is not None}


def applicants(parties: tuple[str, ...], capacity: str) -> list[JSON]:
    """Applicant entries of ``parties`` in one capacity."""
    return [{"party_id": party, "capacity": capacity} for party in parties]


class PresaleRegister(Register):
    """The test register plus the pre-sale steps: contract, purchase notice, 预抵押, first registration."""

    def case(self, body: Mapping[str, JSON], actor: str = "bank_a", *, issue: bool = True) -> str:
        """File, confirm by every applicant, accept, review, record (and issue): the application id."""
        outcome = self.ok("application.file", body, actor)
        app = str(outcome.effects[0].value["application_id"])  # type: ignore[union-attr]
        self.accept_review(app)
        self.ok("application.record", {"application_id": app}, "recorder")
        if issue and self.app(app)["certificate_number"] is not None:
            self.ok("application.issue", {"application_id": app, "document_sha256": h(f"doc:{app}")}, "issuer")
        return app

    def presale(self, unit_number: str = PREDICTED, buyers: tuple[str, ...] = (BUYER,),
                price_fen: int = 250_000_000) -> str:
        """The developer files a pre-sale contract and every buyer signs it: the contract id."""
        document = h(f"presale:{unit_number}")
        outcome = self.ok("presale.contract", {
            "unit_number": unit_number, "developer": DEVELOPER_PARTY, "buyers": list(buyers), "price_fen": price_fen,
            "contract_no": f"YX-{unit_number[-4:]}", "filing_no": f"GZYS-2026-{unit_number[-4:]}",
            "document_sha256": document}, "developer")
        contract = str(outcome.effects[0].value["contract_id"])  # type: ignore[union-attr]
        for buyer in buyers:
            self.ok("presale.sign", {"contract_id": contract, "document_sha256": document}, buyer)
        return contract

    def purchase_body(self, contract: str, unit_number: str = PREDICTED,
                      buyers: tuple[str, ...] = (BUYER,)) -> dict[str, JSON]:
        return {"business_type": "purchase_notice.first", "unit_number": unit_number,
                "applicants": [*applicants(buyers, "buyer"),
                               {"party_id": DEVELOPER_PARTY, "capacity": "developer"}],
                "materials": [material("APPLICATION_FORM"), material("NOTICE_AGREEMENT")],
                "details": {"presale_contract": contract}}

    def notice_body(self, purchase_number: str, unit_number: str = PREDICTED, buyers: tuple[str, ...] = (BUYER,),
                    bank: str = BANK_A_PARTY, extra: tuple[dict[str, JSON], ...] = (),
                    **details: JSON) -> dict[str, JSON]:
        return {"business_type": "mortgage_notice.first", "unit_number": unit_number,
                "applicants": [*applicants(buyers, "mortgagor"),
                               {"party_id": bank, "capacity": "mortgagee"}, *extra],
                "materials": list(NOTICE_MATERIALS), "details": notice_details(purchase_number, **details)}

    def notices(self, unit_number: str = PREDICTED) -> tuple[str, str]:
        """Contract, purchase notice (第00000001号) and ICBC's 预抵押 (第00000002号): their notice ids."""
        purchase = self.case(self.purchase_body(self.presale(unit_number), unit_number), "developer")
        number = str(self.row(f"notice/{purchase}")["certificate_number"])
        return purchase, self.case(self.notice_body(number, unit_number))

    def first_registration(self, pairs: tuple[tuple[str, str], ...] = ((PREDICTED, SURVEYED),)) -> None:
        self.ok("building.first_registration", {
            "developer": DEVELOPER_PARTY,
            "units": [{"predicted": predicted, "surveyed": unit(surveyed)} for predicted, surveyed in pairs]},
            "recorder")


@pytest.fixture
def pre() -> PresaleRegister:
    register = PresaleRegister()
    register.seed()
    return register
