"""The caller org's events as Server-Sent Events: a generator that resumes by itself after an overflow.

On its own because it is the one long-lived request: it reads a stream line by line, watches for
silence with a read timeout of three heartbeats and reconnects from the last cursor it yielded.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx
import orjson

from estatechain.sdk.errors import SdkError, ServerError
from estatechain.sdk.transport import Transport


class EventMethods(Transport):
    """``events``: the org's committed events, forever (a part of ``Client``)."""

    async def events(self, after: str | None = None, *, heartbeat_s: int = 15) -> AsyncGenerator[dict[str, Any]]:
        """The caller org's events (``GET /v1/events``, Server-Sent Events) as they commit, forever.

        ``after`` is the ``cursor`` of the last event handled (``"0.0"``: from the first block; None:
        only new events). Each item is the event JSON (``event_id``, ``cursor``, ``kind``, ``data`` …);
        keep the last ``cursor`` to resume after a disconnect. Events may repeat across reconnects
        only if a cursor older than the last one is given: de-duplicate on ``event_id``.

        A client that falls 1,000 blocks behind is sent ``event: overflow`` and the node closes the
        stream; this generator then reconnects from the last cursor it yielded, so a slow consumer
        loses nothing and needs no code of its own for it. With ``after=None`` and no event yielded
        yet, that is the position the node named when the stream opened (its ``id:``), so the events
        committed in between are not skipped either.

        Raises:
            ServerError: the node refused the stream: e.g. 400 ``INVALID_INPUT`` for a cursor beyond
                its last block (a cursor kept from another network: ``detail`` has ``head``).
            SdkError: the node cannot be reached, went silent (no heartbeat within ``3 × heartbeat_s``),
                broke the connection or closed the stream; the message names the cursor to resume from.

        """
        cursor = after
        while True:
            response = await self._open_events(cursor, heartbeat_s)
            overflow = False
            try:
                async for kind, position, decoded in _messages(response):
                    if kind == "overflow":
                        overflow = True
                        break
                    if isinstance(decoded, dict) and "event_id" in decoded:
                        cursor = str(decoded.get("cursor", cursor))
                        yield decoded
                    elif position is not None and cursor is None:  # where the node began "only new events"
                        cursor = position
            except httpx.TimeoutException as exc:
                raise SdkError(f"the event stream from the node at {self._http.base_url} went silent: nothing, not "
                               f"even a heartbeat, for {heartbeat_s * 3} s (3 × heartbeat_s; {type(exc).__name__}): "
                               f"the node is paused or unreachable; resume with after={cursor!r}") from exc
            except httpx.HTTPError as exc:
                raise SdkError(f"the event stream from the node at {self._http.base_url} broke off: "
                               f"{str(exc) or type(exc).__name__} ({type(exc).__name__}); resume with "
                               f"after={cursor!r}") from exc
            finally:
                await response.aclose()
            if not overflow:
                raise SdkError(f"the node at {self._http.base_url} closed the event stream; "
                               f"resume with after={cursor!r}")
            if cursor is None:
                raise SdkError(f"the node at {self._http.base_url} ended the event stream (overflow: the consumer "
                               "fell behind) before any event arrived and without naming where the stream "
                               "began, so the events committed since it opened cannot be resumed from here and "
                               "would be lost; resume with after= the cursor of the last event you handled "
                               "(after='0.0' replays them all)")

    async def _open_events(self, cursor: str | None, heartbeat_s: int) -> httpx.Response:
        """The response of ``GET /v1/events`` after ``cursor``; a stream that cannot open names the cursor.

        Raises:
            ServerError: the node refused it (its code).
            SdkError: the node cannot be reached; the message names the cursor to resume from.

        """
        params: dict[str, int | str] = {"heartbeat": heartbeat_s}
        if cursor is not None:
            params["after"] = cursor
        request = self.build_request("GET", "/v1/events", params=params, target=await self.target())
        request.extensions["timeout"] = httpx.Timeout(10.0, read=heartbeat_s * 3.0).as_dict()
        try:
            return await self._stream(request)
        except ServerError:
            raise
        except SdkError as exc:
            raise SdkError(f"{exc}; resume the event stream with after={cursor!r}") from exc


async def _messages(response: httpx.Response) -> AsyncGenerator[tuple[str, str | None, object]]:
    """Each Server-Sent Events message of ``response``: its ``event`` kind, ``id`` and decoded ``data``.

    Comments (heartbeats) and ``retry`` are skipped; a message without data has None as its data.
    """
    kind, position, data_lines = "", None, list[str]()
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
        elif line.startswith("id:"):
            position = line[3:].strip() or None
        elif not line:
            yield kind, position, orjson.loads("\n".join(data_lines)) if data_lines else None
            kind, position, data_lines = "", None, []
