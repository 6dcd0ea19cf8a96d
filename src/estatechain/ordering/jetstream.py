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
from estatechain.ordering.connection import ConnectionWatch, Throttle, describe

log = logging.getLogger(__name__)

FETCH_BATCH: Final = 256
FETCH_WAIT_S: Final = 0.25
RETRY_S: Final = 0.5
IDLE_PROBE_S: Final = 2.0
"""After this long without a message the reader asks the server whether its consumer is stuck (``_in_order``)."""
CONNECT_WITHIN_S: Final = 60.0
"""Longest wait for a first connection (a node starting, a node joining): then the caller is told why."""
PING_INTERVAL_S: Final = 5
MAX_OUTSTANDING_PINGS: Final = 2
"""A server that stops answering (paused, or cut off without the socket noticing) is given up after about
``PING_INTERVAL_S * (MAX_OUTSTANDING_PINGS + 1)`` seconds, 15 s, and nats-py moves to another server of the
cluster. nats-py's defaults (120 s, 2) kept a node attached to a paused server for four to six minutes."""
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

    def __init__(self, nc: NatsClient, *, tag: str, org_id: str, publish_timeout_s: float,
                 watch: ConnectionWatch | None = None) -> None:
        self._nc = nc
        self._js: JetStreamContext = nc.jetstream(timeout=publish_timeout_s)
        self._tag = tag
        self._org = org_id
        self._timeout = publish_timeout_s
        self._tx_subject = subjects.tx_subject(tag, org_id)
        self._cut_subject = subjects.cut_subject(tag)
        self._stream = subjects.tx_stream(tag)
        self._watch = watch

    @classmethod
    async def connect(cls, access: NatsAccess, *, chain_id: str, publish_timeout_s: float = 2.0,
                      within_s: float = CONNECT_WITHIN_S) -> JetStreamOrdering:
        """Connect with the org's credentials and private inbox prefix; reconnect forever afterwards.

        nats-py retries a first connection forever when reconnecting is allowed (``max_reconnect_attempts``
        -1), so the first connection is bounded here by ``within_s``; once made, a lost connection is
        retried until it is back, quietly (``ConnectionWatch``). A server that stops answering counts as
        lost after ``PING_INTERVAL_S * (MAX_OUTSTANDING_PINGS + 1)`` seconds of unanswered pings.

        Raises:
            Unavailable: no server of the cluster answered within ``within_s`` seconds.

        """
        servers = ", ".join(access.servers)
        watch = ConnectionWatch(servers, waiting_s=within_s)
        nc = NatsClient()
        try:
            await asyncio.wait_for(nc.connect(
                servers=list(access.servers), user=access.user, password=access.password,
                inbox_prefix=subjects.inbox_prefix(access.org_id), name=f"estatechain-{access.org_id}",
                max_reconnect_attempts=-1, allow_reconnect=True, connect_timeout=2,
                reconnect_time_wait=0.25,  # type: ignore[arg-type]  # typed int, used as a float (asyncio.sleep)
                ping_interval=PING_INTERVAL_S, max_outstanding_pings=MAX_OUTSTANDING_PINGS,
                error_cb=watch.on_error, disconnected_cb=watch.on_disconnected, reconnected_cb=watch.on_reconnected,
                closed_cb=watch.on_closed,
            ), within_s)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            watch.closing()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), CLOSE_S)
            last = watch.last_error if isinstance(exc, TimeoutError) and watch.last_error is not None else exc
            raise Unavailable(f"no NATS server of {servers} answered ({describe(last)})") from None
        watch.up()
        return cls(nc, tag=subjects.chain_tag(chain_id), org_id=access.org_id, publish_timeout_s=publish_timeout_s,
                   watch=watch)

    @property
    def client(self) -> NatsClient:
        """The underlying connection (settings checks, attestations)."""
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context of this connection."""
        return self._js

    @property
    def connected(self) -> bool:
        """True while the connection to a NATS server is up (False while it reconnects, and once closed)."""
        return self._nc.is_connected

    @property
    def gone(self) -> bool:
        """True once nats-py closed the connection for good (it will not reconnect; see ``ConnectionWatch``)."""
        return self._watch is not None and self._watch.gone

    @property
    def down_for_s(self) -> float:
        """Seconds since the connection was lost (0 while connected)."""
        return 0.0 if self._watch is None else self._watch.down_for_s()

    @property
    def last_error(self) -> str:
        """The last connection error nats-py reported, as one line."""
        return describe(self._nc.last_error if self._watch is None else self._watch.last_error)

    async def close(self) -> None:
        """Drain nothing, just close: unacknowledged publishes have already been reported to their callers."""
        if self._watch is not None:
            self._watch.closing()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._nc.close(), CLOSE_S)

    async def probe(self) -> None:
        """Ask the transaction stream whether it can store a write now: it has a leader and a quorum of replicas.

        Raises:
            Unavailable: no connection, no answer in time (no quorum of servers, no leader), or too few
                current replicas; the message says which.

        """
        if not self.connected:
            raise Unavailable(f"no connection to the NATS cluster for {self.down_for_s:.0f} s ({self.last_error})")
        try:
            info = await asyncio.wait_for(self._js.stream_info(self._stream), self._timeout)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise Unavailable(f"the ordering stream {self._stream} does not answer ({describe(exc)}): "
                              "fewer than a majority of the NATS servers may be up") from None
        cluster = info.cluster
        if cluster is None:
            return  # a single server: it answered, so it can store
        replicas = cluster.replicas or []
        current = 1 + sum(1 for r in replicas if r.current and not r.offline)
        needed = (1 + len(replicas)) // 2 + 1
        if not cluster.leader or current < needed:
            leader = "a leader and" if cluster.leader else "no leader,"
            raise Unavailable(f"the ordering stream {self._stream} has {leader} "
                              f"{current} of {1 + len(replicas)} replicas current; it needs {needed} to store a write")

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
        """Read ``stream`` from ``after + 1`` with the org's consumer, recreating it on any fault or gap.

        While the cluster is away the consumer cannot be opened, twice a second: that is said when it
        starts, at most once a minute while it lasts, and when the consumer opens again.
        """
        expected = after + 1
        throttle = Throttle(log)
        while True:
            try:
                sub = await self._open(stream, expected)
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as exc:
                throttle.failed("open", f"cannot open a consumer on {stream} at {expected} ({describe(exc)}); retrying")
                await asyncio.sleep(RETRY_S)
                continue
            throttle.ended("open", f"the consumer on {stream} is open again")
            try:
                async for msg in _in_order(sub, expected):
                    yield expected, msg.subject, msg
                    expected += 1
            except (nats.errors.Error, nats.js.errors.Error) as exc:
                log.warning("reading %s at %d: %s; reopening the consumer", stream, expected, describe(exc))
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
