"""Exceptions of the SDK; those from the node carry its stable error code.

SdkError
├── ServerError          the node answered with {"error", "message", "detail"}: .status, .code, .detail,
│   │                    .retry_after_s (its Retry-After, on a 429 or 503)
│   ├── AuthenticationFailed   401 (REPLAYED, EXPIRED, BAD_SIGNATURE, UNKNOWN_KEY, DIGEST_MISMATCH …)
│   ├── Forbidden              403
│   ├── NotFound               404
│   └── Refused                400 (a submission check: NON_CANONICAL, DUPLICATE_NONCE …)
├── CommitTimeout        the transaction was still pending when the wait ended
└── ProofInvalid         a proof from the node did not verify locally (do not trust that node)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SdkError(Exception):
    """Root of the SDK's exceptions."""


class ServerError(SdkError):
    """The node refused or failed a request; ``code`` is its stable machine-readable reason.

    ``detail`` holds the answer's ``detail`` object as the node sent it, JSON types kept (a string stays
    a string, a number a number). ``retry_after_s`` is the answer's ``Retry-After`` in seconds (the node
    sends it with 429 ``RATE_LIMITED`` and 503 ``BUSY``/``UNAVAILABLE``/``NOT_READY``), None without one.
    """

    def __init__(self, status: int, code: str, message: str, detail: Mapping[str, Any] | None = None, *,
                 retry_after_s: int | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail: dict[str, Any] = dict(detail or {})
        self.retry_after_s = retry_after_s


class AuthenticationFailed(ServerError):
    """401: the request's signature was not accepted; ``code`` says why."""


class Forbidden(ServerError):
    """403: the caller's role may not do this."""


class NotFound(ServerError):
    """404: no such transaction, block or route."""


class Refused(ServerError):
    """400: the node refused the input (for a transaction: nothing was stored)."""


class CommitTimeout(SdkError):
    """The transaction had not committed when the wait ended; it may still commit later."""


class ProofInvalid(SdkError):
    """A block header or proof from the node did not check out locally."""


def server_error(status: int, code: str, message: str, detail: Mapping[str, Any] | None = None, *,
                 retry_after_s: int | None = None) -> ServerError:
    """The most specific exception for a status."""
    kind = {400: Refused, 401: AuthenticationFailed, 403: Forbidden, 404: NotFound}.get(status, ServerError)
    return kind(status, code, message, detail, retry_after_s=retry_after_s)
