"""Live updates (issue 9): a signed-in account's event stream of the cases it may see, and the script that uses it.

``GET /portal/events`` is a Server-Sent Events stream for the browser's session (no API signature): for
each committed block, one ``case`` message per application the block wrote (a new filing, a
confirmation, any step) that the account may see by the desks' own rule (``cases.may_see``: the
registry every case, a bank the cases it filed or is a party to, a person the cases naming their
party). The message carries the case id and its state only. The node's event hub (``node/events.py``)
tells when a block commits; what changed is read from the block's application rows, because the
banks' events follow state changes for the filing bank only, while a case page must also move on a
confirmation and for every party.

Each message's ``id`` is ``<height>.<index>`` (index among all of that block's application changes,
so it is the same for every account); a browser that reconnects sends it as ``Last-Event-ID`` and
gets exactly what it missed, or a ``reload`` message when it is too far behind to replay. After the
replay the stream says ``: caught up``. It checks its session on every heartbeat and every block
(``AccountStore.alive``, which does not move the session's expiry on) and ends with an ``end``
message when the session is gone — signed out in another tab, or its idle time run out — and at the
latest when the idle time of its opening would have run out: the page stays, live updates stop. A
session holds at most ``MAX_STREAMS`` streams at once (a few tabs); one more is refused with 429.

``/portal/static/live.js`` (``static/live.js``, no library) opens the stream on desk and case pages
and swaps the page's ``<main>`` for a fresh copy when a change concerns it. Pages work without it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Final

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse

from estatechain.contract.records import Application
from estatechain.errors import InputError
from estatechain.node.events import Cursor, Event, EventHub
from estatechain.storage.schema import EVENT_ROWS
from estatechain.storage.store import LedgerStore
from estatechain.web import cases as queries
from estatechain.web.accounts import SESSION_MS
from estatechain.web.cases import Viewer
from estatechain.web.i18n import N_
from estatechain.web.pages import secure
from estatechain.web.portal import Member, Portal, PortalDep, PortalProblem, PortalRoute, viewer_of

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

HEARTBEAT_S: Final = 15.0
"""Seconds between comments that keep an idle stream open through proxies; the session is checked as often."""
MAX_STREAMS: Final = 4
"""Streams one session may hold open at once (one per portal tab); one more is refused with 429."""
REPLAY_BLOCKS: Final = 1000
"""A reconnecting browser further behind than this many blocks is told to reload instead of replayed to."""
_YIELD_EVERY: Final = 20
"""Blocks replayed between two yields to the event loop, so a replay does not stall commits."""
CAUGHT_UP: Final = b": caught up\n\n"
RELOAD: Final = b'event: reload\ndata: {"reason":"too far behind to replay"}\n\n'
END: Final = b'event: end\ndata: {"reason":"the session\'s idle time ran out"}\n\n'
ENDED: Final = b'event: end\ndata: {"reason":"the session has ended"}\n\n'
"""The end message when the session is gone before the stream's own bound: signed out, or expired."""


class OpenStreams:
    """How many streams each session holds open, kept on the app (``app.state.live_streams``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def take(self, token: str) -> StreamSlot | None:
        """One of the session's slots, or None when it holds ``limit`` already."""
        if self._open.get(token, 0) >= self.limit:
            return None
        self._open[token] = self._open.get(token, 0) + 1
        return StreamSlot(self, token)

    def _give_back(self, token: str) -> None:
        left = self._open.pop(token, 1) - 1
        if left > 0:
            self._open[token] = left


