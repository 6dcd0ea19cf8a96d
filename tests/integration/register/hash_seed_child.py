"""One register scenario through the real pipeline, run by ``test_hash_seed.py`` under a chosen PYTHONHASHSEED.

``python hash_seed_child.py CONSORTIUM_DIR LEDGER_DIR`` opens the development consortium the parent
made (keys are random, so every run must share one folder), creates a fresh ledger in LEDGER_DIR and
commits every step of the scenario in its own block, signed by the party that acts, with a fixed clock
and fixed nonces. Nothing in the run is random, so two runs differ only if something depends on the
string-hash seed. It then writes one JSON object on stdout: each block's hash and state root, each
transaction's recorded status, code, message and detail, every current state row's digest, and the
run's own ``hash()`` of a string (so the parent can check that the seeds really differed).

The scenario goes where the contract builds sets of party ids or material types: co-owned units (joint
with three holders, by shares with four), mortgages and 预抵押 with several mortgagees, rejections whose
message or detail lists parties or items (V7 missing confirmations, V6, V15, V17, V16, V19, V24 across
both parts of a combined case), withdrawals, consent-based inquiries of a co-owned unit, a transfer that
carries a mortgage held by two banks, and a building's first registration. Every step states the code
it must end with, so a changed rule cannot quietly turn the scenario into a run of early rejections.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.clock import FixedClock
from estatechain.identity.devca import DevConsortium, load_dev_consortium
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material
from estatechain.testing.harness import START_MS

PROBE: Final = "estatechain"
"""A string whose ``hash()`` each run reports: equal in both runs would mean the seeds did not take effect."""

EXTRA_PERSONS: Final = tuple((f"person{n}", "person") for n in range(5, 11))
"""gz-identity users the parent adds to the consortium: the scenario needs ten persons, the dev CA makes four."""

UNIT_A = "440106001001GB00123F00010203"
UNIT_JOINT = "440184001016GB00009F00800039"
UNIT_SHARES = "440105002003GB00456F00020001"
PREDICTED, PREDICTED_2 = "440106001001GB00200F00010101", "440106001001GB00200F00010102"
SURVEYED, SURVEYED_2 = "440106001001GB00201F00010101", "440106001001GB00201F00010102"
TITLE_A = "粤(2020)广州市不动产权第09400110号"
TITLE_JOINT = "粤(2020)广州市不动产权第00000003号"
TITLE_SHARES = "粤(2020)广州市不动产权第00000004号"

OWNER_A = h("party:owner-a")
J1, J2, J3 = (h(f"party:joint-{n}") for n in range(1, 4))
S1, S2, S3, S4 = (h(f"party:shares-{n}") for n in range(1, 5))
BUYER_1, BUYER_2 = h("party:buyer-1"), h("party:buyer-2")
PERSONS: Final = {OWNER_A: "person1", J1: "person2", J2: "person3", J3: "person4", S1: "person5", S2: "person6",
                  S3: "person7", S4: "person8", BUYER_1: "person9", BUYER_2: "person10"}
"""Party id → the gz-identity person bound to it."""

ICBC_1, ICBC_2 = h("party:icbc-branch"), h("party:icbc-tianhe")
CCB_1, CCB_2, CCB_3 = h("party:ccb-branch"), h("party:ccb-yuexiu"), h("party:ccb-haizhu")
DEVELOPER = h("party:poly-developer")
ORG_PARTIES: Final = {ICBC_1: "icbc-gz", ICBC_2: "icbc-gz", CCB_1: "ccb-gz", CCB_2: "ccb-gz", CCB_3: "ccb-gz",
                      DEVELOPER: "poly-developer"}
"""Organisation party → the member org bound to act for it (a bank may act for several branches)."""

CONFIRMER: Final = {"icbc-gz": "icbc-gz/approver1", "ccb-gz": "ccb-gz/approver1",
                    "poly-developer": "poly-developer/developer1"}

FIRST_MATERIALS: Final = ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT")
NOTICE_MATERIALS: Final = (*FIRST_MATERIALS, "NOTICE_AGREEMENT")


def confirmer(party: str) -> str:
    """The handle that confirms for ``party``: its own person key, or its org's approver."""
    if party in PERSONS:
        return f"gz-identity/{PERSONS[party]}"
    return CONFIRMER[ORG_PARTIES[party]]


