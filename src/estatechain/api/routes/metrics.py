"""Prometheus text exposition at ``/metrics`` (unsigned; the node listens on loopback by default)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from estatechain.api.metrics import ApiMetrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request) -> Response:
    """HTTP request counts and latencies by route, block height, tx-log size, pending submissions."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
