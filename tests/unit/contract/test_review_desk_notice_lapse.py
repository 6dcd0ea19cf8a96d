"""The review desk shows a conversion's notice lapse before the reviewer signs (domain.md §5.9).

The desk (``web.review.notice_lapse``) asks the business type's own review notes, run on the register
as it stands, so what the reviewer reads is what the review step will record with the case.
"""

from __future__ import annotations

from conftest import PresaleRegister
from test_presale_scenario import convert_body
from test_presale_scenario import transfer_body as presale_transfer
from test_v_rules_notices import converted_chain

from estatechain.contract.context import BlockContext
from estatechain.contract.records import Application
from estatechain.web.review import NoticeLapse, notice_lapse


def desk_view(pre: PresaleRegister, app: str) -> NoticeLapse | None:
    """What the reviewer's desk shows for ``app`` in the next block."""
    ctx = BlockContext(chain_id=pre.d.chain_id, height=pre.d.height + 1, block_time_ms=pre.d.time_ms, tx_id="0" * 64,
                       tx_seq=pre.d.seq + 1, signer="r", signer_org="gz-registry", signer_org_type="registry",
                       signer_role="registry.reviewer")
    return notice_lapse(pre.d.view, ctx, Application.from_json(pre.app(app)))


def test_a_conversion_filed_in_time_shows_the_last_day_and_in_time(pre: PresaleRegister) -> None:
    converted_chain(pre)  # the clock starts on Sun 2026-01-04: day 90 is Sat 04-04, moved on to Mon 04-06
    pre.d.advance_days(89)
    app = pre.file(convert_body())
    pre.d.advance_days(10)  # reviewed late: the filing, not the review, is what 221 asks for
    assert desk_view(pre, app) == NoticeLapse(last_day="2026-04-06", filed_in_time=True)


def test_a_conversion_filed_after_the_last_day_is_shown_as_filed_late(pre: PresaleRegister) -> None:
    converted_chain(pre)
    pre.d.advance_days(93)  # Wed 04-07
    app = pre.file(convert_body())
    assert desk_view(pre, app) == NoticeLapse(last_day="2026-04-06", filed_in_time=False)


def test_cases_without_a_notice_show_no_lapse(pre: PresaleRegister) -> None:
    assert desk_view(pre, pre.file()) is None


def test_the_buyers_transfer_shows_the_purchase_notices_clock_and_the_review_keeps_it(pre: PresaleRegister) -> None:
    pre.notices()
    pre.first_registration()  # the purchase notice's clock starts on Sun 2026-01-04
    pre.d.advance_days(95)  # Fri 04-10: after the last day, Mon 04-06
    app = pre.file(presale_transfer(), actor="developer")
    assert desk_view(pre, app) == NoticeLapse(last_day="2026-04-06", filed_in_time=False)
    pre.accept_review(app)
    steps = pre.app(app)["steps"]
    reviewed = steps.get("reviewed") if isinstance(steps, dict) else None
    assert isinstance(reviewed, dict)
    assert (reviewed["notice_lapsed"], reviewed["notice_lapse_due_ms"]) == (True, 1_775_491_200_000)  # 04-07 00:00

