"""Committed blocks by height, and the head."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from estatechain.api.deps import Caller, Service
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.blocks import BlockOut

router = APIRouter(prefix="/v1/blocks", tags=["blocks"])


@router.get("/head", response_model=BlockOut, responses=errors(404, *SIGNED))
async def head_block(service: Service, _caller: Caller) -> BlockOut:
    """The last committed block."""
    return BlockOut.of(service.head())


@router.get("/{height}", response_model=BlockOut, responses=errors(404, *SIGNED))
async def block_at(height: Annotated[int, Path(ge=1, le=2**53)], service: Service, _caller: Caller) -> BlockOut:
    """The block at ``height`` with its header and every transaction's result."""
    return BlockOut.of(service.block(height))
