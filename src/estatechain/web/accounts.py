"""Portal staff and owner accounts: argon2id password hashes, lockout after failures, sessions.

Everything lives in ``portal.sqlite`` beside the node's ledger (never in the ledger: accounts are an
org's local affair, design §3.9). A session is a random token whose SHA-256 is stored, so a copy of
the database does not let anyone in; it carries the CSRF token, the chosen language and the one
transaction waiting for its signer's confirmation. Anonymous visitors get a session too (for the
sign-in form's CSRF token and their language); signing in replaces it with a fresh token, so a
token planted before sign-in is worthless afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from estatechain.clock import Clock

MAX_FAILURES: Final = 5
"""Wrong passwords in a row before the account locks."""
LOCK_MS: Final = 15 * 60_000
SESSION_MS: Final = 30 * 60_000
"""Idle time after which a session ends; every request moves the expiry on."""
DEFAULT_LOCALE: Final = "zh-CN"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY, handle TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
    pw_hash TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0, locked_until_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY, username TEXT, csrf TEXT NOT NULL, locale TEXT NOT NULL,
    expires_ms INTEGER NOT NULL, pending TEXT);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """Who signs in: their identity handle (``org/user``) whose key the org keeps, org and role."""

    username: str
    handle: str
    org: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One browser's session; ``account`` is None until sign-in."""

    token: str
    csrf: str
    locale: str
    account: Account | None
    pending: str | None
    here: str = ""
    """The portal page this request is for (the language switch comes back to it)."""
    tls: bool = False
    """The request came over HTTPS: the cookie is then marked Secure."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    """The outcome of a sign-in attempt: the account, or why not (``locked`` or ``wrong``)."""

    account: Account | None
    problem: str | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Accounts and sessions of one node's portal; use from the event loop's thread."""

    def __init__(self, path: Path, *, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._clock = clock
        self._hasher = hasher if hasher is not None else PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- accounts ----------------------------------------------------------------------------------------

    def add(self, account: Account, password: str) -> bool:
        """Create ``account`` with ``password`` unless the username exists; True when created."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO accounts (username, handle, org, role, pw_hash) VALUES (?, ?, ?, ?, ?)",
            (account.username, account.handle, account.org, account.role, self._hasher.hash(password)))
        return cursor.rowcount == 1

    def sign_in(self, username: str, password: str) -> SignIn:
        """Check ``password``; count failures and lock the account after ``MAX_FAILURES`` in a row.

        An unknown username costs the same hash verification as a known one, so timing does not tell
        which usernames exist.
        """
        now = self._clock.now_ms()
        row = self._db.execute("SELECT handle, org, role, pw_hash, failures, locked_until_ms FROM accounts "
                               "WHERE username = ?", (username,)).fetchone()
        if row is None:
            self._verify(self._dummy, password)
            return SignIn(account=None, problem="wrong")
        handle, org, role, pw_hash, failures, locked_until = row
        if int(locked_until) > now:
            return SignIn(account=None, problem="locked")
        if not self._verify(str(pw_hash), password):
            failures = int(failures) + 1
            lock = now + LOCK_MS if failures >= MAX_FAILURES else 0
            self._db.execute("UPDATE accounts SET failures = ?, locked_until_ms = ? WHERE username = ?",
                             (0 if lock else failures, lock, username))
            return SignIn(account=None, problem="locked" if lock else "wrong")
        self._db.execute("UPDATE accounts SET failures = 0, locked_until_ms = 0 WHERE username = ?", (username,))
        return SignIn(account=Account(username=username, handle=str(handle), org=str(org), role=str(role)),
                      problem=None)

    def _verify(self, pw_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(pw_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _account(self, username: str | None) -> Account | None:
        if username is None:
            return None
        row = self._db.execute("SELECT handle, org, role FROM accounts WHERE username = ?", (username,)).fetchone()
        return None if row is None else Account(username=username, handle=str(row[0]), org=str(row[1]),
                                                role=str(row[2]))

    # -- sessions ----------------------------------------------------------------------------------------

    def open_session(self, *, account: Account | None = None, locale: str = DEFAULT_LOCALE) -> Session:
        """A new session with fresh token and CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._db.execute("DELETE FROM sessions WHERE expires_ms < ?", (self._clock.now_ms(),))
        self._db.execute("INSERT INTO sessions (token_sha256, username, csrf, locale, expires_ms) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (_digest(token), None if account is None else account.username, csrf, locale,
                          self._clock.now_ms() + SESSION_MS))
        return Session(token=token, csrf=csrf, locale=locale, account=account, pending=None)

    def session(self, token: str | None) -> Session | None:
        """The live session of ``token`` (its expiry moved on), or None when unknown or expired."""
        if not token:
            return None
        now = self._clock.now_ms()
        row = self._db.execute("SELECT username, csrf, locale, expires_ms, pending FROM sessions "
                               "WHERE token_sha256 = ?", (_digest(token),)).fetchone()
        if row is None or int(row[3]) < now:
            return None
        self._db.execute("UPDATE sessions SET expires_ms = ? WHERE token_sha256 = ?",
                         (now + SESSION_MS, _digest(token)))
        return Session(token=token, csrf=str(row[1]), locale=str(row[2]), account=self._account(row[0]),
                       pending=None if row[4] is None else str(row[4]))

    def alive(self, token: str) -> bool:
        """Whether ``token``'s session still exists and has not expired, without moving its expiry on.

        For long-lived responses (the event stream) that must stop when the session ends — a sign-out
        in another tab, or the idle time running out — but must not keep it alive themselves.
        """
        row = self._db.execute("SELECT expires_ms FROM sessions WHERE token_sha256 = ?", (_digest(token),)).fetchone()
        return row is not None and int(row[0]) >= self._clock.now_ms()

    def end_session(self, token: str) -> None:
        """Forget the session (sign-out)."""
        self._db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_digest(token),))

    def set_locale(self, token: str, locale: str) -> None:
        """Remember the session's language."""
        self._db.execute("UPDATE sessions SET locale = ? WHERE token_sha256 = ?", (locale, _digest(token)))

    def set_pending(self, token: str, pending: str | None) -> None:
        """Keep (or clear) the transaction waiting for this session's confirmation."""
        self._db.execute("UPDATE sessions SET pending = ? WHERE token_sha256 = ?", (pending, _digest(token)))

    def take_pending(self, token: str) -> str | None:
        """The waiting transaction, cleared before any await, so a double submit signs once."""
        row = self._db.execute("SELECT pending FROM sessions WHERE token_sha256 = ?", (_digest(token),)).fetchone()
        self._db.execute("UPDATE sessions SET pending = NULL WHERE token_sha256 = ?", (_digest(token),))
        return None if row is None or row[0] is None else str(row[0])
