"""Waiting confirmations: one per case, each tab its own, and what was not signed given back to its form."""

from __future__ import annotations

from estatechain.canonical import JSONValue
from estatechain.web.custody import Pending
from estatechain.web.waiting import MAX_WAITING, Waiting


def pending(tx: str, case: str | None, text: str = "") -> Pending:
    body: dict[str, JSONValue] = {} if case is None else {"application_id": case}
    return Pending(handle="gz-registry/reviewer1", command="application.refuse", body=body, nonce=f"n-{tx}",
                   created_at=0, tx_id=tx, summary=[], back="" if case is None else f"/cases/{case}",
                   draft={"step": "refuse", "values": {"text": text}, "ticked": []} if text else None)


def test_two_tabs_on_two_cases_each_sign_their_own() -> None:
    waiting = Waiting().put(pending("a", "case-a", "权属争议")).put(pending("b", "case-b", "需实地查看"))
    rest, refused = Waiting.read(waiting.to_json()).take("a")
    assert refused is not None
    assert refused.draft == {"step": "refuse", "values": {"text": "权属争议"}, "ticked": []}
    _, held = rest.take("b")
    assert held is not None
    assert held.body == {"application_id": "case-b"}
    assert rest.take("a")[1] is None  # a second submit of tab 1 signs nothing


def test_a_later_action_on_the_same_case_replaces_the_first_and_gives_its_text_back() -> None:
    waiting = Waiting().put(pending("a", "case-a", "第一稿")).put(pending("b", "case-a", "第二稿"))
    assert waiting.find("a") is None
    returned = waiting.given_back("a")
    assert returned is not None
    assert returned.replaced
    assert returned.back == "/cases/case-a"
    assert returned.draft == {"step": "refuse", "values": {"text": "第一稿"}, "ticked": []}
    assert waiting.find(None) == waiting.find("b")


def test_a_cancelled_confirmation_keeps_its_form_and_no_longer_waits() -> None:
    first = pending("a", "case-a", "理由")
    waiting = Waiting().put(first).give_back(first, replaced=False)
    assert waiting.find("a") is None
    returned = waiting.given_back("a")
    assert returned is not None
    assert not returned.replaced
    assert Waiting.read(waiting.to_json()) == waiting


def test_a_session_holds_a_few_confirmations_and_the_oldest_is_told_it_was_replaced() -> None:
    waiting = Waiting()
    for number in range(MAX_WAITING + 1):
        waiting = waiting.put(pending(f"t{number}", None))
    assert waiting.find("t0") is None
    assert waiting.find(f"t{MAX_WAITING}") is not None
    returned = waiting.given_back("t0")
    assert returned is not None
    assert returned.replaced


def test_a_row_of_the_earlier_single_payload_form_reads_as_that_payload() -> None:
    single = pending("a", "case-a")
    assert Waiting.read(single.to_json()).find("a") == single
    assert Waiting.read(None) == Waiting()
    assert Waiting().to_json() is None