def applicants(*groups: tuple[str, Iterable[str]]) -> list[JSONValue]:
    """Applicant entries, ``(capacity, parties)`` group by group, in the order given."""
    return [{"party_id": party, "capacity": capacity} for capacity, parties in groups for party in parties]


def unit(number: str, kind: str = "surveyed") -> dict[str, JSONValue]:
    """A residential unit record as the import (or a first registration) states it."""
    return {"unit_number": number, "kind": kind, "use": "residential", "area_centi_m2": 8912,
            "location_code": "GZ-TH-0001"}


def holding(party: str, numerator: int = 1, denominator: int = 1) -> dict[str, JSONValue]:
    """A holder of an ownership right with its share."""
    return {"party_id": party, "share_numerator": numerator, "share_denominator": denominator}


def mortgage_body(  # noqa: PLR0913  (keywords name the parts of a filing the scenario varies)
    unit_number: str, title: str, mortgagors: Sequence[str], mortgagees: Sequence[str], contracts: Sequence[str],
    *, materials: Sequence[str] = FIRST_MATERIALS,
) -> dict[str, JSONValue]:
    """An ordinary ``mortgage.first`` filing of 120万元 over 20 years."""
    return {"business_type": "mortgage.first", "unit_number": unit_number,
            "applicants": applicants(("mortgagor", mortgagors), ("mortgagee", mortgagees)),
            "materials": [material(kind) for kind in materials],
            "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                        "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "主债权及利息",
                        "contract_numbers": list(contracts), "transfer_restricted": False, "title_number": title}}


def notice_body(purchase_number: str, mortgagees: Sequence[str], contracts: Sequence[str], *,
                mortgagors: Sequence[str] = (BUYER_1, BUYER_2), consenters: Sequence[str] = ()) -> dict[str, JSONValue]:
    """A ``mortgage_notice.first`` (预抵押) filing on the pre-sold flat."""
    return {"business_type": "mortgage_notice.first", "unit_number": PREDICTED,
            "applicants": applicants(("mortgagor", mortgagors), ("mortgagee", mortgagees), ("consenter", consenters)),
            "materials": [material(kind) for kind in NOTICE_MATERIALS],
            "details": {"notice_kind": 3, "method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                        "debt_term": {"start": "2026-01-04", "end": "2056-01-03"}, "scope": "详见抵押合同",
                        "contract_numbers": list(contracts), "transfer_restricted": False,
                        "purchase_notice_certificate_number": purchase_number}}