class StreamSlot:
    """One open stream of a session; given back once, whichever comes first: the stream ends or is dropped unread."""

    def __init__(self, streams: OpenStreams, token: str) -> None:
        self._streams: OpenStreams | None = streams
        self.token = token

    def give_back(self) -> None:
        """Free the slot (idempotent)."""
        if self._streams is not None:
            self._streams._give_back(self.token)  # noqa: SLF001  (the two classes are one mechanism)
            self._streams = None


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One application row a block wrote: where (the stream cursor) and the application as written."""

    cursor: Cursor
    application: Application

    def frame(self) -> bytes:
        """The SSE message: ``id`` the cursor, ``data`` the case id and state."""
        data = orjson.dumps({"case": self.application.application_id, "state": self.application.state.value,
                             "height": self.cursor.height})
        return b"id: %s\nevent: case\ndata: %s\n\n" % (str(self.cursor).encode(), data)


def case_changes(store: LedgerStore, height: int) -> list[CaseChange]:
    """The application rows written by the block at ``height``, in tx order then key order.

    Reads the block's tx seq range (``txs_by_height``) and then the rows of those seqs through the
    ledger's events index (the same WHERE as ``EventSource``, so SQLite uses the partial index).
    """
    conn = store.connection
    low, high = conn.execute("SELECT MIN(seq), MAX(seq) FROM txs WHERE height = ?", (height,)).fetchone()
    if low is None:
        return []
    rows = conn.execute(
        f"SELECT key, value FROM state_rows WHERE seq >= ? AND seq <= ? AND {EVENT_ROWS} ORDER BY seq, key",  # noqa: S608
        (low, high)).fetchall()
    written = [Application.from_json(orjson.loads(bytes(value))) for key, value in rows
               if str(key).startswith("application/") and value is not None]
    return [CaseChange(Cursor(height, index), application) for index, application in enumerate(written)]


def visible(store: LedgerStore, viewer: Viewer, changes: list[CaseChange], after: Cursor) -> Iterator[bytes]:
    """Frames of the changes after ``after`` that ``viewer`` may see."""
    for change in changes:
        if change.cursor > after and queries.may_see(store, viewer, change.application):
            yield change.frame()


async def replay(store: LedgerStore, viewer: Viewer, after: Cursor, upto: int) -> AsyncIterator[bytes]:
    """What ``viewer`` may see after ``after`` up to height ``upto`` (a reconnecting browser's gap)."""
    if upto - after.height > REPLAY_BLOCKS:
        yield RELOAD
        return
    for height in range(max(after.height, 1), upto + 1):
        for frame in visible(store, viewer, case_changes(store, height), after):
            yield frame
        if height % _YIELD_EVERY == 0:
            await asyncio.sleep(0)


async def stream(parts: Portal, hub: EventHub, viewer: Viewer, after: Cursor | None,
                 slot: StreamSlot) -> AsyncIterator[bytes]:
    """Replay after ``after`` (if given) up to the hub's last block, then follow new blocks while the session lives.

    The session of ``slot`` is checked on every heartbeat and every block (``ENDED`` when it is gone),
    and the stream ends (``END``) at the latest ``SESSION_MS`` after it opened. The slot is given back
    however the stream ends.
    """
    store, clock, accounts = parts.service.store, parts.service.clock, parts.accounts
    until_ms = clock.now_ms() + SESSION_MS
    try:
        with hub.listen() as queue:  # listening before reading last_height: no block falls between the two
            handled = hub.last_height
            last = Cursor(handled, 2**31)
            yield b"retry: 3000\n: connected\n\n"
            if after is not None:
                async for frame in replay(store, viewer, after, handled):
                    yield frame
            yield CAUGHT_UP
            while (remaining_ms := until_ms - clock.now_ms()) > 0:
                try:
                    events: list[Event] | None = await asyncio.wait_for(
                        queue.get(), min(HEARTBEAT_S, remaining_ms / 1000))
                except TimeoutError:
                    events = []
                if not accounts.alive(slot.token):  # signed out in another tab, or expired: no more events
                    yield ENDED
                    return
                if events is None:  # fell behind the hub's queue: the browser reconnects with its Last-Event-ID
                    return
                if not events:
                    yield b": heartbeat\n\n"
                    continue
                height = events[0].height
                for frame in visible(store, viewer, case_changes(store, height), last):
                    yield frame
                last = Cursor(height, 2**31)
            yield END
    finally:
        slot.give_back()


def open_streams(request: Request) -> OpenStreams:
    """The app's count of open streams per session, made on first use."""
    found: OpenStreams | None = getattr(request.app.state, "live_streams", None)
    if found is None:
        found = OpenStreams(MAX_STREAMS)
        request.app.state.live_streams = found
    return found


@router.get("/events")
async def events(request: Request, session: Member, parts: PortalDep,
                 last_event_id: Annotated[str | None, Header(max_length=24)] = None) -> Response:
    """The account's case changes as Server-Sent Events (204 when this node derives no events, 429 over the cap)."""
    assert session.account is not None
    hub = parts.service.events
    if hub is None:
        return secure(Response(status_code=204), session)  # EventSource does not retry a 204
    try:
        after = None if last_event_id is None else Cursor.parse(last_event_id)
    except InputError:
        after = None  # not one of ours: start from now, like a first connection
    slot = open_streams(request).take(session.token)
    if slot is None:  # EventSource does not retry a 429 either
        raise PortalProblem(429, N_("Live updates are already open in too many tabs of this session. Close some "
                                    "portal tabs, then reload this page."))
    frames = stream(parts, hub, viewer_of(parts, session.account), after, slot)
    weakref.finalize(frames, slot.give_back)  # a response dropped before it was read gives its slot back too
    response = StreamingResponse(frames, media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})
    return secure(response, session)
