"""What one node's NATS connection is doing, told to readiness, a gauge and the log without flooding it.

nats-py reports every failed (re)connect attempt to an error callback, several times a second while
the servers are away; its default callback logs each with a traceback, which grew a node's log by
about 400 KB in 20 s with the cluster down. ``ConnectionWatch`` is the callback instead: a lost
connection is logged once when lost, at most once a ``report_every_s`` while it stays lost (with the
count of failed attempts), and once when it is back. Connection errors are expected there and carry
no traceback; anything else nats-py reports (a permissions violation, a slow consumer) is logged as
one line per kind, throttled the same way.

The watch also remembers the last error, so a first connection that never succeeds can say why, and
whether nats-py closed the connection for good (``gone``): it does so, whatever the reconnect settings,
when a server sends an error other than a stale connection or a permissions violation (an
authorization violation after the server's users changed, say). Such a node never reconnects by itself,
so that is logged as an error naming the cause, and readiness says "restart the node".
Lines are warnings: a node's log shows warnings and above, and "back" belongs next to "lost".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import nats.errors

log = logging.getLogger(__name__)

REPORT_EVERY_S: Final = 60.0
"""At most one line per this many seconds about the same trouble while it lasts."""

_CONNECTION_ERRORS: Final = (OSError, TimeoutError, nats.errors.NoServersError, nats.errors.StaleConnectionError,
                             nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError,
                             nats.errors.AuthorizationError, nats.errors.SecureConnFailedError,
                             nats.errors.ProtocolError)
"""What a server that is down, paused, unreachable or refusing the credentials makes nats-py report."""


def describe(error: BaseException | None) -> str:
    """One line naming ``error``: its type and, when it has one, its text."""
    if error is None:
        return "no error reported"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(slots=True)
class _Trouble:
    """One kind of trouble while it lasts: when it began, when it was last reported, how often since."""

    since: float
    reported: float
    count: int = 0


class Throttle:
    """Log a recurring trouble when it starts, then at most once an ``every_s`` with a count, then when it ends."""

    def __init__(self, logger: logging.Logger, *, every_s: float = REPORT_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._every = every_s
        self._clock = clock
        self._open: dict[str, _Trouble] = {}

    def failed(self, key: str, line: str, *, later: str | None = None) -> None:
        """Trouble ``key`` happened (again): log ``line`` the first time, then ``later`` (or ``line``) with a count."""
        now = self._clock()
        trouble = self._open.get(key)
        if trouble is None:
            self._open[key] = _Trouble(since=now, reported=now)
            self._log.warning("%s", line)
            return
        trouble.count += 1
        if now - trouble.reported >= self._every:
            self._log.warning("%s (%d more in the last %.0f s, %.0f s since it began)", later or line, trouble.count,
                              now - trouble.reported, now - trouble.since)
            trouble.reported, trouble.count = now, 0

    def ended(self, key: str, line: str) -> None:
        """Trouble ``key`` is over: log ``line`` and how long it lasted, if it had been reported."""
        trouble = self._open.pop(key, None)
        if trouble is not None:
            self._log.warning("%s after %.0f s", line, self._clock() - trouble.since)

    def active(self, key: str) -> bool:
        """True while trouble ``key`` lasts."""
        return key in self._open


class ConnectionWatch:
    """The callbacks of one NATS connection: its state for readiness, its troubles for the log.

    Until the first connection is made, the first failure is logged once with how long the caller waits
    (``waiting_s``; the caller reports a start that fails); ``closing`` marks a close of our own, whose
    disconnect is not a loss.
    """

    def __init__(self, servers: str, *, waiting_s: float, every_s: float = REPORT_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._servers = servers
        self._waiting_s = waiting_s
        self._clock = clock
        self._throttle = Throttle(log, every_s=every_s, clock=clock)
        self.connected = False
        self.started = False
        self.closed = False
        self.gone = False
        """True once nats-py closed the connection itself: it will not reconnect (``on_closed``)."""
        self.last_error: BaseException | None = None
        self._lost_at: float | None = None

    def down_for_s(self) -> float:
        """Seconds since the connection was lost (0 while connected)."""
        return 0.0 if self._lost_at is None else self._clock() - self._lost_at

    def up(self) -> None:
        """The first connection is made."""
        self.connected = self.started = True

    def closing(self) -> None:
        """We close the connection ourselves: its disconnect is not a loss."""
        self.closed = True

    async def on_error(self, error: Exception) -> None:
        """nats-py's ``error_cb``: count and throttle; never a traceback for a connection error."""
        self.last_error = error
        if not self.started and not self.closed:
            self._throttle.failed("start", f"no NATS server of {self._servers} answers yet ({describe(error)}); "
                                  f"retrying for up to {self._waiting_s:.0f} s", later="still no NATS server answers")
        if not self.started or self.closed:
            return
        if isinstance(error, _CONNECTION_ERRORS):
            if self._throttle.active("connection"):
                self._throttle.failed("connection", "", later=f"still no connection to the NATS cluster "
                                      f"({self._servers}), writes are refused; an attempt failed: {describe(error)}")
            return
        self._throttle.failed(type(error).__name__, f"NATS reports {describe(error)}")

    async def on_disconnected(self) -> None:
        """nats-py's ``disconnected_cb``: the connection is lost (unless we are closing it)."""
        if not self.started or self.closed or not self.connected:
            return
        self.connected = False
        self._lost_at = self._clock()
        self._throttle.failed("connection", f"lost the connection to the NATS cluster ({self._servers}): "
                              f"{describe(self.last_error)}; reconnecting, writes are refused meanwhile")

    async def on_closed(self) -> None:
        """nats-py's ``closed_cb``: the connection is closed for good; an error unless we closed it ourselves."""
        if self.closed or not self.started:
            return
        self.connected = False
        self.gone = True
        if self._lost_at is None:
            self._lost_at = self._clock()
        log.error("the connection to the NATS cluster (%s) was closed and will not be reopened (%s); writes are "
                  "refused until the node is restarted", self._servers, describe(self.last_error))

    async def on_reconnected(self) -> None:
        """nats-py's ``reconnected_cb``: the connection is back."""
        self.connected = True
        self._lost_at = None
        self._throttle.ended("connection", "the connection to the NATS cluster is back")
