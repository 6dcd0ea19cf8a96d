"""``POST /v1/payloads/<step>`` measures the signed envelope, not the bare payload, against ``max_tx_bytes``.

The signature, the certificate and the envelope's framing add about 1 KB to a payload; a payload
prepared right up to the limit used to be refused only once signed and submitted (TOO_LARGE). The
boundary is found here with the SDK's own envelope: one byte of ``details`` is one byte of envelope.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.sdk import Client, ServerError

OPERATOR = "icbc-gz/operator1"
BANK_PARTY = "ab" * 32
OWNER_PARTY = "cd" * 32


def filing(padding: int) -> dict[str, Any]:
    """A filing whose ``details`` carry ``padding`` bytes of ASCII; nonce and time fixed, so sizes are exact."""
    return {
        "business_type": "mortgage.first", "unit_number": "440106001001GB00123F00010203",
        "applicants": [{"party_id": OWNER_PARTY, "capacity": "mortgagor"},
                       {"party_id": BANK_PARTY, "capacity": "mortgagee"}],
        "details": {"padding": "x" * padding},
        "nonce": "size-boundary-0001", "created_at": 1_767_484_800_000,
    }


def test_prepare_refuses_a_payload_whose_signed_envelope_would_exceed_the_limit_and_takes_one_at_it(
    node: RunningNode,
) -> None:
    limit = node.consortium.genesis.policies.max_tx_bytes

    async def scenario() -> None:
        async with Client(node.url, node.identity(OPERATOR)) as client:
            probe = client.sign_prepared(await client.prepare("file", **filing(0)))
            fits = limit - len(probe.envelope)
            assert 0 < limit - fits < 4096  # the envelope's overhead over the padding: a few KB at most

            at_limit = await client.prepare("file", **filing(fits))
            signed = client.sign_prepared(at_limit)
            assert len(signed.envelope) == limit
            assert len(at_limit.canonical) < limit
            await client.submit(signed.envelope)  # the node takes an envelope of exactly max_tx_bytes …
            assert (await client.wait_for_commit(signed.tx_id)).committed  # … into a block (what the contract
            # then says of a filing on a unit this empty ledger does not hold is not under test here)

            with pytest.raises(ServerError) as over:
                await client.prepare("file", **filing(fits + 1))
            refused = over.value
            payload_size = len(at_limit.canonical) + 1
            assert (refused.status, refused.code) == (413, "PAYLOAD_TOO_LARGE")
            assert refused.detail == {"size": str(limit + 1), "payload_size": str(payload_size),
                                      "limit": str(limit)}
            assert f"max_tx_bytes of {limit}" in refused.message
            assert f"payload of {payload_size} bytes" in refused.message
            assert "shorten the body by at least 1 byte" in refused.message

    asyncio.run(scenario())
