"""X-Forwarded-For names the client only when it comes from a proxy the operator listed (a node served on loopback).

uvicorn believes the header from 127.0.0.1 unless told otherwise, so a local caller could give
every request another address and never meet the per-address limits. The sign-in limit
(``SIGNIN_PER_MINUTE`` failures a minute) and the certificate lookups' audit log show which address
the node counted.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import orjson
import pytest
from register_node import serving

from estatechain.certificates.lookups import LOG_NAME
from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.settings import Settings
from estatechain.storage.store import LedgerStore
from estatechain.web.portal import SIGNIN_PER_MINUTE

TOO_MANY = "Too many sign-in attempts from this address"
NUMBER = "GZ-2026-00000001"


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    LedgerStore.create(tmp_path / "ledger", consortium.genesis).close()
    return tmp_path / "ledger"


def portal_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url + "/portal", headers={"Accept-Language": "en"})


def wrong_sign_in(portal: httpx.Client, forwarded_for: str) -> httpx.Response:
    """One sign-in with a wrong password, the request claiming to come from ``forwarded_for``."""
    form = re.search(r'name="csrf" value="([^"]+)"', portal.get("/signin").text)
    assert form is not None
    return portal.post("/signin", headers={"X-Forwarded-For": forwarded_for},
                       data={"csrf": form.group(1), "username": "nobody/here", "password": "wrong"})


def looked_up_by(ledger: Path, url: str, forwarded_for: str) -> str:
    """The client a certificate lookup claiming to come from ``forwarded_for`` was recorded under."""
    answer = httpx.get(f"{url}/v1/certificates/verify", params={"number": NUMBER},
                       headers={"X-Forwarded-For": forwarded_for})
    assert answer.status_code == 404, answer.text
    last = (ledger / "certificates" / LOG_NAME).read_bytes().splitlines()[-1]
    return str(orjson.loads(last)["client"])


def test_by_default_a_forwarded_address_is_ignored_and_the_sign_in_limit_holds(
        ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own variable does not reopen the hole
    with serving(Settings(ledger_dir=ledger, port=0)) as url, portal_client(url) as portal:
        answers = [wrong_sign_in(portal, f"203.0.113.{n}") for n in range(SIGNIN_PER_MINUTE + 1)]
        assert [a.status_code for a in answers] == [401] * SIGNIN_PER_MINUTE + [429]
        assert TOO_MANY in answers[-1].text
        assert looked_up_by(ledger, url, "203.0.113.7") == "127.0.0.1"


def test_behind_a_listed_proxy_the_forwarded_address_is_the_client(ledger: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    ) -> None:
    monkeypatch.setenv("ESTATECHAIN_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    with serving(Settings(ledger_dir=ledger, port=0)) as url, portal_client(url) as portal:
        answers = [wrong_sign_in(portal, "203.0.113.7") for _ in range(SIGNIN_PER_MINUTE + 1)]
        assert [a.status_code for a in answers] == [401] * SIGNIN_PER_MINUTE + [429]
        other = wrong_sign_in(portal, "203.0.113.8")  # another client behind the same proxy is not locked out
        assert other.status_code == 401
        assert "Wrong username or password" in other.text
        assert looked_up_by(ledger, url, "203.0.113.7") == "203.0.113.7"
        assert looked_up_by(ledger, url, "198.51.100.1, 10.1.2.3") == "198.51.100.1"  # through two listed proxies
