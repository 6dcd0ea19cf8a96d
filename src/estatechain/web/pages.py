"""Rendering: one Jinja2 environment per language (autoescape on) and the security headers of every page.

A page is rendered with the session's language, its CSRF token and the signed-in account, so every
template can show the org and role in its header and put the token in every form. Responses carry
a Content-Security-Policy that allows no inline script and no script from elsewhere: only the
portal's own ``live.js`` (live updates, optional: every action works without it) and its requests
to the portal's event stream. They forbid framing and sniffing, and are never cached, since they
show personal and case data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from estatechain.web import i18n
from estatechain.web.accounts import SESSION_MS, Session

COOKIE: Final = "ec_session"
LANG_COOKIE: Final = "ec_lang"
"""The language a visitor chose, kept in the browser: an anonymous session has no row to keep it in."""
LANG_COOKIE_S: Final = 365 * 24 * 3600
_HEX64: Final = re.compile("[0-9a-f]{64}")
BASE: Final = "/portal"
CSP: Final = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@cache
def environment(locale: str) -> Environment:
    """The template environment of ``locale``: autoescaping, strict undefined names, gettext installed."""
    env = Environment(loader=PackageLoader("estatechain.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"], trim_blocks=True,
                      lstrip_blocks=True)
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda fen: i18n.money(int(fen), locale)
    env.filters["when"] = lambda ms: i18n.when(None if ms is None else int(ms), locale)
    translate = i18n.translations(locale).gettext
    env.filters["t"] = translate  # a plain str, autoescaped: for message ids held in variables
    env.filters["name"] = lambda code, table: translate(i18n.NAMES[table].get(str(code), str(code)))
    env.globals["locale"] = locale
    env.globals["locales"] = i18n.LOCALES
    env.globals["base"] = BASE
    return env


def secure(response: Response, session: Session | None) -> Response:
    """Add the security headers and (re)set the session cookie: HttpOnly, SameSite=Strict, expiring, Secure on TLS."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if session is not None:
        response.set_cookie(COOKIE, session.token, max_age=SESSION_MS // 1000, path=BASE, httponly=True,
                            samesite="strict", secure=session.tls)
    return response


def remember_locale(response: Response, session: Session) -> Response:
    """Keep ``session``'s language in the browser (``LANG_COOKIE``), for this visit and the next ones."""
    response.set_cookie(LANG_COOKIE, session.locale, max_age=LANG_COOKIE_S, path=BASE, httponly=True,
                        samesite="strict", secure=session.tls)
    return response


def render(template: str, session: Session, *, status: int = 200, **context: Any) -> HTMLResponse:  # noqa: ANN401
    """Render ``template`` for ``session`` with ``context``."""
    if "done" in context and not _HEX64.fullmatch(str(context["done"] or "")):
        context["done"] = None  # only a tx id is ever announced, never text from a crafted link
    env = environment(session.locale)
    html = env.get_template(template).render(session=session, account=session.account, csrf=session.csrf,
                                             **context)
    response = HTMLResponse(html, status_code=status)
    secure(response, session)
    return response


def redirect(path: str, session: Session | None, *, query: Mapping[str, str] | None = None) -> Response:
    """303 to a portal page (``path`` relative to ``/portal``); after a POST the browser GETs the page.

    ``query`` is added to any query ``path`` has (a desk's page on one unit, ``/court?unit=…``).
    """
    target = BASE + path
    if query:
        target += ("&" if "?" in path else "?") + urlencode(query)
    return secure(RedirectResponse(target, status_code=303), session)


def listening_base_url(public_url: str | None, host: str, port: int) -> str | None:
    """What ``own_base_url`` answers for a request to the socket ``host``:``port``, known without one.

    None for a wildcard bind (``0.0.0.0``, ``::``) without ``public_url``: the address a caller reaches
    is then known only from its request, so nothing is printed with an address before one comes.
    """
    if public_url:
        return public_url if public_url.endswith("/") else public_url + "/"
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104  (compared, not bound)
        return None
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def own_base_url(request: Request, public_url: str | None = None) -> str:
    """The node's public address if configured (``Settings.public_url``), else its listening socket's.

    Never the ``Host`` header, which the client writes: a certificate PDF is rendered once and kept
    (every copy handed out is the same file), and its QR code carries this address, so one request
    with a crafted ``Host`` would point every later copy's verification at a site of the sender's
    choosing. The scheme is only ever ``http`` or ``https``. A node behind a reverse proxy sets
    ``public_url``: its socket address (loopback, by default) is useless on a resident's phone.
    """
    if public_url:
        return public_url if public_url.endswith("/") else public_url + "/"
    scheme = "https" if request.scope.get("scheme") == "https" else "http"
    server = request.scope.get("server")
    if not server:
        return f"{scheme}://localhost{request.scope.get('root_path', '')}/"
    host, port = str(server[0]), server[1]
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{scheme}://{host}{'' if port is None else f':{port}'}{request.scope.get('root_path', '')}/"
