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


def principal(caller: Signer) -> str:
    """Who owns what ``caller`` creates: its org, or for an individual (a person) the certificate itself.

    Staff of a member org act for their org and share its objects. Every person certificate comes from
    the identity authority's CA, so sharing by org would let any person — and the authority's officer —
    read every other person's materials and answers.
    """
    if caller.org_type == "identity_authority":
        return f"{caller.org_id}.{caller.fingerprint}"
    return caller.org_id


def may_read_own(caller: Signer, *, signer: str, org_id: str, individual: bool) -> bool:
    """Whether ``caller`` may read an object created by certificate ``signer`` of org ``org_id``.

    ``individual`` says the creator acted for itself (a person): then only that certificate may read it.
    """
    if caller.fingerprint == signer:
        return True
    return not individual and caller.org_type != "identity_authority" and caller.org_id == org_id
