"""The registry's side of the lifecycle (domain.md §5.1): accept, hold, review, record, issue.

Intake accepts a fully confirmed application or refuses it listing every missing item at once
(条例 17); the reviewer checks it against the register at its block (条例 18) or refuses it with a
reason (条例 22); a different recorder records it (two-person rule, V8) after every blocking check
passes again at the recording height — the entry, its rank and the certificate number are written
then (民法典 214, 402); the issuer puts the signed certificate's hash on the ledger (design §3.20).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, CertificateNumber, parse
from estatechain.contract.certificates import certificate_key, new_certificate, next_number
from estatechain.contract.checks.elicence import PROOF_TYPE_CODE, TITLE_TYPE_CODE, check_v27_elicence
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Delete, Effect, Emit, Put
from estatechain.contract.records import Application, AppState, Certificate, fields
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.business import advance, load_application, priority_key, require_state, save
from estatechain.contract.rules.business_types import BUSINESS_TYPES
from estatechain.contract.rules.guard import guarded
from estatechain.contract.rules.transfer_mortgage import MORTGAGE_ISSUED
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

REFUSAL_CODES: Final = frozenset({"UNLAWFUL", "OWNERSHIP_DISPUTE", "RIGHT_EXPIRED", "LEGAL_BAR", "OTHER"})
MISSING_TEXT_MAX: Final = 500
"""Characters of each item's text in a not-accept notice; the portal's form promises the same limit."""
HOLD_REASON_MAX: Final = 500
"""Characters of a hold's reason."""
REFUSAL_TEXT_MAX: Final = 2000
"""Characters of a refusal's written reasons (条例 22 wants them in full, so longer than an item's)."""
"""Grounds for 不予登记 (条例 22) [A: codes are ours]."""


def _load(view: StateView, ctx: BlockContext, command: Command, step: str, *states: AppState) -> Application | Rejected:
    application = load_application(view, command.body.get("application_id"))
    if isinstance(application, Rejected):
        return application
    return require_state(application, ctx, step, states) or application


def _close(application: Application) -> Delete:
    """The application no longer occupies its unit."""
    return Delete(key=keys.unit_application(application.unit_number, application.application_id))


