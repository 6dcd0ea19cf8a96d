"""``SyncClient``: the blocking face of ``Client`` for code without an event loop.

A thin wrapper: each method runs the asyncio client's method to completion on a private loop, so
there is one implementation of signing, submission and verification (style §6.8). ``events`` is the
one method that does not return at once: it gives an ``EventStream``, a blocking iterator over the
same asyncio generator, that the consuming thread closes and any thread (or a signal handler) stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Coroutine, Iterator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from estatechain.canonical import JSONValue
from estatechain.sdk.client import Block, Client, PreparedPayload, TxStatus, VerifiedInclusion
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.signing import RequestTarget, SignedTransaction

_T = TypeVar("_T")


class EventStream(Iterator[dict[str, Any]]):
    """A blocking iterator over ``Client.events``, made by ``SyncClient.events``; stop it when done.

    ``for event in stream`` blocks until the next event commits (heartbeats are not items). To end it:

    * in the consuming thread, ``break`` and ``close()`` (or use ``with client.events(...) as stream:``);
    * from any other thread or a signal handler, ``stop()``: the iterator then ends (``StopIteration``)
      even while it waits for an event, and the stream's connection is closed.

    Keep the last event's ``cursor`` and pass it as ``after`` to resume, as with the async client.
    A stopped or closed stream stays ended; the ``SyncClient`` remains usable.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, events: AsyncGenerator[dict[str, Any]]) -> None:
        self._loop = loop
        self._events = events
        self._waiting: asyncio.Task[dict[str, Any]] | None = None
        self._stopped = False
        self._finished = False
        # stop() may come from another thread while __next__ waits, or from a signal handler in the very
        # thread that holds the lock (Python runs handlers in the main thread): re-entrant, or SIGTERM hangs
        self._lock = threading.RLock()

    def __iter__(self) -> Self:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __next__(self) -> dict[str, Any]:
        """The next event, waiting for it; ``StopIteration`` once stopped or closed.

        Raises:
            SdkError: the node refused the stream, cannot be reached, or closed it (the message names
                the cursor to resume from); the stream is then ended.

        """
        with self._lock:
            if self._stopped or self._finished:
                self._finish()
                raise StopIteration
            waiting = self._waiting = self._loop.create_task(self._next())
        try:
            return self._loop.run_until_complete(waiting)
        except asyncio.CancelledError:  # stop() cancelled the wait: the generator closed its response
            self._finish()
            raise StopIteration from None
        except BaseException:
            self._finish()
            raise
        finally:
            with self._lock:
                self._waiting = None

    async def _next(self) -> dict[str, Any]:
        return await anext(self._events)

    def stop(self) -> None:
        """End the stream from any thread: a wait in progress ends with ``StopIteration`` (thread-safe)."""
        with self._lock:
            self._stopped = True
            if self._waiting is not None:
                with contextlib.suppress(RuntimeError):  # the client closed its loop: nothing is waiting
                    self._loop.call_soon_threadsafe(self._waiting.cancel)

    def close(self) -> None:
        """End the stream and close its connection; call it from the thread that iterates (idempotent)."""
        with self._lock:
            self._stopped = True
        self._finish()

    @property
    def ended(self) -> bool:
        """True once the stream is over: stopped, closed, or ended by an error."""
        return self._finished

    def _finish(self) -> None:
        """Close the generator (and so its HTTP response) on the private loop, once.

        A wait interrupted by an exception of the caller's thread (``KeyboardInterrupt``) leaves the
        generator suspended inside that wait; it is cancelled first, since a running generator cannot
        be closed.
        """
        if self._finished:
            return
        self._finished = True
        if self._loop.is_closed():
            return
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # its outcome is being discarded
                self._loop.run_until_complete(waiting)
        self._loop.run_until_complete(self._events.aclose())


