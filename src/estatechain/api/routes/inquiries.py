"""Inquiries of registration results (domain.md §7, design §3.19): submit, fetch the signed answer, who looked.

An inquiry is a transaction (``inquiry.request``) signed by the requester. Its answer is released
only after that transaction committed valid with outcome GRANTED, to the requester's org; the
document itself (as of the inquiry's block, FULL or LIMITED, signed by the registry's node) is
built by ``node/inquiry_answers.py``, which the portal's bank desk uses too. Nothing is released for
an inquiry that is pending, unknown or invalid (409) or REFUSED (403). Owners list who looked at
their unit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from estatechain.api.deps import Caller, Service, may_read_own
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.routes.workflow import caller_context
from estatechain.api.schemas.inquiries import AnswerOut, WhoLookedOut
from estatechain.api.schemas.transactions import ENVELOPE_SCHEMA, TxStatusOut
from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.rules.inquiry import may_list
from estatechain.errors import Unavailable
from estatechain.identity.devca import Identity
from estatechain.identity.membership import Signer
from estatechain.ledger.envelope import parse_envelope
from estatechain.node.inquiry_answers import answer_identity, signed_answer
from estatechain.node.service import NodeService
from estatechain.web.inquiryindex import who_looked
from estatechain.web.portal import inquiry_index

router = APIRouter(tags=["inquiries"])

TxId = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The inquiry's tx id.")]


def answer_key(request: Request, service: NodeService) -> Identity:
    """The registry node's answer-signing identity, looked up once per app (``inquiry_answers.answer_identity``)."""
    cached: Identity | None = getattr(request.app.state, "answer_key", None)
    if cached is None:
        try:
            cached = answer_identity(service)
        except Unavailable as missing:
            raise ApiError(503, "ANSWER_KEY_MISSING", str(missing), {"org": service.keys.org_id}) from None
        request.app.state.answer_key = cached
    return cached


@router.post("/v1/inquiries", status_code=202, response_model=TxStatusOut,
             openapi_extra={"requestBody": ENVELOPE_SCHEMA},
             responses={200: {"model": TxStatusOut, "description": "Already committed"},
                        **errors(400, 403, 415, 503, *SIGNED)})
async def submit_inquiry(
    request: Request, response: Response, service: Service, caller: Caller,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait for the commit.")] = 0,
) -> TxStatusOut:
    """Submit the caller's own signed ``inquiry.request`` envelope; fetch the answer once it committed."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send the envelope as application/json", {"content-type": media})
    envelope = await request.body()
    tx = parse_envelope(envelope, suite=service.suite, max_bytes=service.genesis.policies.max_tx_bytes)
    if tx.command != "inquiry.request":
        raise ApiError(400, "WRONG_COMMAND", "this endpoint takes inquiry.request transactions only",
                       {"command": tx.command})
    if tx.signer != caller.fingerprint:
        raise ApiError(403, "FORBIDDEN", "submit your own inquiry: the request and the transaction must be "
                       "signed by the same certificate", {"signer": tx.signer})
    status = (await service.submit(envelope)).status
    if status.status == "pending" and wait > 0:
        status = await service.wait(status.tx_id, min(wait, service.settings.max_wait_s)) or status
    response.status_code = 202 if status.status == "pending" else 200
    response.headers["Location"] = f"/v1/inquiries/{status.tx_id}/answer"
    return TxStatusOut.of(status)


def _log(service: NodeService, tx_id: str) -> dict[str, JSONValue]:
    """The inquiry's log record, once its tx committed valid (409 otherwise, 404 when unknown)."""
    status = service.status(tx_id)
    if status is None:
        raise ApiError(404, "NOT_FOUND", "this node has no transaction with that id", {"tx_id": tx_id})
    if status.status != "committed":
        raise ApiError(409, "INQUIRY_PENDING", "the inquiry has not committed yet; no answer before it does",
                       {"tx_id": tx_id})
    if status.result != "valid":
        raise ApiError(409, "INQUIRY_NOT_COMMITTED", "the inquiry was marked invalid; nothing is released",
                       {"tx_id": tx_id, "code": status.code or ""})
    record = service.store.get(keys.inquiry(tx_id))
    if record is None:
        raise ApiError(409, "NOT_AN_INQUIRY", "that transaction is not an inquiry", {"tx_id": tx_id})
    return dict(record)


def _may_fetch(caller: Signer, record: dict[str, JSONValue]) -> bool:
    return may_read_own(caller, signer=str(record["requester"]), org_id=str(record["requester_org"]),
                        individual=record.get("requester_role") == "person")


@router.get("/v1/inquiries/{tx_id}/answer", response_model=AnswerOut, responses=errors(403, 404, 409, 503, *SIGNED))
async def inquiry_answer(tx_id: TxId, request: Request, service: Service, caller: Caller) -> AnswerOut:
    """The registry-signed answer of a committed, GRANTED inquiry (to its requester's org only)."""
    record = _log(service, tx_id)
    if not _may_fetch(caller, record):
        raise ApiError(403, "FORBIDDEN", "only the requester's org may fetch an inquiry's answer",
                       {"tx_id": tx_id, "org": caller.org_id})
    if record["outcome"] != "GRANTED":
        raise ApiError(403, "INQUIRY_REFUSED", str(record.get("problem") or "the inquiry was refused"),
                       {"tx_id": tx_id, "code": str(record.get("code") or ""),
                        "offered": str(record.get("offered") or "")})
    return AnswerOut.model_validate(signed_answer(service, record, answer_key(request, service)))


def _entry(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in ("inquiry_id", "requester_org", "requester_role", "basis", "purpose",
                                       "outcome", "answer", "released", "as_of_height", "at_ms", "code")}


@router.get("/v1/units/{unit_number}/inquiries", response_model=WhoLookedOut, responses=errors(403, *SIGNED))
async def who_looked_at_unit(
    unit_number: Annotated[str, Path(min_length=28, max_length=28, description="The unit number.")],
    request: Request, service: Service, caller: Caller,
) -> WhoLookedOut:
    """Every inquiry of the unit, granted or refused: for its current owners and buyers, and the regulator.

    The list comes from the node's inquiry index (``web/inquiryindex.py``, shared with the portal), which
    follows the inquiry records on the ledger: an inquiry writes no per-unit row of its own.
    """
    if not may_list(service.store, caller_context(service, caller), unit_number):
        raise ApiError(403, "FORBIDDEN", "only a current owner of the unit, the buyer holding its purchase notice or "
                       "the regulator's auditor may list who looked at it",
                       {"unit_number": unit_number})
    index = await inquiry_index(request).ready()
    return WhoLookedOut(unit_number=unit_number,
                        inquiries=[_entry(dict(r)) for r in who_looked(service.store, index, unit_number)])
