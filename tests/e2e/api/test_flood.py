"""The node keeps serving reads while a client floods it with bad requests (issue 6, errors).

One client sends a bounded flood of bad requests at once — unsigned, with a forged signature,
malformed envelopes, oversized bodies — while a member reads blocks with signed requests. Every read
is answered (200, with the head it asked for); every bad request gets its 4xx JSON error, never a 5xx
and never a hang; and the node is still ready afterwards. Timing is a benchmark's business, not this test's.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.sdk.client import Client

FLOOD = 1200
IN_FLIGHT = 48
READS = 60


async def _flood(url: str) -> Counter[int]:
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(IN_FLIGHT)
    bodies = [
        ("POST", "/v1/transactions", b"{not json", {}),
        ("POST", "/v1/transactions", b'{"payload":{}}', {"content-type": "application/json"}),
        ("GET", "/v1/blocks/head", b"", {"signature-input": 'sig1=("@method");keyid="x"', "signature": "sig1=:AA==:"}),
        ("POST", "/v1/materials", b"%PDF-" + b"x" * 300_000, {}),
        ("GET", "/v1/transactions/not-an-id", b"", {}),
    ]
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def one(n: int) -> None:
            method, path, body, headers = bodies[n % len(bodies)]
            async with gate:
                response = await http.request(method, path, content=body or None, headers=headers)
                statuses[response.status_code] += 1
                if response.status_code >= 400:
                    assert set(response.json()) == {"error", "message", "detail"}, response.text

        await asyncio.gather(*(one(n) for n in range(FLOOD)))
    return statuses


async def _reads(node: RunningNode) -> list[bool]:
    answered = []
    async with Client(node.url, node.identity("gz-court/court1"), chain_id=node.chain_id, timeout_s=30) as court:
        for _ in range(READS):
            answered.append((await court.members())["caller"]["org_id"] == "gz-court")
            await asyncio.sleep(0.01)
    return answered


def test_reads_are_served_while_a_client_floods_the_node_with_bad_requests(node: RunningNode) -> None:
    async def scenario() -> tuple[Counter[int], list[bool]]:
        flood, reads = await asyncio.gather(_flood(node.url), _reads(node))
        return flood, reads

    flood, reads = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert reads == [True] * READS
    assert sum(flood.values()) == FLOOD
    assert all(400 <= status < 500 for status in flood), flood
    assert {401, 413} <= set(flood), flood  # unsigned and oversized requests were among them
    assert httpx.get(f"{node.url}/v1/ready", timeout=5).status_code == 200
