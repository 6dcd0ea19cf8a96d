"""Events for bank systems: an SSE stream with resume from a cursor, and webhook registration with its log.

Events are derived from committed blocks (``node/events.py``); each org sees only the events it is
entitled to (its own transactions, its applications, certificates it holds, seizures on units it
holds a mortgage on). People (role ``person``) have no event stream: banks' systems and staff do.

Where an org's events are POSTed is the org's integration, so only its ``org.admin`` sets or removes
it (``WEBHOOK_ADMIN_ROLES``): otherwise any of its clerks or approvers could send every event of the
org to a URL of their choosing, or silence them. Its staff and systems may read the registration and
the delivery log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from estatechain.api.deps import Caller, Service, require_roles
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.errors import InputError
from estatechain.identity.membership import Signer
from estatechain.node.events import Cursor, Event, EventHub
from estatechain.node.outbox import Delivery, Outbox, Webhook
from estatechain.node.service import NodeService

router = APIRouter(tags=["events"])

_REPLAY_YIELD_EVERY: Final = 20
"""Blocks replayed between two yields to the event loop, so a long replay does not stall commits."""

MAX_DELIVERIES_PAGE: Final = 1000
"""The most delivery attempts one answer holds; ``after`` pages beyond it."""

_SQLITE_MAX_INTEGER: Final = 2**63 - 1
"""The largest ``after`` the log's SQLite integer ids can be compared with (a larger one is a 422, not a 500)."""

WEBHOOK_ADMIN_ROLES: Final = ("org.admin",)
"""Who may set or remove an org's webhook: its administrator (every org type may grant ``org.admin``)."""

WebhookAdmin = Annotated[Signer, Depends(require_roles(*WEBHOOK_ADMIN_ROLES))]


class WebhookIn(BaseModel):
    """Where the node POSTs the caller org's events."""

    url: str = Field(max_length=2000, description="https:// URL (http:// only to a loopback host, for development)")


class WebhookOut(BaseModel):
    """An org's webhook registration."""

    org: str
    url: str
    registered_ms: int

    @staticmethod
    def of(hook: Webhook) -> WebhookOut:
        """From the outbox's record."""
        return WebhookOut(org=hook.org, url=hook.url, registered_ms=hook.registered_ms)


class WebhookRemovedOut(WebhookOut):
    """The registration a DELETE removed, and how many of the org's events it dropped undelivered."""

    dropped: int = Field(description="Events that were still waiting for delivery; read them from GET /v1/events")


class DeliveryOut(BaseModel):
    """One delivery attempt."""

    id: int
    event_id: str
    url: str
    attempt: int
    at_ms: int
    outcome: str = Field(description="delivered, retry (will be retried with back-off) or abandoned")
    http_status: int | None
    error: str | None
    duration_ms: int


class DeliveriesOut(BaseModel):
    """A page of the caller org's delivery attempts, and how many events still wait.

    Newest first without ``after``; oldest first after it, with ``next_after`` to ask for the next page.
    """

    org: str
    pending: int
    deliveries: list[DeliveryOut]
    next_after: int | None = Field(
        None, description="With after: the after of the next page (the last id here) when more attempts "
        "followed this page when it was read; null at the end of the log (and without after)")

    @staticmethod
    def of(org: str, pending: int, rows: list[Delivery], next_after: int | None = None) -> DeliveriesOut:
        """From the outbox's log rows."""
        return DeliveriesOut(org=org, pending=pending, next_after=next_after, deliveries=[
            DeliveryOut(id=d.id, event_id=d.event_id, url=d.url, attempt=d.attempt, at_ms=d.at_ms, outcome=d.outcome,
                        http_status=d.http_status, error=d.error, duration_ms=d.duration_ms) for d in rows])


def _org_caller(caller: Signer) -> str:
    if caller.role == "person":
        raise ApiError(403, "FORBIDDEN", "events and webhooks are for member orgs' systems, not for persons",
                       {"role": caller.role})
    return caller.org_id


