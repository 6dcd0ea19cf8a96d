"""The register page's notice clock at the head is judged as the next block would judge it, not at the head's time.

``notice.mark_lapsed`` runs in the next block, whose time is the node's clock; on a quiet ledger the
head block can be days old, and a clock read at its time hid the recorder's *Mark lapsed* for days.
"""

from __future__ import annotations

from pathlib import Path

from estatechain.canonical import JSONValue
from estatechain.cli.demo_world import new_flat
from estatechain.web.routes_register import NoticeClock, register_as_of
from web.registerledger import registry_ledger

DAY_MS = 86_400_000
NOTICE = "粤(2019)广州市不动产证明第09000001号"


def test_the_head_pages_clock_reads_lapsed_once_the_next_block_would_take_the_mark(tmp_path: Path) -> None:
    with registry_ledger(tmp_path, units=20) as ledger:
        key = (tmp_path / "net" / "orgs" / "gz-identity" / "party-id.key").read_bytes()
        flat = new_flat(key, 1_700_000_000)
        buyer = ledger.owners[0]
        ref: dict[str, JSONValue] = {"party_id": buyer.party_id, "record_ref": buyer.record_ref}
        start_ms = ledger.clock.now_ms() - 85 * DAY_MS  # 85 days ago: its 90 days end within the next 15
        notice: dict[str, JSONValue] = {
            "unit_number": flat.predicted, "registry": "gz-registry", "registered_ms": start_ms,
            "registration_type": "700", "transfer_restricted": False, "notice_id": f"IMP-YD-{flat.predicted}",
            "business_no": f"IMP-YD-{flat.predicted}", "kind": 3, "rank": 1,
            "holders": [{"party_id": ledger.bank_parties["icbc-gz"]}], "obligors": [ref],
            "amount": {"fen": 120_000_000, "currency": "CNY"}, "cause": "LOAN", "method": 1,
            "debt_term": {"start": "2026-01-01", "end": "2056-01-01"}, "scope": "详见抵押合同",
            "contract_numbers": ["YG-CLOCK-1"], "certificate_number": NOTICE, "lapse_clock_start_ms": start_ms}
        ledger.commit("gz-registry/admin1", "register.import", {**flat.import_body(), "notices": [notice]})
        head = ledger.store.height
        at_head = register_as_of(ledger.store, flat.predicted, head)
        assert at_head is not None
        clock = at_head.notice_clocks[f"IMP-YD-{flat.predicted}"]
        assert not clock.lapsed  # as of the head block's time, which is now
        later = ledger.clock.now_ms() + 20 * DAY_MS  # a quiet ledger: no block since, twenty days on
        judged = register_as_of(ledger.store, flat.predicted, head, clocks_at_ms=later)
        assert judged is not None
        assert judged.notice_clocks[f"IMP-YD-{flat.predicted}"] == NoticeClock(
            lapses_from=clock.lapses_from, lapsed=True, held_by=None)
