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
from estatechain.contract.records.application import Application, AppState
from estatechain.contract.records.fields import FieldError
from estatechain.contract.rules.business_types import BUSINESS_TYPES
from estatechain.contract.rules.registration import MISSING_TEXT_MAX, REFUSAL_TEXT_MAX
from estatechain.web.cases import Case
from estatechain.web.i18n import MATERIAL_NAMES, N_


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
    Step("issue", "application.issue", frozenset({"registry.issuer"}),
         frozenset({AppState.RECORDED, AppState.CERTIFIED}), N_("Issue the certificate")),
)
OTHER_ITEM: Final = "OTHER"
MISSING_ITEM_NAMES: Final = {**MATERIAL_NAMES, "IDENTITY": N_("Identity documents"), OTHER_ITEM: N_("Other item")}
"""Names of what a not-accept notice lists: material types, "other", and a code earlier notices used."""
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
        if step.path == "issue" and not item.awaits_issuer:  # nothing left for this desk (``Case.desk_state``)
            continue  # a combined case issues its mortgage's certificate whether or not its title was
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


def missing_items(application: Application) -> tuple[str, ...]:
    """What intake may list as missing or defective on this case (条例 17), then "other".

    The materials its business type requires of it (the contract's ``required_materials``), and any
    other material filed with it, in the order the portal names materials.
    """
    business = BUSINESS_TYPES.get(application.business_type)
    required: frozenset[str] = frozenset()
    if business is not None:
        try:
            required = business.required_materials(application)
        except FieldError:  # details the type reads differently now: the filed materials still show
            required = frozenset()
    order = {code: index for index, code in enumerate(MATERIAL_NAMES)}
    codes = required | {material.type for material in application.materials}
    return (*sorted(codes - {OTHER_ITEM}, key=lambda code: (order.get(code, len(order)), code)), OTHER_ITEM)


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one field of a decision form (a message id, with its numbers)."""

    text: str
    limit: int = 0
    length: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """A registry decision read from the case page's form: the body fields and the summary rows."""

    fields: dict[str, JSONValue]
    summary: list[list[str]]


def written(form: Mapping[str, str], name: str, limit: int, empty: str) -> tuple[str, Problem | None]:
    """The text typed in ``name`` (line breaks as the contract counts them), and what is wrong with it.

    Browsers send a line break as two characters but count it as one against ``maxlength``; the
    text is kept as typed and never cut short: one over the contract's limit is sent back to be
    shortened, since the contract would refuse it at the confirmation page.
    """
    text = form.get(name, "").replace("\r\n", "\n").strip()
    if not text:
        return text, Problem(empty)
    if len(text) > limit:
        return text, Problem(N_("At most %(limit)s characters: this text has %(length)s."), limit, len(text))
    return text, None


def decision(step: Step, form: Mapping[str, str], ticked: list[str], offered: tuple[str, ...]
             ) -> Decision | dict[str, Problem]:
    """The fields of a not-accept (every ticked item with its own text) or a refusal (ground and reasons).

    Or what is wrong, by field name, for the form to be shown again as it was typed.
    """
    if step.path == "not-accept":
        return _not_accept(form, ticked, offered)
    if step.path == "refuse":
        problems: dict[str, Problem] = {}
        code = form.get("reason_code", "")
        if code not in REFUSAL_REASONS:
            problems["reason_code"] = Problem(N_("Choose the ground of the refusal."))
        text, problem = written(form, "text", REFUSAL_TEXT_MAX, N_("Write the reasons."))
        if problem is not None:
            problems["text"] = problem
        if problems:
            return problems
        return Decision(fields={"reason_code": code, "reason_text": text},
                        summary=[[N_("Ground"), REFUSAL_REASONS[code], "t"], [N_("Reasons"), text]])
    return Decision(fields={}, summary=[])


def _not_accept(form: Mapping[str, str], ticked: list[str], offered: tuple[str, ...]) -> Decision | dict[str, Problem]:
    """Each ticked item needs its own text (an "other" item says there what it is); no text without a tick."""
    problems: dict[str, Problem] = {}
    chosen = set(ticked)
    missing: list[JSONValue] = []
    rows: list[list[str]] = []
    for code in offered:
        name = f"missing_text_{code}"
        text, problem = written(form, name, MISSING_TEXT_MAX, N_("Say what is missing or wrong about this item."))
        if code not in chosen:
            if text:
                problems[name] = Problem(N_("Tick this item to list it, or clear its text."))
            continue
        if problem is not None:
            problems[name] = problem
        missing.append({"item": code, "text": text})
        rows.append([MISSING_ITEM_NAMES.get(code, code), text])
    if not missing:
        problems["missing_item"] = Problem(N_("Tick every missing or defective item."))
    if problems:
        return problems
    return Decision(fields={"missing": missing}, summary=[[N_("Missing or defective items"), str(len(missing))], *rows])
