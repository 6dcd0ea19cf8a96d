"""Settings of a process that runs a node or a long ledger job (the CLI's commands, the benchmarks).

Garbage collection: a committed transaction allocates a few dozen container objects (its parsed
envelope, rows, receipts), and CPython's default first-generation threshold (700 allocations) then
starts a collection every few dozen transactions, each walking the objects of every transaction still
in flight. An A/B run of ``bench/bench_pipeline.py`` measured 7,116 committed tx/s with the defaults
and 7,579 tx/s with ``(50_000, 20, 20)``. The hot path creates almost no reference cycles, so memory
stays bounded either way; collections still run, only less often.

Logging: without a configuration, Python's last-resort handler printed bare messages (no time, no
level, no logger), so an operator could neither say when a node lost NATS nor line its log up with a
peer's. ``configure_logging`` gives every record one line on standard error: an ISO-8601 UTC time to
the millisecond, the level, the logger's name and the message (or the same as one JSON object a line,
for a log shipper). The level defaults to WARNING, which is what a node's log showed before; INFO adds
the routine lines (a dropped stream entry, a shredded record).
"""

from __future__ import annotations

import gc
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, TextIO

import orjson

GC_THRESHOLDS: Final = (50_000, 20, 20)


def tune_gc() -> None:
    """Collect garbage less often (see the module docstring); call once at process start."""
    gc.set_threshold(*GC_THRESHOLDS)


class LogLevel(StrEnum):
    """The levels an operator may choose (``--log-level``, ``ESTATECHAIN_LOG_LEVEL``)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    """One text line per record, or one JSON object per line (``--log-format``, ``ESTATECHAIN_LOG_FORMAT``)."""

    TEXT = "text"
    JSON = "json"


TEXT_LINE: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def utc_time(created: float) -> str:
    """``created`` (seconds since the epoch) as ISO-8601 UTC to the millisecond: ``2026-01-04T08:30:00.125Z``."""
    return datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UtcFormatter(logging.Formatter):
    """``TEXT_LINE`` with the time in UTC, whatever the machine's time zone (peers' logs line up)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: ARG002, N802
        """The record's time as ``utc_time`` writes it (``datefmt`` is not used: the format is fixed)."""
        return utc_time(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``, ``message`` and any ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (a traceback stays inside its string, never on lines of its own)."""
        entry = {"time": utc_time(record.created), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the record, as the last-resort handler did.

    Holding the stream of the moment it was configured would write into a stream closed since (a test
    runner that captured the command's output), so each record looks it up again.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignored: the stream is always the current standard error."""


def configure_logging(level: LogLevel = LogLevel.WARNING, fmt: LogFormat = LogFormat.TEXT) -> None:
    """Send log records of ``level`` and above to standard error, one line each, in ``fmt``.

    Called at the process's entry point; calling it again replaces the handler it installed (a
    command run twice in one process does not print each line twice). Handlers others added to the
    root logger (a test's log capture) are left alone.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt is LogFormat.JSON else UtcFormatter(TEXT_LINE))
    root.addHandler(handler)
    root.setLevel(level.upper())
