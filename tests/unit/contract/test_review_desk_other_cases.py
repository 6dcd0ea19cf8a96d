"""The review desk shows the unit's other open cases and warns when recording moves a certified entry down.

Ranks follow acceptance, not recording (细则 67): a mortgage accepted first but recorded second still
takes rank 1, and the entry recorded before it (whose certificate already says 第1顺位) becomes rank 2.
A registry reviewer found the desk showed neither the competing case nor the demotion.
"""

from __future__ import annotations

from conftest import Register, h

from estatechain.contract.context import BlockContext
from estatechain.contract.records import Application
from estatechain.contract.records.application import AppState
from estatechain.web.review import demoted, other_cases, ranks


def next_block(reg: Register) -> BlockContext:
    return BlockContext(chain_id=reg.d.chain_id, height=reg.d.height + 1, block_time_ms=reg.d.time_ms,
                        tx_id="0" * 64, tx_seq=reg.d.seq + 1, signer="r", signer_org="gz-registry",
                        signer_org_type="registry", signer_role="registry.recorder")


def case(reg: Register, app: str) -> Application:
    return Application.from_json(reg.app(app))


def test_a_later_accepted_case_recorded_first_is_shown_as_demoted_by_the_earlier_one(reg: Register) -> None:
    first = reg.file(contract_numbers=["LOAN-FIRST"])
    second = reg.file(contract_numbers=["LOAN-SECOND"])
    assert [(o.application_id, o.accepted_before) for o in other_cases(reg.d.view, case(reg, first), reg.d.time_ms)
            ] == [(second, None)]  # filed, not accepted yet
    reg.accept_review(first)
    reg.accept_review(second)
    listed = other_cases(reg.d.view, case(reg, second), reg.d.time_ms)
    assert [(o.application_id, o.state, o.accepted_before) for o in listed] == [(first, "APPROVED", True)]
    assert [o.accepted_before for o in other_cases(reg.d.view, case(reg, first), reg.d.time_ms)] == [False]

    reg.ok("application.record", {"application_id": second}, "recorder")  # the later-accepted case goes first
    reg.ok("application.issue", {"application_id": second, "document_sha256": h(f"doc:{second}")}, "issuer")
    issued = str(reg.app(second)["certificate_number"])
    assert issued == "粤(2026)广州市不动产证明第00000001号"
    assert other_cases(reg.d.view, case(reg, first), reg.d.time_ms) == ()  # the second is closed
    found = ranks(reg.d.view, next_block(reg), case(reg, first), AppState.APPROVED)
    assert [(r.certificate_number, r.before, r.after) for r in demoted(found)] == [(issued, 1, 2)]
    # and a case that adds its entry after every current one demotes nobody
    third = reg.file(contract_numbers=["LOAN-THIRD"])
    reg.accept_review(third)
    assert demoted(ranks(reg.d.view, next_block(reg), case(reg, third), AppState.APPROVED)) == ()
