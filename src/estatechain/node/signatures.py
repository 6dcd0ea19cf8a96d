"""Signature (and payload form) checks of submitted transactions, in batches, on the machine's other core.

At full load Ed25519 verification was about a fifth of the single-node pipeline's time, all of it on
the event loop's one core (``bench/bench_pipeline.py`` profile), while the second core idled. The
checker gathers the signatures submitted during one turn of the event loop; a handful is checked at
once on the loop (a round trip to another process would only add latency), a larger batch goes to a
worker process, and the loop goes on committing the previous block while the worker verifies the next
one. A signature's verdict is the same wherever it is computed, so blocks do not depend on the choice.
If the worker cannot be started or dies, its batch and every later one are checked on the loop, and a
warning says so.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from typing import Final

from estatechain.crypto.batch import Check, verdict, verify_many, watch_parent
from estatechain.crypto.suites import SignatureSuite

log = logging.getLogger(__name__)

INLINE_BELOW: Final = 32
"""Batches smaller than this are checked on the event loop (about 1.3 ms of work at 40 µs a check)."""
CHUNK: Final = 512
"""Largest batch sent to the worker in one call, so results come back while later chunks are checked."""

_pool: Executor | None = None
_disabled = False
_pool_lock = threading.Lock()


def _worker_pool() -> Executor | None:
    """The process-wide verification worker, started on first need; None when processes cannot be started."""
    global _pool  # noqa: PLW0603  (one worker per process, shared by every pipeline in it)
    with _pool_lock:
        if _disabled:
            return None
        if _pool is None:
            workers = max(1, min(4, (os.cpu_count() or 2) - 1))
            try:
                _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=watch_parent, initargs=(os.getpid(),))
            except (OSError, ValueError) as exc:  # pragma: no cover - a sandbox without process support
                log.warning("signature checks stay on the event loop: no worker process (%s)", exc)
                return None
        return _pool


def _drop_pool(pool: Executor) -> None:
    """Give up on a worker pool that broke: checks stay on the event loop for the rest of this process.

    Not restarted, because the usual cause repeats: a worker started by ``spawn`` re-imports the main
    script, and a script without an ``if __name__ == "__main__":`` guard then runs again in the worker.
    """
    global _pool, _disabled  # noqa: PLW0603
    with _pool_lock:
        _disabled = True
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


class Verdict:
    """Where one check's verdict will be: its batch's future (all verdicts as bytes) and its index there.

    One future per batch rather than per check: creating and resolving a future per transaction was a
    measurable share of the event loop's time at full load.
    """

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: asyncio.Future[bytes], index: int) -> None:
        self._batch = batch
        self._index = index

    def done(self) -> bool:
        """True once the verdict is known."""
        return self._batch.done()

    def result(self) -> int:
        """The verdict (``VALID``, ``BAD_SIGNATURE`` or ``NON_CANONICAL``); only once ``done``."""
        return self._batch.result()[self._index]

    async def wait(self) -> int:
        """The verdict, once known (cancelling the waiter leaves the batch alone)."""
        return (await asyncio.shield(self._batch))[self._index]


class SignatureChecker:
    """Checks signatures, and optionally that the signed bytes are canonical JSON, in batches.

    A verdict is one of ``estatechain.crypto.batch``: ``VALID``, ``BAD_SIGNATURE`` or ``NON_CANONICAL``.
    """

    def __init__(self, suite: SignatureSuite, *, inline_below: int = INLINE_BELOW) -> None:
        self._suite = suite
        self._inline_below = inline_below
        self._checks: list[Check] = []
        self._batches: list[asyncio.Future[bytes]] = []

    def check(self, public_key: bytes, message: bytes, signature: bytes, *, canonical: bool = False) -> Verdict:
        """The verdict on ``signature`` over ``message`` (and, with ``canonical``, on its form), to come."""
        index = len(self._checks)
        if index % CHUNK == 0:
            loop = asyncio.get_running_loop()
            if index == 0:
                loop.call_soon(self._flush, loop)
            self._batches.append(loop.create_future())
        self._checks.append((public_key, message, signature, canonical))
        return Verdict(self._batches[-1], index % CHUNK)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Check everything submitted since the last flush: here if it is little, else in the worker."""
        checks, batches = self._checks, self._batches
        self._checks, self._batches = [], []
        pool = _worker_pool() if len(checks) >= self._inline_below else None
        for number, batch in enumerate(batches):
            chunk = checks[number * CHUNK:(number + 1) * CHUNK]
            if pool is None:
                self._deliver_inline(chunk, batch)
                continue
            try:
                job = loop.run_in_executor(pool, verify_many, self._suite.name, chunk)
            except RuntimeError as exc:  # a broken or shut-down pool
                log.warning("signature worker unavailable (%s); checking %d signatures on the loop", exc, len(chunk))
                _drop_pool(pool)
                pool = None
                self._deliver_inline(chunk, batch)
                continue
            job.add_done_callback(partial(self._deliver, pool, chunk, batch))

    def _deliver(self, pool: Executor, checks: list[Check], batch: asyncio.Future[bytes],
                 job: asyncio.Future[bytes]) -> None:
        try:
            verdicts = job.result()
        except Exception as exc:  # noqa: BLE001  (a dead worker must not lose a verdict)
            log.warning("signature worker failed (%r); checking signatures on the event loop from now on (a "
                        "script that starts a pipeline needs an `if __name__ == '__main__':` guard)", exc)
            _drop_pool(pool)
            self._deliver_inline(checks, batch)
            return
        if not batch.done():
            batch.set_result(verdicts)

    def _deliver_inline(self, checks: list[Check], batch: asyncio.Future[bytes]) -> None:
        verify = self._suite.verify
        if not batch.done():
            batch.set_result(bytes(verdict(verify, check) for check in checks))