class Run:
    """The ledger, its fixed clock and nonces, and the steps every scenario part repeats."""

    def __init__(self, consortium: DevConsortium, ledger_dir: Path) -> None:
        self.clock = FixedClock(START_MS)
        self.store = LedgerStore.create(ledger_dir, consortium.genesis)
        self.factory = TxFactory(consortium, self.clock)
        self._nonces = 0

    def step(self, handle: str, command: str, body: Mapping[str, JSONValue], expect: str | None = None) -> Receipt:
        """Commit one tx by ``handle`` in its own block; it must end valid (``expect`` None) or with code ``expect``.

        One tx per block keeps block boundaries independent of timing; the nonce is a counter, not the
        factory's random prefix, so both runs sign the same bytes.
        """
        self._nonces += 1
        envelope = self.factory.sign(self.factory.identity(handle), command, body, nonce=f"hashseed-{self._nonces:06d}")
        receipt = asyncio.run(self._commit(envelope))
        assert receipt.code == expect, (command, expect, receipt.code, receipt.message)
        return receipt

    async def _commit(self, envelope: bytes) -> Receipt:
        """Commit ``envelope`` alone in a block, cut at once instead of after the genesis' batch timeout.

        ``stop`` commits the block being gathered; one turn of the loop lets ``run`` take the entry and
        start gathering first (were it still idle, the entry would be failed, loudly, not misplaced).
        Waiting out ``batch_timeout_ms`` (200 ms) for each of the ~120 blocks would take half a minute.
        """
        pipeline = Pipeline(self.store, self.clock)
        runner = asyncio.create_task(pipeline.run())
        committed = pipeline.submit_nowait(envelope)
        await asyncio.sleep(0)
        pipeline.stop()
        try:
            return await committed
        finally:
            await runner

    def file(self, handle: str, body: Mapping[str, JSONValue]) -> str:
        """File a valid application; its id."""
        return self.step(handle, "application.file", body).tx_id

    def confirm_all(self, app: str, parties: Iterable[str]) -> None:
        """Every party in ``parties`` confirms ``app`` with the key that acts for it."""
        for party in parties:
            self.step(confirmer(party), "application.confirm",
                      {"application_id": app, "application_hash": app, "party_id": party})

    def register(self, app: str, parties: Iterable[str], *, issue: bool = True) -> None:
        """Confirm, accept, review, record and (for a certificate) issue ``app``."""
        self.confirm_all(app, parties)
        self.step("gz-registry/intake1", "application.accept", {"application_id": app})
        self.step("gz-registry/reviewer1", "application.review", {"application_id": app})
        self.step("gz-registry/recorder1", "application.record", {"application_id": app})
        if issue:
            self.step("gz-registry/issuer1", "application.issue",
                      {"application_id": app, "document_sha256": h(f"certificate:{app}")})

    def certificate(self, app: str) -> str:
        """The certificate number the recording of ``app`` drew."""
        row = self.store.get(f"application/{app}")
        assert row is not None
        number = row["certificate_number"]
        assert isinstance(number, str)
        return number


def setup(run: Run) -> None:
    """The register (three co-owned or sole units, two pre-sale flats) and every identity binding."""
    run.step("gz-registry/admin1", "register.import", {
        "units": [unit(UNIT_A), unit(UNIT_JOINT), unit(UNIT_SHARES), unit(PREDICTED, "predicted"),
                  unit(PREDICTED_2, "predicted")],
        "ownerships": [
            {"right_id": "own-a", "unit_number": UNIT_A, "title_number": TITLE_A, "form": "sole",
             "holders": [holding(OWNER_A)]},
            {"right_id": "own-joint", "unit_number": UNIT_JOINT, "title_number": TITLE_JOINT, "form": "joint",
             "holders": [holding(J1), holding(J2), holding(J3)]},
            {"right_id": "own-shares", "unit_number": UNIT_SHARES, "title_number": TITLE_SHARES, "form": "shares",
             "holders": [holding(S1, 1, 2), holding(S2, 1, 6), holding(S3, 1, 6), holding(S4, 1, 6)]},
        ],
    })
    for party, person in PERSONS.items():
        run.step("gz-identity/officer1", "identity.bind_party", {
            "fingerprint": run.factory.identity(f"gz-identity/{person}").fingerprint, "party_id": party,
            "auth_ref": h(f"auth:{party}")})
    for party, org in ORG_PARTIES.items():
        run.step("gz-identity/officer1", "identity.bind_party", {"org": org, "party_id": party})


