"""Webhook delivery through an outbox that survives kill -9 (design §3.22).

The outbox is its own SQLite file next to the ledger (``outbox.sqlite``, WAL, ``synchronous=FULL``):
webhook registrations (one URL per org), one row per (event, org) to deliver, and the delivery log.
Its ``high_water`` is the last block height whose events were enqueued; enqueueing a block's rows and
moving the mark is one SQLite transaction. On start-up ``catch_up`` re-derives the events of every
block after the mark from the ledger itself, so a crash between a block's commit and its enqueue
loses nothing, and ``INSERT OR IGNORE`` on (event id, org) makes a repeat harmless.

Delivery is at least once: a row is marked delivered only after the receiver answered 2xx, so a crash
after the POST and before the mark delivers it again *with the same event id*; receivers de-duplicate
on ``event.event_id``. Failures retry with exponential back-off (``base_s · 2^(attempt-1)``, capped at
``max_backoff_s``), up to ``max_attempts``, each attempt a row of the delivery log.

Each org is delivered on its own, in ledger order (height, then the event's index in its block), one
request at a time: an org's next event waits until the one before it was delivered or abandoned, and
an org whose endpoint is slow, dead or backed off holds up only its own events. One task per org with
due events drains that org's queue; the loop in ``run`` only starts those tasks and sleeps until the
next org's first waiting event is due. Each attempt has a hard deadline of ``timeout_s`` (connecting,
sending and reading together), so a receiver that trickles its answer cannot hold its org any longer.

Retention: a delivered or abandoned row and its attempts stay in the file for ``retention_days``
(default 90, ``ESTATECHAIN_WEBHOOK_RETENTION_DAYS``), then ``trim`` removes them, a bounded batch at
a time, from the delivery loop about once an hour. Without it the file grew by every event's body
and every attempt for as long as the node ran. Nothing is lost that an org cannot get again: the
events stay in the ledger and the SSE stream serves them from any cursor. Waiting rows are never
trimmed, whatever their age.

The webhook body is the canonical (RFC 8785) JSON ``{"type": "estatechain.webhook.v1", "chain_id",
"recipient", "event"}``, signed by the node's ``node`` identity with Ed25519 over exactly those bytes:
``Estatechain-Signature: keyid="<cert sha-256>", alg="ed25519", sig="<base64>"``; the certificate
travels in ``Estatechain-Certificate`` (base64 DER) so a receiver checks it against the org's CA.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from estatechain import canonical
from estatechain.clock import Clock
from estatechain.crypto import x509
from estatechain.crypto.suites import get_suite
from estatechain.errors import InputError, NotFound
from estatechain.node.events import Event, EventSource
from estatechain.sdk.identity import ClientIdentity

log = logging.getLogger("estatechain.outbox")

OUTBOX_FILE: Final = "outbox.sqlite"
WEBHOOK_TYPE: Final = "estatechain.webhook.v1"
SIGNATURE_HEADER: Final = "Estatechain-Signature"
CERTIFICATE_HEADER: Final = "Estatechain-Certificate"
EVENT_ID_HEADER: Final = "Estatechain-Event-Id"
ATTEMPT_HEADER: Final = "Estatechain-Delivery-Attempt"

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
ABANDONED: Final = "abandoned"

DAY_MS: Final = 86_400_000
TRIM_EVERY_S: Final = 3600.0
"""How often the delivery loop trims rows older than the retention (and once at start)."""
TRIM_BATCH: Final = 5_000
"""Rows removed per statement: a trim never holds the file's write lock for long."""

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS webhooks(org TEXT PRIMARY KEY, url TEXT NOT NULL, registered_ms INTEGER NOT NULL)",
    ("CREATE TABLE IF NOT EXISTS outbox(event_id TEXT NOT NULL, org TEXT NOT NULL, height INTEGER NOT NULL, "
     "idx INTEGER NOT NULL, body BLOB NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, "
     "next_ms INTEGER NOT NULL, PRIMARY KEY(event_id, org))"),
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_ms)",
    "CREATE INDEX IF NOT EXISTS outbox_head ON outbox(org, state, height, idx)",
    ("CREATE TABLE IF NOT EXISTS deliveries(id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, "
     "org TEXT NOT NULL, url TEXT NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL, "
     "outcome TEXT NOT NULL, http_status INTEGER, error TEXT, duration_ms INTEGER NOT NULL)"),
    "CREATE INDEX IF NOT EXISTS deliveries_by_org ON deliveries(org, id)",
    "CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries(at_ms)",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookKey:
    """The node identity that signs webhooks: certificate (DER), raw Ed25519 key, fingerprint."""

    cert_der: bytes
    private_key: bytes
    fingerprint: str

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path) -> WebhookKey:
        """Load a PEM certificate and its unencrypted PEM Ed25519 key.

        Raises:
            InputError: a file is unreadable or the key is not the certificate's Ed25519 key.

        """
        try:
            cert = x509.load_certificate(cert_path.read_bytes(), what=str(cert_path))
            key = x509.load_private_key(key_path.read_bytes(), what=str(key_path))
        except OSError as exc:
            raise InputError(f"cannot read the node identity: {exc}") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey) or (
            key.public_key().public_bytes_raw() != x509.public_key_bytes(cert)
        ):
            raise InputError(f"{key_path}: not the Ed25519 key of {cert_path}")
        der = x509.certificate_der(cert)
        return cls(cert_der=der, private_key=x509.raw_private_key(key), fingerprint=x509.fingerprint(der))

    def client_identity(self) -> ClientIdentity:
        """The same key as an SDK caller: a node calling a peer's API signs as itself."""
        return ClientIdentity(cert_der=self.cert_der, private_key=self.private_key, fingerprint=self.fingerprint)

    @classmethod
    def from_dev(cls, directory: Path, handle: str) -> WebhookKey:
        """Identity ``handle`` (``<org>/node``) of a development consortium folder (``identities.json``).

        Raises:
            NotFound: the folder has no such identity.

        """
        try:
            entry = json.loads((directory / "identities.json").read_text(encoding="utf-8"))["identities"][handle]
        except (OSError, ValueError, KeyError, TypeError):
            raise NotFound(f"{directory}: no identity {handle!r}") from None
        return cls.from_files(directory / entry["cert"], directory / entry["key"])

    def sign(self, body: bytes) -> dict[str, str]:
        """The signature headers of a webhook body."""
        signature = get_suite("ed25519-sha256").sign(self.private_key, body)
        return {
            SIGNATURE_HEADER: f'keyid="{self.fingerprint}", alg="ed25519", '
                              f'sig="{base64.b64encode(signature).decode("ascii")}"',
            CERTIFICATE_HEADER: base64.b64encode(self.cert_der).decode("ascii"),
        }


