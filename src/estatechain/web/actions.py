"""Which workflow step an account may take on a case now, and the payload body and summary of each.

The desks offer a step only when the case's state and the account's role allow it, so a clerk sees
"confirm" on a filed case that names their bank and registry staff see exactly the step their role
signs. The contract decides in the end (and the precheck runs it before signing); this table only
keeps buttons off pages where they could not succeed. Recording is refused to the account that
reviewed the case (recorder ≠ reviewer), and the page says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.contract.records.application import AppState
from estatechain.web.cases import Case
from estatechain.web.i18n import N_


@dataclass(frozen=True, slots=True)
class Step:
    """A step a desk offers: its URL segment, the command, who may take it, the states it is taken in."""

    path: str
    command: str
    roles: frozenset[str]
    states: frozenset[AppState]
    label: str


_FILED: Final = frozenset({AppState.FILED})
_CONFIRMED: Final = frozenset({AppState.CONFIRMED})
_ACCEPTED: Final = frozenset({AppState.ACCEPTED})
_APPLICANTS: Final = frozenset({"person", "bank.approver", "bank.operator"})
STEPS: Final = (
    Step("confirm", "application.confirm", _APPLICANTS, _FILED, N_("Confirm")),
    Step("decline", "application.decline", _APPLICANTS, _FILED, N_("Decline")),
    Step("accept", "application.accept", frozenset({"registry.intake"}), _CONFIRMED, N_("Accept (受理)")),
    Step("not-accept", "application.not_accept", frozenset({"registry.intake"}), _CONFIRMED,
         N_("Do not accept (不予受理)")),
    Step("review", "application.review", frozenset({"registry.reviewer"}), _ACCEPTED, N_("Approve (审核)")),
    Step("refuse", "application.refuse", frozenset({"registry.reviewer"}),
         frozenset({AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD}), N_("Refuse registration (不予登记)")),
    Step("record", "application.record", frozenset({"registry.recorder"}), frozenset({AppState.APPROVED}),
         N_("Record in the register (登簿)")),
    Step("issue", "application.issue", frozenset({"registry.issuer"}), frozenset({AppState.RECORDED}),
         N_("Issue the certificate")),
)
MISSING_ITEMS: Final = {"APPLICATION_FORM": N_("Application form"), "POWER_OF_ATTORNEY": N_("Power of attorney"),
                        "LOAN_CONTRACT": N_("Loan contract"), "IDENTITY": N_("Identity documents"),
                        "OTHER": N_("Other item")}
"""What intake may list as missing or defective (条例 17: every item at once)."""
REFUSAL_REASONS: Final = {"UNLAWFUL": N_("Unlawful"), "OWNERSHIP_DISPUTE": N_("Ownership dispute"),
                          "RIGHT_EXPIRED": N_("Right expired"), "LEGAL_BAR": N_("Legal bar"), "OTHER": N_("Other")}
"""Grounds for 不予登记 (条例 22), as ``contract/rules/registration.py`` REFUSAL_CODES has them."""
STEPS_BY_PATH: Final = {step.path: step for step in STEPS}


def available(item: Case, role: str, fingerprint: str, *, awaiting_party: str | None) -> list[Step]:
    """The steps ``role`` may take on ``item`` now (confirm/decline only with a party still to confirm)."""
    found = []
    for step in STEPS:
        if role not in step.roles or item.state not in step.states:
            continue
        if step.path in {"confirm", "decline"} and awaiting_party is None:
            continue
        if step.path == "record" and reviewer(item) == fingerprint:
            continue
        if step.path == "issue" and item.complete:  # nothing for this desk to issue (``Case.desk_state``)
            continue
        found.append(step)
    return found


def reviewer(item: Case) -> str | None:
    """Who approved the case (the recorder must be someone else)."""
    review = item.application.steps.get("review")
    return str(review.get("by")) if isinstance(review, dict) else None


def step_body(step: Step, item: Case, *, party: str | None, extra: dict[str, JSONValue] | None
              ) -> dict[str, JSONValue]:
    """The command body of ``step`` on ``item`` (``extra``: the issue hash, the missing items, the reasons)."""
    body: dict[str, JSONValue] = {"application_id": item.application.application_id}
    if step.path in {"confirm", "decline"}:
        assert party is not None
        body["party_id"] = party
        body["application_hash"] = item.application.application_id
    body.update(extra or {})
    return body


@dataclass(frozen=True, slots=True)
class Decision:
    """A registry decision read from the case page's form: the body fields and the summary rows."""

    fields: dict[str, JSONValue]
    summary: list[list[str]]


def decision(step: Step, form: Mapping[str, str], items: list[str]) -> Decision | str:
    """The fields of a not-accept (every ticked item) or a refusal (reason code and text), or what is wrong."""
    text = form.get("text", "").strip()[:1000]
    if step.path == "not-accept":
        ticked = [item for item in dict.fromkeys(items) if item in MISSING_ITEMS]
        if not ticked:
            return N_("Tick every missing or defective item.")
        note = text or "缺少或不符合要求"
        missing: list[JSONValue] = [{"item": item, "text": note} for item in ticked]
        return Decision(fields={"missing": missing},
                        summary=[[N_("Missing items"), ", ".join(ticked)], [N_("Note"), note]])
    if step.path == "refuse":
        code = form.get("reason_code", "")
        if code not in REFUSAL_REASONS or not text:
            return N_("Choose a ground and write the reasons.")
        return Decision(fields={"reason_code": code, "reason_text": text},
                        summary=[[N_("Ground"), REFUSAL_REASONS[code], "t"], [N_("Reasons"), text]])
    return Decision(fields={}, summary=[])
