"""A node whose copy differs — a stored block altered, or a contract that decides differently — is
caught by the other orgs' attestations: they raise the alarm and refuse writes, naming the height
and the org whose claim differs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace

import pytest

from estatechain.clock import SystemClock
from estatechain.crypto.suites import get_suite
from estatechain.errors import Unavailable
from estatechain.ledger.admission import AdmittedTx
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.results import ExecutedTx, TxResult
from estatechain.node.cluster import ClusterPipeline
from estatechain.state.overlay import Overlay
from estatechain.testing.builders import TxFactory

from .inprocess import World, until
from .nats_support import run

HONEST = ("gz-registry", "icbc-gz", "ccb-gz")



class DissentingContract(ClusterPipeline):
    """A node running a contract that marks every ``note.put`` of key ``dispute/...`` invalid."""

    def _execute(self, batch: list[AdmittedTx], time_ms: int, first_seq: int) -> tuple[list[ExecutedTx], Overlay]:
        executed, overlay = super()._execute(batch, time_ms, first_seq)
        bent = [replace(e, result=TxResult(valid=False, code="V0_DISSENT", message="decided otherwise"))
                if str(e.tx.body.get("key", "")).startswith("dispute/") else e for e in executed]
        return bent, overlay


async def _run(nodes: list[ClusterPipeline]) -> list[asyncio.Task[None]]:
    tasks = [asyncio.create_task(n.run()) for n in nodes]
    await until(lambda: all(n.ordering_ready for n in nodes), what="nodes connected",
                why=lambda: [n.fault for n in nodes])
    return tasks


async def _stop(nodes: list[ClusterPipeline], tasks: list[asyncio.Task[None]]) -> None:
    for node in nodes:
        node.stop()
    _, pending = await asyncio.wait(tasks, timeout=20)
    for task in pending:
        task.print_stack()
    assert not pending, "a node did not stop within 20 s"
    for node in nodes:
        node.store.close()


def test_a_node_whose_contract_decides_differently_is_caught_by_the_others(world: World) -> None:
    factory = TxFactory(world.dev, SystemClock())
    admin = world.dev.identities["gz-registry/org-admin"]

    async def scenario() -> None:
        nodes = [world.pipeline(org) for org in HONEST] + [world.pipeline("gz-court", DissentingContract)]
        tasks = await _run(nodes)
        try:
            agreed = await nodes[0].accept(factory.note(admin, "calm/1", {"n": 1}))
            await asyncio.wait_for(agreed, 20)
            await until(lambda: all(n.store.height >= 1 for n in nodes), what="block 1 everywhere")
            disputed = await nodes[1].accept(factory.note(admin, "dispute/1", {"n": 2}))
            receipt = await asyncio.wait_for(disputed, 20)
            assert receipt.valid
            await until(lambda: all(n.finality.alarm is not None for n in nodes[:3]), what="alarms at honest nodes")
            for honest in nodes[:3]:
                alarm = honest.finality.alarm
                assert alarm is not None
                assert (alarm.org, alarm.height) == ("gz-court", receipt.height)
                assert "DIVERGENCE" in alarm.message
                with pytest.raises(Unavailable, match="DIVERGENCE"):
                    await honest.accept(factory.note(admin, "after/1", {"n": 3}))
            await until(lambda: nodes[3].finality.alarm is not None, what="the dissenter's own alarm")
            await until(lambda: nodes[0].finality.final_height == receipt.height,
                        what="the honest quorum finalising the block")
        finally:
            await _stop(nodes, tasks)

    run(scenario(), timeout=90)


def test_a_node_whose_stored_block_was_altered_is_caught_when_it_attests(world: World) -> None:
    factory = TxFactory(world.dev, SystemClock())
    admin = world.dev.identities["icbc-gz/org-admin"]

    async def first_run() -> int:
        nodes = [world.pipeline(org) for org in (*HONEST, "gz-court")]
        tasks = await _run(nodes)
        try:
            futures = [await nodes[n % 4].accept(factory.note(admin, f"k/{n}", {"n": n})) for n in range(20)]
            await asyncio.wait_for(asyncio.gather(*futures), 30)
            head = nodes[0].store.height
            await until(lambda: all(n.finality.final_height == head for n in nodes), what="all final")
            assert all(n.finality.alarm is None for n in nodes)
            return head
        finally:
            await _stop(nodes, tasks)

    head = run(first_run(), timeout=90)
    court = world.node_dir("gz-court") / "ledger.sqlite"
    conn = sqlite3.connect(court)
    row = conn.execute("SELECT header FROM blocks WHERE height = ?", (head,)).fetchone()
    header = BlockHeader.from_bytes(bytes(row[0]), where="test")
    forged = replace(header, time_ms=header.time_ms - 86_400_000)  # back-dated by a day, hash recomputed
    conn.execute("UPDATE blocks SET header = ?, hash = ? WHERE height = ?",
                 (forged.to_bytes(), forged.hash(get_suite(world.dev.genesis.suite)), head))
    conn.commit()
    conn.close()

    async def second_run() -> None:
        nodes = [world.pipeline(org) for org in (*HONEST, "gz-court")]
        tasks = await _run(nodes)
        try:
            # The court restarts on the altered block: it attests it (unless a true attestation already went out)
            # and links its next block to it.
            receipt = await asyncio.wait_for(await nodes[0].accept(factory.note(admin, "next", {"n": 1})), 20)
            assert receipt.height == head + 1
            await until(lambda: all(n.finality.alarm is not None for n in nodes[:3]), what="alarms")
            for honest in nodes[:3]:
                alarm = honest.finality.alarm
                assert alarm is not None
                # Caught at the altered height when the court had not yet attested it truly before it
                # stopped, else at the next block, whose header links to the altered one.
                assert alarm.org == "gz-court"
                assert alarm.height in {head, head + 1}
        finally:
            await _stop(nodes, tasks)

    run(second_run(), timeout=90)
