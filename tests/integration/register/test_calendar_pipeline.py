"""The holiday calendar is a governance transaction on the real pipeline, by ``registry.admin`` only.

Signed envelopes go through admission, the cutter, execution and the atomic commit; a wrong role's
attempt stays in its block marked invalid with ROLE_NOT_PERMITTED (design §3.13) and writes nothing;
replaying the blocks on a fresh node gives the same hashes and state.
"""

from __future__ import annotations

from pathlib import Path

from test_block_replay import replay

from estatechain.canonical import JSONValue
from estatechain.testing.harness import LedgerHarness

NATIONAL_DAY_2026: dict[str, JSONValue] = {
    "year": 2026, "holidays": [f"2026-10-0{day}" for day in range(1, 8)], "workdays": ["2026-09-20", "2026-10-10"],
    "basis": "国务院办公厅关于2026年部分节假日安排的通知 (国庆节部分)",
}
"""国庆节 2026: 10月1日-7日 off, Sunday 9月20日 and Saturday 10月10日 worked (State Council, recalled wording)."""


def test_the_registry_admin_sets_the_calendar_and_other_roles_cannot(tmp_path: Path) -> None:
    harness = LedgerHarness(tmp_path / "source")
    factory = harness.factory
    wrong = [factory.sign(factory.identity(handle), "calendar.set", NATIONAL_DAY_2026)
             for handle in ("icbc-gz/operator1", "gz-registry/recorder1", "gz-registry/org-admin")]
    refused = harness.commit(wrong)
    assert [(r.valid, r.code) for r in refused] == [(False, "ROLE_NOT_PERMITTED")] * 3
    assert harness.store.get("governance/calendar/2026") is None
    (receipt,) = harness.commit([factory.sign(factory.identity("gz-registry/admin1"), "calendar.set",
                                              NATIONAL_DAY_2026)])
    assert (receipt.valid, receipt.code) == (True, None)
    row = harness.store.get("governance/calendar/2026")
    assert row is not None
    assert (row["holidays"], row["workdays"], row["tx_id"]) == (
        NATIONAL_DAY_2026["holidays"], ["2026-09-20", "2026-10-10"], receipt.tx_id)
    fresh = replay(harness.store, tmp_path / "replayed")
    assert (fresh.height, fresh.head_hash, fresh.state_root) == (
        harness.store.height, harness.store.head_hash, harness.store.state_root)
    assert fresh.get("governance/calendar/2026") == row
