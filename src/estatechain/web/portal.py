"""The portal's parts for one node, and the request dependencies that every page uses.

``Portal`` is built once per app on first use from the node service (like the certificate desk in
``api/routes/certificates.py``): the account store beside the ledger, the key custody of the
development layout, a sign-in rate limiter. ``Visitor`` finds the browser's session (one not
signed in is kept only in its cookie); ``Member`` additionally requires a signed-in account;
``checked_form`` reads a POSTed form and refuses it (403) unless its ``csrf`` field equals the
session's token. Portal routes use ``PortalRoute``, which turns a ``PortalProblem`` into an HTML
page (or the sign-in redirect) instead of the API's JSON error shape, without touching the app's
exception handlers.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from estatechain.errors import EstatechainError, NotFound
from estatechain.node.service import NodeService
from estatechain.storage.follower import FirstBuild
from estatechain.storage.materials import MaterialStore
from estatechain.storage.store import LEDGER_FILE
from estatechain.web.accounts import Account, AccountStore, Session, totp_key_from
from estatechain.web.caseindex import FILE as CASE_INDEX
from estatechain.web.caseindex import CaseIndex
from estatechain.web.cases import Viewer, person_party
from estatechain.web.consentindex import FILE as CONSENT_INDEX
from estatechain.web.consentindex import ConsentIndex
from estatechain.web.custody import KeyCustody, TooLarge
from estatechain.web.i18n import LOCALES, N_
from estatechain.web.inquiryindex import FILE as INQUIRY_INDEX
from estatechain.web.inquiryindex import InquiryIndex
from estatechain.web.pages import COOKIE, LANG_COOKIE, redirect, render, secure

log = logging.getLogger("estatechain.web")

PORTAL_DB: Final = "portal.sqlite"
MAX_MATERIAL_BYTES: Final = 50 * 1024 * 1024
"""The contract's V24 limit, as the API's material store has it."""
SIGNIN_PER_MINUTE: Final = 20
"""Failed sign-ins one client address may make a minute, whatever the usernames (then it must wait)."""


class RateLimit:
    """Failed attempts per client address in a sliding one-minute window.

    Only addresses with a failure inside the window are kept: asking whether an address is blocked
    stores nothing, and addresses whose failures all left the window are dropped once more than
    ``SWEEP_AT`` are held, so a stream of sign-in attempts from ever new addresses cannot grow the
    node's memory without bound.
    """

    SWEEP_AT: Final = 4_096

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[int]] = {}

    def __len__(self) -> int:
        """How many client addresses the limiter holds failures of."""
        return len(self._seen)

    @staticmethod
    def _trim(window: deque[int], now_ms: int) -> deque[int]:
        while window and window[0] <= now_ms - 60_000:
            window.popleft()
        return window

    def blocked(self, client: str, now_ms: int) -> bool:
        """Whether ``client`` failed ``per_minute`` times within the last minute."""
        window = self._seen.get(client)
        return window is not None and len(self._trim(window, now_ms)) >= self.per_minute

    def failed(self, client: str, now_ms: int) -> None:
        """Count one failed attempt of ``client``."""
        if client not in self._seen and len(self._seen) >= self.SWEEP_AT:
            self._seen = {c: w for c, w in self._seen.items() if self._trim(w, now_ms)}
        self._trim(self._seen.setdefault(client, deque()), now_ms).append(now_ms)


@dataclass(slots=True)
class Portal:
    """What the portal needs beside the node service."""

    service: NodeService
    accounts: AccountStore
    custody: KeyCustody
    signins: RateLimit
    cases: FirstBuild[CaseIndex]
    """The desks' index of cases by filing org, party and state (``caseindex.py``), beside the ledger."""
    consents: FirstBuild[ConsentIndex]
    """The banks' index of owners' inquiry consents by unit and bank (``consentindex.py``), beside the ledger."""
    inquiries: FirstBuild[InquiryIndex]
    """The index of inquiries by requesting org and by unit (``inquiryindex.py``), beside the ledger: the
    inquiry desk's own inquiries and the owners' "who looked" pages (``inquiry_index``)."""


def inquiry_index(request: Request) -> FirstBuild[InquiryIndex]:
    """The app's one inquiry index, opened beside the ledger on first use.

    The portal (its inquiry desk and owner pages) and the API's ``/v1/units/{unit}/inquiries`` share it,
    so the file has one first build and one catch-up per block, whichever asks first.
    """
    state = request.app.state
    found: FirstBuild[InquiryIndex] | None = getattr(state, "inquiry_index", None)
    if found is None:
        service: NodeService = state.service
        ledger_dir = service.settings.ledger_dir
        found = state.inquiry_index = FirstBuild(InquiryIndex(ledger_dir / INQUIRY_INDEX, service.store.connection),
                                                 ledger_dir / LEDGER_FILE)
    return found


