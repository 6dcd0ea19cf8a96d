"""``SyncClient``: the blocking face of ``Client`` for code without an event loop.

A thin wrapper: each method runs the asyncio client's method to completion, so there is one
implementation of signing, submission and verification (style §6.8). The asyncio client lives on a
private event loop that runs in a background thread of its own; a call from any thread hands its
coroutine to that loop (``asyncio.run_coroutine_threadsafe``) and blocks until it is done. So one
``SyncClient`` may be used by several threads at once (a batch job's thread pool, a thread reading
events while another submits), and the calls share one connection pool.

``events`` is the one method that does not return at once: it gives an ``EventStream``, a blocking
iterator over the same asyncio generator, that the consuming thread closes and any thread (or a
signal handler) stops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from estatechain.canonical import JSONValue
from estatechain.sdk.client import Block, Client, PreparedCertificate, PreparedPayload, TxStatus, VerifiedInclusion
from estatechain.sdk.errors import SdkError
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.responses import Deliveries, InquiryAnswer, InquiryEntry, RemovedWebhook, Webhook
from estatechain.sdk.signing import RequestTarget, SignedTransaction

_T = TypeVar("_T")


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

    # -- plumbing ----------------------------------------------------------------------------------------

    def chain_id(self) -> str:
        """See ``Client.chain_id``."""
        return self._run(self._client.chain_id())

    def target(self) -> RequestTarget:
        """See ``Client.target``."""
        return self._run(self._client.target())

    def build_request(  # noqa: PLR0913  (keywords only; each overrides one part of the request)
        self, method: str, path: str, *, params: Mapping[str, int | str] | None = None,
        content: bytes | None = None, target: RequestTarget, created_s: int | None = None, nonce: str | None = None,
        content_type: str = "application/json",
    ) -> httpx.Request:
        """See ``Client.build_request``: a request signed with this identity for ``target``; send it with ``send``."""
        return self._client.build_request(method, path, params=params, content=content, target=target,
                                          created_s=created_s, nonce=nonce, content_type=content_type)

    def send(self, request: httpx.Request) -> Any:  # noqa: ANN401  (decoded JSON of any documented shape)
        """See ``Client.send``: send a built request; the decoded JSON body, or the node's error raised."""
        return self._run(self._client.send(request))

    # -- transactions ------------------------------------------------------------------------------------

    def sign(self, command: str, body: Mapping[str, JSONValue], *, nonce: str | None = None,
             created_at_ms: int | None = None) -> SignedTransaction:
        """See ``Client.sign``."""
        return self._run(self._client.sign(command, body, nonce=nonce, created_at_ms=created_at_ms))

    def submit(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """See ``Client.submit``: a timeout or broken connection names the tx id to ask ``status`` about."""
        return self._run(self._client.submit(envelope, wait_s=wait_s))

    def status(self, tx_id: str) -> TxStatus:
        """See ``Client.status``."""
        return self._run(self._client.status(tx_id))

    def wait_for_commit(self, tx_id: str, *, timeout_s: float = 30.0, poll_s: float = 0.05) -> TxStatus:
        """See ``Client.wait_for_commit``."""
        return self._run(self._client.wait_for_commit(tx_id, timeout_s=timeout_s, poll_s=poll_s))

    def submit_and_wait(self, command: str, body: Mapping[str, JSONValue], *,
                        timeout_s: float = 30.0) -> tuple[SignedTransaction, TxStatus]:
        """See ``Client.submit_and_wait``."""
        return self._run(self._client.submit_and_wait(command, body, timeout_s=timeout_s))

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

    # -- inquiries ---------------------------------------------------------------------------------------

    def inquire(  # noqa: PLR0913  (keywords only: the inquiry's fields, each optional but the basis)
        self, *, basis: str, unit_number: str | None = None, certificate_number: str | None = None,
        purpose: str | None = None, requester_party: str | None = None, consent_ids: Sequence[str] | None = None,
        evidence_sha256: str | None = None, interest_kind: str | None = None, case_no: str | None = None,
        timeout_s: float = 30.0,
    ) -> tuple[SignedTransaction, TxStatus]:
        """See ``Client.inquire``: prepare, sign here, submit to ``POST /v1/inquiries`` and wait for the commit."""
        return self._run(self._client.inquire(
            basis=basis, unit_number=unit_number, certificate_number=certificate_number, purpose=purpose,
            requester_party=requester_party, consent_ids=consent_ids, evidence_sha256=evidence_sha256,
            interest_kind=interest_kind, case_no=case_no, timeout_s=timeout_s))

    def submit_inquiry(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """See ``Client.submit_inquiry``: submit this identity's own signed inquiry envelope."""
        return self._run(self._client.submit_inquiry(envelope, wait_s=wait_s))

    def inquiry_answer(self, tx_id: str) -> InquiryAnswer:
        """See ``Client.inquiry_answer``: the registry-signed answer, its signature and context checked here."""
        return self._run(self._client.inquiry_answer(tx_id))

    def unit_inquiries(self, unit_number: str) -> tuple[InquiryEntry, ...]:
        """See ``Client.unit_inquiries``: who looked at a unit."""
        return self._run(self._client.unit_inquiries(unit_number))

    # -- certificates ------------------------------------------------------------------------------------

    def prepare_certificate(self, application_id: str, *, nonce: str | None = None,
                            created_at: int | None = None) -> PreparedCertificate:
        """See ``Client.prepare_certificate``: the registry issuer's certificate and its checked issue payload."""
        return self._run(self._client.prepare_certificate(application_id, nonce=nonce, created_at=created_at))

    def issue_certificate(self, application_id: str, *,
                          timeout_s: float = 30.0) -> tuple[PreparedCertificate, SignedTransaction, TxStatus]:
        """See ``Client.issue_certificate``: prepare, sign the issue payload here, submit and wait."""
        return self._run(self._client.issue_certificate(application_id, timeout_s=timeout_s))

    def certificate(self, number: str) -> dict[str, Any]:
        """See ``Client.certificate``: an issued certificate's file, for the registry and its parties."""
        return self._run(self._client.certificate(number))

    def certificate_pdf(self, number: str, target: Path) -> int:
        """See ``Client.certificate_pdf``: stream the signed PDF into ``target``; its size."""
        return self._run(self._client.certificate_pdf(number, target))

    def certificate_status(self, number: str, *, sha256: str | None = None) -> dict[str, Any]:
        """See ``Client.certificate_status``: the public check of a certificate number (and QR hash)."""
        return self._run(self._client.certificate_status(number, sha256=sha256))

    def verify_certificate_file(self, data: bytes) -> dict[str, Any]:
        """See ``Client.verify_certificate_file``: the public check of a certificate PDF or JSON."""
        return self._run(self._client.verify_certificate_file(data))

    # -- webhooks ----------------------------------------------------------------------------------------

    def register_webhook(self, url: str) -> Webhook:
        """See ``Client.register_webhook``: where the node POSTs the org's events (its ``org.admin`` only)."""
        return self._run(self._client.register_webhook(url))

    def webhook(self) -> Webhook:
        """See ``Client.webhook``: the org's webhook registration."""
        return self._run(self._client.webhook())

    def remove_webhook(self) -> RemovedWebhook:
        """See ``Client.remove_webhook``: remove the org's webhook; how many events were dropped."""
        return self._run(self._client.remove_webhook())

    def webhook_deliveries(self, *, limit: int = 100, event_id: str | None = None,
                           after: int | None = None) -> Deliveries:
        """See ``Client.webhook_deliveries``: a page of the org's delivery log."""
        return self._run(self._client.webhook_deliveries(limit=limit, event_id=event_id, after=after))

    # -- queries -----------------------------------------------------------------------------------------

    def lookup_party(self, id_type: str, id_number: str) -> str:
        """See ``Client.lookup_party``: an ID document's party id, from the identity authority's node."""
        return self._run(self._client.lookup_party(id_type, id_number))

    def upload_material(self, data: bytes) -> dict[str, Any]:
        """See ``Client.upload_material``: store a material's bytes; ``sha256``, ``size`` and ``media_type``."""
        return self._run(self._client.upload_material(data))

    def download_material(self, sha256: str, target: Path) -> int:
        """See ``Client.download_material``: a material's bytes into ``target``, checked against ``sha256``."""
        return self._run(self._client.download_material(sha256, target))

    def download(self, path: str, target: Path) -> int:
        """See ``Client.download``: stream a signed GET of a binary resource into ``target``; its size."""
        return self._run(self._client.download(path, target))

    def block(self, height: int | str) -> Block:
        """See ``Client.block``."""
        return self._run(self._client.block(height))

    def head(self) -> Block:
        """See ``Client.head``."""
        return self._run(self._client.head())

    def members(self) -> dict[str, Any]:
        """See ``Client.members``."""
        return self._run(self._client.members())

    def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """See ``Client.inclusion_proof``: the node's RFC 9162 inclusion proof of leaf ``seq`` (unverified)."""
        return self._run(self._client.inclusion_proof(seq, size))

    def consistency_proof(self, old_size: int, size: int | None = None) -> dict[str, Any]:
        """See ``Client.consistency_proof``: the node's RFC 9162 consistency proof (unverified)."""
        return self._run(self._client.consistency_proof(old_size, size))

    def verify_inclusion(self, envelope: bytes, status: TxStatus) -> VerifiedInclusion:
        """See ``Client.verify_inclusion``."""
        return self._run(self._client.verify_inclusion(envelope, status))

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
