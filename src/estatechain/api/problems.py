"""One error shape for every failure: ``{"error": code, "message": ..., "detail": {...}}`` (design §3.9).

``PROBLEMS`` maps each exception of the tree in ``estatechain.errors`` (and the API's own) to a status
and a stable code; the handlers installed by ``install`` make FastAPI's validation errors, unknown
routes and unexpected faults use the same shape. A client never sees a stack trace: an unexpected
exception becomes 500 ``INTERNAL`` and is logged on the node. Messages are English unless the caller
asks for zh-CN with ``Accept-Language`` and the shared catalogue has a text for the code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from estatechain.errors import Conflict, EstatechainError, InputError, IntegrityFault, NotFound, Refused, Unavailable
from estatechain.messages import has_text, message

log = logging.getLogger("estatechain.api")


class ApiError(Exception):
    """A failure the API reports as it is: status, stable code, English message, detail by field."""

    def __init__(self, status: int, code: str, message: str, detail: Mapping[str, str] | None = None, *,
                 retry_after_s: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail: dict[str, str] = dict(detail or {})
        self.retry_after_s = retry_after_s
        """Sent as ``Retry-After`` (a 429 or 503 the caller should simply repeat later)."""


PROBLEMS: Final[tuple[tuple[type[Exception], int, str], ...]] = (
    (Refused, 400, "REFUSED"),
    (InputError, 400, "INVALID_INPUT"),
    (NotFound, 404, "NOT_FOUND"),
    (Conflict, 409, "CONFLICT"),
    (IntegrityFault, 500, "INTEGRITY_FAULT"),
    (Unavailable, 503, "UNAVAILABLE"),
)
"""Exception type → (status, code); first match wins, so subclasses come first."""

RETRY_AFTER_S: Final = 1
"""``Retry-After`` on a 503 from ``Unavailable``: resubmitting the same signed tx is safe (stored at most once)."""

_HTTP_CODES: Final = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE",
                      415: "UNSUPPORTED_MEDIA_TYPE"}


def problem(status: int, code: str, text: str, detail: Mapping[str, str] | None = None,
            *, locale: str = "en") -> JSONResponse:
    """The JSON error response; ``text`` is replaced by the catalogue's zh-CN text when asked for."""
    params = dict(detail or {})
    if locale == "zh-CN" and has_text(code, locale):
        text = message(code, locale, **params)
    return JSONResponse({"error": code, "message": text, "detail": params}, status_code=status)


def to_problem(exc: Exception) -> ApiError:
    """The API error an exception of the tree stands for."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, Refused):
        return ApiError(400, exc.code, exc.message, exc.detail)
    if isinstance(exc, IntegrityFault):
        return ApiError(500, "INTEGRITY_FAULT", "stored data failed a check; the operator has been alerted",
                        {"where": exc.where})
    for kind, status, code in PROBLEMS:
        if isinstance(exc, kind):
            return ApiError(status, code, str(exc))
    return ApiError(500, "INTERNAL", "the node failed to handle this request; it has been logged")


def request_locale(request: Request) -> str:
    """zh-CN when the caller's Accept-Language prefers Chinese, else en."""
    accept = request.headers.get("accept-language", "")
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return "zh-CN" if first.startswith("zh") else "en"


def _respond(request: Request, error: ApiError) -> JSONResponse:
    response = problem(error.status, error.code, error.message, error.detail, locale=request_locale(request))
    if error.retry_after_s is not None:
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    return _respond(request, to_problem(exc))


async def _on_fault(request: Request, exc: Exception) -> JSONResponse:
    error = to_problem(exc)
    if isinstance(exc, Unavailable):
        # Expected in a cluster without quorum: the caller retries (Retry-After); one line, no stack trace.
        log.warning("%s %s unavailable: %s", request.method, request.url.path, exc)
        response = _respond(request, error)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if error.status >= 500:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _respond(request, error)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail: dict[str, str] = {}
    for item in exc.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        detail[where or "request"] = str(item.get("msg", "invalid"))
    return _respond(request, ApiError(422, "VALIDATION_FAILED", "the request does not have the documented form; "
                                      "see detail for each field", detail))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's own answer to a body it cannot decode (e.g. not UTF-8): the same failure as a body
        # that decodes but does not validate, so it gets the same documented status and code.
        return _respond(request, ApiError(422, "VALIDATION_FAILED", "the request body is not UTF-8 JSON",
                                          {"body": "send UTF-8 encoded JSON"}))
    code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    text = exc.detail if isinstance(exc.detail, str) else code
    detail: dict[str, str] = {}
    if exc.status_code in {404, 405} and text in {"Not Found", "Method Not Allowed"}:  # the router's, not a route's
        # Told apart from a missing transaction or block, which a route answers 404 with its own message.
        text = (f"no route {request.method} {request.url.path} on this node; the routes are listed at /docs"
                if exc.status_code == 404 else f"{request.url.path} does not take {request.method}; see /docs")
        detail = {"path": request.url.path, "method": request.method}
    response = _respond(request, ApiError(exc.status_code, code, text, detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install(app: FastAPI) -> None:
    """Make every failure of ``app`` answer in the one error shape."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(EstatechainError, _on_fault)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_fault)
