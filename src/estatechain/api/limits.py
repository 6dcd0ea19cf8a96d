"""Request size limit as ASGI middleware: a body larger than the limit is refused with 413 before it is read.

The check runs on ``Content-Length`` and again on the bytes actually received, so a chunked body
cannot slip past it. Headers are bounded by the HTTP server (uvicorn's parser limits).
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from estatechain.api.problems import ApiError


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with the API's error shape."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self._max:
                    await self._refuse(send, declared)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {self._max} bytes",
                                   {"limit": str(self._max)})
            return message

        await self._app(scope, limited, send)

    async def _refuse(self, send: Send, declared: int) -> None:
        body = orjson.dumps({"error": "PAYLOAD_TOO_LARGE",
                             "message": f"request body of {declared} bytes exceeds the limit of {self._max} bytes",
                             "detail": {"limit": str(self._max), "size": str(declared)}})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
