"""``SyncClient``: the blocking face of ``Client`` for code without an event loop.

A thin wrapper: each method runs the asyncio client's method to completion, so there is one
implementation of signing, submission and verification (style §6.8). The asyncio client lives on a
private event loop that runs in a background thread of its own; a call from any thread hands its
coroutine to that loop (``asyncio.run_coroutine_threadsafe``) and blocks until it is done. So one
``SyncClient`` may be used by several threads at once (a batch job's thread pool, a thread reading
events while another submits), and the calls share one connection pool.

The blocking methods are made from the async ones (``_blocking``: their signatures and docstrings,
checked by mypy through a ``ParamSpec``) rather than copied by hand, so a method added to ``Client``
is one line here and the two surfaces cannot drift apart in their parameters.

``events`` is the one method that does not return at once: it gives an ``EventStream``, a blocking
iterator over the same asyncio generator, that the consuming thread closes and any thread (or a
signal handler) stops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator, Mapping
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import httpx

from estatechain.sdk.client import Client, PreparedPayload, TxStatus
from estatechain.sdk.errors import SdkError
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.signing import RequestTarget, SignedTransaction

_T = TypeVar("_T")
_P = ParamSpec("_P")


class LoopThread:
    """A private event loop running forever in a daemon thread; ``run`` executes a coroutine on it from any thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="estatechain-sdk-loop", daemon=True)
        self._closed = False
        self._lock = threading.Lock()
        self._thread.start()

    @property
    def closed(self) -> bool:
        """True once ``close`` began: no further work is accepted."""
        return self._closed

    def submit(self, work: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Schedule ``work`` on the loop; its future (thread-safe: ``cancel()`` cancels the work).

        Raises:
            RuntimeError: the loop is closed, or the caller is the loop's own thread (it would wait on itself).

        """
        with self._lock:
            # a loop stopped by the finaliser of a dropped client would never run the work: refuse, never hang
            if self._closed or threading.current_thread() is self._thread or not self.loop.is_running():
                work.close()
                raise RuntimeError("this SyncClient is closed" if self._closed or not self.loop.is_running() else
                                   "a SyncClient cannot be called from its own event loop's thread")
            return asyncio.run_coroutine_threadsafe(work, self.loop)

    def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        """Run ``work`` on the loop and wait for its outcome; an interrupted wait cancels it.

        Raises:
            SdkError: the client was closed (by another thread) while ``work`` ran.

        """
        future = self.submit(work)
        try:
            return future.result()
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            raise SdkError("the SyncClient was closed while this call was running") from None
        except BaseException:  # KeyboardInterrupt in this thread: the work is abandoned, so stop it
            future.cancel()
            raise

    def close(self, last: Coroutine[Any, Any, None]) -> None:
        """Run ``last`` (the client's clean-up), cancel what other threads still run, stop and close the loop."""
        with self._lock:
            if self._closed:
                last.close()
                return
            future = asyncio.run_coroutine_threadsafe(_finally(last), self.loop)
            self._closed = True
        try:
            future.result()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()


async def _finally(last: Coroutine[Any, Any, None]) -> None:
    """Cancel every other task on the loop (calls of other threads then end with ``SdkError``), then run ``last``."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    if others:
        await asyncio.wait(others)
    await last


def _stop_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Stop a loop whose client was dropped without ``close()``, so its thread does not live on."""
    with contextlib.suppress(RuntimeError):  # already closed
        loop.call_soon_threadsafe(loop.stop)


class EventStream(Iterator[dict[str, Any]]):
    """A blocking iterator over ``Client.events``, made by ``SyncClient.events``; stop it when done.

    ``for event in stream`` blocks until the next event commits (heartbeats are not items). To end it:

    * in the consuming thread, ``break`` and ``close()`` (or use ``with client.events(...) as stream:``);
    * from any other thread or a signal handler, ``stop()``: the iterator then ends (``StopIteration``)
      even while it waits for an event, and the stream's connection is closed.

    Keep the last event's ``cursor`` and pass it as ``after`` to resume, as with the async client.
    A stopped or closed stream stays ended; the ``SyncClient`` remains usable, from this thread or others.
    """

    def __init__(self, runner: LoopThread, events: AsyncGenerator[dict[str, Any]], *, owner: object = None) -> None:
        self._owner = owner  # the SyncClient: kept alive while its stream is, or its finaliser stops the loop
        self._runner = runner
        self._events = events
        self._waiting: concurrent.futures.Future[dict[str, Any]] | None = None
        self._task: asyncio.Task[Any] | None = None  # the loop's task inside the generator (loop thread only)
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
            SdkError: the node refused the stream, cannot be reached, went silent or closed it (the
                message names the cursor to resume from); the stream is then ended.

        """
        with self._lock:
            if self._stopped or self._finished:
                self._finish()
                raise StopIteration
            try:
                waiting = self._waiting = self._runner.submit(self._next())
            except RuntimeError:  # the client is closed: so is this stream
                self._finished = True
                raise StopIteration from None
        try:
            return waiting.result()
        except (concurrent.futures.CancelledError, asyncio.CancelledError):  # stop(): the wait was cancelled
            self._finish()
            raise StopIteration from None
        except StopAsyncIteration:
            self._finish()
            raise StopIteration from None
        except BaseException:
            waiting.cancel()  # KeyboardInterrupt here leaves the generator waiting on the loop: stop it
            self._finish()
            raise
        finally:
            with self._lock:
                self._waiting = None

    async def _next(self) -> dict[str, Any]:
        self._task = asyncio.current_task()
        return await anext(self._events)

    def stop(self) -> None:
        """End the stream from any thread: a wait in progress ends with ``StopIteration`` (thread-safe)."""
        with self._lock:
            self._stopped = True
            if self._waiting is not None:
                self._waiting.cancel()

    def close(self) -> None:
        """End the stream and close its connection (idempotent; from any thread, usually the one that iterates)."""
        self.stop()
        self._finish()

    @property
    def ended(self) -> bool:
        """True once the stream is over: stopped, closed, or ended by an error."""
        return self._finished

    def _finish(self) -> None:
        """Close the generator (and so its HTTP response) on the loop, once."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        if self._runner.closed:
            return
        with contextlib.suppress(RuntimeError, SdkError):  # closed meanwhile: the loop closed the response
            self._runner.run(self._close())

    async def _close(self) -> None:
        """Close the generator; a wait still inside it (cancelled, or interrupted in the caller's thread) ends first.

        A running generator cannot be closed.
        """
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task})
        await self._events.aclose()


