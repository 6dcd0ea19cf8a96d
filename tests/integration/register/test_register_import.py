"""The synthetic register enters the ledger as registry-signed import transactions, record by record."""

from __future__ import annotations

from pathlib import Path

from register_case import import_register

from estatechain.contract.civil_date import day_start_ms, parse_iso_date
from estatechain.storage.audit import audit_ledger
from estatechain.testing.synthetic import Tenure


def test_every_unit_right_mortgage_and_seizure_of_the_generator_is_on_the_ledger_as_generated(tmp_path: Path) -> None:
    reg = import_register(tmp_path)
    units = [u for b in reg.batches for u in b.units]
    ownerships = [o for b in reg.batches for o in b.ownerships]
    mortgages = [m for b in reg.batches for m in b.mortgages]
    seizures = [s for b in reg.batches for s in b.seizures]
    counts = reg.importer.counts
    assert (counts.units, counts.ownerships, counts.mortgages, counts.seizures) == (
        len(units), len(ownerships), len(mortgages), len(seizures))
    assert counts.txs == len(reg.import_receipts) > 1
    limit = reg.harness.consortium.genesis.policies.max_tx_bytes
    assert all(len(tx.envelope) <= limit for tx in reg.import_txs)
    assert sum(tx.units for tx in reg.import_txs) == len(units)

    for unit in units:
        row = reg.row(f"unit/{unit.unit_number}")
        assert (row["kind"], row["use"], row["area_centi_m2"], row["registry"]) == (
            "predicted" if unit.predicted else "surveyed", "residential", unit.building_area_dm2, "gz-registry")
        assert len(row["source_txs"]) == 1  # type: ignore[arg-type]
    for ownership in ownerships:
        row = reg.row(f"ownership/OWN-{ownership.unit_number}")
        assert (row["title_number"], row["form"], row["status"]) == (
            ownership.title_number, ownership.tenure.value, "current")
        holders = row["holders"]
        assert isinstance(holders, list)
        assert len(holders) == len(ownership.holders)
        if ownership.tenure is Tenure.SHARES:
            assert [(x["share_numerator"], x["share_denominator"]) for x in holders] == [  # type: ignore[call-overload,index]
                (g.share_numerator, g.share_denominator) for g in ownership.holders]
    for mortgage in mortgages:
        row = reg.row(f"mortgage/IMP-{mortgage.unit_number}-{mortgage.rank}")
        amount = mortgage.secured_principal_fen or mortgage.max_claim_fen
        assert (row["rank"], row["certificate_number"], row["method"], row["status"]) == (
            mortgage.rank, mortgage.certificate_number, int(mortgage.method), "current")
        assert (row["secured_principal"] or row["max_claim"]) == {"fen": amount, "currency": "CNY"}
        assert row["transfer_restricted"] is mortgage.transfer_restricted
        day = parse_iso_date(mortgage.registered_on.isoformat())
        assert day is not None
        assert row["registered_ms"] == day_start_ms(day)
        year, serial = mortgage.certificate_number[2:6], mortgage.certificate_number[-9:-1]
        assert reg.row(f"certificate/proof/{year}/{serial}")["status"] == "VALID"
    purchases = [n for b in reg.batches for n in b.purchase_notices]
    yudiya = [n for b in reg.batches for n in b.presale_mortgage_notices]
    assert purchases
    assert yudiya
    assert counts.notices == len(purchases) + len(yudiya)
    for purchase in purchases:
        row = reg.row(f"notice/IMP-PN-{purchase.unit_number}")
        assert (row["kind"], row["status"], row["certificate_number"], row["amount"]) == (
            1, "current", purchase.certificate_number, {"fen": purchase.price_fen, "currency": "CNY"})
        assert len(row["holders"]) == len(purchase.holders)  # type: ignore[arg-type]
        assert reg.row(f"unitidx/{purchase.unit_number}/notice/L0001/IMP-PN-{purchase.unit_number}")
        year, serial = purchase.certificate_number[2:6], purchase.certificate_number[-9:-1]
        assert reg.row(f"certificate/proof/{year}/{serial}")["right"] == f"notice/IMP-PN-{purchase.unit_number}"
    for notice in yudiya:
        row = reg.row(f"notice/IMP-YD-{notice.unit_number}-{notice.rank}")
        assert (row["kind"], row["status"], row["certificate_number"], row["linked_purchase_notice"]) == (
            3, "current", notice.certificate_number, f"IMP-PN-{notice.unit_number}")
        assert (row["amount"], row["method"], row["priority_key"]) == (
            {"fen": notice.principal_fen, "currency": "CNY"}, 1, f"L{notice.rank:04d}")
        assert reg.row(f"notice/{row['linked_purchase_notice']}")["certificate_number"] == (
            notice.purchase_notice_certificate)
        assert reg.row(f"unit/{notice.unit_number}")["kind"] == "predicted"
    for seizure in seizures:
        row = reg.row(f"seizure/IMP-S-{seizure.unit_number}-{seizure.queue_position}")
        assert (row["queue_order"], row["queued"], row["start_date"], row["authority_org"]) == (
            seizure.queue_position, seizure.queue_position > 1, seizure.start.isoformat(), "gz-court")


def test_importing_the_same_records_again_is_kept_invalid_and_changes_nothing(tmp_path: Path) -> None:
    reg = import_register(tmp_path, units=40)
    before = reg.harness.snapshot()
    again = reg.importer.__class__(reg.harness.factory, reg.keys, tmp_path / "other-sealed")
    (receipt, *_) = reg.harness.commit([tx.envelope for tx in again.transactions(reg.batches)])
    assert not receipt.valid
    assert receipt.code == "RECORD_EXISTS"
    after = reg.harness.snapshot()
    assert (after.state_rows, after.state_root) == (before.state_rows, before.state_root)
    assert audit_ledger(reg.node).invalid_txs >= 1
