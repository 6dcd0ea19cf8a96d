"""Two org nodes over a real 3-server JetStream cluster commit identical blocks from the one stream.

The nodes run in this test's event loop (their own ledgers, their own NATS credentials); the
process-level faults (kill -9, SIGSTOP) live in the node-process tests.
"""

from __future__ import annotations

import asyncio

import pytest

from estatechain.clock import SystemClock
from estatechain.errors import Refused
from estatechain.node.cluster import cut_marker
from estatechain.node.pipeline import Receipt
from estatechain.ordering import subjects
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import TxFactory

from .inprocess import World, until
from .nats_support import run

ORGS = ("gz-registry", "icbc-gz")


def _hashes(store: LedgerStore) -> list[tuple[int, str]]:
    return [(int(h), str(x)) for h, x in store.connection.execute("SELECT height, hash FROM blocks ORDER BY height")]


def test_two_nodes_commit_the_same_blocks_and_attest_them(shared_world: World) -> None:
    world = shared_world
    factory = TxFactory(world.dev, SystemClock())
    writers = [i for i in world.dev.identities.values() if i.role in {"org.admin", "node"}]

    async def scenario() -> None:
        nodes = [world.pipeline(org, copy="a", quorum=2) for org in ORGS]
        tasks = [asyncio.create_task(n.run()) for n in nodes]
        try:
            await until(lambda: all(n._transport is not None for n in nodes))
            futures: list[asyncio.Future[Receipt]] = []
            for n in range(120):
                envelope = factory.note(writers[n % len(writers)], f"k/{n % 100}", {"n": n}, if_absent=n >= 100)
                futures.append(await nodes[n % 2].accept(envelope))
            receipts = await asyncio.wait_for(asyncio.gather(*futures), 30)
            assert len({r.tx_id for r in receipts}) == 120
            assert sum(not r.valid for r in receipts) == 20  # the if_absent repeats are marked invalid everywhere
            await until(lambda: nodes[0].store.height == nodes[1].store.height >= 1)
            assert _hashes(nodes[0].store) == _hashes(nodes[1].store)
            assert nodes[0].store.state_root == nodes[1].store.state_root
            head = nodes[0].store.height
            await until(lambda: all(n.finality.final_height == head for n in nodes))
            assert nodes[0].finality.agreeing(head) == sorted(ORGS)
        finally:
            for node in nodes:
                node.stop()
            await asyncio.gather(*tasks, return_exceptions=True)

    run(scenario(), timeout=90)


def test_entries_that_fail_admission_are_dropped_by_every_node(shared_world: World) -> None:
    world = shared_world
    """A bad signature and a repeat slipped onto the stream directly are dropped alike; markers cut."""
    factory = TxFactory(world.dev, SystemClock())
    who = world.dev.identities["icbc-gz/org-admin"]

    async def scenario() -> None:
        nodes = [world.pipeline(org, copy="b", quorum=2) for org in ORGS]
        tasks = [asyncio.create_task(n.run()) for n in nodes]
        try:
            await until(lambda: all(n._transport is not None for n in nodes))
            stream = subjects.tx_stream(subjects.chain_tag(world.dev.genesis.chain_id))
            end = (await nodes[0].transport.js.stream_info(stream)).state.last_seq
            await until(lambda: all(n._last_seq >= end for n in nodes))  # replayed what the earlier test left
            await until(lambda: nodes[0].store.height == nodes[1].store.height)
            start = nodes[0].store.height
            good = factory.note(who, "drop/good", {"n": 1})
            forged = bytearray(factory.note(who, "drop/forged", {"n": 2}))
            at = forged.index(b'"signature":"') + len(b'"signature":"')
            forged[at] = ord("A") if forged[at] != ord("A") else ord("B")
            transport = nodes[1].transport
            await transport.publish_tx("forged", bytes(forged))
            await transport.publish_tx("good", good)
            await transport.publish_tx("good-again", good)  # another msg id: only the ledger can drop it
            with pytest.raises(Refused):
                await nodes[0].accept(bytes(forged))
            await transport.publish_cut(start + 1, cut_marker(world.dev.genesis.chain_id, start + 1))
            await until(lambda: all(n.store.height > start for n in nodes))
            for node in nodes:
                rows = node.store.connection.execute("SELECT command FROM txs WHERE height > ?", (start,)).fetchall()
                assert len(rows) == 1
            assert _hashes(nodes[0].store) == _hashes(nodes[1].store)
        finally:
            for node in nodes:
                node.stop()
            await asyncio.gather(*tasks, return_exceptions=True)

    run(scenario(), timeout=60)
