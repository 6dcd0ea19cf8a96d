"""Rows the contract reads back from state decode without re-validation, to the very value validation gives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import pytest
from conftest import BANK_A_PARTY, OWNER_A, PREDICTED, UNIT_A, UNIT_JOINT, UNIT_SHARES, UNIT_SHOP, Register, h

from estatechain.contract.effects import JSON
from estatechain.contract.money import Money
from estatechain.contract.records import (
    Application,
    Cancellation,
    DateRange,
    FieldError,
    Mortgage,
    OwnershipRight,
    PartyRef,
    Status,
    Unit,
)


class _Watched(Mapping[str, JSON]):
    """A row that notes which of its keys a decoder read."""

    def __init__(self, row: Mapping[str, JSON]) -> None:
        self._row = row
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> JSON:
        self.read.add(key)
        return self._row[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


def _same_both_ways(reg: Register, app: str) -> Application:
    row = reg.app(app)
    stored = Application.from_stored(row)
    assert stored == Application.from_json(row)
    assert stored.to_json() == dict(row)
    return stored


def test_an_application_reads_back_as_validation_would_at_every_step_of_its_lifecycle(reg: Register) -> None:
    app = reg.file()
    assert _same_both_ways(reg, app).state.value == "FILED"
    reg.confirm_all(app)
    assert len(_same_both_ways(reg, app).confirmations) == 2
    reg.ok("application.accept", {"application_id": app}, "intake")
    reg.ok("application.hold", {"application_id": app, "reason": "实地查看"}, "reviewer")
    assert _same_both_ways(reg, app).held_from is not None
    reg.d.advance_days(1)
    reg.ok("application.resume", {"application_id": app}, "reviewer")
    assert _same_both_ways(reg, app).held_ms_total == 86_400_000
    reg.ok("application.review", {"application_id": app}, "reviewer")
    reg.ok("application.record", {"application_id": app}, "recorder")
    reg.ok("application.issue", {"application_id": app, "document_sha256": h(f"doc:{app}")}, "issuer")
    issued = _same_both_ways(reg, app)
    assert (issued.result, issued.certificate_number is not None) == (f"mortgage/{app}", True)

    withdrawn = reg.file(contract_numbers=["ICBC-GZ-2026-0002"])
    reg.ok("application.withdraw", {"application_id": withdrawn, "party_id": BANK_A_PARTY}, "bank_a_approver")
    assert _same_both_ways(reg, withdrawn).withdrawals == (BANK_A_PARTY,)


def test_the_fast_reader_reads_every_field_the_stored_form_has(reg: Register) -> None:
    """A field added to ``to_json`` but not to ``from_stored`` would be silently dropped on every read."""
    app = reg.file()
    reg.register_mortgage(app)
    readers = ((Application.from_stored, f"application/{app}"), (Mortgage.from_stored, f"mortgage/{app}"),
               (Unit.from_stored, f"unit/{UNIT_A}"), (OwnershipRight.from_stored, "ownership/own-shares"))
    for decode, key in readers:
        watched = _Watched(reg.row(key))
        decode(watched)
        assert watched.read == set(reg.row(key))


def test_units_and_ownership_rights_read_back_as_validation_would(reg: Register) -> None:
    for number in (UNIT_A, UNIT_SHOP, PREDICTED):
        row = reg.row(f"unit/{number}")
        assert Unit.from_stored(row) == Unit.from_json(row)
        assert Unit.from_stored(row).to_json() == dict(row)
    for right in ("own-a", "own-joint", "own-shares"):
        row = reg.row(f"ownership/{right}")
        assert OwnershipRight.from_stored(row) == OwnershipRight.from_json(row)
        assert OwnershipRight.from_stored(row).to_json() == dict(row)
    assert {OwnershipRight.from_stored(reg.row(f"ownership/{right}")).form.value
            for right in ("own-a", "own-joint", "own-shares")} == {"sole", "joint", "shares"}
    surveyed = Unit.from_stored(reg.row(f"unit/{UNIT_JOINT}"))
    linked = replace(surveyed, predecessor=PREDICTED, successor=UNIT_SHARES)
    agreed = replace(OwnershipRight.from_stored(reg.row("ownership/own-shares")), agreed_threshold=(1, 2),
                     status=Status.HISTORIC, successor="own-next")
    assert Unit.from_stored(linked.to_json()) == linked == Unit.from_json(linked.to_json())
    assert OwnershipRight.from_stored(agreed.to_json()) == agreed == OwnershipRight.from_json(agreed.to_json())
    without_ids = {key: field for key, field in reg.row(f"unit/{UNIT_A}").items() if key != "source_txs"}
    assert Unit.from_stored(without_ids) == Unit.from_json(without_ids)  # a row written before source_txs


def test_a_mortgage_with_every_optional_part_reads_back_as_validation_would(reg: Register) -> None:
    app = reg.file()
    reg.register_mortgage(app)
    recorded = Mortgage.from_stored(reg.row(f"mortgage/{app}"))
    assert recorded == Mortgage.from_json(reg.row(f"mortgage/{app}"))
    full = replace(
        recorded, debtor=PartyRef(party_id=OWNER_A, record_ref=h("record")), max_claim=Money(fen=9_000_000),
        max_claim_basis="最高额合同", determination_period=DateRange(start="2026-01-01", end="2030-12-31"),
        transfer_restriction_text="约定不得转让", recorder=h("recorder"), notes="附记", status=Status.HISTORIC,
        cancellation=Cancellation(business_no="ZX-1", reason="债务已清偿", time_ms=1_800_000_000_000),
        derived_from="notice-1",
    )
    row = full.to_json()
    assert Mortgage.from_stored(row) == full == Mortgage.from_json(row)


def test_an_application_with_too_many_source_transactions_is_refused_by_both_readers(reg: Register) -> None:
    """No writer bounds ``source_txs`` (each hold and resume adds one): both readers refuse the same row alike."""
    app = reg.file()
    too_many: list[JSON] = [h(str(n)) for n in range(10_001)]
    row = {**reg.app(app), "source_txs": too_many}
    with pytest.raises(FieldError) as slow:
        Application.from_json(row)
    with pytest.raises(FieldError) as fast:
        Application.from_stored(row)
    assert (fast.value.field, fast.value.problem) == (slow.value.field, slow.value.problem)


def test_a_mortgage_with_too_many_source_transactions_is_refused_by_both_readers(reg: Register) -> None:
    """A mortgage inherits its application's ``source_txs`` plus its recording: the fast reader keeps the bound too."""
    app = reg.file()
    reg.register_mortgage(app)
    too_many: list[JSON] = [h(str(n)) for n in range(10_001)]
    row = {**reg.row(f"mortgage/{app}"), "source_txs": too_many}
    with pytest.raises(FieldError) as slow:
        Mortgage.from_json(row)
    with pytest.raises(FieldError) as fast:
        Mortgage.from_stored(row)
    assert (fast.value.field, fast.value.problem) == (slow.value.field, slow.value.problem)