def _hub(service: NodeService) -> EventHub:
    if service.events is None:
        raise ApiError(503, "UNAVAILABLE", "this node does not derive events")
    return service.events


def _outbox(service: NodeService) -> Outbox:
    if service.outbox is None or not service.outbox.enabled:
        raise ApiError(503, "UNAVAILABLE", "webhooks are off on this node: it has no node identity to sign them")
    return service.outbox


def sse_frame(event: Event) -> bytes:
    """One SSE message: ``id`` is the cursor to resume after, ``event`` the kind, ``data`` the event JSON."""
    data = orjson.dumps(event.to_json(), option=orjson.OPT_SORT_KEYS)
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (str(event.cursor).encode(), event.kind.encode(), data)


_BLOCK_END: Final = 999_999_999
"""The largest index a cursor can name: ``<height>.999999999`` is after every event of that block."""


async def _stream(hub: EventHub, org: str, after: Cursor | None, heartbeat_s: float,
                  upto: int) -> AsyncIterator[bytes]:
    with hub.listen() as queue:
        last = Cursor(hub.last_height, _BLOCK_END) if after is None else after
        # the id is where this stream begins: a client that has to reconnect before any event came
        # (overflow) resumes from it instead of from "now", which would skip the events in between
        yield b"retry: 2000\nid: %s\n: connected\n\n" % str(last).encode()
        if after is not None:
            for height in range(max(after.height, 1), upto + 1):
                for event in _replay(hub, org, last, height):
                    last = event.cursor
                    yield sse_frame(event)
                if height % _REPLAY_YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        while True:
            try:
                events = await asyncio.wait_for(queue.get(), heartbeat_s)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if events is None:
                yield _OVERFLOW
                return
            for event in events:
                if event.cursor > last and org in event.orgs:
                    last = event.cursor
                    yield sse_frame(event)


_OVERFLOW: Final = b'event: overflow\ndata: {"reason":"the client fell behind; reconnect with its cursor"}\n\n'
_SSE_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"text/event-stream": {}}, "description": "A stream of Server-Sent Events"},
    **errors(400, 403, 503, *SIGNED),
}


def _replay(hub: EventHub, org: str, after: Cursor, height: int) -> list[Event]:
    return [e for e in hub.source.block_events(height) if e.cursor > after and org in e.orgs]


