"""The address a certificate PDF's QR code names comes from the socket the node listens on, never from ``Host``.

Both the API (``GET /v1/certificates/{number}/pdf``) and the portal render the PDF once and keep it, so
a crafted ``Host`` on the first download would otherwise be in every later copy's QR code.
"""

from __future__ import annotations

from starlette.requests import Request

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
