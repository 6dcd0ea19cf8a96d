"""The registry's decision forms promise the contract's own limits: what the form lets through, the contract takes.

The portal states and enforces the limits the contract names (``rules.registration``) before the
confirmation page (``web/actions.py``); these tests hold the contract to its names, so a form that
passes a text at the limit never meets MALFORMED_COMMAND at signing.
"""

from __future__ import annotations

from conftest import Register

from estatechain.contract.effects import JSON
from estatechain.contract.records import Application
from estatechain.contract.rules.registration import MISSING_TEXT_MAX, REFUSAL_TEXT_MAX
from estatechain.web.actions import missing_items
from estatechain.web.review import MAX_REASON


def test_a_not_accept_item_text_of_the_forms_limit_passes_and_one_more_is_refused(reg: Register) -> None:
    app = reg.file()
    longer: list[JSON] = [{"item": "LOAN_CONTRACT", "text": "缺" * (MISSING_TEXT_MAX + 1)}]
    refused = reg.no("application.not_accept", {"application_id": app, "missing": longer}, "intake")
    assert (refused.code, refused.detail["field"]) == ("MALFORMED_COMMAND", "missing[0].text")
    at_limit: list[JSON] = [{"item": "LOAN_CONTRACT", "text": "缺" * MISSING_TEXT_MAX}]
    reg.ok("application.not_accept", {"application_id": app, "missing": at_limit}, "intake")


def test_refusal_reasons_and_a_hold_reason_of_the_forms_limits_pass_and_one_more_is_refused(reg: Register) -> None:
    app = reg.file()
    reg.confirm_all(app)
    reg.ok("application.accept", {"application_id": app}, "intake")
    hold = {"application_id": app, "reason": "查" * (MAX_REASON + 1)}
    assert reg.no("application.hold", hold, "reviewer").code == "MALFORMED_COMMAND"
    reg.ok("application.hold", {**hold, "reason": "查" * MAX_REASON}, "reviewer")
    refusal = {"application_id": app, "reason_code": "OTHER", "reason_text": "理" * (REFUSAL_TEXT_MAX + 1)}
    assert reg.no("application.refuse", refusal, "reviewer").code == "MALFORMED_COMMAND"
    reg.ok("application.refuse", {**refusal, "reason_text": "理" * REFUSAL_TEXT_MAX}, "reviewer")


def test_intake_is_offered_the_materials_the_cases_business_type_requires(reg: Register) -> None:
    first = Application.from_json(reg.app(reg.file()))
    assert missing_items(first) == ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT", "OTHER")
    cancellation = Application.from_json({**first.to_json(), "business_type": "mortgage.cancel",
                                          "details": {"reason": "REPAID"}, "materials": []})
    assert missing_items(cancellation) == ("APPLICATION_FORM", "PAYOFF_PROOF", "OTHER")