def portal(request: Request) -> Portal:
    """The app's portal, built on first use from ``app.state.service``."""
    found: Portal | None = getattr(request.app.state, "portal", None)
    if found is None:
        service: NodeService = request.app.state.service
        ledger_dir = service.settings.ledger_dir
        accounts = AccountStore(ledger_dir / PORTAL_DB, clock=service.clock,
                                totp_key=totp_key_from(service.keys.sealing_key()))
        ledger, ledger_file = service.store.connection, ledger_dir / LEDGER_FILE
        found = Portal(service=service, accounts=accounts,
                       custody=KeyCustody(service.keys, max_tx_bytes=service.genesis.policies.max_tx_bytes),
                       signins=RateLimit(SIGNIN_PER_MINUTE),
                       cases=FirstBuild(CaseIndex(ledger_dir / CASE_INDEX, ledger), ledger_file),
                       consents=FirstBuild(ConsentIndex(ledger_dir / CONSENT_INDEX, ledger), ledger_file),
                       inquiries=inquiry_index(request))
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
    """The browser's live session, else an anonymous one kept only in its cookie (the response sets the cookie).

    An anonymous visitor's language is the one they chose (``LANG_COOKIE``), else the browser's.
    """
    token = request.cookies.get(COOKIE)
    session = parts.accounts.session(token)
    here = request.url.path + (f"?{request.url.query}" if request.url.query and request.method == "GET" else "")
    if session is None:
        chosen = request.cookies.get(LANG_COOKIE)
        locale = chosen if chosen in LOCALES else first_locale(request.headers.get("accept-language", ""))
        session = parts.accounts.anonymous(token, locale=locale)
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
                large = {"too_large": fault} if isinstance(fault, TooLarge) else {}  # with its size and the limit
                return render("problem.html", visitor(request, portal(request)), status=413 if large else 409,
                              problem=str(fault), **large)
            except Exception as caught:  # noqa: BLE001  (every other failure is a page too: see ``unexpected``)
                return unexpected(request, caught)

        return handle


def problem_page(request: Request, status: int, text: str, **extra: str) -> Response:
    """The problem page in the visitor's language with ``status`` (the route's own errors, 404, 405, 500)."""
    return render("problem.html", visitor(request, portal(request)), status=status, problem=text, **extra)


def unexpected(request: Request, caught: Exception) -> Response:
    """Starlette's HTTP errors and invalid requests as problem pages; anything else a polite 500.

    The 500 is logged with its trace and a short reference, and the page shows only the reference,
    never the trace. When even the visitor's session cannot be read (the account store is what
    failed), the answer is still a page: a fixed one in both languages, with no session.
    """
    if isinstance(caught, StarletteHTTPException):
        return problem_page(request, caught.status_code, N_("Not found.") if caught.status_code == 404
                            else N_("The request was not understood. Go back and try again."))
    if isinstance(caught, RequestValidationError):  # a crafted query or form: the pages never send one
        return problem_page(request, 400, N_("The request was not understood. Go back and try again."))
    reference = secrets.token_hex(4)
    log.error("portal %s %s failed (reference %s)", request.method, request.url.path, reference, exc_info=caught)
    text = N_("Something went wrong on our side. Try again in a moment; if it keeps happening, tell your "
              "administrator this reference.")
    try:
        return problem_page(request, 500, text, reference=reference)
    except Exception:  # the last resort must not fail
        log.exception("portal: the problem page failed too (reference %s)", reference)
        return secure(HTMLResponse(FALLBACK_500 % reference, status_code=500), None)


FALLBACK_500: Final = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>500</title></head>'
                       '<body><main><h1>系统出错 · <span lang="en">Something went wrong</span></h1><p>%s</p>'
                       "</main></body></html>")
"""The last resort when the problem page cannot be rendered: "system error" in both languages and the reference."""


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
    if account.role.startswith("registry."):
        return "/registry"
    return _DESKS.get(account.role, "/cases")


_DESKS: Final = {"person": "/owner", "court": "/court", "state_organ": "/court", "auditor": "/regulator",
                 "developer": "/developer"}
"""The desks of the roles that have one of their own, beside the bank's and the registry's."""
