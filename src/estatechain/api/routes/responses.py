"""The error responses routes declare in OpenAPI, all with the one error body."""

from __future__ import annotations

from typing import Any, Final

from estatechain.api.schemas.errors import ErrorOut


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for ``statuses``, each with ``ErrorOut``."""
    return {status: {"model": ErrorOut, "description": _TEXT.get(status, "error")} for status in statuses}


_TEXT: Final = {
    400: "Refused or invalid input (code names the check)",
    401: "Not acceptably signed (code names the reason)",
    403: "The caller's role may not do this",
    404: "Not found",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Parameters do not have the documented form",
    429: "Too many requests (or, to a peer node, too many refusals) just now; Retry-After says when to ask again",
    503: "Node not ready or busy",
}
SIGNED: Final = (401, 413, 422)
"""Responses every signed route may give."""
