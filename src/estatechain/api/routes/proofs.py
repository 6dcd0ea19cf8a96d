"""RFC 9162 inclusion and consistency proofs over the transaction log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from estatechain.api.deps import Caller, Service
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.proofs import ConsistencyProofOut, InclusionProofOut

router = APIRouter(prefix="/v1/proofs", tags=["proofs"])

_Size = Annotated[int | None, Query(ge=1, le=2**53, description="Tree size (default: the whole log).")]


@router.get("/inclusion/{seq}", response_model=InclusionProofOut, responses=errors(400, *SIGNED))
async def inclusion_proof(
    seq: Annotated[int, Path(ge=0, le=2**53, description="The transaction's tx-log index.")],
    service: Service,
    _caller: Caller,
    size: _Size = None,
) -> InclusionProofOut:
    """Audit path of leaf ``seq`` in the tree of ``size`` leaves; take size and root from one block header."""
    return InclusionProofOut.of(service.inclusion_proof(seq, size))


@router.get("/consistency", response_model=ConsistencyProofOut, responses=errors(400, *SIGNED))
async def consistency_proof(
    service: Service,
    _caller: Caller,
    old_size: Annotated[int, Query(alias="from", ge=1, le=2**53, description="The older tree size.")],
    size: Annotated[int | None, Query(alias="to", ge=1, le=2**53, description="The newer size (default: all).")]
    = None,
) -> ConsistencyProofOut:
    """Proof that the log of ``from`` leaves is a prefix of the log of ``to`` leaves."""
    return ConsistencyProofOut.of(service.consistency_proof(old_size, size))