def joint_mortgage(run: Run) -> str:
    """Two banks (three branch parties) lend against the jointly owned unit; first the ways that filing goes wrong."""
    joint, lenders, contracts = (J1, J2, J3), (ICBC_1, CCB_1, ICBC_2), ("JT-ICBC-2026-1", "JT-CCB-2026-1")
    run.step("icbc-gz/operator1", "application.file",
             mortgage_body(UNIT_JOINT, TITLE_JOINT, (J1, J2), lenders, contracts), "V6_CO_OWNERS_MISSING")
    run.step("icbc-gz/operator1", "application.file",
             mortgage_body(UNIT_JOINT, TITLE_JOINT, (*joint, S1, BUYER_1, OWNER_A), lenders, contracts),
             "V6_MORTGAGOR_NOT_OWNER")
    run.step("icbc-gz/operator1", "application.file",
             mortgage_body(UNIT_JOINT, TITLE_JOINT, joint, lenders, contracts, materials=("APPLICATION_FORM",)),
             "V24_MATERIAL_MISSING")
    app = run.file("icbc-gz/operator1", mortgage_body(UNIT_JOINT, TITLE_JOINT, joint, lenders, contracts))
    run.step("gz-registry/intake1", "application.accept", {"application_id": app}, "V7_CONFIRMATIONS_MISSING")
    run.confirm_all(app, (J2,))
    run.step("gz-registry/intake1", "application.accept", {"application_id": app}, "V7_CONFIRMATIONS_MISSING")
    run.step("ccb-gz/approver1", "application.confirm",
             {"application_id": app, "application_hash": app, "party_id": ICBC_1}, "V7_NOT_AN_APPLICANT")
    run.confirm_all(app, (J1, CCB_1, J3))
    run.step("gz-registry/intake1", "application.accept", {"application_id": app}, "V7_CONFIRMATIONS_MISSING")
    run.confirm_all(app, (ICBC_1, ICBC_2))
    run.step("gz-registry/intake1", "application.accept", {"application_id": app})
    run.step("gz-registry/reviewer1", "application.review", {"application_id": app})
    run.step("gz-registry/reviewer1", "application.record", {"application_id": app}, "ROLE_NOT_PERMITTED")
    run.step("gz-registry/recorder1", "application.record", {"application_id": app})
    run.step("gz-registry/issuer1", "application.issue", {"application_id": app, "document_sha256": h(f"pdf:{app}")})
    run.step("ccb-gz/operator1", "application.file",
             mortgage_body(UNIT_JOINT, TITLE_JOINT, joint, (CCB_1,), ("JT-ICBC-2026-1", "JT-CCB-2026-1", "X-1")),
             "V16_DUPLICATE_MORTGAGE")
    return app


def shares_mortgage(run: Run) -> None:
    """Owners of 2/3 of the shares mortgage to two ICBC branches; a filing below 2/3, one refused, one withdrawn."""
    run.step("icbc-gz/operator1", "application.file",
             mortgage_body(UNIT_SHARES, TITLE_SHARES, (S2, S3), (ICBC_1,), ("SH-ICBC-0",)), "V6_CO_OWNERS_MISSING")
    app = run.file("icbc-gz/operator1",
                   mortgage_body(UNIT_SHARES, TITLE_SHARES, (S1, S2), (ICBC_1, ICBC_2), ("SH-ICBC-1",)))
    run.register(app, (S1, S2, ICBC_1, ICBC_2))
    refused = run.file("ccb-gz/operator1",
                       mortgage_body(UNIT_SHARES, TITLE_SHARES, (S1, S3, S4), (CCB_2,), ("SH-CCB-1",)))
    run.step("gz-registry/intake1", "application.not_accept", {"application_id": refused, "missing": [
        {"item": "LOAN_CONTRACT", "text": "贷款合同未签字"}, {"item": "ID_COPY", "text": "共有人身份证明缺失"},
        {"item": "POWER_OF_ATTORNEY", "text": "授权委托书过期"}]})
    run.step("gz-identity/person5", "application.withdraw", {"application_id": refused, "party_id": S1},
             "V22_WITHDRAWAL_NOT_ALLOWED")
    withdrawn = run.file("ccb-gz/operator1", mortgage_body(UNIT_A, TITLE_A, (OWNER_A,), (CCB_1, CCB_3), ("A-CCB-1",)))
    for party in (CCB_3, OWNER_A, CCB_1):
        run.step(confirmer(party), "application.withdraw", {"application_id": withdrawn, "party_id": party})


