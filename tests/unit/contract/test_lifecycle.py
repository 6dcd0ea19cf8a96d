"""Lifecycle steps besides the happy path: decline, not-accept, hold and resume, codes and roles."""

from __future__ import annotations

from conftest import BANK_A_PARTY, OWNER_A, UNIT_A, Register

from estatechain.contract.effects import JSON
from estatechain.contract.rejections import SPECS, RejectionCode
from estatechain.contract.versions import rules_at


def test_decline_ends_the_application_and_frees_the_unit(reg: Register) -> None:
    app = reg.file()
    reg.ok("application.decline", {"application_id": app, "application_hash": app, "party_id": OWNER_A}, OWNER_A)
    assert reg.app(app)["state"] == "DECLINED"
    assert reg.d.view.get(f"unitidx/{UNIT_A}/application/{app}") is None
    assert reg.no("application.accept", {"application_id": app}, "intake").code == "APPLICATION_STATE"


def test_not_accept_lists_every_missing_item(reg: Register) -> None:
    app = reg.file()
    items: list[JSON] = [{"item": "LOAN_CONTRACT", "text": "借款合同缺第3页"},
                         {"item": "POWER_OF_ATTORNEY", "text": "未签字"}]
    reg.ok("application.not_accept", {"application_id": app, "missing": items}, "intake")
    record = reg.app(app)
    steps = record["steps"]
    assert isinstance(steps, dict)
    not_accepted = steps["not_accepted"]
    assert isinstance(not_accepted, dict)
    assert (record["state"], not_accepted["missing"]) == ("NOT_ACCEPTED", items)


def test_hold_and_resume_return_to_the_previous_state_and_count_the_held_time(reg: Register) -> None:
    app = reg.file()
    reg.confirm_all(app)
    reg.ok("application.accept", {"application_id": app}, "intake")
    reg.ok("application.hold", {"application_id": app, "reason": "实地查看"}, "reviewer")
    assert reg.no("application.review", {"application_id": app}, "reviewer").code == "APPLICATION_STATE"
    reg.d.advance_days(2)
    reg.ok("application.resume", {"application_id": app}, "reviewer")
    record = reg.app(app)
    assert (record["state"], record["held_ms_total"]) == ("ACCEPTED", 2 * 86_400_000)
    assert record["priority_key"] is not None
    assert BANK_A_PARTY in str(record["applicants"])


def test_every_register_code_has_a_message_field_and_every_rule_is_registered() -> None:
    legacy = {"UNKNOWN_COMMAND", "MALFORMED_COMMAND", "ROLE_NOT_PERMITTED", "NOTE_EXISTS", "REVOKE_OTHER_ORG",
              "ALREADY_REVOKED"}
    assert {code for code in RejectionCode if code.value not in legacy} == set(SPECS)
    assert all(spec.message.endswith(".") and spec.field for spec in SPECS.values())
    assert {"register.import", "identity.bind_party", "application.file", "application.record",
            "seizure.register", "seizure.release", "seizure.renew"} <= set(rules_at(1))


def test_each_business_type_names_who_may_file_it(reg: Register) -> None:
    person = reg.no("application.file", reg.filing(), OWNER_A)
    assert (person.code, person.detail["field"], person.detail["filers"]) == (
        "FILER_ROLE_NOT_PERMITTED", "business_type", "bank.operator")
