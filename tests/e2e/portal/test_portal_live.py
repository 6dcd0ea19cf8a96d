"""Live updates: a case page and a desk follow the node's event stream without the user reloading.

In chromium, the filing bank's clerk has the case page open and the registry's intake clerk her
desk, while the owner confirms in another browser: both pages show the case's new state within a
bounded wait, without a reload. At the HTTP level, ``/portal/events`` relays a case's changes to
the accounts that may see the case (its bank, its owner, the registry) and to no one else (another
bank's clerk), and a reconnect with ``Last-Event-ID`` resumes after exactly that event. A stream ends
within a heartbeat when its session is signed out in another tab, and a session holds at most a few
streams at once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, expect

from estatechain.cli.main import node_dir
from estatechain.storage.store import LedgerStore
from estatechain.web import routes_live
from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here, take

OWNER = "gz-identity/person3"  # the rules test counts this unit's rows relative to before: our filing is harmless
CLERK = "icbc-gz/operator1"
APPROVER = "icbc-gz/approver1"
OTHER_BANK = "ccb-gz/operator1"
INTAKE = "gz-registry/intake1"
WAIT_MS = 10_000


@dataclass(frozen=True, slots=True)
class Filed:
    """A case filed and confirmed by its bank, and the ledger height before it was filed."""

    case_id: str
    before: int


@pytest.fixture(scope="module")
def filed(browser: Browser, node: PortalNode) -> Iterator[Filed]:
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        before = store.height
    finally:
        store.close()
    clerk, approver = Person(browser, node, CLERK), Person(browser, node, APPROVER)
    try:
        clerk.sign_in()
        open_filing(clerk, node.unit_of(OWNER))
        fill_filing(clerk, contract="LOAN-LIVE-0001")
        case_id = sign_here(clerk)
        approver.sign_in()
        take(approver, case_id, "confirm")
        yield Filed(case_id=case_id, before=before)
    finally:
        clerk.close()
        approver.close()


def test_the_case_page_and_the_intake_desk_update_when_the_owner_confirms(
        browser: Browser, node: PortalNode, people: list[Person], filed: Filed) -> None:
    clerk, intake, owner = (Person(browser, node, name) for name in (CLERK, INTAKE, OWNER))
    people += [clerk, intake, owner]
    clerk.sign_in()
    clerk.page.goto(f"{node.portal}/cases/{filed.case_id}")
    expect(clerk.page.locator("[data-testid=state]")).to_have_text("已提交，待确认")
    intake.sign_in()
    queue = intake.page.locator("main table.cases").first
    expect(queue).not_to_contain_text(filed.case_id[:12])
    for page in (clerk.page, intake.page):
        expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=WAIT_MS)
        page.evaluate("() => { window.notReloaded = true; }")

    owner.sign_in()
    take(owner, filed.case_id, "confirm")

    expect(clerk.page.locator("[data-testid=state]")).to_have_text("已确认，待受理", timeout=WAIT_MS)
    expect(clerk.page.locator("ol.timeline li")).to_have_count(3)  # filed, the bank's and the owner's confirmation
    expect(clerk.page.locator("[role=status].live-status")).to_have_text("本页刚刚已自动更新。")
    expect(queue).to_contain_text(filed.case_id[:12], timeout=WAIT_MS)
    for page in (clerk.page, intake.page):
        assert page.evaluate("() => window.notReloaded === true")  # the same document: updated in place
    assert re.fullmatch(r"\d+\.\d+", str(clerk.page.get_attribute("html", "data-live-last")))


def test_a_page_being_typed_in_offers_a_reload_instead_of_replacing_the_text(
        browser: Browser, node: PortalNode, people: list[Person], filed: Filed) -> None:
    intake = Person(browser, node, INTAKE, locale="en")
    people.append(intake)
    intake.sign_in()
    intake.switch("en")
    page = intake.page
    page.goto(f"{node.portal}/cases/{filed.case_id}")
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=WAIT_MS)
    page.fill("#missing-text-LOAN_CONTRACT", "the loan contract's page 3 is missing")
    reviewer = Person(browser, node, "gz-registry/intake1")  # a colleague at the same desk takes the case
    people.append(reviewer)
    reviewer.sign_in()
    take(reviewer, filed.case_id, "accept")
    expect(page.locator(".live-changed")).to_contain_text("This page has changed since you opened it.",
                                                          timeout=WAIT_MS)
    assert page.input_value("#missing-text-LOAN_CONTRACT") == "the loan contract's page 3 is missing"
    page.click(".live-changed a")
    expect(page.locator("[data-testid=state]")).not_to_have_text("Confirmed, awaiting intake")


def signed_in(node: PortalNode, username: str) -> httpx.Client:
    """An HTTP client with the portal session of ``username`` (as a browser would have it)."""
    client = httpx.Client(base_url=node.url, timeout=WAIT_MS / 1000, headers={"accept-language": "zh-CN"})
    page = client.get("/portal/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post("/portal/signin", data={"csrf": token[1], "username": username,
                                               "password": node.secret_for(username)})
    assert done.status_code == 303, done.text
    return client


def replayed(node: PortalNode, username: str, after: str) -> list[tuple[str, dict[str, object]]]:
    """The ``case`` messages ``username``'s stream replays after cursor ``after``: (id, data) each."""
    found: list[tuple[str, dict[str, object]]] = []
    client = signed_in(node, username)
    with closing(client), client.stream("GET", "/portal/events", headers={"last-event-id": after}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        message: dict[str, str] = {}
        for line in stream.iter_lines():
            if line == ": caught up":
                return found
            if not line:
                if message.get("event") == "case":
                    found.append((message["id"], json.loads(message["data"])))
                message = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(": ")
                message[field] = value
    raise AssertionError("the stream ended before it caught up")


def test_the_stream_relays_a_case_only_to_those_who_may_see_it_and_resumes_after_an_id(
        node: PortalNode, filed: Filed) -> None:
    after = f"{filed.before}.0"
    bank = [(cursor, data) for cursor, data in replayed(node, CLERK, after) if data["case"] == filed.case_id]
    assert [data["state"] for _, data in bank][:2] == ["FILED", "FILED"]  # filed, then the bank's confirmation
    for username in (OWNER, INTAKE):
        assert filed.case_id in {data["case"] for _, data in replayed(node, username, after)}, username
    assert filed.case_id not in {data["case"] for _, data in replayed(node, OTHER_BANK, after)}
    first = bank[0][0]
    resumed = [cursor for cursor, data in replayed(node, CLERK, first) if data["case"] == filed.case_id]
    assert resumed == [cursor for cursor, _ in bank[1:]]


def test_the_stream_needs_a_signed_in_session(node: PortalNode) -> None:
    anonymous = httpx.get(node.portal + "/events", timeout=WAIT_MS / 1000)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].endswith("/portal/signin")
    script = httpx.get(node.portal + "/static/live.js", timeout=WAIT_MS / 1000)
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text
    policy = httpx.get(node.portal + "/signin", timeout=WAIT_MS / 1000).headers["content-security-policy"]
    assert "script-src 'self';" in policy  # our own script file only: nothing inline, nothing from elsewhere
    assert "connect-src 'self';" in policy
    assert "unsafe" not in policy


