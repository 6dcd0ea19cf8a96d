"""``estatechain demo``: every business type of the register, driven against a running node over signed HTTP.

The demo is what a newcomer runs after ``estatechain up``: it acts as each party in turn — bank
operator and approver, owner, developer, buyer, the registry's intake, reviewer, recorder and issuer,
the court, the identity authority — each with its own development key from ``DIR/identities.json``,
through the SDK. For workflow steps the node prepares the unsigned payload (``/v1/payloads/<step>``),
the party checks and signs it locally and submits it; other commands the party builds and signs
itself. Nothing is signed by the node for a caller (design §3.17). Certificates are prepared by the
registry's node at the issuer's request and put on the ledger by the issuer's own ``application.issue``.

Every step waits for its commit and stops the demo with the node's rejection code if it was marked
invalid, so a green run means each business type went through the real rules of the register.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from estatechain.canonical import JSONValue
from estatechain.cli.demo_driver import (
    ADMIN,
    BUYER,
    CCB,
    COURT,
    DEFAULT_NODE,
    DEVELOPER,
    DEVELOPER_ORG,
    ICBC,
    INTAKE,
    MAX_OWNER,
    OFFICER,
    OWNER,
    SEIZED_OWNER,
    STEPS_TOTAL,
    Driver,
    Row,
    years_after,
)
from estatechain.cli.demo_world import Flat, Owner, discover
from estatechain.sdk import Client, ClientIdentity


class Demo(Driver):
    """Drives one node; ``run`` performs every case in order and returns the rows for the final table."""

    async def mortgage_first(self, owner: Owner, bank: str, *, maximum: bool) -> Row:
        """抵押权首次登记: the bank files, the owner and the bank confirm, the registry records and issues."""
        label = "maximum" if maximum else "ordinary"
        row = Row(business="mortgage.first", title=f"mortgage first registration ({label})")
        contract = f"{bank.split('-', maxsplit=1)[0].upper()}-DY-{self.tag}-{'Z' if maximum else 'Y'}"
        terms: dict[str, JSONValue] = (
            {"method": 2, "max_claim_fen": 300_000_000,
             "determination_period": {"start": self.today.isoformat(), "end": years_after(self.today, 5).isoformat()}}
            if maximum else
            {"method": 1, "secured_principal_fen": 120_000_000,
             "debt_term": {"start": self.today.isoformat(), "end": years_after(self.today, 20).isoformat()}})
        filing: dict[str, JSONValue] = {
            "business_type": "mortgage.first", "unit_number": owner.unit_number,
            "applicants": [self._ref(owner, "mortgagor"), self._bank(bank, "mortgagee")],
            "materials": await self.materials(f"{bank}/operator1", contract, "APPLICATION_FORM", "POWER_OF_ATTORNEY",
                                              "MAX_MORTGAGE_CONTRACT" if maximum else "LOAN_CONTRACT"),
            "details": {**terms, "currency": "CNY", "scope": "主债权及利息", "contract_numbers": [contract],
                        "transfer_restricted": False, "title_number": owner.title_number},
        }
        return await self.case(row, f"{bank}/operator1", filing,
                               [(owner.handle, owner.party_id), (f"{bank}/approver1", self.world.banks[bank])])

    async def mortgage_cancel(self, first: Row, owner: Owner, bank: str) -> Row:
        """抵押权注销登记: the loan is repaid; the bank alone applies, citing the certificate."""
        assert first.certificate is not None
        row = Row(business="mortgage.cancel", title="mortgage cancellation", note=f"cancels {first.certificate}")
        filing: dict[str, JSONValue] = {
            "business_type": "mortgage.cancel", "unit_number": owner.unit_number,
            "applicants": [self._bank(bank, "mortgagee")],
            "materials": await self.materials(f"{bank}/operator1", "cancel", "APPLICATION_FORM", "PAYOFF_PROOF"),
            "details": {"certificate_number": first.certificate, "reason": "REPAID"},
        }
        await self.case(row, f"{bank}/operator1", filing, [(f"{bank}/approver1", self.world.banks[bank])])
        first.expected_status = "CANCELLED"
        return row

    async def presale(self, buyer: Owner, flat: Flat) -> list[Row]:
        """The pre-sale chain on one flat, from the registry entering it to 预告转本.

        Purchase notice, 预抵押 and its change, transfer, correction and cancellation, a second 预抵押,
        the building's first registration and 预告转本 (ownership, then mortgage).
        """
        rows: list[Row] = []
        icbc, ccb = self.world.banks[ICBC], self.world.banks[CCB]
        developer: dict[str, JSONValue] = {"party_id": flat.developer, "capacity": "developer"}
        # the registry enters the newly surveyed pre-sale building's flat; the identity authority binds the
        # developer's company to its member org
        setup = Row(business="presale.contract", title="pre-sale flat entered, contract signed (supporting)")
        setup.txs.append(await self.command(ADMIN, "register.import", flat.import_body()))
        setup.txs.append(await self.command(OFFICER, "identity.bind_party",
                                            {"org": DEVELOPER_ORG, "party_id": flat.developer}))
        document = await self.material(DEVELOPER, "PRESALE_CONTRACT", flat.predicted)
        contract = await self.step(
            DEVELOPER, "presale-contract", unit_number=flat.predicted, developer=flat.developer,
            buyers=[buyer.party_id], price_fen=250_000_000, contract_no=f"HC-{self.tag}",
            filing_no=f"GZYS-{self.tag}", document_sha256=document["sha256"])
        setup.application_id = contract
        self.presale_document = str(document["sha256"])
        setup.txs += [contract, await self.step(buyer.handle, "presale-sign", contract_id=contract,
                                                document_sha256=document["sha256"])]
        self.console.print(f"[green]✓[/green] pre-sale contract {contract[:12]}… filed by the developer, signed by "
                           "the buyer")
        rows.append(setup)

        purchase = await self.case(Row(business="purchase_notice.first", title="pre-sale purchase notice (预告)"),
                                   DEVELOPER, {
            "business_type": "purchase_notice.first", "unit_number": flat.predicted,
            "applicants": [self._ref(buyer, "buyer"), developer],
            "materials": await self.materials(DEVELOPER, "purchase", "APPLICATION_FORM", "NOTICE_AGREEMENT"),
            "details": {"presale_contract": contract}}, [(buyer.handle, buyer.party_id), (DEVELOPER, flat.developer)])
        rows.append(purchase)
        assert purchase.certificate is not None

        first = await self.yudiya(buyer, flat, ICBC, purchase.certificate, "0001")
        rows.append(first)
        buyer_and = [(buyer.handle, buyer.party_id)]
        change = await self.case(Row(business="mortgage_notice.change", title="预抵押 change (principal, term)"),
                                 f"{ICBC}/operator1", {
            "business_type": "mortgage_notice.change", "unit_number": flat.predicted,
            "applicants": [self._ref(buyer, "mortgagor"), self._bank(ICBC, "mortgagee")],
            "materials": await self.materials(f"{ICBC}/operator1", "change", "APPLICATION_FORM",
                                              "SUPPLEMENTARY_AGREEMENT"),
            "details": {"certificate_number": first.certificate, "change_kind": "terms", "changes": {
                "secured_principal_fen": 150_000_000,
                "debt_term": {"start": self.today.isoformat(), "end": years_after(self.today, 30).isoformat()}}}},
            [*buyer_and, (f"{ICBC}/approver1", icbc)])
        first.expected_status = "SUPERSEDED"
        rows.append(change)
        transfer = await self.case(Row(business="mortgage_notice.transfer", title="预抵押 transfer (ICBC → CCB)"),
                                   f"{CCB}/operator1", {
            "business_type": "mortgage_notice.transfer", "unit_number": flat.predicted,
            "applicants": [self._bank(ICBC, "mortgagee"), self._bank(CCB, "transferee")],
            "materials": await self.materials(f"{CCB}/operator1", "transfer", "APPLICATION_FORM",
                                              "ASSIGNMENT_AGREEMENT", "DEBTOR_NOTICE"),
            "details": {"certificate_number": change.certificate, "cause": "ASSIGNMENT"}},
            [(f"{ICBC}/approver1", icbc), (f"{CCB}/approver1", ccb)])
        change.expected_status = "SUPERSEDED"
        rows.append(transfer)
        correct = await self.case(Row(business="mortgage_notice.correct", title="预抵押 correction (contract no.)"),
                                  f"{CCB}/operator1", {
            "business_type": "mortgage_notice.correct", "unit_number": flat.predicted,
            "applicants": [self._bank(CCB, "mortgagee")],
            "materials": await self.materials(f"{CCB}/operator1", "correct", "APPLICATION_FORM", "ERROR_PROOF"),
            "details": {"certificate_number": transfer.certificate,
                        "error_evidence_sha256": self.loan_contracts[f"ICBC-YG-{self.tag}-0001"],
                        "corrections": [{"field": "contract_numbers", "old": [f"ICBC-YG-{self.tag}-0001"],
                                         "new": [f"ICBC-YG-{self.tag}-0010"]}]}},
            [(f"{CCB}/approver1", ccb)])
        transfer.expected_status = "CORRECTED"
        rows.append(correct)
        cancel = await self.case(Row(business="mortgage_notice.cancel", title="预抵押 cancellation (waived)",
                                     note=f"cancels {correct.certificate}"), f"{CCB}/operator1", {
            "business_type": "mortgage_notice.cancel", "unit_number": flat.predicted,
            "applicants": [self._bank(CCB, "mortgagee")],
            "materials": await self.materials(f"{CCB}/operator1", "notice-cancel", "APPLICATION_FORM",
                                              "WAIVER_STATEMENT"),
            "details": {"certificate_number": correct.certificate, "reason": "WAIVED"}},
            [(f"{CCB}/approver1", ccb)])
        correct.expected_status = "CANCELLED"
        rows.append(cancel)

        second = await self.yudiya(buyer, flat, ICBC, purchase.certificate, "0002")
        second.title = "预抵押 filing (for conversion)"
        rows.append(second)
        rows.extend(await self.conversion(buyer, flat, purchase, second))
        return rows

    async def yudiya(self, buyer: Owner, flat: Flat, bank: str, purchase_number: str, serial: str) -> Row:
        """预抵押 (pre-sale mortgage notice) filing by the bank against the buyer."""
        number = f"{bank.split('-', maxsplit=1)[0].upper()}-YG-{self.tag}-{serial}"
        materials = await self.materials(f"{bank}/operator1", number, "APPLICATION_FORM", "POWER_OF_ATTORNEY",
                                         "LOAN_CONTRACT", "NOTICE_AGREEMENT")
        self.loan_contracts[number] = str(next(m["sha256"] for m in materials if isinstance(m, dict)
                                               and m["type"] == "LOAN_CONTRACT"))
        return await self.case(Row(business="mortgage_notice.first", title="预抵押 filing"), f"{bank}/operator1", {
            "business_type": "mortgage_notice.first", "unit_number": flat.predicted,
            "applicants": [self._ref(buyer, "mortgagor"), self._bank(bank, "mortgagee")],
            "materials": materials,
            "details": {"notice_kind": 3, "method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                        "debt_term": {"start": self.today.isoformat(), "end": years_after(self.today, 30).isoformat()},
                        "scope": "详见抵押合同", "contract_numbers": [number], "transfer_restricted": False,
                        "purchase_notice_certificate_number": purchase_number}},
            [(buyer.handle, buyer.party_id), (f"{bank}/approver1", self.world.banks[bank])])

    async def conversion(self, buyer: Owner, flat: Flat, purchase: Row, notice: Row) -> list[Row]:
        """The building's first registration, then 预告转本: the buyer's ownership, then the 预抵押's mortgage."""
        building = Row(business="building.first_registration", title="building first registration (supporting)")
        building.txs.append(await self.command("gz-registry/recorder1", "building.first_registration", {
            "developer": flat.developer,
            "units": [{"predicted": flat.predicted, "surveyed": {
                "unit_number": flat.surveyed, "kind": "surveyed", "use": "residential",
                "area_centi_m2": flat.area_centi_m2, "location_code": flat.location_code}}]}))
        # the buyer, an interested party by the pre-sale contract, inquires into the surveyed unit: the
        # register now shows the developer as owner, with the title number the transfer must cite
        answer = await self.inquire(buyer.handle, unit_number=flat.surveyed, basis="interest", purpose="TRANSACTION",
                                    interest_kind="SALE", evidence_sha256=self.presale_document)
        building.txs.append(str(answer["inquiry_id"]))
        building.certificate = str(answer["result"]["title_number"])
        building.note = "developer's title"
        self.console.print(f"[green]✓[/green] building first registration: {flat.surveyed}, developer's title "
                           f"{building.certificate}")
        transfer = await self.case(Row(business="ownership.transfer", title="预告转本 (1): ownership to the buyer"),
                                   DEVELOPER, {
            "business_type": "ownership.transfer", "unit_number": flat.surveyed,
            "applicants": [{"party_id": flat.developer, "capacity": "transferor"}, self._ref(buyer, "transferee")],
            "materials": await self.materials(DEVELOPER, "transfer", "APPLICATION_FORM", "TAX_PROOF"),
            "details": {"cause": "PRESALE", "title_number": building.certificate, "form": "sole",
                        "holders": [{"party_id": buyer.party_id, "record_ref": buyer.record_ref,
                                     "share_numerator": 1, "share_denominator": 1}],
                        "purchase_notice_certificate_number": purchase.certificate}},
            [(DEVELOPER, flat.developer), (buyer.handle, buyer.party_id)])
        purchase.expected_status = "CONVERTED"
        building.expected_status = "SUPERSEDED"
        convert = await self.case(Row(business="mortgage.convert", title="预告转本 (2): 预抵押 → mortgage"),
                                  f"{ICBC}/operator1", {
            "business_type": "mortgage.convert", "unit_number": flat.surveyed,
            "applicants": [self._ref(buyer, "mortgagor"), self._bank(ICBC, "mortgagee")],
            "materials": await self.materials(f"{ICBC}/operator1", "convert", "APPLICATION_FORM"),
            "details": {"notice_certificate_number": notice.certificate, "title_number": transfer.certificate}},
            [(buyer.handle, buyer.party_id), (f"{ICBC}/approver1", self.world.banks[ICBC])])
        notice.expected_status = "CONVERTED"
        return [building, transfer, convert]

    async def inquiry(self, owner: Owner, bank: str) -> Row:
        """查询: the owner consents, the bank inquires citing the consent, the registry releases a signed answer."""
        row = Row(business="inquiry", title="inquiry of registration results")
        expires = (self.today + dt.timedelta(days=30)).isoformat()
        consent = await self.step(owner.handle, "inquiry-consent", unit_number=owner.unit_number,
                                  bank_party=self.world.banks[bank], purpose="PRE_LOAN", expires_on=expires)
        answer = await self.inquire(f"{bank}/operator1", unit_number=owner.unit_number, basis="consent",
                                    consent_ids=[consent], purpose="PRE_LOAN", requester_party=self.world.banks[bank])
        row.application_id = str(answer["inquiry_id"])
        row.txs += [consent, row.application_id]
        row.note = f"{answer['answer']} answer at height {answer['height']}, signed by the registry"
        self.console.print(f"[green]✓[/green] inquiry {row.application_id[:12]}… GRANTED: {row.note}; "
                           f"{len(answer['result']['mortgages'])} current mortgage(s) on {owner.unit_number}")
        return row

    async def seizure(self, owner: Owner) -> Row:
        """查封 by the court on a unit, then lifted by the same court."""
        row = Row(business="seizure", title="seizure by the court, then lifted")
        order = f"({self.today.year})粤0106执保{self.tag}号"
        seizure = await self.step(COURT, "seizure", unit_number=owner.unit_number, kind="1", order_no=order,
                                  start_date=self.today.isoformat(), end_date=years_after(self.today, 3).isoformat())
        row.application_id = seizure
        row.txs += [seizure, await self.step(COURT, "seizure-release", seizure_id=seizure, order_no=f"{order}之一")]
        row.note = f"unit {owner.unit_number} seized and released"
        self.console.print(f"[green]✓[/green] seizure {seizure[:12]}… of {owner.unit_number} by the court, lifted")
        return row

    async def run(self) -> list[Row]:
        """Every business type, each step signed by the party that acts."""
        target = await self.client(INTAKE).target()
        self.chain_id, self.node_org = target.chain_id, target.node_org
        owners = self.world.owners
        ordinary = await self.mortgage_first(owners[OWNER], ICBC, maximum=False)
        maximum = await self.mortgage_first(owners[MAX_OWNER], CCB, maximum=True)
        cancel = await self.mortgage_cancel(ordinary, owners[OWNER], ICBC)
        presale = await self.presale(owners[BUYER], self.world.flat)
        inquiry = await self.inquiry(owners[MAX_OWNER], CCB)
        seizure = await self.seizure(owners[SEIZED_OWNER])
        return [ordinary, maximum, cancel, *presale, inquiry, seizure]


