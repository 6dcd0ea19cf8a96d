"""The staff member's own account page: turning the TOTP second factor on and off.

TOTP is optional per account (issue 9). Turning it on shows a new secret as a QR code (inline SVG:
no script, no external image) and as text, and takes effect only when a code from it is entered,
so a mistyped or unscanned secret cannot lock anyone out. Turning it off needs a current code, so a
session left open on a shared desk cannot remove the factor; for the same reason no new secret is
made while one is in force (enrolling over it would swap it without its code). Owners have no page
here: they sign in with one-time codes.
"""

from __future__ import annotations

from typing import Final

import segno
from fastapi import APIRouter, Response
from markupsafe import Markup

from estatechain.web.accounts import OWNER_ROLE, PasswordRefused, Session, TotpInForce, TotpUnavailable
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import CheckedForm, Member, PortalDep, PortalProblem, PortalRoute

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

IN_FORCE: Final = N_("The authenticator is already on. To move it to another app, turn it off first with a "
                     "current code, then set it up again.")
"""Why no new secret is made while one is in force: replacing it would remove the factor without its code."""


def _staff(session: Session) -> Session:
    if session.account is None or session.account.role == OWNER_ROLE:
        raise PortalProblem(404, N_("There is no such page."))
    return session


@router.get("/account")
async def account_page(session: Member, parts: PortalDep, done: str | None = None) -> Response:
    """Whether TOTP is on, and the form to turn it on or off."""
    account = _staff(session).account
    assert account is not None
    return render("account.html", session, on=parts.accounts.totp_on(account.username), enrol=None,
                  error=None, changed=done in {"on", "off"} and done)


@router.post("/account/totp/begin")
async def totp_begin(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """A new secret to scan; it is not in force until confirmed with a code."""
    assert form is not None
    account = _staff(session).account
    assert account is not None
    try:
        secret, uri = parts.accounts.begin_totp(account, str(form.get("password", ""))[:256])
    except PasswordRefused:
        return render("account.html", session, status=403, on=False, enrol=None, changed=None,
                      error=N_("Wrong password, or the account is locked for a while: the authenticator is not set "
                               "up. Enter the password you sign in with."))
    except TotpInForce:
        return render("account.html", session, status=409, on=True, enrol=None, changed=None, error=IN_FORCE)
    except TotpUnavailable:
        return render("account.html", session, status=409, on=False, enrol=None, changed=None,
                      error=N_("This node keeps no sealing key, so it cannot protect authenticator secrets. "
                               "Ask your administrator to import the organisation's keys."))
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=4, title="TOTP"))  # noqa: S704  (segno's own SVG, no input text inside but the URI it encodes)
    return render("account.html", session, on=False, enrol={"secret": secret, "qr": qr}, error=None, changed=None)


@router.post("/account/totp/confirm")
async def totp_confirm(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Turn TOTP on when the code matches the secret just shown."""
    account = _staff(session).account
    assert account is not None
    if parts.accounts.totp_on(account.username):
        return render("account.html", session, status=409, on=True, enrol=None, changed=None, error=IN_FORCE)
    if not parts.accounts.confirm_totp(account, str(form.get("code", ""))[:16]):
        return render("account.html", session, status=400, on=False, enrol=None, changed=None,
                      error=N_("That code does not match the new secret, so the authenticator is not turned on. "
                               "Start again and enter the code the app shows now."))
    return redirect("/account", session, query={"done": "on"})


@router.post("/account/totp/off")
async def totp_off(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Turn TOTP off with a current code."""
    account = _staff(session).account
    assert account is not None
    if not parts.accounts.turn_off_totp(account, str(form.get("code", ""))[:16]):
        return render("account.html", session, status=400, on=True, enrol=None, changed=None,
                      error=N_("Wrong code: the authenticator stays on. Enter the code the app shows now."))
    return redirect("/account", session, query={"done": "off"})
