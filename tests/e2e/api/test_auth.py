"""RFC 9421 request signatures: every rejection is a 401 with a reason code."""

from __future__ import annotations

import base64
import dataclasses
import re
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms
from register_node import serving
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.settings import Settings
from estatechain.sdk import Client, ClientIdentity, RequestTarget, SyncClient
from estatechain.storage.store import LedgerStore

OPERATOR = "icbc-gz/operator1"


def signed(  # noqa: PLR0913  (keywords override one part of the request each)
    node: RunningNode, identity: ClientIdentity, method: str = "GET", path: str = "/v1/members", *,
           content: bytes | None = None, created_s: int | None = None) -> httpx.Request:
    client = Client(node.url, identity, chain_id=node.chain_id)
    return client.build_request(method, path, content=content, target=node.target, created_s=created_s)


def send(request: httpx.Request) -> httpx.Response:
    with httpx.Client() as http:
        return http.send(request)


def assert_401(response: httpx.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code, body
    assert set(body) == {"error", "message", "detail"}
    return body


def request_nonce(request: httpx.Request) -> str:
    found = re.search(r';nonce="([^"]+)"', request.headers["signature-input"])
    assert found is not None
    return found.group(1)


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
    assert_401(send(client.build_request("GET", "/v1/members", target=node.target)), "UNKNOWN_KEY")


def test_a_signature_for_another_chain_is_401_wrong_chain(node: RunningNode) -> None:
    """A request signed for a node of another network (a test consortium) that knows the same certificate."""
    client = Client(node.url, node.identity(OPERATOR), chain_id="0" * 64)
    elsewhere = RequestTarget(chain_id="0" * 64, node_org=node.org_id)
    body = assert_401(send(client.build_request("GET", "/v1/members", target=elsewhere)), "WRONG_CHAIN")
    assert body["detail"] == {"expected": node.chain_id, "got": "0" * 64}
    assert f'tag="{node.chain_id}/{node.org_id}"' in body["message"]


def test_a_request_signed_for_another_orgs_node_is_401_wrong_node_and_uses_no_nonce(node: RunningNode) -> None:
    """The tag names the org whose node the request was for; the refusal leaves the nonce unused."""
    other = RequestTarget(chain_id=node.chain_id, node_org="ccb-gz")
    client = Client(node.url, node.identity(OPERATOR))
    request = client.build_request("GET", "/v1/members", target=other)
    body = assert_401(send(request), "WRONG_NODE")
    assert body["detail"] == {"expected": node.org_id, "got": "ccb-gz"}
    assert f'tag="{node.chain_id}/{node.org_id}"' in body["message"]
    assert "GET /v1/health" in body["message"]
    fresh = client.build_request("GET", "/v1/members", target=node.target, nonce=request_nonce(request))
    assert send(fresh).status_code == 200  # the same nonce, signed for this node: it was never recorded


def test_a_tag_changed_after_signing_is_401_bad_signature(node: RunningNode) -> None:
    """The tag is covered by the signature: a captured request cannot be re-addressed to another node."""
    request = Client(node.url, node.identity(OPERATOR)).build_request(
        "GET", "/v1/members", target=RequestTarget(chain_id=node.chain_id, node_org="ccb-gz"))
    forged = request.headers["signature-input"].replace('/ccb-gz"', f'/{node.org_id}"')
    assert forged != request.headers["signature-input"]
    request.headers["signature-input"] = forged
    assert_401(send(request), "BAD_SIGNATURE")


@pytest.mark.parametrize("chain_id_alone", [False, True], ids=["no tag", "chain id alone"])
def test_a_signature_without_a_tag_naming_the_node_is_401_missing_tag(node: RunningNode, chain_id_alone: bool) -> None:
    """A signature with no tag, or with the chain id alone (the profile before the node was named in it)."""
    identity = node.identity(OPERATOR)
    request = httpx.Request("GET", f"{node.url}/v1/members")
    request.headers["Estatechain-Certificate"] = base64.b64encode(identity.cert_der).decode("ascii")
    keys = MappingKeyResolver(public_keys={}, private_keys={
        identity.fingerprint: Ed25519PrivateKey.from_private_bytes(identity.private_key)})
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    signer.sign(SimpleNamespace(method="GET", url=str(request.url), headers=request.headers),
                key_id=identity.fingerprint, created=datetime.now(tz=UTC), nonce=secrets.token_urlsafe(16),
                label="sig", tag=node.chain_id if chain_id_alone else None,
                covered_component_ids=("@method", "@path", "@query"))
    body = assert_401(send(request), "MISSING_TAG")
    assert body["detail"] == {"expected": f"{node.chain_id}/{node.org_id}",
                              **({"got": node.chain_id} if chain_id_alone else {})}
    assert f'tag="{node.chain_id}/{node.org_id}"' in body["message"]


def test_a_request_accepted_at_one_orgs_node_is_refused_at_another_orgs_node(tmp_path: Path) -> None:
    """Each node keeps its own replay cache: a request captured on its way to one node must not pass at another."""
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    for org in ("icbc-gz", "ccb-gz"):
        LedgerStore.create(tmp_path / org / "ledger", consortium.genesis).close()
    identity = ClientIdentity.from_dev(consortium.directory, OPERATOR)
    with (serving(Settings(ledger_dir=tmp_path / "icbc-gz" / "ledger", org_id="icbc-gz", port=0)) as icbc_url,
          serving(Settings(ledger_dir=tmp_path / "ccb-gz" / "ledger", org_id="ccb-gz", port=0)) as ccb_url):
        with SyncClient(icbc_url, identity) as own:  # the SDK learns the node's chain and org by itself
            assert own.target() == RequestTarget(chain_id=consortium.genesis.chain_id, node_org="icbc-gz")
            assert own.members()["caller"]["org_id"] == "icbc-gz"
        request = Client(icbc_url, identity).build_request(
            "POST", "/v1/payloads/inquiry", target=RequestTarget(chain_id=consortium.genesis.chain_id,
                                                                  node_org="icbc-gz"),
            content=b'{"unit_number":"440114026003GB00001F00010021","purpose":"PRE_LOAN","basis":"intent"}')
        accepted = send(request)
        assert accepted.status_code != 401, accepted.text
        replayed = send(httpx.Request(request.method, ccb_url + request.url.raw_path.decode(),
                                      headers=request.headers, content=request.content))
        body = assert_401(replayed, "WRONG_NODE")
        assert body["detail"] == {"expected": "ccb-gz", "got": "icbc-gz"}
        assert_401(send(request), "REPLAYED")  # and at its own node, the replay cache saw it


@pytest.mark.parametrize("path", ["/v1/blocks/head", "/v1/transactions/" + "a" * 64, "/v1/proofs/consistency?from=1"])
def test_every_v1_read_needs_a_signature(node: RunningNode, path: str) -> None:
    assert_401(httpx.get(f"{node.url}{path}"), "MISSING_SIGNATURE")
