"""The cluster's ordering transport: publish admitted transactions to the JetStream stream, read it back.

Every org node publishes the transactions it admitted to its own subject of one replicated stream
and reads the *whole* stream back, in stream order, from the position its ledger recorded with its
last block (design §3.8). The stream is the only source of order: a node commits what it reads, never
what it published. Publishing waits for the stream's acknowledgement, which JetStream gives once the
message is stored (fsynced, ``sync_interval: always``) on a quorum of the R3 servers; without that
acknowledgement the caller is told to resubmit (503), and the tx-id ``Nats-Msg-Id`` makes a
resubmission harmless within the duplicate window (and the ledger drops it after that).

Reading uses the org's own pull consumer (``node-<org>``), recreated from an explicit start sequence
whenever the node starts or sees a gap, with no acknowledgements: position lives in the ledger, not
in the server, so a crash can never make the consumer and the ledger disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from estatechain.errors import Unavailable
from estatechain.ordering import subjects

log = logging.getLogger(__name__)

FETCH_BATCH: Final = 256
FETCH_WAIT_S: Final = 0.25
RETRY_S: Final = 0.5
IDLE_PROBE_S: Final = 2.0
"""After this long without a message the reader asks the server whether its consumer is stuck (``_in_order``)."""
CLOSE_S: Final = 5.0
"""Longest wait for a connection or subscription to close: a stop never hangs on a dead server."""
_ACK_TOKENS_V1: Final = 9
"""``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>``: timestamp at index 7."""
_TIMESTAMP_V1, _TIMESTAMP_V2 = 7, 9
"""The v2 form adds domain and account hash after ``ACK`` (and may end with a random token)."""


class EntryKind(StrEnum):
    """What a stream entry is: a transaction envelope or a cut marker."""

    TX = "tx"
    CUT = "cut"


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEntry:
    """One message of the ordering stream as every node sees it: same seq, same time, same bytes."""

    seq: int
    time_ms: int
    kind: EntryKind
    origin: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class NatsAccess:
    """How one org's node reaches the NATS cluster: servers and that org's own credentials."""

    servers: tuple[str, ...]
    user: str
    password: str
    org_id: str


def stored_time_ms(msg: Msg) -> int:
    """The time the stream stored ``msg`` (set once by the stream leader, so identical on every node)."""
    reply = msg.reply or ""
    tokens = reply.split(".")
    if len(tokens) < _ACK_TOKENS_V1 or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise ValueError(f"not a JetStream message (reply subject {reply!r})")
    index = _TIMESTAMP_V1 if len(tokens) == _ACK_TOKENS_V1 else _TIMESTAMP_V2
    return int(tokens[index]) // 1_000_000


class JetStreamOrdering:
    """One node's connection to the ordering and attestation streams."""

    def __init__(self, nc: NatsClient, *, tag: str, org_id: str, publish_timeout_s: float) -> None:
        self._nc = nc
        self._js: JetStreamContext = nc.jetstream(timeout=publish_timeout_s)
        self._tag = tag
        self._org = org_id
        self._timeout = publish_timeout_s
        self._tx_subject = subjects.tx_subject(tag, org_id)
        self._cut_subject = subjects.cut_subject(tag)
        self._stream = subjects.tx_stream(tag)

    @classmethod
    async def connect(cls, access: NatsAccess, *, chain_id: str, publish_timeout_s: float = 2.0) -> JetStreamOrdering:
        """Connect with the org's credentials and private inbox prefix; reconnect forever afterwards.

        Raises:
            Unavailable: no server of the cluster answered.

        """
        try:
            nc = await nats.connect(
                servers=list(access.servers), user=access.user, password=access.password,
                inbox_prefix=subjects.inbox_prefix(access.org_id), name=f"estatechain-{access.org_id}",
                max_reconnect_attempts=-1, reconnect_time_wait=0.25, connect_timeout=2, allow_reconnect=True,
            )
        except (OSError, nats.errors.Error) as exc:
            raise Unavailable(f"cannot reach the NATS cluster at {', '.join(access.servers)}: {exc}") from None
        return cls(nc, tag=subjects.chain_tag(chain_id), org_id=access.org_id, publish_timeout_s=publish_timeout_s)

    @property
    def client(self) -> NatsClient:
        """The underlying connection (settings checks, attestations)."""
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context of this connection."""
        return self._js

    async def close(self) -> None:
        """Drain nothing, just close: unacknowledged publishes have already been reported to their callers."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._nc.close(), CLOSE_S)

    async def publish_tx(self, tx_id: str, envelope: bytes) -> int:
        """Publish one admitted transaction; return its stream sequence once the stream stored it.

        Raises:
            Unavailable: the stream did not acknowledge in time (no quorum, no connection): retry.

        """
        return await self._publish(self._tx_subject, envelope, tx_id)

    async def publish_cut(self, height: int, body: bytes, head: str = "") -> None:
        """Publish a cut marker for ``height`` after block ``head``; the stream keeps the first in its window."""
        with contextlib.suppress(Unavailable):  # another node's marker, or the next timer tick, will do
            await self._publish(self._cut_subject, body, subjects.cut_msg_id(height, head))

    async def publish_attestation(self, height: int, data: bytes) -> None:
        """Publish this node's attestation of ``height`` (deduplicated per org and height)."""
        await self._publish(subjects.att_subject(self._tag, self._org), data, f"att-{self._org}-{height}")

    async def _publish(self, subject: str, data: bytes, msg_id: str) -> int:
        try:
            ack = await self._js.publish(subject, data, timeout=self._timeout, headers={"Nats-Msg-Id": msg_id})
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise Unavailable("the ordering service did not acknowledge the transaction "
                              f"({type(exc).__name__}); nothing was ordered: submit it again") from None
        return int(ack.seq)

    async def entries(self, after: int) -> AsyncIterator[StreamEntry]:
        """Every entry of the transaction stream after sequence ``after``, in order, forever."""
        async for seq, subject, msg in self._read(self._stream, after):
            kind = EntryKind.CUT if subject == self._cut_subject else EntryKind.TX
            origin = subject.rsplit(".", 1)[-1] if kind is EntryKind.TX else ""
            yield StreamEntry(seq=seq, time_ms=stored_time_ms(msg), kind=kind, origin=origin, data=msg.data)

    async def attestations(self, after: int = 0) -> AsyncIterator[tuple[int, bytes]]:
        """Every attestation published by any org, in stream order, forever."""
        async for seq, _subject, msg in self._read(subjects.att_stream(self._tag), after):
            yield seq, msg.data

    async def _read(self, stream: str, after: int) -> AsyncIterator[tuple[int, str, Msg]]:
        """Read ``stream`` from ``after + 1`` with the org's consumer, recreating it on any fault or gap."""
        expected = after + 1
        while True:
            try:
                sub = await self._open(stream, expected)
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as exc:
                log.warning("cannot open a consumer on %s at %d (%s); retrying", stream, expected, exc)
                await asyncio.sleep(RETRY_S)
                continue
            try:
                async for msg in _in_order(sub, expected):
                    yield expected, msg.subject, msg
                    expected += 1
            except (nats.errors.Error, nats.js.errors.Error) as exc:
                log.warning("reading %s at %d: %s; reopening the consumer", stream, expected, exc)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sub.unsubscribe(), CLOSE_S)
            await asyncio.sleep(RETRY_S)

    async def _open(self, stream: str, start: int) -> JetStreamContext.PullSubscription:
        name = subjects.consumer_name(self._org)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self._js.delete_consumer(stream, name)
        config = api.ConsumerConfig(
            name=name, durable_name=name, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            ack_policy=api.AckPolicy.NONE, mem_storage=True, num_replicas=1, inactive_threshold=300.0,
        )
        await self._js.add_consumer(stream, config=config)
        return await self._js.pull_subscribe_bind(durable=name, stream=stream)


