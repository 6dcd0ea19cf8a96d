"""RFC 9421 request signatures: every rejection is a 401 with a reason code."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import httpx
import pytest
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.sdk import Client, ClientIdentity

OPERATOR = "icbc-gz/operator1"


def signed(  # noqa: PLR0913  (keywords override one part of the request each)
    node: RunningNode, identity: ClientIdentity, method: str = "GET", path: str = "/v1/members", *,
           content: bytes | None = None, created_s: int | None = None) -> httpx.Request:
    client = Client(node.url, identity, chain_id=node.chain_id)
    return client.build_request(method, path, content=content, chain_id=node.chain_id, created_s=created_s)


def send(request: httpx.Request) -> httpx.Response:
    with httpx.Client() as http:
        return http.send(request)


def assert_401(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == code, body
    assert set(body) == {"error", "message", "detail"}


def test_a_signed_request_reaches_the_api_and_names_the_caller(node: RunningNode) -> None:
    response = send(signed(node, node.identity(OPERATOR)))
    assert response.status_code == 200, response.text
    assert response.json()["caller"]["role"] == "bank.operator"


def test_an_unsigned_request_is_401_but_health_and_ready_are_open(node: RunningNode) -> None:
    assert_401(httpx.get(f"{node.url}/v1/members"), "MISSING_SIGNATURE")
    assert httpx.get(f"{node.url}/v1/health").status_code == 200
    assert httpx.get(f"{node.url}/v1/ready").json()["status"] == "ready"


def test_a_replayed_request_is_401_replayed(node: RunningNode) -> None:
    request = signed(node, node.identity(OPERATOR))
    assert send(request).status_code == 200
    assert_401(send(request), "REPLAYED")


def test_an_old_request_is_401_expired(node: RunningNode) -> None:
    assert_401(send(signed(node, node.identity(OPERATOR), created_s=int(time.time()) - 3600)), "EXPIRED")


def test_a_request_from_the_future_is_401_not_yet_valid(node: RunningNode) -> None:
    assert_401(send(signed(node, node.identity(OPERATOR), created_s=int(time.time()) + 3600)), "NOT_YET_VALID")


def test_a_tampered_body_is_401_digest_mismatch(node: RunningNode) -> None:
    request = signed(node, node.identity(OPERATOR), "POST", "/v1/transactions", content=b'{"a":1}')
    tampered = httpx.Request("POST", request.url, headers=request.headers, content=b'{"a":2}')
    assert_401(send(tampered), "DIGEST_MISMATCH")


def test_a_signature_by_another_key_is_401_bad_signature(node: RunningNode) -> None:
    owner, other = node.identity(OPERATOR), node.identity("ccb-gz/operator1")
    impostor = dataclasses.replace(owner, private_key=other.private_key)
    assert_401(send(signed(node, impostor)), "BAD_SIGNATURE")


def test_a_changed_path_is_401_bad_signature(node: RunningNode) -> None:
    request = signed(node, node.identity(OPERATOR))
    moved = httpx.Request("GET", f"{node.url}/v1/blocks/head", headers=request.headers)
    assert_401(send(moved), "BAD_SIGNATURE")


def test_a_certificate_from_outside_the_consortium_is_401_unknown_key(node: RunningNode, tmp_path: Path) -> None:
    stranger_net = create_dev_consortium(tmp_path / "stranger", now_ms=SystemClock().now_ms())
    stranger = ClientIdentity.from_dev(stranger_net.directory, OPERATOR)
    assert_401(send(signed(node, stranger)), "UNKNOWN_KEY")


def test_a_key_id_without_certificate_that_is_not_on_the_ledger_is_401_unknown_key(node: RunningNode) -> None:
    identity = node.identity(OPERATOR)
    client = Client(node.url, identity, chain_id=node.chain_id, include_certificate=False)
    assert_401(send(client.build_request("GET", "/v1/members", chain_id=node.chain_id)), "UNKNOWN_KEY")


def test_a_signature_for_another_chain_is_401_wrong_chain(node: RunningNode) -> None:
    client = Client(node.url, node.identity(OPERATOR), chain_id="0" * 64)
    assert_401(send(client.build_request("GET", "/v1/members", chain_id="0" * 64)), "WRONG_CHAIN")


@pytest.mark.parametrize("path", ["/v1/blocks/head", "/v1/transactions/" + "a" * 64, "/v1/proofs/consistency?from=1"])
def test_every_v1_read_needs_a_signature(node: RunningNode, path: str) -> None:
    assert_401(httpx.get(f"{node.url}{path}"), "MISSING_SIGNATURE")
