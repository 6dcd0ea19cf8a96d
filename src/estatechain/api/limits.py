"""Request size limit as ASGI middleware: a body larger than the limit is refused with 413 before it is read.

The check runs on ``Content-Length`` and again on the bytes actually received, so a chunked body
cannot slip past it. Headers are bounded by the HTTP server (uvicorn's parser limits).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from estatechain.api.problems import ApiError


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` (or their path's own limit) with the API's error shape.

    Uploads need more than a transaction does: a bank's scanned loan contract is megabytes, and a body
    limit sized for signed envelopes refused it. ``limits`` gives those few paths their own limit
    rather than raising the limit of every route, public ones included.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, limits: Mapping[str, int] | None = None) -> None:
        self._app = app
        self._default = max_bytes
        self._limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._limits.get(scope["path"], self._default)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await self._refuse(send, declared, limit)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {limit} bytes",
                                   {"limit": str(limit)})
            return message

        await self._app(scope, limited, send)

    @staticmethod
    async def _refuse(send: Send, declared: int, limit: int) -> None:
        body = orjson.dumps({"error": "PAYLOAD_TOO_LARGE",
                             "message": f"request body of {declared} bytes exceeds the limit of {limit} bytes",
                             "detail": {"limit": str(limit), "size": str(declared)}})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