def table_rows(rows: Sequence[Row]) -> list[tuple[str, str, str, str]]:
    """(business type, application id, certificate, tx ids) as the final table shows them."""
    shown = []
    for row in rows:
        certificate = row.certificate or "—"
        if row.note.startswith("cancels"):
            certificate = row.note
        shown.append((f"{row.business}\n{row.title}", row.application_id or "—", certificate,
                      " ".join(t[:12] for t in row.txs)))
    return shown


def write_report(path: Path, url: str, chain_id: str, rows: Sequence[Row]) -> None:
    """The run as JSON: every row with full tx ids, certificate numbers and their expected final status."""
    path.write_text(json.dumps({"node": url, "chain_id": chain_id, "rows": [asdict(r) for r in rows]},
                               ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run_demo(url: str, directory: Path, seed: int, *, console: Console, err: Console) -> tuple[str, list[Row]]:
    """Discover the register's facts, drive every case against the node at ``url``; (chain id, rows).

    Raises:
        DemoFailed: a step was refused or marked invalid.
        SdkError: the node could not be reached or refused a request.

    """

    async def go() -> tuple[str, list[Row]]:
        probe = Client(url, ClientIdentity.from_dev(directory, INTAKE), timeout_s=10.0)
        try:
            chain_id = await probe.chain_id()
        finally:
            await probe.aclose()
        world = discover(directory, seed, int(time.time()))
        console.print(f"[bold]estatechain demo[/bold] against {url} (chain {chain_id[:16]}…)")
        console.print(f"  owners' units {', '.join(o.unit_number for o in world.owners.values())}; "
                      f"new pre-sale flat {world.flat.predicted}")
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err, transient=True)
        with progress:
            task = progress.add_task("starting", total=STEPS_TOTAL)
            async with Demo(url, directory, world, console=console, progress=progress, task=task) as demo:
                return chain_id, await demo.run()

    return asyncio.run(go())


__all__ = ["DEFAULT_NODE", "Row", "run_demo", "table_rows", "write_report"]
