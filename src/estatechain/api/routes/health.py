"""Liveness and readiness, the two unsigned ``/v1`` calls (orchestrators and newcomers call them bare), and ping.

``GET /v1/ping`` is the signed no-op: it authenticates the request (RFC 9421, the replay cache) and
does nothing else, so a client can check its keys and clock against the node, and a benchmark can
measure the node's cost of an authenticated call apart from any work behind it.
"""

from __future__ import annotations

from fastapi import APIRouter

from estatechain.api.deps import Caller, Service
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.members import CallerOut, HealthOut, ReadyOut

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=HealthOut)
async def health(service: Service) -> HealthOut:
    """The process answers; names its chain, its org (the two a request to it signs) and height. Unsigned."""
    return HealthOut(status="ok", chain_id=service.genesis.chain_id, org_id=service.keys.org_id,
                     height=service.store.height)


@router.get("/ready", response_model=ReadyOut, responses=errors(503))
async def ready(service: Service) -> ReadyOut:
    """200 while the node would take a write; 503 NOT_READY naming why not. Unsigned.

    Not ready: the pipeline is not running or stopped on a fault, the divergence alarm refuses writes,
    or (a cluster node) the NATS connection is down or the stream cannot store a write (no quorum).
    """
    reason = service.unready_reason
    if reason is not None:
        raise ApiError(503, "NOT_READY", reason)
    return ReadyOut(status="ready", height=service.store.height, pending=service.pending_count)


@router.get("/ping", response_model=CallerOut, responses=errors(*SIGNED))
async def ping(caller: Caller) -> CallerOut:
    """Signed no-op: who signed the request, once its signature checked out. Reads nothing else."""
    return CallerOut(fingerprint=caller.fingerprint, org_id=caller.org_id, org_type=caller.org_type, role=caller.role)
