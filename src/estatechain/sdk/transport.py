"""The transport core every ``Client`` method stands on: signed requests, answers, errors, streams.

Split from the typed methods because this is the part that knows HTTP: it signs each request for
one node (RFC 9421, ``RequestTarget``), turns an error answer into the ``ServerError`` tree and a
missing answer into an ``SdkError`` that says what happened, and streams bodies into files. The
method modules (``transactions``, ``workflow``, ``proofs`` …) extend ``Transport`` and mostly say
only which endpoint and which JSON, so a change to how requests are signed or failures are worded is
made here once. The two long requests add their own timeouts on top: a submission that waits for
its commit (``transactions``) and the event stream (``events``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
import orjson

from estatechain.crypto.suites import get_suite
from estatechain.sdk.errors import SdkError, ServerError, server_error
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.signing import SUITE, RequestTarget, sign_request


class Transport:
    """The HTTP side of a ``Client``: one node's connection pool and the identity its requests are signed with.

    Not used alone; ``Client`` is this plus the typed methods (``estatechain.sdk.client``).
    """

    def __init__(  # noqa: PLR0913  (keywords after the two essentials; each has a default)
        self,
        base_url: str,
        identity: ClientIdentity,
        *,
        chain_id: str | None = None,
        node_org: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        include_certificate: bool = True,
    ) -> None:
        """``chain_id`` and ``node_org`` (the org whose node ``base_url`` is) are asked of the node when not given.

        Every request is signed for that node (``RequestTarget``): no other node accepts it.
        """
        self.identity = identity
        self._chain_id = chain_id
        self._node_org = node_org
        self._include_certificate = include_certificate
        self._suite = get_suite(SUITE)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def chain_id(self) -> str:
        """The consortium's chain id (from ``/v1/health`` on first use unless given)."""
        if self._chain_id is None:
            return (await self._discover()).chain_id
        return self._chain_id

    async def target(self) -> RequestTarget:
        """The node this client's requests are signed for (from ``/v1/health`` on first use unless given)."""
        if self._chain_id is None or self._node_org is None:
            return await self._discover()
        return RequestTarget(chain_id=self._chain_id, node_org=self._node_org)

    async def _discover(self) -> RequestTarget:
        """Fill in the chain id and node org not given, from the node's unsigned ``/v1/health``.

        Raises:
            SdkError: the node does not name both there (a node older than this SDK).

        """
        health = await self._send("GET", "/v1/health", signed=False)
        chain_id, node_org = (health.get(k) if isinstance(health, dict) else None for k in ("chain_id", "org_id"))
        if not isinstance(chain_id, str) or not isinstance(node_org, str):
            raise SdkError(f"the node at {self._http.base_url} does not name its chain_id and org_id in /v1/health; "
                           "requests are signed for one node's org (docs/api.md): upgrade the node, or pass "
                           "chain_id and node_org to the client")
        chain_id = chain_id if self._chain_id is None else self._chain_id
        node_org = node_org if self._node_org is None else self._node_org
        self._chain_id, self._node_org = chain_id, node_org
        return RequestTarget(chain_id=chain_id, node_org=node_org)

    def build_request(  # noqa: PLR0913  (keywords only; each overrides one part of the request)
        self, method: str, path: str, *, params: Mapping[str, int | str] | None = None,
        content: bytes | None = None, target: RequestTarget, created_s: int | None = None, nonce: str | None = None,
        content_type: str = "application/json",
    ) -> httpx.Request:
        """A request signed with this identity for ``target`` (exposed so tests and integrators can inspect it)."""
        headers = {"content-type": content_type} if content is not None else {}
        request = self._http.build_request(method, path, params=params, content=content, headers=headers)
        sign_request(request, self.identity, target=target,
                     created_s=int(time.time()) if created_s is None else created_s, nonce=nonce,
                     include_certificate=self._include_certificate)
        return request

    async def send(self, request: httpx.Request) -> Any:  # noqa: ANN401  (decoded JSON of any documented shape)
        """Send a built request; return the decoded JSON body or raise the node's error.

        Raises:
            ServerError: the node answered with an error (``detail`` as sent, ``retry_after_s``).
            SdkError: no answer: the node cannot be reached, or did not answer in time (the message says which).

        """
        return await self._exchange(request)

    async def _exchange(self, request: httpx.Request, *, tx_id: str | None = None) -> Any:  # noqa: ANN401  (JSON)
        """``send``; for a submission (``tx_id``), a failure after the request left says the tx may have committed."""
        data, _ = await self._answer(request, tx_id=tx_id)
        return data

    async def _answer(self, request: httpx.Request, *, tx_id: str | None = None) -> tuple[Any, httpx.Headers]:
        """``_exchange`` with the answer's headers, for an endpoint that says something in one."""
        try:
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise SdkError(self._no_answer(request, exc, tx_id=tx_id)) from exc
        try:
            data = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            data = None
        if response.status_code >= 400:
            raise _server_error(response, data)
        return data, response.headers

    def _no_answer(self, request: httpx.Request, exc: httpx.HTTPError, *, tx_id: str | None = None) -> str:
        """What went wrong when ``request`` got no answer, in words (httpx's own message is often empty)."""
        where = f"the node at {self._http.base_url}"
        what = f"{request.method} {request.url.path}"
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            text = f"cannot reach {where}: {reason} ({type(exc).__name__})"
            return text + (f"; transaction {tx_id} was not sent" if tx_id is not None else "")
        if isinstance(exc, httpx.TimeoutException):
            limit = (request.extensions.get("timeout") or {}).get("read")
            text = (f"{where} did not answer {what} in time ({type(exc).__name__}: no answer within "
                    f"{limit if limit is not None else '?'} s; raise timeout_s if the node is only slow)")
        else:
            text = f"{where} broke off {what}: {reason} ({type(exc).__name__})"
        if tx_id is not None:
            text += (f"; transaction {tx_id} may have been received and even committed: ask status({tx_id!r}) "
                     "before doing anything else (submitting the same envelope again is safe: it returns the "
                     "first submission's status)")
        return text

    async def _stream(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` for a streamed body; an error answer is raised (and its response closed)."""
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise SdkError(self._no_answer(request, exc)) from exc
        if response.status_code >= 400:
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise SdkError(self._no_answer(request, exc)) from exc
            finally:
                await response.aclose()
            try:
                data = orjson.loads(response.content) if response.content else None
            except orjson.JSONDecodeError:
                data = None
            raise _server_error(response, data)
        return response

    async def _send(self, method: str, path: str, *, params: Mapping[str, int | str] | None = None,  # noqa: PLR0913
                    content: bytes | None = None, signed: bool = True,
                    content_type: str = "application/json") -> Any:  # noqa: ANN401  (decoded JSON)
        if not signed:
            headers = {"content-type": content_type} if content is not None else {}
            return await self.send(self._http.build_request(method, path, params=params, content=content,
                                                            headers=headers))
        return await self.send(self.build_request(method, path, params=params, content=content,
                                                  target=await self.target(), content_type=content_type))

    async def download(self, path: str, target: Path) -> int:
        """Stream a signed GET of a binary resource (a join snapshot, a PDF) into ``target``; its size.

        Raises:
            SdkError: the node is unreachable or answered with an error.

        """
        size, _ = await self._download(path, target, None)
        return size

    async def _download(self, path: str, target: Path, digest: hashlib._Hash | None) -> tuple[int, httpx.Headers]:
        """``download``, feeding each chunk to ``digest`` as well when one is given; the size and the headers."""
        response = await self._stream(self.build_request("GET", path, target=await self.target()))
        try:
            size = 0
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
                    if digest is not None:
                        digest.update(chunk)
                    size += len(chunk)
            return size, response.headers
        finally:
            await response.aclose()


def _server_error(response: httpx.Response, data: object) -> ServerError:
    """The node's error answer as an exception: its code, message and ``detail`` (JSON types kept)."""
    retry_after_s = _retry_after_s(response.headers.get("retry-after"))
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        detail = data.get("detail")
        return server_error(response.status_code, data["error"], str(data.get("message", "")),
                            detail if isinstance(detail, dict) else None, retry_after_s=retry_after_s)
    return server_error(response.status_code, f"HTTP_{response.status_code}", response.text[:200],
                        retry_after_s=retry_after_s)


def _retry_after_s(value: str | None) -> int | None:
    """``Retry-After`` in whole seconds: delay-seconds as sent, an HTTP-date as seconds from now (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, int((when - datetime.now(tz=UTC)).total_seconds() + 0.999))


def path_segment(value: str) -> str:
    """``value`` as one URL path segment: a certificate number's brackets and Chinese percent-encoded, a ``/`` too."""
    return quote(value, safe="")