@router.get("/v1/events", response_class=StreamingResponse, responses=_SSE_RESPONSES)
async def events(
    service: Service, caller: Caller,
    after: Annotated[str | None, Query(max_length=24, description="Cursor <height>.<index> to resume after; "
                                       "0.0 replays from the first block; omitted: only new events")] = None,
    heartbeat: Annotated[int, Query(ge=1, le=60, description="Seconds between heartbeat comments")] = 15,
    last_event_id: Annotated[str | None, Header(max_length=24, include_in_schema=False)] = None,
) -> StreamingResponse:
    """Server-Sent Events of the caller org's events as blocks commit, first replaying from ``after``.

    Each message's ``id`` is its cursor; reconnect with ``?after=<id>`` (or a ``Last-Event-ID`` header)
    to receive exactly the events after it. Comments (``: heartbeat``) keep idle connections open.
    """
    org = _org_caller(caller)
    hub = _hub(service)
    text = after if after is not None else last_event_id
    try:
        cursor = None if text is None else Cursor.parse(text)
    except InputError as exc:
        raise ApiError(400, "INVALID_INPUT", str(exc), {"field": "after"}) from None
    head = service.store.height
    if cursor is not None and cursor.height > head:
        raise ApiError(400, "INVALID_INPUT",
                       f"cursor {cursor} is beyond this node's last block (height {head}), so no event of this "
                       "network can follow it: it was kept from another network or from a ledger since replaced; "
                       "resume with the cursor of the last event received from this network (0.0 replays all). "
                       "A node still catching up with its cluster says the same until it has that block",
                       {"field": "after", "head": str(head)})
    return StreamingResponse(_stream(hub, org, cursor, float(heartbeat), head),
                             media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


@router.post("/v1/webhooks", status_code=201, response_model=WebhookOut, responses=errors(400, 403, 503, *SIGNED))
async def register_webhook(body: WebhookIn, service: Service, caller: WebhookAdmin) -> WebhookOut:
    """Register (or replace) the caller org's webhook URL; events of blocks committed from now on go there.

    Only the org's ``org.admin`` may. Each POST carries one event as canonical JSON ``{type:
    "estatechain.webhook.v1", chain_id, recipient, event}`` signed by the node (``Estatechain-Signature``);
    an org's events come one at a time in ledger order (``event.cursor``), each retried with back-off until
    a 2xx answer (or given up), so receivers de-duplicate on ``event.event_id``. Events waiting for a retry
    are tried again at once at the new URL.
    """
    org = _org_caller(caller)
    outbox = _outbox(service)
    try:
        return WebhookOut.of(outbox.register(org, body.url))
    except InputError as exc:
        raise ApiError(400, "INVALID_INPUT", str(exc), {"field": "url"}) from None


@router.delete("/v1/webhooks", response_model=WebhookRemovedOut, responses=errors(403, 404, 503, *SIGNED))
async def remove_webhook(service: Service, caller: WebhookAdmin) -> WebhookRemovedOut:
    """Remove the caller org's webhook: nothing more is POSTed, and events still waiting are dropped.

    Only the org's ``org.admin`` may. The dropped events stay in the ledger: read them from
    ``GET /v1/events`` with a cursor. The delivery log is kept.
    """
    org = _org_caller(caller)
    removed = _outbox(service).remove(org)
    if removed is None:
        raise ApiError(404, "NOT_FOUND", f"org {org} has no webhook to remove")
    hook, dropped = removed
    return WebhookRemovedOut(org=hook.org, url=hook.url, registered_ms=hook.registered_ms, dropped=dropped)


@router.get("/v1/webhooks", response_model=WebhookOut, responses=errors(403, 404, 503, *SIGNED))
async def get_webhook(service: Service, caller: Caller) -> WebhookOut:
    """The caller org's webhook registration."""
    org = _org_caller(caller)
    hook = _outbox(service).webhook(org)
    if hook is None:
        raise ApiError(404, "NOT_FOUND", f"org {org} has no webhook; register one with POST /v1/webhooks")
    return WebhookOut.of(hook)


@router.get("/v1/webhooks/deliveries", response_model=DeliveriesOut, responses=errors(403, 503, *SIGNED))
async def deliveries(
    service: Service, caller: Caller,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_PAGE)] = 100,
    event_id: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
    after: Annotated[int | None, Query(ge=0, le=_SQLITE_MAX_INTEGER,
                                       description="The id of the last attempt handled (0: from the first); the "
                                       "page then holds the attempts after it, oldest first")] = None,
) -> DeliveriesOut:
    """The caller org's delivery log (optionally of one event): newest attempt first, or page by page after a cursor.

    A page holds at most 1,000 attempts, so a reader that needs the whole log pages through it as it
    resumes the event stream, with a cursor: ``after=0``, then ``after=<next_after>`` until
    ``next_after`` is null. Attempt ids only grow, so each attempt comes exactly once, in order.
    """
    org = _org_caller(caller)
    outbox = _outbox(service)
    if after is None:
        return DeliveriesOut.of(org, _pending(outbox, org), outbox.deliveries(org, limit=limit, event_id=event_id))
    rows = outbox.deliveries(org, limit=limit + 1, event_id=event_id, after=after)
    more = len(rows) > limit
    page = rows[:limit]
    return DeliveriesOut.of(org, _pending(outbox, org), page, next_after=page[-1].id if more else None)


def _pending(outbox: Outbox, org: str) -> int:
    return outbox.pending_count(org)