def raw_stream(node: PortalNode, username: str, after: str) -> str:
    """Everything ``username``'s stream sends until it closes (the test makes it close soon)."""
    client = signed_in(node, username)
    with closing(client), client.stream("GET", "/portal/events", headers={"last-event-id": after}) as stream:
        return "".join(stream.iter_text())


def test_a_browser_too_far_behind_is_told_to_reload_and_the_stream_ends_with_the_session(
        node: PortalNode, filed: Filed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_live, "REPLAY_BLOCKS", 0)  # any gap is too long to replay
    monkeypatch.setattr(routes_live, "SESSION_MS", 1)  # the session's idle time runs out at once
    sent = raw_stream(node, CLERK, f"{filed.before}.0")
    assert "event: reload" in sent
    assert filed.case_id not in sent  # nothing replayed
    assert sent.index("event: reload") < sent.index(": caught up") < sent.index("event: end")


def csrf_of(client: httpx.Client) -> str:
    """The session's CSRF token, as any signed-in page carries it (the sign-out form in the header)."""
    page = client.get("/portal/", follow_redirects=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return token[1]


def until_caught_up(lines: Iterator[str]) -> None:
    """Read the stream's start: after ``: caught up`` it follows new blocks."""
    for line in lines:
        if line == ": caught up":
            return
    raise AssertionError("the stream ended before it caught up")


def test_signing_out_in_another_tab_ends_the_open_stream_within_a_heartbeat(
        node: PortalNode, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_live, "HEARTBEAT_S", 1.0)
    client = signed_in(node, CLERK)
    with closing(client):
        with client.stream("GET", "/portal/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            until_caught_up(lines)
            signed_out = client.post("/portal/signout", data={"csrf": csrf_of(client)})  # the other tab
            assert signed_out.status_code == 303
            started = time.monotonic()
            rest = "\n".join(lines)  # the server closes the stream: this returns
            waited = time.monotonic() - started
        assert 'event: end\ndata: {"reason":"the session has ended"}' in rest
        assert waited < routes_live.HEARTBEAT_S + 3
        assert client.get("/portal/events").status_code == 303  # and no new stream for that session


def test_a_session_holds_a_few_streams_at_once_and_one_more_is_refused(
        node: PortalNode, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_live, "HEARTBEAT_S", 1.0)
    client = signed_in(node, APPROVER)
    with closing(client), ExitStack() as streams:
        opened = [streams.enter_context(client.stream("GET", "/portal/events"))
                  for _ in range(routes_live.MAX_STREAMS)]
        assert [s.status_code for s in opened] == [200] * routes_live.MAX_STREAMS
        one_more = client.get("/portal/events")
        assert one_more.status_code == 429
        assert "已在过多的标签页中打开实时更新" in one_more.text  # the session's language
        other = signed_in(node, INTAKE)  # another session is not affected
        with closing(other), other.stream("GET", "/portal/events") as theirs:
            assert theirs.status_code == 200
        opened[0].close()  # a tab closes: the server notices at its next heartbeat and frees the slot
        deadline = time.monotonic() + routes_live.HEARTBEAT_S + 5
        while True:
            with client.stream("GET", "/portal/events") as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "the closed stream's slot was never given back"
            time.sleep(0.5)