class SyncClient:
    """Blocking client of one node; ``with SyncClient(url, identity) as c: c.submit_and_wait(...)``."""

    def __init__(self, base_url: str, identity: ClientIdentity, *, chain_id: str | None = None,
                 node_org: str | None = None, timeout_s: float = 10.0) -> None:
        """See ``Client``: what is not given is asked of the node."""
        self._loop = asyncio.new_event_loop()
        self._client = Client(base_url, identity, chain_id=chain_id, node_org=node_org, timeout_s=timeout_s)
        self._streams: list[EventStream] = []

    def _run(self, work: Coroutine[Any, Any, _T]) -> _T:
        return self._loop.run_until_complete(work)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and the private loop."""
        if not self._loop.is_closed():
            for stream in self._streams:  # their responses belong to the pool about to close
                with contextlib.suppress(Exception):
                    stream.close()
            self._streams.clear()
            self._run(self._client.aclose())
            self._loop.close()

    def chain_id(self) -> str:
        """See ``Client.chain_id``."""
        return self._run(self._client.chain_id())

    def target(self) -> RequestTarget:
        """See ``Client.target``."""
        return self._run(self._client.target())

    def sign(self, command: str, body: Mapping[str, JSONValue]) -> SignedTransaction:
        """See ``Client.sign``."""
        return self._run(self._client.sign(command, body))

    def submit(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """See ``Client.submit``."""
        return self._run(self._client.submit(envelope, wait_s=wait_s))

    def status(self, tx_id: str) -> TxStatus:
        """See ``Client.status``."""
        return self._run(self._client.status(tx_id))

    def wait_for_commit(self, tx_id: str, *, timeout_s: float = 30.0) -> TxStatus:
        """See ``Client.wait_for_commit``."""
        return self._run(self._client.wait_for_commit(tx_id, timeout_s=timeout_s))

    def submit_and_wait(self, command: str, body: Mapping[str, JSONValue], *,
                        timeout_s: float = 30.0) -> tuple[SignedTransaction, TxStatus]:
        """See ``Client.submit_and_wait``."""
        return self._run(self._client.submit_and_wait(command, body, timeout_s=timeout_s))

    def block(self, height: int | str) -> Block:
        """See ``Client.block``."""
        return self._run(self._client.block(height))

    def head(self) -> Block:
        """See ``Client.head``."""
        return self._run(self._client.head())

    def members(self) -> dict[str, Any]:
        """See ``Client.members``."""
        return self._run(self._client.members())

    def verify_inclusion(self, envelope: bytes, status: TxStatus) -> VerifiedInclusion:
        """See ``Client.verify_inclusion``."""
        return self._run(self._client.verify_inclusion(envelope, status))

    # -- typed workflow steps, materials and party look-ups -------------------------------------------------

    def prepare(self, step: str, **fields: Any) -> PreparedPayload:  # noqa: ANN401  (JSON of the step)
        """See ``Client.prepare``: the node's unsigned payload of ``step``, checked here before it is signed.

        Raises:
            ProofInvalid: the node's payload is not what this client asked to sign.
            ServerError: refused by the node, e.g. 413 ``PAYLOAD_TOO_LARGE`` when the signed envelope would
                exceed the consortium's ``max_tx_bytes`` (``detail`` has ``size``, ``payload_size``, ``limit``).

        """
        return self._run(self._client.prepare(step, **fields))

    def sign_prepared(self, prepared: PreparedPayload) -> SignedTransaction:
        """See ``Client.sign_prepared``: sign a prepared payload here, with this identity's own key."""
        return self._client.sign_prepared(prepared)

    def step(self, step: str, *, timeout_s: float = 30.0,
             **fields: Any) -> tuple[SignedTransaction, TxStatus]:  # noqa: ANN401  (JSON of the step)
        """See ``Client.step``: prepare ``step``, sign it here, submit it and wait for the commit.

        Raises:
            CommitTimeout: still pending after ``timeout_s`` (it may commit later: ask ``status``).

        """
        return self._run(self._client.step(step, timeout_s=timeout_s, **fields))

    def upload_material(self, data: bytes) -> dict[str, Any]:
        """See ``Client.upload_material``: store a material's bytes; ``sha256``, ``size`` and ``media_type``."""
        return self._run(self._client.upload_material(data))

    def lookup_party(self, id_type: str, id_number: str) -> str:
        """See ``Client.lookup_party``: an ID document's party id, from the identity authority's node."""
        return self._run(self._client.lookup_party(id_type, id_number))

    # -- events ------------------------------------------------------------------------------------------

    def events(self, after: str | None = None, *, heartbeat_s: int = 15) -> EventStream:
        """See ``Client.events``: the caller org's events as they commit, as a blocking, stoppable iterator.

        ``with client.events(after=cursor) as stream: for event in stream: ...``; call ``stream.stop()``
        from another thread (a shutdown handler) to end a loop that is waiting for the next event. While
        the loop body runs, this client's other methods may be called (they share its private loop).
        Closing the client closes its streams.
        """
        stream = EventStream(self._loop, self._client.events(after, heartbeat_s=heartbeat_s))
        self._streams = [s for s in self._streams if not s.ended]
        self._streams.append(stream)
        return stream
