"""A real node with the portal over a small development consortium, and Debian's chromium driven by Playwright.

One node and one browser serve every portal test of the session (about 10 s to set up): the
consortium is made like ``estatechain init`` makes it, the portal's dev accounts like ``estatechain
up`` makes them. Each test signs its people in through fresh browser contexts. Chromium must be the
Debian package at ``/usr/bin/chromium`` (installed by ``scripts/system-packages``): Playwright's own
browser download is not used, and a missing browser fails the tests with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from estatechain.cli.main import init
from portal.portal_people import Person, PortalNode, serve_node

CHROMIUM: Final = Path("/usr/bin/chromium")
ARGS: Final = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
UNITS: Final = 100
SEED: Final = 20260104


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalNode]:
    directory = tmp_path_factory.mktemp("portal") / "devnet"
    init(directory, units=UNITS, seed=SEED)
    with serve_node(directory) as served:
        yield served


@pytest.fixture(scope="package")
def playwright(node: PortalNode) -> Iterator[Playwright]:
    """Started after the node: sync Playwright runs an event loop in this thread, and ``init`` needs none there."""
    assert node.url
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"the portal tests drive Debian's chromium at {CHROMIUM}, which is missing: run scripts/setup "
                    "(scripts/system-packages installs it)", pytrace=False)
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield launched
    launched.close()


@pytest.fixture
def people(browser: Browser, node: PortalNode) -> Iterator[list[Person]]:
    """Contexts opened by a test; closed after it."""
    opened: list[Person] = []
    yield opened
    for person in opened:
        person.close()
