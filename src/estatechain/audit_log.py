"""A node-local audit log: each line fsynced off the event loop, and a flood of refusals kept to a count.

A node keeps two kinds of audit log (``durable.py``): the public certificate and party-id lookups
(``certificates/lookups.py``) and the materials asked of and given to peer nodes (``node/peers.py``).
A line is evidence of an answer, so it is on disk before the answer goes out. But an fsync takes
milliseconds, and the node's event loop also runs every other request and, on a single node, the
ledger pipeline: so each ``AuditLog`` has its own writer, a task that hands the lines waiting to the
log's own thread, all of them in one write and one fsync, and wakes each request once its line is
on disk. Its own thread, not the loop's default pool (``asyncio.to_thread``): that pool (a handful of
threads) also renders certificate PDFs, verifies uploaded ones and builds indexes, and a flood of
lookups waiting on a slow disk would otherwise hold all of it. One writer, so the lines are in the
order the requests were recorded; one fsync for all the lines waiting, so a flood costs fsyncs at the
disk's pace rather than one per request.

A caller refused for asking too often must not cost the node a fsynced line per request, forever.
``AuditLog.refused`` writes the first refusal of a key (a client and lookup kind, a peer org) in a
window of ``window_ms`` on its own line, counts the later ones, and writes one summary line when the
window ends: the first line's identifying fields with ``count`` (refusals after the first) and
``from_ms``/``to_ms`` (the window's start and end). A window ends at its time, written by a timer on
the event loop even if the caller never comes back; earlier when ``max_open`` windows are open (the
oldest is written, so memory stays bounded and nothing is dropped); and when the node stops
(``close``). It does not end at the caller's next admitted request: a flooding client is admitted
again as soon as its bucket refills (about once a second at 60 a minute), which would cost two more
lines a second instead of at most two a window. Every refusal is thus on its own line or in exactly
one count; a crash (kill -9, power cut) loses only the counts of windows still open, at most one
window a key, never a line already written.

A write can fail (a full disk). The requests whose lines it carried get the error (the node answers
500: their answers are not on record). The ended windows' counts it carried are kept and go with the
next line, the timer's next turn or ``close``, and are logged at ERROR with the file meanwhile, so a
stop before the disk has room loses none silently. A window whose first line was not written is not
opened: the client's next refusal opens it, on its own line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain import durable
from estatechain.buckets import MINUTE_MS
from estatechain.canonical import JSONValue
from estatechain.clock import Clock

log = logging.getLogger(__name__)

WINDOW_MS: Final = MINUTE_MS
"""A window lasts a minute, the unit the token buckets refill in (``buckets``)."""
MAX_OPEN: Final = 100_000
"""Windows held at once (as ``buckets.TokenBuckets`` holds callers): a few tens of MB at most."""

Key = tuple[str, ...]


@dataclass(slots=True)
class _Window:
    from_ms: int
    ends_ms: int
    """When it ends; once closed, when it did (its summary's ``to_ms``)."""
    summary: dict[str, JSONValue]
    count: int = 0


@dataclass(slots=True)
class _Job:
    """Lines one caller waits for, and what to undo if they are not written."""

    lines: Sequence[Mapping[str, JSONValue]]
    closed: Sequence[_Window]
    """The windows whose summaries are among ``lines``: kept for the next write if these fail."""
    opened: tuple[Key, _Window] | None
    """The window whose first line is among ``lines``: not open if it fails."""
    done: asyncio.Future[None]


class AuditLog:
    """One JSON-lines audit log, appended in order by its own thread; refusals past a limit counted per window.

    Use from one event loop (the node's): the windows, the writer and the timer belong to it.
    """

    def __init__(self, path: Path, clock: Clock, *, window_ms: int = WINDOW_MS, max_open: int = MAX_OPEN) -> None:
        self.path = path
        self.clock = clock
        self.window_ms = window_ms
        self.max_open = max_open
        self._open: dict[Key, _Window] = {}
        """Open windows by key, oldest first (all last ``window_ms``, so the first ends first)."""
        self._unwritten: list[_Window] = []
        """Closed windows whose summary a failed write did not write: they go with the next one."""
        self._timer: asyncio.TimerHandle | None = None
        self._sweeps: set[asyncio.Task[None]] = set()
        self._jobs: list[_Job] = []
        """Lines waiting for the writer, in the order they were recorded."""
        self._writer: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        """The log's own thread (made at the first write, ended by ``close``)."""

    async def append(self, record: Mapping[str, JSONValue]) -> None:
        """Write ``record`` with ``at_ms`` (now), after the summaries of windows that have ended; fsynced."""
        now = self.clock.now_ms()
        closed = self._take(now)
        await self._write([*self._summaries(closed, now), {"at_ms": now, **record}], closed=closed)

    async def refused(self, key: Key, record: Mapping[str, JSONValue], summary: Mapping[str, JSONValue]) -> bool:
        """Record a refusal of ``key``: on its own line if it opens a window (True), else counted (False).

        ``summary`` is what the window's summary line says besides its count and times (who was
        refused, with the fields that vary per request set to None). Raises if the refusal's own
        line could not be written; a counted refusal does not fail for other windows' summaries
        (they are kept and logged, see the module).
        """
        now = self.clock.now_ms()
        closed = self._take(now)
        window = self._open.get(key)
        if window is not None and window.ends_ms <= now:  # ended behind a younger one (the clock stepped back)
            closed.append(self._close(self._open.pop(key), now))
            window = None
        opened: tuple[Key, _Window] | None = None
        if window is not None:
            window.count += 1
        else:
            if len(self._open) >= self.max_open:
                closed.append(self._close(self._open.pop(next(iter(self._open))), now))
            window = self._open[key] = _Window(from_ms=now, ends_ms=now + self.window_ms, summary=dict(summary))
            opened = (key, window)
            self._arm()
        lines = self._summaries(closed, now)
        if opened is not None:
            lines.append({"at_ms": now, **record})
        if lines:
            try:
                await self._write(lines, closed=closed, opened=opened)
            except OSError:
                if opened is not None:
                    raise
                # Only other windows' summaries failed: kept and logged by the writer; this one is counted.
        return opened is not None

    async def close(self) -> None:
        """Write the counts of every open window (the node is stopping), then end the log's thread.

        Raises if they could not be written; they are then in an ERROR log line (see the module).
        """
        for task in list(self._sweeps):
            with contextlib.suppress(Exception):
                await task
        self._cancel_timer()
        now = self.clock.now_ms()
        closed = self._take(now, every=True)
        try:
            lines = self._summaries(closed, now)
            if lines:
                await self._write(lines, closed=closed)
        finally:
            if self._writer is not None:  # other callers' lines still being written
                await asyncio.wait({self._writer})
            self._cancel_timer()  # a failed write re-arms it; nobody will be there to sweep
            if self._executor is not None:
                self._executor.shutdown(wait=False)  # idle: every line was written or failed
                self._executor = None

    def _take(self, now: int, *, every: bool = False) -> list[_Window]:
        """Windows to write now: those a failed write kept, then the open ones ended by ``now`` (all if ``every``)."""
        taken, self._unwritten = self._unwritten, []
        while self._open:
            key, window = next(iter(self._open.items()))
            if window.ends_ms > now and not every:
                break
            del self._open[key]
            taken.append(self._close(window, now))
        return taken

    @staticmethod
    def _close(window: _Window, now: int) -> _Window:
        """``window`` ended ``now`` at the latest (early: the node stops, or too many are open)."""
        window.ends_ms = min(window.ends_ms, now)
        return window

    @staticmethod
    def _summaries(windows: Sequence[_Window], now: int) -> list[dict[str, JSONValue]]:
        """A line for each window that counted refusals (one without any said all on its first line)."""
        return [{"at_ms": now, **w.summary, "count": w.count, "from_ms": w.from_ms, "to_ms": w.ends_ms}
                for w in windows if w.count]

    def _arm(self) -> None:
        """Make sure a timer will write the oldest open window when it ends (or retry the counts a write kept)."""
        if self._timer is not None:
            return
        now = self.clock.now_ms()
        if self._open:
            due = next(iter(self._open.values())).ends_ms
        elif self._unwritten:
            due = now + self.window_ms
        else:
            return
        self._timer = asyncio.get_running_loop().call_later(max(due - now, 1) / 1000, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._sweep(), name=f"audit-log {self.path.name}")
        self._sweeps.add(task)
        task.add_done_callback(self._sweeps.discard)

    async def _sweep(self) -> None:
        now = self.clock.now_ms()
        closed = self._take(now)
        lines = self._summaries(closed, now)
        try:
            if lines:
                await self._write(lines, closed=closed)
        except OSError:
            pass  # logged by the writer, and the counts kept for the next write
        finally:
            self._arm()

    async def _write(self, lines: Sequence[Mapping[str, JSONValue]], *, closed: Sequence[_Window] = (),
                     opened: tuple[Key, _Window] | None = None) -> None:
        """Queue ``lines`` for the writer and wait until they are on disk (or raise what the write raised).

        A caller that is cancelled while waiting (a client gone) still has its lines written.
        """
        loop = asyncio.get_running_loop()
        job = _Job(lines=lines, closed=closed, opened=opened, done=loop.create_future())
        self._jobs.append(job)
        if self._writer is None:
            self._writer = loop.create_task(self._drain(), name=f"audit-log writer {self.path.name}")
        await job.done

    async def _drain(self) -> None:
        """Write what is waiting, all at once in the log's thread, until nothing is; wake each waiter."""
        loop = asyncio.get_running_loop()
        try:
            while self._jobs:
                batch, self._jobs = self._jobs, []
                lines = [line for job in batch for line in job.lines]
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(max_workers=1,
                                                        thread_name_prefix=f"audit-log {self.path.name}")
                try:
                    await loop.run_in_executor(self._executor, durable.append_records, self.path, lines)
                except Exception as exc:  # a full or failing disk: keep the counts, say what is lost
                    kept = self._keep(batch)
                    log.exception("could not write %d audit line(s) to %s; %d refusal count(s) kept for the next "
                                  "write: %s", len(lines), self.path, len(kept),
                                  self._summaries(kept, self.clock.now_ms()))
                    self._settle(batch, exc)
                else:
                    self._settle(batch, None)
        finally:
            self._writer = None

    def _keep(self, batch: Sequence[_Job]) -> list[_Window]:
        """Undo ``batch``'s taking of windows: their counts wait for the next write; unwritten first lines open none."""
        kept = [window for job in batch for window in job.closed if window.count]
        self._unwritten[:0] = kept
        for job in batch:
            if job.opened is not None:
                key, window = job.opened
                if self._open.get(key) is window and not window.count:  # counted refusals keep it open
                    del self._open[key]
        self._arm()
        return kept

    @staticmethod
    def _settle(batch: Sequence[_Job], exc: Exception | None) -> None:
        for job in batch:
            if job.done.done():  # its caller was cancelled
                continue
            if exc is None:
                job.done.set_result(None)
            else:
                job.done.set_exception(exc)
