"""Seizures: V13 at filing, review and recording; the queue (轮候); lapse derived from block time."""

from __future__ import annotations

from conftest import BANK_A_PARTY, OWNER_A, UNIT_A, Register, material

from estatechain.contract.checks.register import check_v13_not_seized
from estatechain.contract.civil_date import day_start_ms, parse_iso_date
from estatechain.contract.records import Seizure
from estatechain.contract.seizure_queue import in_effect, window_of


def seize(reg: Register, start: str = "2026-01-04", end: str = "2029-01-03", order: str = "(2026)粤0106执1号") -> str:
    outcome = reg.ok("seizure.register", {"unit_number": UNIT_A, "order_no": order, "kind": "1",
                                          "start_date": start, "end_date": end}, "court")
    return str(outcome.effects[0].value["seizure_id"])  # type: ignore[union-attr]


def test_v13_a_seized_unit_cannot_be_mortgaged(reg: Register) -> None:
    seize(reg)
    rejection = reg.no("application.file", reg.filing(), "bank_a")
    assert (rejection.code, rejection.detail["field"], rejection.detail["basis"]) == (
        "V13_UNIT_SEIZED", "unit_number", "民法典 399(5)")


def test_v13_seizure_between_review_and_record_is_refused_at_record(reg: Register) -> None:
    app = reg.file()
    reg.accept_review(app)
    assert reg.app(app)["state"] == "APPROVED"
    seize(reg)
    rejection = reg.no("application.record", {"application_id": app}, "recorder")
    assert rejection.code == "V13_UNIT_SEIZED"
    assert reg.d.view.get(f"mortgage/{app}") is None
    assert reg.d.view.get("certseq/gz-registry/2026") is None
    reg.ok("application.refuse", {"application_id": app, "reason_code": "LEGAL_BAR",
                                  "reason_text": "查封期间不得办理抵押登记"}, "reviewer")
    assert reg.app(app)["state"] == "REFUSED"


def test_a_queued_seizure_takes_effect_when_the_first_is_released_and_both_lapse(reg: Register) -> None:
    first = seize(reg, end="2026-01-31")
    second = seize(reg, start="2026-01-04", end="2026-02-03", order="(2026)粤0106执2号")
    assert reg.row(f"seizure/{second}")["queued"] is True
    assert reg.row(f"seizure/{second}")["queue_order"] == 2
    reg.d.advance_days(5)
    reg.ok("seizure.release", {"seizure_id": first, "order_no": "(2026)粤0106执1号之一"}, "court")
    rejection = reg.no("application.file", reg.filing(), "bank_a")
    assert (rejection.code, rejection.detail["seizure_id"]) == ("V13_UNIT_SEIZED", second)
    # the queued one took effect on release (day 5) and its 31-day term runs from then
    reg.d.advance_days(31)
    assert check_v13_not_seized(reg.d.view, UNIT_A, reg.d.time_ms) is None
    reg.file()  # lapsed by derivation: nothing was written to end it


def test_cancellation_is_not_blocked_by_a_seizure(reg: Register) -> None:
    app = reg.file()
    reg.register_mortgage(app)
    seize(reg)
    cancel = reg.file({"business_type": "mortgage.cancel",
                       "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
                       "materials": [material("APPLICATION_FORM"), material("WAIVER_STATEMENT")],
                       "details": {"certificate_number": "粤(2026)广州市不动产证明第00000001号", "reason": "WAIVED"}})
    reg.accept_review(cancel)
    reg.ok("application.record", {"application_id": cancel}, "recorder")
    assert reg.row(f"mortgage/{app}")["status"] == "historic"


def test_only_the_delivering_authority_releases_and_not_twice(reg: Register) -> None:
    seizure = seize(reg)
    other = reg.d.run("seizure.release", {"seizure_id": seizure, "order_no": "x"}, role="court",
                      signer="f" * 64, org="other-court")
    assert other.rejection.code == "SEIZURE_NOT_OWN"  # type: ignore[union-attr]
    reg.ok("seizure.release", {"seizure_id": seizure, "order_no": "x"}, "court")
    again = reg.no("seizure.release", {"seizure_id": seizure, "order_no": "x"}, "court")
    assert again.code == "SEIZURE_ENDED"
    assert OWNER_A


def test_a_seizure_delivered_after_its_ordered_start_binds_the_register_from_its_delivery(reg: Register) -> None:
    """An order dated back does not make the register show a seizure over the days before it was recorded,
    nor does the registry's delay lengthen the court's term."""
    before = reg.d.time_ms
    app = reg.file()
    reg.register_mortgage(app)  # recorded while no seizure was on the register
    reg.d.advance_days(10)
    seizure_id = seize(reg, start="2026-01-04", end="2026-03-31")  # ordered from a day before the mortgage
    seizure = Seizure.from_json(reg.row(f"seizure/{seizure_id}"))
    window = window_of(reg.d.view, seizure)
    assert window is not None
    assert window.start_ms == seizure.delivered_ms > before
    assert window.end_ms == day_start_ms(parse_iso_date("2026-04-01") or 0)  # the ordered last day, not ten days later
    assert in_effect(reg.d.view, UNIT_A, before) is None  # the day the mortgage was recorded
    assert in_effect(reg.d.view, UNIT_A, reg.d.time_ms) == seizure
