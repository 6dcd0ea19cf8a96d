"""``Annotated`` dependency aliases: they fetch prebuilt services from ``app.state``, never build any.

``Caller`` authenticates the request (RFC 9421, ``api/auth.py``) and yields the caller's ``Signer``
(org, org type, role); ``require_roles`` is the authorisation hook routes put in front of actions
that only some roles may take.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from estatechain.api.auth import RequestAuthenticator
from estatechain.api.problems import ApiError
from estatechain.identity.membership import Signer
from estatechain.node.service import NodeService


def node_service(request: Request) -> NodeService:
    """The node service built by the composition root."""
    service: NodeService = request.app.state.service
    return service


async def authenticated_caller(request: Request) -> Signer:
    """Verify the request's signature and return who signed it (401 otherwise)."""
    authenticator: RequestAuthenticator = request.app.state.authenticator
    body = await request.body()
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    signer = authenticator.authenticate(method=request.method, target=target, headers=request.headers.items(),
                                        body=body)
    request.state.caller = signer
    return signer


Service = Annotated[NodeService, Depends(node_service)]
Caller = Annotated[Signer, Depends(authenticated_caller)]


def require_roles(*roles: str) -> Callable[[Signer], Awaitable[Signer]]:
    """A dependency that lets through only callers holding one of ``roles`` (403 otherwise)."""

    async def check(caller: Caller) -> Signer:
        if caller.role not in roles:
            raise ApiError(403, "FORBIDDEN", f"role {caller.role!r} may not do this; it needs one of "
                           f"{', '.join(roles)}", {"role": caller.role, "allowed": ", ".join(roles)})
        return caller

    return check
