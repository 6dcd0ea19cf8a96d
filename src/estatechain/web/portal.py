"""The portal's parts for one node, and the request dependencies that every page uses.

``Portal`` is built once per app on first use from the node service (like the certificate desk in
``api/routes/certificates.py``): the account store beside the ledger, the key custody of the
development layout, a sign-in rate limiter. ``Visitor`` finds or opens the browser's session;
``Member`` additionally requires a signed-in account; ``checked_form`` reads a POSTed form and
refuses it (403) unless its ``csrf`` field equals the session's token. Portal routes use
``PortalRoute``, which turns a ``PortalProblem`` into an HTML page (or the sign-in redirect) instead
of the API's JSON error shape, without touching the app's exception handlers.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from estatechain.errors import EstatechainError, NotFound
from estatechain.node.service import NodeService
from estatechain.storage.materials import MaterialStore
from estatechain.web.accounts import Account, AccountStore, Session
from estatechain.web.cases import Viewer, person_party
from estatechain.web.custody import KeyCustody
from estatechain.web.i18n import N_
from estatechain.web.pages import COOKIE, redirect, render

PORTAL_DB: Final = "portal.sqlite"
MAX_MATERIAL_BYTES: Final = 50 * 1024 * 1024
"""The contract's V24 limit, as the API's material store has it."""
SIGNIN_PER_MINUTE: Final = 20
"""Failed sign-ins one client address may make a minute, whatever the usernames (then it must wait)."""


class RateLimit:
    """Failed attempts per client address in a sliding one-minute window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[int]] = {}

    def _window(self, client: str, now_ms: int) -> deque[int]:
        window = self._seen.setdefault(client, deque())
        while window and window[0] <= now_ms - 60_000:
            window.popleft()
        return window

    def blocked(self, client: str, now_ms: int) -> bool:
        """Whether ``client`` failed ``per_minute`` times within the last minute."""
        return len(self._window(client, now_ms)) >= self.per_minute

    def failed(self, client: str, now_ms: int) -> None:
        """Count one failed attempt of ``client``."""
        self._window(client, now_ms).append(now_ms)


@dataclass(slots=True)
class Portal:
    """What the portal needs beside the node service."""

    service: NodeService
    accounts: AccountStore
    custody: KeyCustody
    signins: RateLimit


def portal(request: Request) -> Portal:
    """The app's portal, built on first use from ``app.state.service``."""
    found: Portal | None = getattr(request.app.state, "portal", None)
    if found is None:
        service: NodeService = request.app.state.service
        ledger_dir = service.settings.ledger_dir
        found = Portal(service=service, accounts=AccountStore(ledger_dir / PORTAL_DB, clock=service.clock),
                       custody=KeyCustody.for_node(ledger_dir), signins=RateLimit(SIGNIN_PER_MINUTE))
        request.app.state.portal = found
    return found


PortalDep = Annotated[Portal, Depends(portal)]


def material_store(request: Request, parts: Portal) -> MaterialStore:
    """The node's material store, shared with the API through ``app.state.materials``."""
    found: MaterialStore | None = getattr(request.app.state, "materials", None)
    if found is None:
        found = MaterialStore(parts.service.settings.ledger_dir / "materials", max_bytes=MAX_MATERIAL_BYTES)
        request.app.state.materials = found
    return found


def visitor(request: Request, parts: PortalDep) -> Session:
    """The browser's live session, or a new anonymous one in the browser's language (the response sets its cookie)."""
    session = parts.accounts.session(request.cookies.get(COOKIE))
    here = request.url.path + (f"?{request.url.query}" if request.url.query and request.method == "GET" else "")
    if session is None:
        session = parts.accounts.open_session(locale=first_locale(request.headers.get("accept-language", "")))
    return replace(session, here=here, tls=request.url.scheme == "https")


def first_locale(accept_language: str) -> str:
    """A new visitor's language: English when the browser asks for it first, else Chinese (the default)."""
    first = accept_language.split(",", 1)[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"


Visitor = Annotated[Session, Depends(visitor)]


class PortalProblem(Exception):
    """A request the portal answers with a page: 401 (sign in), 403 or 404, with a translatable text."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def member(session: Visitor) -> Session:
    """A session with a signed-in account (else the sign-in page)."""
    if session.account is None:
        raise PortalProblem(401, N_("Please sign in."))
    return session


Member = Annotated[Session, Depends(member)]


async def checked_form(request: Request, session: Visitor) -> FormData:
    """The POSTed form, refused with 403 unless its ``csrf`` field matches the session's token."""
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise PortalProblem(403, N_("This form has expired or did not come from this portal. Reload the page and "
                                    "try again."))
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def not_found() -> PortalProblem:
    """The one answer for a case that does not exist *or* that the account may not see: never tell which."""
    return PortalProblem(404, N_("Not found."))


class PortalRoute(APIRoute):
    """An APIRoute whose ``PortalProblem``s (and the error tree's faults) become pages in the visitor's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler (dependencies included) to catch the portal's problems."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PortalProblem as problem:
                session = visitor(request, portal(request))
                if problem.status == 401:
                    return redirect("/signin", session)
                return render("problem.html", session, status=problem.status, problem=problem.text)
            except NotFound:
                return render("problem.html", visitor(request, portal(request)), status=404, problem=N_("Not found."))
            except EstatechainError as fault:  # written for people: "no key for …", "not issuable: …"
                return render("problem.html", visitor(request, portal(request)), status=409, problem=str(fault))

        return handle


def viewer_of(parts: Portal, account: Account) -> Viewer:
    """The signed-in account as the case queries see it."""
    org_type = parts.service.genesis.org(account.org).type
    party = None
    if account.role == "person":
        party = person_party(parts.service.store, parts.custody.identity(account.handle).fingerprint)
    return Viewer(org=account.org, org_type=org_type, role=account.role, party=party)


def desk_of(account: Account) -> str:
    """The desk a role starts at."""
    if account.role.startswith("bank."):
        return "/bank"
    if account.role == "person":
        return "/owner"
    if account.role.startswith("registry."):
        return "/registry"
    return "/cases"
