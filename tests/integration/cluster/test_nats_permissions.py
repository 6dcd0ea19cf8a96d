"""Each org's NATS credentials: what a bank's node may do on the ledger streams, and what it may not.

Refused requests get no reply (the server drops them and reports a permissions violation to the
connection), so each refusal is shown twice: the violation arrives, and the operator sees the
stream unchanged.
"""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.client import JetStreamContext
from nats.js.errors import ServiceUnavailableError

from estatechain.ordering import subjects
from estatechain.testing.natscluster import NatsCluster

from .nats_support import TAG, connect, run

BANK = "icbc-gz"
OTHER_BANK = "ccb-gz"
TX = subjects.tx_stream(TAG)


async def _messages(cluster: NatsCluster) -> int:
    async with connect(cluster, "operator") as operator:
        info = await operator.nc.jetstream(timeout=5).stream_info(TX)
        return info.state.messages


async def _fetch_once_led(pull: JetStreamContext.PullSubscription, batch: int) -> list[Msg]:
    """Fetch ``batch`` messages, waiting up to 5 s for the new consumer to have a leader.

    A durable just created in a three-server cluster answers 503 until its replicas elect a leader
    (CI saw it once); the node's reader treats that as transient too and reopens (``ordering.jetstream``).
    """
    for _ in range(50):
        try:
            return await pull.fetch(batch, timeout=5)
        except ServiceUnavailableError:
            await asyncio.sleep(0.1)
    raise AssertionError("the bank's new consumer had no leader within 5 s")


def test_bank_publishes_its_own_tx_with_ack_and_reads_it_through_its_pull_consumer(nats_cluster: NatsCluster) -> None:
    async def scenario() -> None:
        async with connect(nats_cluster, BANK) as bank:
            js = bank.nc.jetstream(timeout=5)
            ack = await js.publish(subjects.tx_subject(TAG, BANK), b"tx-1", headers={"Nats-Msg-Id": "tx-1"}, stream=TX)
            assert (ack.stream, ack.duplicate) == (TX, None)
            marker = await js.publish(subjects.cut_subject(TAG), b"", headers={"Nats-Msg-Id": subjects.cut_msg_id(1)})
            assert marker.seq == ack.seq + 1
            pull = await js.pull_subscribe(">", durable=subjects.consumer_name(BANK), stream=TX)
            [first, *_] = await _fetch_once_led(pull, 2)
            assert (first.subject, first.data) == (subjects.tx_subject(TAG, BANK), b"tx-1")
            await first.ack_sync(timeout=5)  # the ack itself is permitted and confirmed
            ordered = await js.subscribe(">", stream=TX, ordered_consumer=True)
            assert (await ordered.next_msg(timeout=5)).data == b"tx-1"
            await ordered.unsubscribe()
            att = await js.publish(subjects.att_subject(TAG, BANK), b"att", headers={"Nats-Msg-Id": "att-1"})
            assert att.stream == subjects.att_stream(TAG)
            assert bank.errors == []

    run(scenario())


def test_same_msg_id_twice_within_the_window_is_stored_once(nats_cluster: NatsCluster) -> None:
    async def scenario() -> None:
        before = await _messages(nats_cluster)
        async with connect(nats_cluster, OTHER_BANK) as bank:
            js = bank.nc.jetstream(timeout=5)
            first = await js.publish(subjects.tx_subject(TAG, OTHER_BANK), b"a", headers={"Nats-Msg-Id": "dup-1"})
            again = await js.publish(subjects.tx_subject(TAG, OTHER_BANK), b"a", headers={"Nats-Msg-Id": "dup-1"})
        assert again.duplicate is True
        assert again.seq == first.seq
        assert await _messages(nats_cluster) == before + 1

    run(scenario())


def test_bank_cannot_delete_purge_create_streams_or_delete_messages(nats_cluster: NatsCluster) -> None:
    async def scenario() -> None:
        before = await _messages(nats_cluster)
        assert before > 0
        async with connect(nats_cluster, BANK) as bank:
            js = bank.nc.jetstream(timeout=1)
            attempts = await asyncio.gather(
                js.delete_stream(TX),
                js.purge_stream(TX),
                asyncio.wait_for(js.delete_msg(TX, 1), 1.5),  # delete_msg has its own 5 s timeout
                js.add_stream(name="EC_ROGUE", subjects=["rogue.>"]),
                js.update_stream(name=TX, subjects=[subjects.tx_subjects(TAG)], deny_delete=False),
                return_exceptions=True,
            )
            assert all(isinstance(outcome, TimeoutError) for outcome in attempts), attempts  # no reply: dropped
            for api in ("stream.delete", "stream.purge", "stream.msg.delete", "stream.create", "stream.update"):
                await bank.violation(f"$js.api.{api}.")
        assert await _messages(nats_cluster) == before

    run(scenario())


def test_bank_cannot_publish_as_another_org_or_read_its_inbox_raw_subjects_or_consumer(
    nats_cluster: NatsCluster,
) -> None:
    async def scenario() -> None:
        before = await _messages(nats_cluster)
        async with connect(nats_cluster, BANK) as bank:
            js = bank.nc.jetstream(timeout=1)
            with pytest.raises(NatsTimeout):
                await js.publish(subjects.tx_subject(TAG, OTHER_BANK), b"forged")
            await bank.violation(f'"{subjects.tx_subject(TAG, OTHER_BANK)}"')
            await bank.nc.subscribe(f"{subjects.inbox_prefix(OTHER_BANK)}.>")
            await bank.violation(subjects.inbox_prefix(OTHER_BANK))
            await bank.nc.subscribe(f"ec.{TAG}.tx.>")
            await bank.violation(f"ec.{TAG}.tx.>")
            with pytest.raises(NatsTimeout):  # another org's consumer: pulling would take its deliveries
                await bank.nc.request(f"$JS.API.CONSUMER.MSG.NEXT.{TX}.{subjects.consumer_name(OTHER_BANK)}", b"1")
            await bank.violation(f"consumer.msg.next.{TX}.{subjects.consumer_name(OTHER_BANK)}".lower())
            theirs = ConsumerConfig(name=subjects.consumer_name(OTHER_BANK), ack_policy=AckPolicy.NONE)
            with pytest.raises(NatsTimeout):
                await js.add_consumer(TX, theirs)
        assert await _messages(nats_cluster) == before

    run(scenario())
