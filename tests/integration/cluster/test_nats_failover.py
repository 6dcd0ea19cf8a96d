"""The harness's fault tools on a real cluster: killing the stream leader loses no acknowledged entry.

This module starts its own cluster, since it kills servers. It also shows what the node's publisher
must do: while a new leader is elected (about 5 s) a publish gets no answer, and re-publishing with
the same ``Nats-Msg-Id`` stores the transaction once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.errors import Error as NatsError
from nats.js.api import PubAck

from estatechain.ordering import subjects
from estatechain.ordering.streams import ensure_streams

from .nats_support import TAG, connect, run, start_cluster

BANK = "icbc-gz"


def test_killing_the_stream_leader_keeps_acknowledged_entries_and_a_retried_publish_lands_once(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path)
    try:
        stream = subjects.tx_stream(TAG)

        async def publish(msg_id: str) -> PubAck:
            async with connect(cluster, BANK) as bank:
                js = bank.nc.jetstream(timeout=1)
                for _ in range(150):  # bounded: about 15 s, three election timeouts
                    try:
                        return await js.publish(subjects.tx_subject(TAG, BANK), msg_id.encode(),
                                                headers={"Nats-Msg-Id": msg_id})
                    except (NatsError, TimeoutError):
                        await asyncio.sleep(0.1)
            raise AssertionError(f"no ack for {msg_id} within the retry budget")

        async def prepare() -> None:
            async with connect(cluster, "operator") as operator:
                await ensure_streams(operator.nc, TAG)

        run(prepare())
        first = run(publish("tx-before"))
        leader = cluster.stream_leader(stream)
        cluster.kill(leader)
        second = run(publish("tx-after"))
        assert cluster.stream_leader(stream) != leader
        cluster.restart(leader)
        again = run(publish("tx-after"))
        assert (again.seq, again.duplicate) == (second.seq, True)
        assert second.seq == first.seq + 1
    finally:
        cluster.close()