def inquiries(run: Run) -> None:
    """A bank asks about the joint unit with two of three owners' consents, then all three; owners and lenders ask."""
    consents: list[JSONValue] = [run.step(f"gz-identity/{PERSONS[owner]}", "inquiry.consent", {
        "unit_number": UNIT_JOINT, "bank_party": CCB_2, "purpose": "PRE_LOAN", "expires_on": "2026-02-28"}).tx_id
        for owner in (J1, J2, J3)]
    ask: dict[str, JSONValue] = {"unit_number": UNIT_JOINT, "basis": "consent", "purpose": "PRE_LOAN",
                                 "requester_party": CCB_2}
    run.step("ccb-gz/operator1", "inquiry.request", {**ask, "consent_ids": consents[:2]})
    run.step("ccb-gz/operator1", "inquiry.request", {**ask, "consent_ids": [consents[2], *consents[:2]]})
    run.step("icbc-gz/operator1", "inquiry.request", {"certificate_number": TITLE_JOINT, "basis": "own_right",
                                                      "purpose": "POST_LOAN", "requester_party": ICBC_1})
    run.step("gz-identity/person5", "inquiry.request", {"unit_number": UNIT_SHARES, "basis": "own_right"})
    run.step("gz-identity/person1", "inquiry.request", {"unit_number": UNIT_JOINT, "basis": "own_right",
                                                        "purpose": "OTHER"})
    run.step("ccb-gz/operator1", "inquiry.request", {"name": "张三", "basis": "intent", "purpose": "PRE_LOAN"},
             "V26_SEARCH_NOT_BY_PROPERTY")


def presale(run: Run) -> None:
    """Two co-buyers, their purchase notice, a 预抵押 of three bank parties, a later one needing their consents."""
    buyers = (BUYER_1, BUYER_2)
    document = h("presale:1-0101")
    contract = run.step("poly-developer/developer1", "presale.contract", {
        "unit_number": PREDICTED, "developer": DEVELOPER, "buyers": list(buyers), "price_fen": 250_000_000,
        "contract_no": "POLY-0101", "filing_no": "GZYS-2026-0101", "document_sha256": document}).tx_id
    for buyer in buyers:
        run.step(confirmer(buyer), "presale.sign", {"contract_id": contract, "document_sha256": document})
    purchase = run.file("poly-developer/developer1", {
        "business_type": "purchase_notice.first", "unit_number": PREDICTED,
        "applicants": applicants(("buyer", buyers), ("developer", (DEVELOPER,))),
        "materials": [material("APPLICATION_FORM"), material("NOTICE_AGREEMENT")],
        "details": {"presale_contract": contract}})
    run.register(purchase, (*buyers, DEVELOPER))
    number = run.certificate(purchase)
    run.step("icbc-gz/operator1", "application.file",
             notice_body(number, (ICBC_1,), ("YG-ICBC-1",), mortgagors=(BUYER_1,)), "V6_CO_OWNERS_MISSING")
    first_holders = (ICBC_1, ICBC_2, CCB_1)
    first = run.file("icbc-gz/operator1", notice_body(number, first_holders, ("YG-ICBC-1",)))
    run.register(first, (*buyers, *first_holders))
    later_holders = (CCB_2, CCB_3)
    run.step("ccb-gz/operator1", "application.file", notice_body(number, later_holders, ("YG-CCB-2",)),
             "V15_NOTICE_HOLDER_CONSENT_MISSING")
    later = run.file("ccb-gz/operator1", notice_body(number, later_holders, ("YG-CCB-2",),
                                                     consenters=(CCB_1, ICBC_2, ICBC_1)))
    run.register(later, (*buyers, *later_holders, CCB_1, ICBC_2, ICBC_1))
    run.step("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage_notice.change", "unit_number": PREDICTED,
        "applicants": applicants(("mortgagor", buyers), ("mortgagee", first_holders)),
        "materials": [material("APPLICATION_FORM"), material("SUPPLEMENTARY_AGREEMENT")],
        "details": {"certificate_number": run.certificate(first), "change_kind": "terms",
                    "changes": {"secured_principal_fen": 150_000_000}}}, "V17_CONSENT_MISSING")
    run.step("ccb-gz/operator1", "application.file", {
        "business_type": "mortgage_notice.change", "unit_number": PREDICTED,
        "applicants": applicants(("mortgagor", buyers), ("mortgagee", later_holders)),
        "materials": [material("APPLICATION_FORM"), material("SUPPLEMENTARY_AGREEMENT")],
        "details": {"certificate_number": run.certificate(later), "change_kind": "rank",
                    "rank_before": run.certificate(first)}}, "V17_CONSENT_MISSING")
    run.step("gz-registry/recorder1", "building.first_registration", {
        "developer": DEVELOPER, "units": [{"predicted": PREDICTED, "surveyed": unit(SURVEYED)},
                                          {"predicted": PREDICTED_2, "surveyed": unit(SURVEYED_2)}]})


