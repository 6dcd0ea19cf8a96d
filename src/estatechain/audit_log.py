"""A node-local audit log: each line fsynced off the event loop, and a flood of refusals kept to a count.

A node keeps two kinds of audit log (``durable.py``): the public certificate and party-id lookups
(``certificates/lookups.py``) and the materials asked of and given to peer nodes (``node/peers.py``).
A line is evidence of an answer, so it is on disk before the answer goes out. But an fsync takes
milliseconds, and the node's event loop also runs every other request and, on a single node, the
ledger pipeline: ``AuditLog`` writes in a worker thread (``asyncio.to_thread``) and the request
handler awaits it, one writer at a time per log (a lock; ``durable.append_records`` says what the
file system guarantees besides).

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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.clock import Clock
from estatechain.durable import append_records

log = logging.getLogger(__name__)

WINDOW_MS: Final = 60_000
MAX_OPEN: Final = 100_000
"""Windows held at once (as ``buckets.TokenBuckets`` holds callers): a few tens of MB at most."""


@dataclass(slots=True)
class _Window:
    from_ms: int
    ends_ms: int
    summary: dict[str, JSONValue]
    count: int = 0


class AuditLog:
    """One JSON-lines audit log, appended off the event loop; refusals past a limit counted per window.

    Use from one event loop (the node's): the windows and the timer belong to it.
    """

    def __init__(self, path: Path, clock: Clock, *, window_ms: int = WINDOW_MS, max_open: int = MAX_OPEN) -> None:
        self.path = path
        self.clock = clock
        self.window_ms = window_ms
        self.max_open = max_open
        self._lock = threading.Lock()
        self._open: dict[tuple[str, ...], _Window] = {}
        """Open windows by key, oldest first (all last ``window_ms``, so the first ends first)."""
        self._timer: asyncio.TimerHandle | None = None
        self._sweeps: set[asyncio.Task[None]] = set()

    async def append(self, record: Mapping[str, JSONValue]) -> None:
        """Write ``record`` with ``at_ms`` (now), after the summaries of windows that have ended; fsynced."""
        now = self.clock.now_ms()
        await self._write([*self._ended(now), {"at_ms": now, **record}])

    async def refused(self, key: tuple[str, ...], record: Mapping[str, JSONValue],
                      summary: Mapping[str, JSONValue]) -> bool:
        """Record a refusal of ``key``: on its own line if it opens a window (True), else counted (False).

        ``summary`` is what the window's summary line says besides its count and times (who was
        refused, with the fields that vary per request set to None).
        """
        now = self.clock.now_ms()
        lines = self._ended(now)
        window = self._open.get(key)
        if window is not None and window.ends_ms <= now:  # ended behind a younger one (the clock stepped back)
            lines.extend(self._summaries([self._open.pop(key)], now))
            window = None
        if window is not None:
            window.count += 1
        else:
            if len(self._open) >= self.max_open:
                oldest = next(iter(self._open))
                lines.extend(self._summaries([self._open.pop(oldest)], now))
            self._open[key] = _Window(from_ms=now, ends_ms=now + self.window_ms, summary=dict(summary))
            lines.append({"at_ms": now, **record})
            self._arm()
        if lines:
            await self._write(lines)
        return window is None

    async def close(self) -> None:
        """Write the counts of every open window (the node is stopping): none is lost with the process."""
        for task in list(self._sweeps):
            with contextlib.suppress(Exception):
                await task
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self.clock.now_ms()
        lines = self._summaries(list(self._open.values()), now)
        self._open.clear()
        if lines:
            await self._write(lines)

    def _ended(self, now: int) -> list[dict[str, JSONValue]]:
        """Take the windows that ended by ``now`` out of the open ones; their summary lines."""
        ended = []
        while self._open:
            key, window = next(iter(self._open.items()))
            if window.ends_ms > now:
                break
            ended.append(self._open.pop(key))
        return self._summaries(ended, now)

    @staticmethod
    def _summaries(windows: Sequence[_Window], now: int) -> list[dict[str, JSONValue]]:
        """A line for each window that counted refusals (one without any said all on its first line)."""
        return [{"at_ms": now, **w.summary, "count": w.count, "from_ms": w.from_ms, "to_ms": min(now, w.ends_ms)}
                for w in windows if w.count]

    def _arm(self) -> None:
        """Make sure a timer will write the oldest open window when it ends."""
        if self._timer is None and self._open:
            first = next(iter(self._open.values()))
            delay_ms = max(first.ends_ms - self.clock.now_ms(), 1)
            self._timer = asyncio.get_running_loop().call_later(delay_ms / 1000, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._sweep(), name=f"audit-log {self.path.name}")
        self._sweeps.add(task)
        task.add_done_callback(self._sweeps.discard)

    async def _sweep(self) -> None:
        lines = self._ended(self.clock.now_ms())
        try:
            if lines:
                await self._write(lines)
        except OSError:  # a full or failing disk: say what is lost rather than fail silently in a task
            log.exception("could not write %d refusal count(s) to %s: %s", len(lines), self.path, lines)
        finally:
            self._arm()

    async def _write(self, records: Sequence[Mapping[str, JSONValue]]) -> None:
        """Append ``records`` in a worker thread (the fsync must not stall the event loop), one writer at a time."""
        await asyncio.to_thread(self._write_locked, records)

    def _write_locked(self, records: Sequence[Mapping[str, JSONValue]]) -> None:
        with self._lock:
            append_records(self.path, records)
