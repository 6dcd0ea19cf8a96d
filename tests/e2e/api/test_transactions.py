"""Submitting through the SDK over real HTTP: commit, idempotency, local proof verification."""

from __future__ import annotations

import asyncio

import httpx
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.canonical import JSONValue
from estatechain.sdk import Client, SyncClient

OPERATOR = "icbc-gz/operator1"


def note(key: str) -> dict[str, JSONValue]:
    return {"data": {"n": 1}, "if_absent": True, "key": key}


def test_sdk_submits_waits_for_commit_and_verifies_the_inclusion_proof_locally(node: RunningNode) -> None:
    with SyncClient(node.url, node.identity(OPERATOR)) as client:
        signed, status = client.submit_and_wait("note.put", note("e2e/1"))
        assert status.committed
        assert status.valid
        assert status.tx_id == signed.tx_id
        verified = client.verify_inclusion(signed.envelope, status)
        assert verified.header.height == status.height
        assert client.head().header.height >= status.height


def test_a_rule_violation_commits_as_invalid_with_its_code(node: RunningNode) -> None:
    with SyncClient(node.url, node.identity(OPERATOR)) as client:
        client.submit_and_wait("note.put", note("e2e/dup"))
        signed, status = client.submit_and_wait("note.put", note("e2e/dup"))
        assert status.committed
        assert not status.valid
        assert status.code == "NOTE_EXISTS"
        client.verify_inclusion(signed.envelope, status)  # invalid txs are leaves too


def test_the_same_signed_transaction_twice_gets_the_first_result_not_an_error(node: RunningNode) -> None:
    async def scenario() -> None:
        async with Client(node.url, node.identity(OPERATOR)) as client:
            signed = await client.sign("note.put", note("e2e/idem"))
            first, again = await asyncio.gather(client.submit(signed.envelope), client.submit(signed.envelope))
            assert first.tx_id == again.tx_id == signed.tx_id
            committed = await client.wait_for_commit(signed.tx_id)
            third = await client.submit(signed.envelope)
            assert third == committed
            assert committed.valid

    asyncio.run(scenario())


def test_submit_with_wait_answers_200_once_committed(node: RunningNode) -> None:
    client = Client(node.url, node.identity(OPERATOR), chain_id=node.chain_id)
    signed = asyncio.run(client.sign("note.put", note("e2e/wait")))
    request = client.build_request("POST", "/v1/transactions", params={"wait": "5"}, content=signed.envelope,
                                   target=node.target)
    response = httpx.Client().send(request)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "committed"
    assert response.headers["location"] == f"/v1/transactions/{signed.tx_id}"
