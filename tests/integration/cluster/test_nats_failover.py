"""The harness's fault tools on a real cluster: killing the stream leader loses no acknowledged entry.

This module starts its own cluster, since it kills servers. It also shows what the node's publisher
must do: while a new leader is elected (about 5 s) a publish gets no answer, and re-publishing with
the same ``Nats-Msg-Id`` stores the transaction once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from nats.errors import Error as NatsError
from nats.js.api import PubAck

from estatechain.errors import Unavailable
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


def test_stream_creation_waits_for_a_quorum_and_says_so_when_none_comes(tmp_path: Path) -> None:
    """An operator creating the streams on a cluster without a majority gets a bounded, named refusal;
    once the servers are back, the same call waits out the election and creates both streams."""
    cluster = start_cluster(tmp_path)
    try:
        cluster.wait_ready()
        cluster.kill(1)
        cluster.kill(2)

        async def create(settle_s: float) -> tuple[str, str]:
            async with connect(cluster, "operator") as operator:
                tx, att = await ensure_streams(operator.nc, TAG, settle_s=settle_s)
                return str(tx.config.name), str(att.config.name)

        started = time.monotonic()
        with pytest.raises(Unavailable, match="majority of the NATS servers"):
            run(create(3.0))
        assert time.monotonic() - started < 3.0 + 2 * 5.0  # the budget plus at most one API timeout in flight
        cluster.restart(1)
        cluster.restart(2)
        assert run(create(60.0)) == (subjects.tx_stream(TAG), subjects.att_stream(TAG))
    finally:
        cluster.close()


def test_stream_creation_with_one_server_down_is_never_a_bad_request_and_places_three_replicas(tmp_path: Path) -> None:
    """With one of three servers down, the meta leader may still count it (then R3 is placed, two replicas
    live) or may already have dropped it ("no suitable peers for placement", seen on a fresh cluster of a
    loaded machine): the operator then gets the bounded, named refusal — never the raw bad request — and
    once the server is back the same call gives both streams with three replicas. Which of the two the
    leader answers is its timing, not ours; both are checked for what the operator sees."""
    cluster = start_cluster(tmp_path)
    try:
        cluster.wait_ready()
        cluster.kill(2)

        async def create(settle_s: float) -> int:
            async with connect(cluster, "operator") as operator:
                tx, _ = await ensure_streams(operator.nc, TAG, settle_s=settle_s)
                return int(tx.config.num_replicas or 0)

        try:
            replicas: int | str = run(create(3.0))
        except Unavailable as refused:
            replicas = str(refused)
        assert replicas == 3 or "majority of the NATS servers" in str(replicas)
        cluster.restart(2)
        assert run(create(60.0)) == 3
    finally:
        cluster.close()
