"""The portal's error pages in chromium: an unknown address, a method a page does not take, and a fault.

Each is the portal's problem page in the visitor's language with the status kept (never the API's
JSON, which the API's own paths keep); an unexpected exception in a portal route is a polite 500
that shows a reference and no stack trace, while the log has the trace under the same reference.
"""

from __future__ import annotations

import logging

import pytest
from playwright.sync_api import Browser

from estatechain.web import portal as portal_module
from estatechain.web import routes_cases
from portal.portal_people import Person, PortalNode

CLERK = "icbc-gz/operator1"
SECRET = "internal detail that must not reach the browser"


def visitor(browser: Browser, node: PortalNode, people: list[Person], locale: str, username: str = "") -> Person:
    person = Person(browser, node, username, locale=locale)
    people.append(person)
    if username:
        person.sign_in()
    return person


@pytest.mark.parametrize(("locale", "text"), [("zh-CN", "未找到。"), ("en", "Not found.")])
def test_an_unknown_portal_address_is_the_problem_page_in_the_visitors_language(
        browser: Browser, node: PortalNode, people: list[Person], locale: str, text: str) -> None:
    person = visitor(browser, node, people, locale)
    response = person.page.goto(node.portal + "/no/such/page?x=1")
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert person.page.get_attribute("html", "lang") == locale
    assert person.page.inner_text("[role=alert]") == text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    api = person.context.request.get(node.url + "/v1/no/such/thing")
    assert api.status == 404
    assert api.json()["error"] == "NOT_FOUND"  # the API keeps its JSON errors


def test_a_method_a_page_does_not_take_is_a_405_page_with_allow(browser: Browser, node: PortalNode,
                                                               people: list[Person]) -> None:
    clerk = visitor(browser, node, people, "en", CLERK)
    refused = clerk.context.request.post(node.portal + "/cases", form={"x": "1"})
    assert refused.status == 405
    assert refused.headers["allow"] == "GET"
    assert refused.headers["content-type"].startswith("text/html")
    body = refused.text()
    assert "This page does not take that kind of request." in body
    assert '<html lang="en">' in body
    deleted = clerk.context.request.delete(node.portal + "/signin")
    assert deleted.status == 405
    assert deleted.headers["allow"] == "GET, POST"
    chinese = visitor(browser, node, people, "zh-CN")
    assert "本页不接受这种请求。" in chinese.context.request.put(node.portal + "/signin").text()


def test_a_crafted_query_is_a_400_page(browser: Browser, node: PortalNode, people: list[Person]) -> None:
    anonymous = visitor(browser, node, people, "en")
    response = anonymous.page.goto(node.portal + "/public/certificate?number=" + "9" * 500)
    assert response is not None
    assert response.status in {200, 400, 404}  # the page's own length check or the request's
    assert response.headers["content-type"].startswith("text/html")


def test_a_fault_in_a_portal_route_is_a_polite_500_with_a_reference_in_the_log(
        browser: Browser, node: PortalNode, people: list[Person], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    clerk = visitor(browser, node, people, "zh-CN", CLERK)

    def broken(*_: object) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(routes_cases, "viewer_of", broken)
    with caplog.at_level(logging.ERROR, logger="estatechain.web"):
        response = clerk.page.goto(node.portal + "/cases")
    assert response is not None
    assert response.status == 500
    page = clerk.page.content()
    assert "系统内部出现问题" in clerk.page.inner_text("[role=alert]")
    assert SECRET not in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page
    reference = clerk.page.inner_text("[data-testid=reference]")
    assert len(reference) == 8
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged, [r.getMessage() for r in caplog.records]
    assert logged[0].exc_info is not None
    assert SECRET in str(logged[0].exc_info[1])
    assert clerk.page.locator("header.top [data-testid=who]").count() == 1  # still the portal, signed in

    monkeypatch.setattr(portal_module, "render", broken)  # the problem page cannot render either
    last = clerk.context.request.get(node.portal + "/cases")
    assert last.status == 500
    assert "系统出错" in last.text()
    assert SECRET not in last.text()
    assert "default-src 'none'" in last.headers["content-security-policy"]