def _blocking(
    method: Callable[Concatenate[Client, _P], Coroutine[Any, Any, _T]],
) -> Callable[Concatenate[SyncClient, _P], _T]:
    """``SyncClient``'s blocking face of a coroutine method of ``Client``: run on the private loop, waited for.

    One line per method instead of a hand-copied signature and docstring (``functools.wraps``: ``help``
    and ``inspect.signature`` show ``Client``'s), so the two clients cannot drift apart; the
    ``ParamSpec`` lets mypy check every call against the async method's parameters.
    """

    @functools.wraps(method)
    def blocking(self: SyncClient, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return self._run(method(self._client, *args, **kwargs))

    blocking.__module__, blocking.__qualname__ = __name__, f"SyncClient.{method.__name__}"
    return blocking


class SyncClient:
    """Blocking client of one node; ``with SyncClient(url, identity) as c: c.submit_and_wait(...)``.

    Thread-safe: any number of threads may call one client at once (each call blocks its own thread
    only), and ``close()`` ends the calls and event streams still running.
    """

    def __init__(  # noqa: PLR0913  (the same keywords as Client)
        self,
        base_url: str,
        identity: ClientIdentity,
        *,
        chain_id: str | None = None,
        node_org: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        include_certificate: bool = True,
    ) -> None:
        """See ``Client``: what is not given is asked of the node."""
        self._runner = LoopThread()
        self._client = Client(base_url, identity, chain_id=chain_id, node_org=node_org, timeout_s=timeout_s,
                              transport=transport, include_certificate=include_certificate)
        self._streams: list[EventStream] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _stop_loop, self._runner.loop)

    @property
    def identity(self) -> ClientIdentity:
        """The identity every request and transaction is signed with."""
        return self._client.identity

    def _run(self, work: Coroutine[Any, Any, _T]) -> _T:
        return self._runner.run(work)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close event streams, connections and the private loop (``Client.aclose``); idempotent."""
        with self._lock:
            streams, self._streams = self._streams, []
        for stream in streams:  # their responses belong to the pool about to close
            stream.stop()
        self._runner.close(self._aclose(streams))

    async def _aclose(self, streams: list[EventStream]) -> None:
        for stream in streams:  # no task runs them any more (cancelled first), so each can be closed
            stream._finished = True  # noqa: SLF001  (closed here, on the loop, for the stream)
            with contextlib.suppress(Exception):
                await stream._events.aclose()  # noqa: SLF001
        await self._client.aclose()

    # -- the same methods as Client, blocking ------------------------------------------------------------
    # Each coroutine method of Client runs on the private loop (``_blocking``): the signature and
    # docstring are the async method's own. Written out below are the two whose ``**fields`` a
    # ParamSpec cannot carry past ``self``, the two that never wait, and ``events``.

    chain_id = _blocking(Client.chain_id)
    target = _blocking(Client.target)
    send = _blocking(Client.send)

    def build_request(  # noqa: PLR0913  (keywords only; each overrides one part of the request)
        self, method: str, path: str, *, params: Mapping[str, int | str] | None = None,
        content: bytes | None = None, target: RequestTarget, created_s: int | None = None, nonce: str | None = None,
        content_type: str = "application/json",
    ) -> httpx.Request:
        """See ``Client.build_request``: a request signed with this identity for ``target``; send it with ``send``."""
        return self._client.build_request(method, path, params=params, content=content, target=target,
                                          created_s=created_s, nonce=nonce, content_type=content_type)

    sign = _blocking(Client.sign)
    submit = _blocking(Client.submit)
    status = _blocking(Client.status)
    wait_for_commit = _blocking(Client.wait_for_commit)
    submit_and_wait = _blocking(Client.submit_and_wait)

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

    inquire = _blocking(Client.inquire)
    submit_inquiry = _blocking(Client.submit_inquiry)
    inquiry_answer = _blocking(Client.inquiry_answer)
    unit_inquiries = _blocking(Client.unit_inquiries)

    prepare_certificate = _blocking(Client.prepare_certificate)
    issue_certificate = _blocking(Client.issue_certificate)
    certificate = _blocking(Client.certificate)
    certificate_pdf = _blocking(Client.certificate_pdf)
    certificate_status = _blocking(Client.certificate_status)
    verify_certificate_file = _blocking(Client.verify_certificate_file)

    register_webhook = _blocking(Client.register_webhook)
    webhook = _blocking(Client.webhook)
    remove_webhook = _blocking(Client.remove_webhook)
    webhook_deliveries = _blocking(Client.webhook_deliveries)

    lookup_party = _blocking(Client.lookup_party)
    members = _blocking(Client.members)
    upload_material = _blocking(Client.upload_material)
    download_material = _blocking(Client.download_material)
    download = _blocking(Client.download)

    block = _blocking(Client.block)
    head = _blocking(Client.head)
    inclusion_proof = _blocking(Client.inclusion_proof)
    consistency_proof = _blocking(Client.consistency_proof)
    verify_inclusion = _blocking(Client.verify_inclusion)

    # -- events ------------------------------------------------------------------------------------------

    def events(self, after: str | None = None, *, heartbeat_s: int = 15) -> EventStream:
        """See ``Client.events``: the caller org's events as they commit, as a blocking, stoppable iterator.

        ``with client.events(after=cursor) as stream: for event in stream: ...``; call ``stream.stop()``
        from another thread (a shutdown handler) to end a loop that is waiting for the next event. While
        a stream waits or its loop body runs, this client's other methods may be called, from this
        thread or any other. Closing the client closes its streams.
        """
        stream = EventStream(self._runner, self._client.events(after, heartbeat_s=heartbeat_s), owner=self)
        with self._lock:
            self._streams = [s for s in self._streams if not s.ended]
            self._streams.append(stream)
        return stream
