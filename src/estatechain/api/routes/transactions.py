"""Submit a signed transaction; read a transaction's status.

Submission is idempotent on the tx id (the hash of the signed payload): the same signed transaction
submitted again gets the first one's status — pending (202) or committed (200) — and never an error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from estatechain.api.deps import Caller, Service
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.transactions import ENVELOPE_SCHEMA, TxStatusOut

router = APIRouter(prefix="/v1/transactions", tags=["transactions"])

TxId = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="Hex SHA-256 of the canonical payload.")]


@router.post(
    "",
    status_code=202,
    response_model=TxStatusOut,
    openapi_extra={"requestBody": ENVELOPE_SCHEMA},
    responses={200: {"model": TxStatusOut, "description": "Already committed (resubmission, or wait)"},
               **errors(400, 415, 503, *SIGNED)},
)
async def submit_transaction(
    request: Request,
    response: Response,
    service: Service,
    _caller: Caller,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait for the commit before answering.")] = 0,
) -> TxStatusOut:
    """Submit a signed envelope (its exact canonical bytes); 202 while pending, 200 once committed."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send the envelope as application/json",
                       {"content-type": media})
    submission = await service.submit(await request.body())
    status = submission.status
    if status.status == "pending" and wait > 0:
        status = await service.wait(status.tx_id, min(wait, service.settings.max_wait_s)) or status
    response.status_code = 202 if status.status == "pending" else 200
    response.headers["Location"] = f"/v1/transactions/{status.tx_id}"
    return TxStatusOut.of(status)


@router.get("/{tx_id}", response_model=TxStatusOut, responses=errors(404, *SIGNED))
async def transaction_status(tx_id: TxId, service: Service, _caller: Caller) -> TxStatusOut:
    """Pending, or committed valid / invalid with its reason, block height and tx-log index."""
    status = service.status(tx_id)
    if status is None:
        raise ApiError(404, "NOT_FOUND", "this node has no transaction with that id", {"tx_id": tx_id})
    return TxStatusOut.of(status)
