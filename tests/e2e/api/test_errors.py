"""Every failure answers {"error", "message", "detail"} with a proper status, never a stack trace."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.sdk import Client, ClientIdentity, NotFound, Refused, SyncClient
from estatechain.sdk.signing import sign_request

OPERATOR = "icbc-gz/operator1"


def post(node: RunningNode, identity: ClientIdentity, content: bytes, *, content_type: str = "application/json",
         path: str = "/v1/transactions") -> httpx.Response:
    client = Client(node.url, identity, chain_id=node.chain_id)
    request = client.build_request("POST", path, content=content, target=node.target)
    request.headers["content-type"] = content_type
    with httpx.Client() as http:
        return http.send(request)


def get(node: RunningNode, path: str) -> httpx.Response:
    client = Client(node.url, node.identity(OPERATOR), chain_id=node.chain_id)
    with httpx.Client() as http:
        return http.send(client.build_request("GET", path, target=node.target))


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "detail"}
    assert body["error"] == code, body
    assert "Traceback" not in response.text
    return dict(body)


def test_bad_json_is_400_malformed_envelope(node: RunningNode) -> None:
    assert_error(post(node, node.identity(OPERATOR), b"{not json"), 400, "MALFORMED_ENVELOPE")


def test_a_pretty_printed_envelope_is_400_non_canonical(node: RunningNode) -> None:
    with SyncClient(node.url, node.identity(OPERATOR)) as client:
        envelope = client.sign("note.put", {"data": {}, "if_absent": False, "key": "k"}).envelope
    pretty = json.dumps(json.loads(envelope), indent=2).encode()
    assert_error(post(node, node.identity(OPERATOR), pretty), 400, "NON_CANONICAL")


def test_a_refused_transaction_is_400_with_its_code_and_the_sdk_raises_it(node: RunningNode) -> None:
    with SyncClient(node.url, node.identity(OPERATOR), chain_id="f" * 64) as client:
        envelope = client.sign("note.put", {"data": {}, "if_absent": False, "key": "k"}).envelope
    body = assert_error(post(node, node.identity(OPERATOR), envelope), 400, "WRONG_CHAIN")
    assert body["detail"] == {"expected": node.chain_id, "got": "f" * 64}
    with SyncClient(node.url, node.identity(OPERATOR)) as client, pytest.raises(Refused) as caught:
        client.submit(envelope)
    assert caught.value.code == "WRONG_CHAIN"


def test_a_body_that_is_not_json_media_is_415(node: RunningNode) -> None:
    assert_error(post(node, node.identity(OPERATOR), b"{}", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_a_body_over_the_limit_is_413(node: RunningNode) -> None:
    assert_error(post(node, node.identity(OPERATOR), b"x" * (200 * 1024)), 413, "PAYLOAD_TOO_LARGE")


def test_a_malformed_parameter_is_422_in_the_same_shape(node: RunningNode) -> None:
    body = assert_error(get(node, "/v1/blocks/abc"), 422, "VALIDATION_FAILED")
    assert "path.height" in body["detail"]  # type: ignore[operator]


def test_unknown_things_are_404(node: RunningNode) -> None:
    assert_error(get(node, "/v1/transactions/" + "a" * 64), 404, "NOT_FOUND")
    block = assert_error(get(node, "/v1/blocks/99"), 404, "NOT_FOUND")
    route = assert_error(httpx.get(f"{node.url}/v1/nowhere"), 404, "NOT_FOUND")
    assert route["message"] != block["message"]  # a wrong URL is told apart from a missing block
    assert route["detail"] == {"path": "/v1/nowhere", "method": "GET"}
    assert "/docs" in str(route["message"])
    method = assert_error(httpx.delete(f"{node.url}/v1/health"), 405, "METHOD_NOT_ALLOWED")
    assert "does not take DELETE" in str(method["message"])
    with SyncClient(node.url, node.identity(OPERATOR)) as client, pytest.raises(NotFound) as caught:
        client.status("b" * 64)
    assert caught.value.code == "NOT_FOUND"


def test_a_proof_outside_the_log_is_400(node: RunningNode) -> None:
    assert_error(get(node, "/v1/proofs/inclusion/5?size=3"), 400, "INVALID_INPUT")


def test_openapi_and_docs_are_published(node: RunningNode) -> None:
    spec = httpx.get(f"{node.url}/openapi.json").json()
    for path in ("/v1/transactions", "/v1/transactions/{tx_id}", "/v1/blocks/{height}", "/v1/blocks/head",
                 "/v1/proofs/inclusion/{seq}", "/v1/proofs/consistency", "/v1/members", "/v1/health", "/v1/ready"):
        assert path in spec["paths"], path
    assert httpx.get(f"{node.url}/docs").status_code == 200
    metrics = httpx.get(f"{node.url}/metrics").text
    assert "estatechain_block_height" in metrics


def test_openapi_says_a_material_read_may_be_refused_with_429_and_why(node: RunningNode) -> None:
    """A peer node past its org's budget of refusals gets 429 (``routes/materials.py``): its client must know."""
    spec = httpx.get(f"{node.url}/openapi.json").json()
    responses = spec["paths"]["/v1/materials/{sha256}"]["get"]["responses"]
    assert responses["429"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert "Retry-After" in responses["429"]["description"]


def test_a_nonce_with_a_character_outside_the_set_is_told_which_characters_are_allowed(node: RunningNode) -> None:
    request = httpx.Request("GET", f"{node.url}/v1/ping")
    sign_request(request, node.identity(OPERATOR), target=node.target, created_s=int(time.time()),
                 nonce="twenty-chars-with-a!")
    with httpx.Client() as http:
        body = assert_error(http.send(request), 401, "MALFORMED_SIGNATURE")
    assert "A-Z a-z 0-9 _ - . ~ + / =" in str(body["message"])
    assert body["detail"] == {"nonce": "twenty-chars-with-a!"}


@pytest.mark.parametrize("over", [1, 100 * 1024 * 1024])
def test_a_body_well_over_the_limit_still_gets_its_413_not_a_reset_connection(node: RunningNode, over: int) -> None:
    """A client that sends the whole body before reading (most HTTP clients) must see the 413 and its reason.

    The server answers from Content-Length before reading the body; if it then dropped a socket with
    megabytes unread, such a client would see "connection reset" instead of the limit. On uvicorn and
    httpx it does not (checked with 100 MiB over the limit): this keeps it so.
    """
    limit = 128 * 1024  # a signed envelope's
    response = post(node, node.identity(OPERATOR), b"x" * (limit + over))
    detail = assert_error(response, 413, "PAYLOAD_TOO_LARGE")["detail"]
    assert detail == {"limit": str(limit), "size": str(limit + over)}