def transfer_and_cancel(run: Run, joint_app: str) -> None:
    """The joint unit is sold with its mortgage of two banks carried along, which the lenders then cancel together."""
    transfer: dict[str, JSONValue] = {
        "business_type": "ownership.transfer", "unit_number": UNIT_JOINT,
        "applicants": applicants(("transferor", (J1, J2, J3)), ("transferee", (OWNER_A, S4))),
        "materials": [material("APPLICATION_FORM")],
        "details": {"cause": "SALE", "title_number": TITLE_JOINT, "form": "shares",
                    "holders": [holding(OWNER_A, 1, 2), holding(S4, 1, 2)]}}
    run.step("gz-identity/person2", "application.file", transfer, "V24_MATERIAL_MISSING")
    sale = run.file("gz-identity/person2", {**transfer, "materials": [
        material("APPLICATION_FORM"), material("TAX_PROOF"), material("SALE_CONTRACT")]})
    run.register(sale, (J1, J2, J3, OWNER_A, S4))
    run.step("ccb-gz/operator1", "application.file", {
        "business_type": "ownership.transfer_mortgage", "unit_number": UNIT_SHARES,
        "applicants": applicants(("transferor", (S1, S2, S3, S4)), ("transferee", (BUYER_1,)),
                                 ("mortgagee", (CCB_2,))),
        "materials": [material("APPLICATION_FORM")],
        "details": {"cause": "SALE", "title_number": TITLE_SHARES, "form": "sole", "holders": [holding(BUYER_1)],
                    "mortgage": {"method": 1, "secured_principal_fen": 50_000_000, "currency": "CNY",
                                 "debt_term": {"start": "2026-01-04", "end": "2056-01-03"}, "scope": "详见抵押合同",
                                 "contract_numbers": ["TM-CCB-1"], "transfer_restricted": False,
                                 "mortgagees": [CCB_2]}}}, "V24_MATERIAL_MISSING")
    cancel: dict[str, JSONValue] = {
        "business_type": "mortgage.cancel", "unit_number": UNIT_JOINT,
        "applicants": applicants(("mortgagee", (ICBC_1,))),
        "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
        "details": {"certificate_number": run.certificate(joint_app), "reason": "REPAID"}}
    run.step("icbc-gz/operator1", "application.file", cancel, "V19_CANCELLATION_APPLICANT_INVALID")
    lenders = (CCB_1, ICBC_2, ICBC_1)
    repaid = run.file("icbc-gz/operator1", {**cancel, "applicants": applicants(("mortgagee", lenders))})
    run.register(repaid, lenders, issue=False)


def outcome(run: Run) -> dict[str, JSONValue]:
    """What a node hashes or records, in ledger order: blocks, tx results, current state."""
    conn = run.store.connection
    blocks: list[JSONValue] = []
    for height in range(1, run.store.height + 1):
        found = run.store.block_at(height)
        assert found is not None
        header, block_hash = found
        blocks.append([height, block_hash, header.state_root])
    txs: list[JSONValue] = [list(row) for row in conn.execute(
        "SELECT seq, tx_id, status, code, message, detail FROM txs ORDER BY seq")]
    state: list[JSONValue] = [[key, hashlib.sha256(value).hexdigest() if value is not None else None]
                              for key, value in conn.execute("SELECT key, value FROM state_current ORDER BY key")]
    return {"probe_hash": hash(PROBE), "blocks": blocks, "txs": txs, "state": state}


def main(argv: Sequence[str]) -> None:
    """Run the scenario on a fresh ledger and write its outcome as JSON on stdout."""
    consortium_dir, ledger_dir = Path(argv[1]), Path(argv[2])
    run = Run(load_dev_consortium(consortium_dir), ledger_dir)
    try:
        setup(run)
        joint_app = joint_mortgage(run)
        shares_mortgage(run)
        inquiries(run)
        presale(run)
        transfer_and_cancel(run, joint_app)
        sys.stdout.write(json.dumps(outcome(run), ensure_ascii=False))
    finally:
        run.store.close()


if __name__ == "__main__":
    main(sys.argv)