async def _in_order(sub: JetStreamContext.PullSubscription, expected: int) -> AsyncIterator[Msg]:
    """Messages of ``sub`` with stream sequences ``expected``, ``expected + 1``, …; returns at a gap.

    Also returns when the consumer is stalled: its memory-backed (R1) state lives on one server, and
    when that server restarts, fetches just time out forever. So after ``IDLE_PROBE_S`` without a
    message the consumer is asked about; gone, unreachable, or holding messages it does not deliver
    means "reopen it".
    """
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    while True:
        try:
            batch = await sub.fetch(FETCH_BATCH, timeout=FETCH_WAIT_S)
        except TimeoutError:
            if loop.time() - idle_since >= IDLE_PROBE_S:
                if await _stalled(sub):
                    log.warning("the consumer delivers nothing at stream sequence %d; reopening it", expected)
                    return
                idle_since = loop.time()
            continue
        idle_since = loop.time()
        for msg in batch:
            seq = msg.metadata.sequence.stream
            if seq < expected:
                continue
            if seq > expected:
                log.warning("expected stream sequence %d, got %d; reopening the consumer", expected, seq)
                return
            yield msg
            expected += 1


async def _stalled(sub: JetStreamContext.PullSubscription) -> bool:
    """True when the consumer cannot be asked about, or holds pending messages it did not deliver."""
    try:
        info = await sub.consumer_info()
    except (TimeoutError, nats.errors.Error, nats.js.errors.Error):
        return True
    return bool(info.num_pending)