def accept(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """受理: every applicant has confirmed (V7); the priority key is fixed now (细则 67)."""
    application = load_application(view, command.body.get("application_id"))
    if isinstance(application, Rejected):
        return application
    missing = sorted(application.applicant_ids() - application.confirmed_ids())
    if application.state is AppState.FILED and missing and ctx.block_time_ms < application.confirm_deadline_ms:
        return violate(RejectionCode.V7_CONFIRMATIONS_MISSING, missing=", ".join(missing))
    if rejected := require_state(application, ctx, "accept", {AppState.CONFIRMED}):
        return rejected
    accepted = replace(advance(application, ctx, AppState.ACCEPTED, "accepted"), priority_key=priority_key(ctx))
    return Accepted(effects=(save(accepted),))


def not_accept(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """不予受理 in writing, listing every missing or defective item at once (条例 17)."""
    application = _load(view, ctx, command, "not_accept", AppState.FILED, AppState.CONFIRMED)
    if isinstance(application, Rejected):
        return application
    items: list[JSON] = []
    for index, item in enumerate(fields.objects(command.body, "missing", low=1, high=50)):
        items.append({"item": fields.text(item, "item", f"missing[{index}].", max_len=64),
                      "text": fields.text(item, "text", f"missing[{index}].", max_len=MISSING_TEXT_MAX)})
    refused = advance(application, ctx, AppState.NOT_ACCEPTED, "not_accepted", missing=items)
    return Accepted(effects=(save(refused), _close(application)))


def hold(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Site visit or investigation: time on hold is kept apart from processing limits."""
    application = _load(view, ctx, command, "hold", AppState.ACCEPTED, AppState.APPROVED)
    if isinstance(application, Rejected):
        return application
    reason = fields.text(command.body, "reason", max_len=HOLD_REASON_MAX)
    held = advance(application, ctx, AppState.ON_HOLD, "held", reason=reason)
    return Accepted(effects=(save(replace(held, held_from=application.state)),))


def resume(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Back to the state before the hold; the held time is added up."""
    application = _load(view, ctx, command, "resume", AppState.ON_HOLD)
    if isinstance(application, Rejected):
        return application
    since = application.steps.get("held")
    started = since.get("at_ms") if isinstance(since, dict) else None
    held_ms = ctx.block_time_ms - started if isinstance(started, int) else 0
    back = advance(application, ctx, application.held_from or AppState.ACCEPTED, "resumed")
    return Accepted(effects=(save(replace(back, held_from=None, held_ms_total=application.held_ms_total + held_ms)),))


def review(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """审核: the type's blocking checks against the register at this block."""
    application = _load(view, ctx, command, "review", AppState.ACCEPTED)
    if isinstance(application, Rejected):
        return application
    business = BUSINESS_TYPES[application.business_type]
    if rejected := business.blocking(view, ctx, application):
        return rejected
    notes = business.review_notes(view, ctx, application)
    return Accepted(effects=(save(advance(application, ctx, AppState.APPROVED, "reviewed", **notes)),))


def refuse(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """不予登记 with a reason code and the written reasons (条例 22)."""
    application = _load(view, ctx, command, "refuse", AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD)
    if isinstance(application, Rejected):
        return application
    code = fields.choice(command.body, "reason_code", REFUSAL_CODES)
    refused = advance(application, ctx, AppState.REFUSED, "refused", reason_code=code,
                      reason_text=fields.text(command.body, "reason_text", max_len=REFUSAL_TEXT_MAX))
    return Accepted(effects=(save(refused), _close(application)))


def record(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """登簿: recorder ≠ reviewer (V8), every blocking check again, then the type's register entries."""
    application = _load(view, ctx, command, "record", AppState.APPROVED)
    if isinstance(application, Rejected):
        return application
    reviewed = application.steps.get("reviewed")
    if isinstance(reviewed, dict) and reviewed.get("by") == ctx.signer:
        return violate(RejectionCode.V8_RECORDER_IS_REVIEWER, application_id=application.application_id)
    business = BUSINESS_TYPES[application.business_type]
    if rejected := business.blocking(view, ctx, application):
        return rejected
    number: str | None = None
    sequence: tuple[Effect, ...] = ()
    if business.issues_certificate:
        number, sequence = next_number(view, ctx, business.certificate_kind)
    result = business.result_key(view, ctx, application)
    effects = business.record(view, ctx, application, number)
    recorded = replace(advance(application, ctx, AppState.RECORDED, "recorded"), result=result,
                       certificate_number=number)
    certificate: tuple[Effect, ...] = ()
    if number is not None:
        certificate = (new_certificate(number, result, application.application_id, ctx),)
    return Accepted(effects=(*effects, *sequence, *certificate, save(recorded), _close(application)))


def _to_issue(view: StateView, application: Application, named: str | None) -> str | Rejected:
    """The certificate this issue step is for: the case's own, or one named in the body.

    A combined case (带押过户 with a new loan) records two certificates, the new title and the new
    mortgage's registration certificate; each is issued by its own step naming it. A named certificate
    must have been created by this application's recording and not be issued yet.
    """
    if named is None:
        if application.certificate_number is None:
            return violate(RejectionCode.APPLICATION_STATE, application_id=application.application_id,
                           state="recorded without a certificate", step="issue",
                           expected="a certificate-issuing type")
        return application.certificate_number
    key = certificate_key(named)
    record = None if key is None else view.get(key)
    if record is None or record.get("application_id") != application.application_id:
        return violate(RejectionCode.RECORD_NOT_FOUND, field="certificate_number",
                       kind=f"certificate of application {application.application_id}", id=named)
    if record.get("issued_ms") is not None:
        return violate(RejectionCode.APPLICATION_STATE, field="certificate_number",
                       application_id=application.application_id, state=f"{application.state.value} ({named} issued)",
                       step="issue", expected="a certificate of it not yet issued")
    return named


def issue(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """发证: the hash of the certificate record signed at the registry's node, and its e-licence id (V27).

    The certificate is the 不动产登记证明 or the 不动产权证书 (transfer) the recording assigned; the
    e-licence id must be of the matching licence type. A combined case's second certificate (the new
    mortgage's, ``rules.transfer_mortgage``) is issued by a step naming it in ``certificate_number``.
    """
    named = fields.opt_text(command.body, "certificate_number", max_len=64)
    states = (AppState.RECORDED,) if named is None else (AppState.RECORDED, AppState.CERTIFIED)
    application = _load(view, ctx, command, "issue", *states)
    if isinstance(application, Rejected):
        return application
    number = _to_issue(view, application, named)
    if isinstance(number, Rejected):
        return number
    elicence = fields.opt_text(command.body, "elicence_id", max_len=128)
    title = isinstance(parse(number, CertificateKind.TITLE, current_year=9999), CertificateNumber)
    licence_type = TITLE_TYPE_CODE if title else PROOF_TYPE_CODE
    if elicence is not None and (rejected := check_v27_elicence(elicence, licence_type)):
        return rejected
    key = certificate_key(number)
    assert key is not None  # the registry assigned it
    certificate = Certificate.from_json(view.get(key) or {})
    issued = replace(certificate, issued_ms=ctx.block_time_ms, issuer=ctx.signer,
                     document_sha256=fields.hex64(command.body, "document_sha256"), elicence_id=elicence,
                     source_txs=(*certificate.source_txs, ctx.tx_id))
    return Accepted(effects=(
        Put(key=key, value=issued.to_json()),
        save(advance(application, ctx, AppState.CERTIFIED,
                     "issued" if number == application.certificate_number else MORTGAGE_ISSUED)),
        Emit(name="certificate.issued", data={"number": number, "application_id": application.application_id}),
    ))


INTAKE: Final = frozenset({"registry.intake"})
STAFF: Final = frozenset({"registry.intake", "registry.reviewer", "registry.recorder"})

RULES: Final = {
    "application.accept": Rule(roles=INTAKE, decide=guarded(accept)),
    "application.not_accept": Rule(roles=INTAKE, decide=guarded(not_accept)),
    "application.hold": Rule(roles=STAFF, decide=guarded(hold)),
    "application.resume": Rule(roles=STAFF, decide=guarded(resume)),
    "application.review": Rule(roles=frozenset({"registry.reviewer"}), decide=guarded(review)),
    "application.refuse": Rule(roles=frozenset({"registry.reviewer"}), decide=guarded(refuse)),
    "application.record": Rule(roles=frozenset({"registry.recorder"}), decide=guarded(record)),
    "application.issue": Rule(roles=frozenset({"registry.issuer"}), decide=guarded(issue)),
}
