"""Sign-in (with its TOTP step), sign-out, the language switch, the start page and the style sheet.

Sign-in is limited per client address (``SIGNIN_PER_MINUTE`` failures a minute) and per account (lockout after
``MAX_FAILURES`` wrong passwords or codes in a row, ``accounts.py``); the page says "wrong username or
password" for unknown usernames and wrong passwords alike. Staff who turned TOTP on give their code
on a second page; the anonymous session carries the half-done sign-in for five minutes (it is
written down then, and not before: ``accounts.py``). A successful sign-in ends the anonymous session
and opens a new one, keeping the chosen language. The language switch keeps the choice in a cookie
of its own, so a visitor's choice needs no row and outlasts sign-out.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Final

from fastapi import APIRouter, Request, Response

from estatechain.web import i18n
from estatechain.web.accounts import Account, Session
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, remember_locale, render
from estatechain.web.portal import CheckedForm, Portal, PortalDep, PortalProblem, PortalRoute, Visitor, desk_of

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

TOO_MANY: Final = N_("Too many sign-in attempts from this address. Wait a minute and try again.")
LOCKED: Final = N_("This account is locked after repeated wrong passwords. Try again in 15 minutes.")


STATIC: Final = {"portal.css": "text/css", "live.js": "text/javascript", "dropzone.js": "text/javascript"}
"""The portal's only static files (no build step), by name, with their media types."""


@cache
def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    """The style sheet and the two small scripts; any other name is not found."""
    media_type = STATIC.get(name)
    if media_type is None:
        raise PortalProblem(404, N_("There is no such page."))
    response = Response(_static(name), media_type=media_type)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("")
async def home(session: Visitor, done: str | None = None) -> Response:
    """Signed in: the role's desk (passing on which tx just committed); else the sign-in page."""
    if session.account is None:
        return redirect("/signin", session)
    return redirect(desk_of(session.account), session, query={"done": done} if done else None)


@router.get("/signin")
async def signin_page(session: Visitor) -> Response:
    """The sign-in form."""
    return render("signin.html", session, error=None)


@router.post("/signin")
async def signin(request: Request, session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """Check the password; on success a fresh session for the account."""
    client, now = request.client.host if request.client else "unknown", parts.service.clock.now_ms()
    if parts.signins.blocked(client, now):
        return render("signin.html", session, status=429, error=TOO_MANY)
    outcome = parts.accounts.sign_in(str(form.get("username", ""))[:64], str(form.get("password", ""))[:256])
    if outcome.account is None:
        parts.signins.failed(client, now)
        text = LOCKED if outcome.problem == "locked" else N_("Wrong username or password.")
        return render("signin.html", session, status=401, error=text)
    if outcome.problem == "second_factor":
        parts.accounts.begin_second_factor(session, outcome.account)
        return redirect("/signin/code", session)
    return _signed_in(session, outcome.account, parts)


def _signed_in(session: Session, account: Account, parts: Portal) -> Response:
    parts.accounts.end_session(session.token)
    fresh = parts.accounts.open_session(account=account, locale=session.locale)
    return redirect(desk_of(account), fresh)


@router.get("/signin/code")
async def second_factor_page(session: Visitor, parts: PortalDep) -> Response:
    """The TOTP code form, while a right password waits for it."""
    if parts.accounts.awaiting_second_factor(session.token) is None:
        return redirect("/signin", session)
    return render("signin_code.html", session, error=None)


@router.post("/signin/code")
async def second_factor(request: Request, session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """Check the TOTP code; on success a fresh session for the account."""
    client, now = request.client.host if request.client else "unknown", parts.service.clock.now_ms()
    if parts.signins.blocked(client, now):
        return render("signin_code.html", session, status=429, error=TOO_MANY)
    outcome = parts.accounts.second_factor(session.token, str(form.get("code", ""))[:16])
    if outcome.account is not None:
        return _signed_in(session, outcome.account, parts)
    parts.signins.failed(client, now)
    if outcome.problem == "expired":
        return render("signin.html", session, status=401,
                      error=N_("The time to give the code ran out. Sign in again."))
    if outcome.problem == "locked":
        return render("signin.html", session, status=401, error=LOCKED)
    return render("signin_code.html", session, status=401,
                  error=N_("Wrong code. Enter the 6 digits your authenticator app shows now."))


@router.post("/signout")
async def signout(session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """End the session; the browser's cookie is cleared."""
    assert form is not None
    parts.accounts.end_session(session.token)
    response = redirect("/signin", None)
    response.delete_cookie("ec_session", path="/portal")
    return response


@router.post("/lang")
async def language(session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """Switch the language (the browser keeps it; a signed-in session too) and go back to the page it came from."""
    locale = i18n.choose(str(form.get("locale", "")))
    parts.accounts.set_locale(session.token, locale)  # an anonymous session has no row: the cookie alone keeps it
    back = str(form.get("back", ""))
    path = back.removeprefix("/portal") if back.startswith("/portal") and "//" not in back else ""
    return remember_locale(redirect(path, session), replace(session, locale=locale))
