"""A cluster node that stops on a commit fault reports that fault, even when its NATS connection fails to close.

The operator reads why the node stopped from the error the pipeline ends with. A failure to close the
NATS connection on the way out used to replace it (an exception raised in a ``finally``), so a full
disk showed up as a connection error, and the finality file stayed open.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3

import pytest

from estatechain.clock import SystemClock
from estatechain.errors import Unavailable
from estatechain.testing.builders import TxFactory

from .inprocess import World, until
from .nats_support import run


def _disk_full(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_commit_fault_is_what_the_node_stops_with_when_nats_also_fails_to_close(
    world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory = TxFactory(world.dev, SystemClock())
    writer = next(i for i in world.dev.identities.values() if i.role == "org.admin")

    async def scenario() -> None:
        node = world.pipeline("gz-registry")
        task = asyncio.create_task(node.run())
        await until(lambda: node._transport is not None, what="the node's connection to NATS")
        transport = node.transport

        async def close_fails() -> None:
            await real_close()
            raise RuntimeError("the NATS connection did not close cleanly")

        real_close = transport.close
        monkeypatch.setattr(transport, "close", close_fails)
        monkeypatch.setattr(node.store, "commit_block", _disk_full)  # the disk fills up
        future = await node.accept(factory.note(writer, "stop/1", {"n": 1}))
        with pytest.raises(OSError, match="No space left"):
            await asyncio.wait_for(task, 30)  # the node stops with the fault it hit, not the closing error
        with pytest.raises(Unavailable, match="on the stream and commits when the node is back"):
            await future  # its submitter is told it is not lost
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            node.finality.committed(1)  # the finality file was closed all the same
        node.store.close()

    run(scenario(), timeout=60)
