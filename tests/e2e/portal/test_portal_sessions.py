"""Visitors who are not signed in cost the node no session rows, yet keep their CSRF token and language (no browser).

Before, every request without a session cookie wrote a row into ``portal.sqlite`` for half an hour,
so anyone could grow the file with cookieless requests. The rows are counted in the node's own
``portal.sqlite`` while the shared portal node serves.
"""

from __future__ import annotations

import re
import sqlite3

import httpx

from estatechain.cli.main import node_dir
from estatechain.web.portal import PORTAL_DB
from portal.portal_people import PortalNode

AUDITOR = "gz-regulator/auditor1"
PUBLIC_PAGES = ("/signin", "/public/certificate", "/public/certificate?number=0000", "", "/no-such-page")


def session_rows(node: PortalNode) -> int:
    with sqlite3.connect(f"file:{node_dir(node.directory) / PORTAL_DB}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_cookieless_visits_to_public_pages_write_no_session_rows(node: PortalNode) -> None:
    before = session_rows(node)
    for _ in range(40):
        for path in PUBLIC_PAGES:
            page = httpx.get(node.portal + path)  # a fresh client each time: no cookie is ever sent back
            assert page.status_code in {200, 303, 404}, (path, page.status_code)
            assert "ec_session=" in page.headers["set-cookie"]
    assert session_rows(node) == before
    assert 'name="csrf"' in httpx.get(node.portal + "/signin").text  # the sign-in form still carries its token


def test_a_visitor_chooses_a_language_and_signs_in_and_only_the_sign_in_writes_a_row(node: PortalNode) -> None:
    before = session_rows(node)
    with httpx.Client(base_url=node.portal, headers={"Accept-Language": "zh-CN,zh;q=0.9"}) as browser:
        first = browser.get("/signin")
        assert '<html lang="zh-CN"' in first.text
        switched = browser.post("/lang", data={"csrf": csrf_of(first), "locale": "en", "back": "/portal/signin"})
        assert (switched.status_code, switched.headers["location"]) == (303, "/portal/signin")
        page = browser.get("/signin")
        assert '<html lang="en"' in page.text
        assert "Sign in" in page.text
        assert csrf_of(page) == csrf_of(first)  # the same visit: the form's token does not change under it
        assert session_rows(node) == before
        signed = browser.post("/signin", data={"csrf": csrf_of(page), "username": AUDITOR,
                                               "password": node.passwords[AUDITOR]})
        assert (signed.status_code, signed.headers["location"]) == (303, "/portal/regulator")
        assert session_rows(node) == before + 1
        desk = browser.get("/regulator")
        assert desk.status_code == 200
        assert '<html lang="en"' in desk.text  # the language chosen before sign-in carries on
        out = browser.post("/signout", data={"csrf": csrf_of(desk)})
        assert out.status_code == 303
        assert session_rows(node) == before
        assert '<html lang="en"' in browser.get("/signin").text  # and outlasts sign-out


def test_a_form_token_from_another_visit_is_refused(node: PortalNode) -> None:
    stranger = csrf_of(httpx.get(node.portal + "/signin"))
    with httpx.Client(base_url=node.portal) as browser:
        own = csrf_of(browser.get("/signin"))
        assert own != stranger
        refused = browser.post("/signin", data={"csrf": stranger, "username": AUDITOR, "password": "x"})
        assert refused.status_code == 403
        assert browser.post("/lang", data={"csrf": stranger, "locale": "en"}).status_code == 403
    forged = httpx.post(node.portal + "/signin", data={"csrf": own, "username": AUDITOR, "password": "x"},
                        cookies={"ec_session": "A" * 43})  # a made-up cookie gets no token of a real visit
    assert forged.status_code == 403
