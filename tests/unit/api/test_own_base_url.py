"""The address a certificate PDF's QR code names comes from the socket the node listens on, never from ``Host``.

Both the API (``GET /v1/certificates/{number}/pdf``) and the portal render the PDF once and keep it, so
a crafted ``Host`` on the first download would otherwise be in every later copy's QR code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from estatechain.node.settings import Settings
from estatechain.web.pages import own_base_url


def _request(*, host_header: str, server: tuple[str, int | None] | None, scheme: str = "http") -> Request:
    return Request({"type": "http", "method": "GET", "path": "/v1/certificates/x/pdf", "root_path": "",
                    "scheme": scheme, "query_string": b"", "server": server,
                    "headers": [(b"host", host_header.encode())]})


def test_a_crafted_host_header_does_not_reach_the_base_url() -> None:
    request = _request(host_header="evil.example", server=("127.0.0.1", 8700))
    assert str(request.base_url) == "http://evil.example/"  # what the PDF used to carry
    assert own_base_url(request) == "http://127.0.0.1:8700/"


def test_ipv6_tls_and_an_odd_scheme() -> None:
    assert own_base_url(_request(host_header="x", server=("::1", 8443), scheme="https")) == "https://[::1]:8443/"
    assert own_base_url(_request(host_header="x", server=("10.0.0.5", 80), scheme="javascript")) == "http://10.0.0.5:80/"
    assert own_base_url(_request(host_header="x", server=None)) == "http://localhost/"


def test_a_configured_public_url_is_what_the_qr_code_names_behind_a_proxy() -> None:
    request = _request(host_header="evil.example", server=("127.0.0.1", 8700))
    assert own_base_url(request, "https://bdc.example.gov.cn/estatechain") == "https://bdc.example.gov.cn/estatechain/"
    assert own_base_url(request, "https://bdc.example.gov.cn/") == "https://bdc.example.gov.cn/"


@pytest.mark.parametrize("bad", ["bdc.example.gov.cn", "javascript:alert(1)", "https://x.cn/a b",
                                 "https://user@evil.example/", "https://x.cn/?next=evil"])
def test_a_public_url_that_is_not_a_plain_http_address_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(ledger_dir=Path("unused"), public_url=bad)


def test_the_public_url_comes_from_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTATECHAIN_PUBLIC_URL", "https://bdc.example.gov.cn")
    assert Settings(ledger_dir=Path("unused")).public_url == "https://bdc.example.gov.cn"