def parse_signature_header(value: str) -> dict[str, str]:
    """``keyid="…", alg="…", sig="…"`` as a dict (for receivers and tests)."""
    parts: dict[str, str] = {}
    for item in value.split(","):
        name, _, quoted = item.strip().partition("=")
        parts[name.strip()] = quoted.strip().strip('"')
    return parts


def webhook_body(event: Event, recipient: str) -> bytes:
    """The canonical bytes a webhook delivers (and the node signs) for ``event`` to ``recipient``."""
    return canonical.encode({"type": WEBHOOK_TYPE, "chain_id": event.chain_id, "recipient": recipient,
                             "event": event.to_json()})


def check_webhook_url(url: str) -> str:
    """An absolute https URL, or http to a loopback host (development).

    Raises:
        InputError: anything else.

    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host or len(url) > 2000:
        raise InputError("url must be an absolute https:// URL (http:// only to a loopback host)")
    try:  # what the delivery will use must be able to send to it
        _ = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise InputError(f"url cannot be delivered to: {exc}") from None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise InputError("url may not hold spaces or control characters")
    if parts.scheme == "http":
        loopback = host == "localhost"
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if not loopback:
            raise InputError("plain http:// is allowed only to a loopback host (development); use https://")
    return url


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """An org's registered URL."""

    org: str
    url: str
    registered_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One attempt of the delivery log."""

    id: int
    event_id: str
    org: str
    url: str
    attempt: int
    at_ms: int
    outcome: str
    http_status: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Due:
    event_id: str
    org: str
    body: bytes
    attempts: int
    url: str


class Outbox:
    """The outbox file and its delivery loop. Use from one event loop (the node's)."""

    def __init__(  # noqa: PLR0913  (keywords after the path; each tunes delivery)
        self, path: Path, *, key: WebhookKey | None, clock: Clock, initial_height: int, base_s: float = 1.0,
        max_backoff_s: float = 300.0, max_attempts: int = 50, timeout_s: float = 10.0,
        transport: Callable[[], httpx.AsyncBaseTransport] | None = None, retention_days: int = 90,
    ) -> None:
        self.path = path
        self.key = key
        self._clock = clock
        self._base_s, self._max_backoff_s, self._max_attempts = base_s, max_backoff_s, max_attempts
        self._timeout_s, self._transport = timeout_s, transport
        if retention_days < 1:
            raise InputError(f"webhook retention must be at least 1 day, not {retention_days}")
        self._retention_ms = retention_days * DAY_MS
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            self._conn.execute(statement)
        self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('high_water', ?)", (str(initial_height),))
        self._conn.execute("COMMIT")
        self._wake = asyncio.Event()

    def close(self) -> None:
        """Close the file; every enqueued row and logged attempt is already durable."""
        self._conn.close()

    @property
    def enabled(self) -> bool:
        """True when the node has a key to sign webhooks with."""
        return self.key is not None

    # -- registrations and the log --------------------------------------------------------------------------

    def register(self, org: str, url: str) -> Webhook:
        """Set ``org``'s webhook URL (replacing any earlier one); events from the next block on go there.

        Events still waiting for a retry are tried again at once, at the new URL: an org that fixed or
        moved its receiver does not wait out the back-off its old one earned.
        """
        hook = Webhook(org=org, url=check_webhook_url(url), registered_ms=self._clock.now_ms())
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute("INSERT INTO webhooks(org, url, registered_ms) VALUES (?,?,?) ON CONFLICT(org) DO "
                               "UPDATE SET url = excluded.url, registered_ms = excluded.registered_ms",
                               (hook.org, hook.url, hook.registered_ms))
            self._conn.execute("UPDATE outbox SET next_ms = ? WHERE org = ? AND state = ? AND next_ms > ?",
                               (hook.registered_ms, org, PENDING, hook.registered_ms))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite already rolled back a write that failed on I/O
                self._conn.execute("ROLLBACK")
            raise
        self.wake()
        return hook

    def remove(self, org: str) -> tuple[Webhook, int] | None:
        """Remove ``org``'s webhook and drop its events still waiting; returns the registration and how many.

        Nothing more is sent to the org (an attempt already in flight finishes and is logged). The
        dropped events stay in the ledger: the org reads them from the event stream with a cursor.
        ``None`` when the org had no webhook.
        """
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            hook = self.webhook(org)
            dropped = 0
            if hook is not None:
                self._conn.execute("DELETE FROM webhooks WHERE org = ?", (org,))
                dropped = self._conn.execute("DELETE FROM outbox WHERE org = ? AND state = ?",
                                             (org, PENDING)).rowcount
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite already rolled back a write that failed on I/O
                self._conn.execute("ROLLBACK")
            raise
        return None if hook is None else (hook, int(dropped))

    def webhook(self, org: str) -> Webhook | None:
        """``org``'s registration, if any."""
        row = self._conn.execute("SELECT url, registered_ms FROM webhooks WHERE org = ?", (org,)).fetchone()
        return None if row is None else Webhook(org=org, url=str(row[0]), registered_ms=int(row[1]))

    def deliveries(self, org: str, *, limit: int = 100, event_id: str | None = None,
                   after: int | None = None) -> list[Delivery]:
        """``org``'s most recent delivery attempts, newest first; with ``after``, those after it, oldest first.

        ``after`` is the ``id`` of the last attempt a reader handled (0: from the first), so a reader
        pages through the whole log, however long, by passing the last id of each page as the next
        ``after``: ids only grow, so every attempt comes exactly once and in the order it was made.
        """
        sql = ("SELECT id, event_id, org, url, attempt, at_ms, outcome, http_status, error, duration_ms FROM "
               "deliveries WHERE org = ?")
        params: list[object] = [org]
        if event_id is not None:
            sql += " AND event_id = ?"
            params.append(event_id)
        if after is not None:
            sql += " AND id > ?"
            params.append(after)
        order = " ORDER BY id DESC LIMIT ?" if after is None else " ORDER BY id LIMIT ?"
        rows = self._conn.execute(sql + order, (*params, limit)).fetchall()
        return [Delivery(id=r[0], event_id=r[1], org=r[2], url=r[3], attempt=r[4], at_ms=r[5], outcome=r[6],
                         http_status=r[7], error=r[8], duration_ms=r[9]) for r in rows]

    def pending_count(self, org: str | None = None) -> int:
        """Rows still waiting for a successful delivery (of ``org``, or of every org)."""
        if org is None:
            row = self._conn.execute("SELECT COUNT(*) FROM outbox WHERE state = ?", (PENDING,)).fetchone()
        else:
            row = self._conn.execute("SELECT COUNT(*) FROM outbox WHERE state = ? AND org = ?",
                                     (PENDING, org)).fetchone()
        return int(row[0])

    # -- enqueue ----------------------------------------------------------------------------------------------

    @property
    def high_water(self) -> int:
        """The last block height whose events are enqueued."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'high_water'").fetchone()
        return int(row[0])

    def enqueue(self, height: int, events: Iterable[Event]) -> int:
        """Enqueue block ``height``'s events for every subscribed entitled org; move the mark. Returns rows added."""
        if height <= self.high_water:
            return 0
        hooks = {str(r[0]) for r in self._conn.execute("SELECT org FROM webhooks").fetchall()}
        now = self._clock.now_ms()
        rows = [(e.event_id, org, e.height, e.index, webhook_body(e, org), PENDING, 0, now)
                for e in events for org in sorted(e.orgs & hooks)]
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = self._conn.executemany("INSERT OR IGNORE INTO outbox VALUES (?,?,?,?,?,?,?,?)", rows)
            self._conn.execute("UPDATE meta SET value = ? WHERE key = 'high_water'", (str(height),))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite already rolled back a write that failed on I/O
                self._conn.execute("ROLLBACK")
            raise
        if rows:
            self.wake()
        return int(cursor.rowcount)

    def catch_up(self, source: EventSource, upto: int) -> int:
        """Enqueue every block after the mark up to ``upto`` from the ledger itself; returns blocks done."""
        done = 0
        for height in range(self.high_water + 1, upto + 1):
            self.enqueue(height, source.block_events(height))
            done += 1
        return done

    def trim(self) -> tuple[int, int]:
        """Remove finished rows and delivery attempts older than the retention; returns (rows, attempts) removed.

        A finished row's age is its last attempt's (``next_ms`` holds that time once it is delivered;
        an abandoned row's is its last back-off after it, close enough for a limit counted in days).
        """
        before = self._clock.now_ms() - self._retention_ms
        removed = [0, 0]
        statements = (
            ("DELETE FROM outbox WHERE rowid IN (SELECT rowid FROM outbox WHERE state != ? AND next_ms < ? LIMIT ?)",
             (PENDING, before, TRIM_BATCH)),
            ("DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE at_ms < ? LIMIT ?)",
             (before, TRIM_BATCH)),
        )
        for which, (sql, params) in enumerate(statements):
            while True:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    count = int(self._conn.execute(sql, params).rowcount)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # SQLite already rolled back a write that failed on I/O
                        self._conn.execute("ROLLBACK")
                    raise
                removed[which] += count
                if count < TRIM_BATCH:
                    break
        if any(removed):
            log.info("webhook outbox: removed %d finished events and %d delivery attempts older than %d days",
                     removed[0], removed[1], self._retention_ms // DAY_MS)
        return removed[0], removed[1]

    # -- delivery ---------------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver due rows until cancelled: one task per org with a due event, each draining its org in order."""
        if self.key is None:
            return
        transport = self._transport() if self._transport is not None else None
        # No pool limit: at most one request per org is in flight, so the member orgs bound the connections,
        # and a shared limit would let one org's stuck request keep another org waiting for a connection.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        workers: dict[str, asyncio.Task[None]] = {}
        async with httpx.AsyncClient(timeout=self._timeout_s, limits=limits, transport=transport) as http:
            trimmed_at: float | None = None
            try:
                while True:
                    self._wake.clear()
                    if trimmed_at is None or time.monotonic() - trimmed_at >= TRIM_EVERY_S:
                        trimmed_at = time.monotonic()
                        try:
                            self.trim()
                        except sqlite3.Error:  # a full disk: delivery goes on, the next hour tries again
                            log.exception("webhook outbox: trimming old rows failed")
                    try:
                        sleep_s = self._start_due(http, workers)
                    except sqlite3.Error:  # a full disk or a locked file: keep the rows, try again shortly
                        log.exception("webhook outbox: scheduling failed; retrying in 1 s")
                        sleep_s = 1.0
                    # Not asyncio.wait_for: on 3.11 it swallows a cancel that lands as a drain wakes the loop.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(sleep_s):
                            await self._wake.wait()
            finally:
                for task in workers.values():
                    task.cancel()
                await asyncio.gather(*workers.values(), return_exceptions=True)

    def _start_due(self, http: httpx.AsyncClient, workers: dict[str, asyncio.Task[None]]) -> float:
        """Start a drain for each idle org whose first waiting event is due; seconds until the next is."""
        now = self._clock.now_ms()
        next_ms: int | None = None
        for org, due_ms in self._heads():
            worker = workers.get(org)
            if worker is not None and not worker.done():
                continue  # its drain picks up what follows, in order
            if due_ms <= now:
                workers[org] = asyncio.create_task(self._drain(http, org), name=f"outbox-{org}")
            elif next_ms is None or due_ms < next_ms:
                next_ms = due_ms
        for org in [org for org, task in workers.items() if task.done()]:
            del workers[org]
        if next_ms is None:
            return 5.0
        return min(5.0, max(0.01, (next_ms - now) / 1000))

    def _heads(self) -> list[tuple[str, int]]:
        """(org, when its first waiting event is due) for every registered org with waiting events."""
        rows = self._conn.execute(
            "SELECT w.org, (SELECT o.next_ms FROM outbox o WHERE o.org = w.org AND o.state = ? "
            "ORDER BY o.height, o.idx LIMIT 1) AS due FROM webhooks w WHERE due IS NOT NULL",
            (PENDING,),
        ).fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    def _head(self, org: str) -> _Due | None:
        """``org``'s first waiting event when it is due: later ones wait until it is delivered or abandoned."""
        row = self._conn.execute(
            "SELECT o.event_id, o.org, o.body, o.attempts, w.url, o.next_ms FROM outbox o JOIN webhooks w "
            "ON w.org = o.org WHERE o.org = ? AND o.state = ? ORDER BY o.height, o.idx LIMIT 1",
            (org, PENDING),
        ).fetchone()
        if row is None or int(row[5]) > self._clock.now_ms():
            return None
        return _Due(event_id=str(row[0]), org=str(row[1]), body=bytes(row[2]), attempts=int(row[3]), url=str(row[4]))

    async def _drain(self, http: httpx.AsyncClient, org: str) -> None:
        """Deliver ``org``'s due events one at a time, in ledger order, until its first waiting one is not due."""
        try:
            while (due := self._head(org)) is not None:
                await self._deliver(http, due)
        except sqlite3.Error:  # keep the rows; the loop starts this org again
            log.exception("webhook outbox: delivery to %s failed; retrying in 1 s", org)
            await asyncio.sleep(1.0)
        finally:
            self.wake()  # the loop sleeps until this org's next event is due

    async def _deliver(self, http: httpx.AsyncClient, due: _Due) -> None:
        assert self.key is not None
        event_id, org, body, url = due.event_id, due.org, due.body, due.url
        attempt = due.attempts + 1
        headers = {"content-type": "application/json", EVENT_ID_HEADER: event_id, ATTEMPT_HEADER: str(attempt),
                   **self.key.sign(body)}
        started = time.monotonic()
        at_ms = self._clock.now_ms()
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await http.post(url, content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        except TimeoutError:
            error = f"no answer within {self._timeout_s:g} s"
        except Exception as exc:  # noqa: BLE001  (a URL httpx cannot use: counted and backed off, never a hot loop)
            error = f"{type(exc).__name__}: {exc}"[:300]
        duration_ms = int((time.monotonic() - started) * 1000)
        if error is None:
            state, outcome, next_ms = DELIVERED, DELIVERED, at_ms
        else:
            abandoned = attempt >= self._max_attempts
            state = ABANDONED if abandoned else PENDING
            outcome = ABANDONED if abandoned else "retry"
            next_ms = at_ms + int(min(self._base_s * 2 ** (attempt - 1), self._max_backoff_s) * 1000)
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute("UPDATE outbox SET state = ?, attempts = ?, next_ms = ? WHERE event_id = ? AND org = ?",
                               (state, attempt, next_ms, event_id, org))
            self._conn.execute(
                "INSERT INTO deliveries(event_id, org, url, attempt, at_ms, outcome, http_status, error, duration_ms) "
                "VALUES (?,?,?,?,?,?,?,?,?)", (event_id, org, url, attempt, at_ms, outcome, status, error, duration_ms))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite already rolled back a write that failed on I/O
                self._conn.execute("ROLLBACK")
            raise
        if error is not None:
            log.warning("webhook %s to %s failed (attempt %d of %d%s): %s", event_id, org, attempt, self._max_attempts,
                        "; given up" if state == ABANDONED else "", error)
