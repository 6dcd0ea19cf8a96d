"""Portal staff and owner accounts: argon2id password hashes, TOTP, one-time codes, lockout, sessions.

Everything lives in ``portal.sqlite`` beside the node's ledger (never in the ledger: accounts are an
org's local affair, design §3.9).

Staff sign in with a password and, once they turned it on, a TOTP code (RFC 6238, any authenticator
app). The TOTP secret is kept sealed (AES-256-GCM under a key derived from the org's own sealing
key, bound to the username), so a copy of ``portal.sqlite`` alone does not give the second factor;
a code is accepted once (its time step is remembered), so a code seen over a shoulder cannot be
replayed within its 90-second window. Owners (role ``person``) have no password: the identity
authority hands them a one-time code (at its counter; in development ``estatechain up`` prints one),
valid for a day and usable once — they rarely come, and a forgotten password would be the common
case. Wrong codes count towards the same lockout as wrong passwords.

A session is a random token whose SHA-256 is stored, so a copy of the database does not let anyone
in; it carries the CSRF token, the chosen language and the one transaction waiting for its signer's
confirmation. Anonymous visitors get a session too (for the sign-in form's CSRF token and their
language), but one kept nowhere (``anonymous``): its token lives only in the browser's cookie and
its CSRF token is an HMAC of that token under the store's own key, so a stream of cookieless
requests writes nothing. An anonymous session gets a row only once its password was right and the
TOTP code is still to come (``begin_second_factor``), which no stranger can bring about. Signing in
replaces it with a fresh token, so a token planted before sign-in is worthless afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from estatechain.clock import Clock
from estatechain.web.custody import Pending
from estatechain.web.waiting import Waiting

MAX_FAILURES: Final = 5
"""Wrong passwords in a row before the account locks."""
LOCK_MS: Final = 15 * 60_000
SESSION_MS: Final = 30 * 60_000
"""Idle time after which a session ends; every request moves the expiry on."""
DEFAULT_LOCALE: Final = "zh-CN"
OWNER_ROLE: Final = "person"
"""Accounts of this role sign in with one-time codes, never a password."""
CODE_MS: Final = 24 * 3600_000
"""How long a one-time code stays valid."""
SECOND_FACTOR_MS: Final = 5 * 60_000
"""How long, after the right password, the TOTP code may be given."""
TOTP_ISSUER: Final = "estatechain"
_TOKEN: Final = re.compile("[A-Za-z0-9_-]{43}")
"""A session token's shape (``secrets.token_urlsafe(32)``): a cookie of another shape is replaced, never kept."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY, handle TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
    pw_hash TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0, locked_until_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY, username TEXT, csrf TEXT NOT NULL, locale TEXT NOT NULL,
    expires_ms INTEGER NOT NULL, pending TEXT);
CREATE TABLE IF NOT EXISTS one_time_codes (
    username TEXT PRIMARY KEY, code_hash TEXT NOT NULL, expires_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS portal_key (id INTEGER PRIMARY KEY CHECK (id = 1), csrf_key BLOB NOT NULL);
"""
_COLUMNS: Final = (
    ("accounts", "totp_sealed", "BLOB"),          # the confirmed TOTP secret, sealed (None: TOTP off)
    ("accounts", "totp_pending", "BLOB"),         # a secret shown for enrolment, not yet confirmed
    ("accounts", "totp_last_step", "INTEGER NOT NULL DEFAULT 0"),  # the newest time step accepted
    ("sessions", "half_username", "TEXT"),        # password right, TOTP code still to come
    ("sessions", "half_until_ms", "INTEGER NOT NULL DEFAULT 0"),
)
"""Columns added after the first release: an existing ``portal.sqlite`` gets them on open."""


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
    """``wrong``, ``locked``, or ``second_factor`` (the password was right; a TOTP code must follow)."""


class TotpUnavailable(Exception):
    """The node keeps no sealing key, so it cannot keep TOTP secrets sealed."""


class TotpInForce(Exception):
    """The account's authenticator is on: a new secret would replace it without its code (turn it off first)."""


class PasswordRefused(Exception):
    """The account's password was wrong (a failure counted towards the lock) or the account is locked."""


def totp_key_from(sealing: x25519.X25519PrivateKey | None) -> bytes | None:
    """The key sealing a node's TOTP secrets, derived from its org's sealing key (None: the node has none)."""
    if sealing is None:
        return None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"estatechain portal totp secrets v1").derive(sealing.private_bytes_raw())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Accounts and sessions of one node's portal; use from the event loop's thread."""

    def __init__(self, path: Path, *, clock: Clock, hasher: PasswordHasher | None = None,
                 totp_key: bytes | None = None) -> None:
        """``totp_key``: 32 bytes sealing the TOTP secrets (``totp_key_from``); None turns TOTP enrolment off."""
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=5000")  # `estatechain owner-code` writes while the node runs
        self._db.executescript(_SCHEMA)
        for table, column, kind in _COLUMNS:
            present = {str(row[1]) for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._db.execute("INSERT OR IGNORE INTO portal_key (id, csrf_key) VALUES (1, ?)", (secrets.token_bytes(32),))
        self._csrf_key = bytes(self._db.execute("SELECT csrf_key FROM portal_key").fetchone()[0])
        self._totp_key = totp_key
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
        """Check ``password`` (an owner's: their one-time code); count failures and lock after ``MAX_FAILURES``.

        An unknown username costs the same hash verification as a known one, so timing does not tell
        which usernames exist. A staff account with TOTP on answers ``second_factor``: the caller asks
        for the code (``begin_second_factor``) and only ``second_factor`` gives the account.
        """
        now = self._clock.now_ms()
        row = self._db.execute("SELECT handle, org, role, pw_hash, locked_until_ms, totp_sealed FROM accounts "
                               "WHERE username = ?", (username,)).fetchone()
        if row is None:
            self._verify(self._dummy, password)
            return SignIn(account=None, problem="wrong")
        handle, org, role, pw_hash, locked_until, totp_sealed = row
        if int(locked_until) > now:
            return SignIn(account=None, problem="locked")
        right = self._use_code(username, password, now) if role == OWNER_ROLE else self._verify(str(pw_hash), password)
        if not right:
            return self._failed(username, now)
        account = Account(username=username, handle=str(handle), org=str(org), role=str(role))
        if totp_sealed is not None:  # failures reset only when the code is right too: else each right
            return SignIn(account=account, problem="second_factor")  # password would buy more code guesses
        self._db.execute("UPDATE accounts SET failures = 0 WHERE username = ?", (username,))
        return SignIn(account=account, problem=None)

    def _failed(self, username: str, now: int) -> SignIn:
        failures = int(self._db.execute("SELECT failures FROM accounts WHERE username = ?",
                                        (username,)).fetchone()[0]) + 1
        lock = now + LOCK_MS if failures >= MAX_FAILURES else 0
        self._db.execute("UPDATE accounts SET failures = ?, locked_until_ms = ? WHERE username = ?",
                         (0 if lock else failures, lock, username))
        return SignIn(account=None, problem="locked" if lock else "wrong")

    # -- owners' one-time codes --------------------------------------------------------------------------

    def issue_code(self, username: str) -> str:
        """A fresh one-time code for the owner ``username`` (replacing any earlier one), valid ``CODE_MS``.

        Raises ``KeyError`` for an unknown username or one that is not an owner's.
        """
        row = self._db.execute("SELECT role FROM accounts WHERE username = ?", (username,)).fetchone()
        if row is None or row[0] != OWNER_ROLE:
            raise KeyError(username)
        code = f"{secrets.randbelow(10**8):08d}"
        self._db.execute("INSERT OR REPLACE INTO one_time_codes (username, code_hash, expires_ms) VALUES (?, ?, ?)",
                         (username, self._hasher.hash(code), self._clock.now_ms() + CODE_MS))
        return code

    def _use_code(self, username: str, code: str, now: int) -> bool:
        row = self._db.execute("SELECT code_hash, expires_ms FROM one_time_codes WHERE username = ?",
                               (username,)).fetchone()
        if row is None or int(row[1]) < now:
            self._verify(self._dummy, code)
            return False
        if not self._verify(str(row[0]), code.replace(" ", "").replace("-", "")):
            return False
        self._db.execute("DELETE FROM one_time_codes WHERE username = ?", (username,))  # once only
        return True

    # -- staff TOTP --------------------------------------------------------------------------------------

    def totp_on(self, username: str) -> bool:
        """Whether ``username`` signs in with a TOTP code after the password."""
        row = self._db.execute("SELECT totp_sealed FROM accounts WHERE username = ?", (username,)).fetchone()
        return row is not None and row[0] is not None

    def begin_totp(self, account: Account, password: str) -> tuple[str, str]:
        """A new secret for ``account`` to add to an authenticator: (base32 secret, otpauth:// URI).

        It becomes the account's second factor only once a code from it is confirmed (``confirm_totp``).
        While a factor is in force no new secret is made: enrolling over it would swap it for one the
        holder of an open session chose, removing the factor without the current code that
        ``turn_off_totp`` asks for. And ``password`` must be the account's: a session left open on a
        shared desk would otherwise let anyone tie the account to their own phone and lock its owner
        out. A wrong one counts towards the sign-in lock, as at sign-in.

        Raises:
            TotpInForce: the account's authenticator is on.
            PasswordRefused: ``password`` is wrong, or the account is locked.

        """
        if account.role == OWNER_ROLE:
            raise KeyError(account.username)
        if self.totp_on(account.username):
            raise TotpInForce(account.username)
        now = self._clock.now_ms()
        row = self._db.execute("SELECT pw_hash, locked_until_ms FROM accounts WHERE username = ?",
                               (account.username,)).fetchone()
        if row is None or int(row[1]) > now:
            raise PasswordRefused(account.username)
        if not self._verify(str(row[0]), password):
            self._failed(account.username, now)
            raise PasswordRefused(account.username)
        secret = pyotp.random_base32()
        self._db.execute("UPDATE accounts SET totp_pending = ? WHERE username = ?",
                         (self._seal(account.username, secret), account.username))
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=TOTP_ISSUER)
        return secret, uri

    def confirm_totp(self, account: Account, code: str) -> bool:
        """Turn TOTP on with the pending secret when ``code`` is one of its current codes.

        Never over a factor in force (see ``begin_totp``): then nothing changes and the answer is False.
        """
        row = self._db.execute("SELECT totp_pending, totp_sealed FROM accounts WHERE username = ?",
                               (account.username,)).fetchone()
        if row is None or row[0] is None or row[1] is not None:
            return False
        step = self._step_of(self._open(account.username, bytes(row[0])), code, after=0)
        if step is None:
            return False
        self._db.execute("UPDATE accounts SET totp_sealed = totp_pending, totp_pending = NULL, totp_last_step = ? "
                         "WHERE username = ? AND totp_sealed IS NULL", (step, account.username))
        return True

    def turn_off_totp(self, account: Account, code: str) -> bool:
        """Turn TOTP off; needs a current code, so a session left open cannot remove the second factor."""
        if not self._totp_code_right(account.username, code):
            return False
        self._db.execute("UPDATE accounts SET totp_sealed = NULL, totp_pending = NULL, totp_last_step = 0 "
                         "WHERE username = ?", (account.username,))
        return True

    def begin_second_factor(self, session: Session, account: Account) -> None:
        """Remember on ``session`` that ``account``'s password was right, keeping an anonymous session from now on.

        Expired rows go first, so a row found here is a live one (``session`` was read from it) and an
        ended session's row is never brought back under a token that reached the store as anonymous.
        """
        now = self._clock.now_ms()
        self._db.execute("DELETE FROM sessions WHERE expires_ms < ?", (now,))
        self._db.execute("INSERT INTO sessions (token_sha256, username, csrf, locale, expires_ms, half_username, "
                         "half_until_ms) VALUES (?, NULL, ?, ?, ?, ?, ?) ON CONFLICT (token_sha256) DO UPDATE "
                         "SET half_username = excluded.half_username, half_until_ms = excluded.half_until_ms",
                         (_digest(session.token), session.csrf, session.locale, now + SESSION_MS, account.username,
                          now + SECOND_FACTOR_MS))

    def awaiting_second_factor(self, token: str) -> str | None:
        """The username whose TOTP code this session may still give, or None."""
        row = self._db.execute("SELECT half_username, half_until_ms FROM sessions WHERE token_sha256 = ?",
                               (_digest(token),)).fetchone()
        if row is None or row[0] is None or int(row[1]) < self._clock.now_ms():
            return None
        return str(row[0])

    def second_factor(self, token: str, code: str) -> SignIn:
        """Check the TOTP code of the account whose password this session gave; wrong codes count as failures."""
        username = self.awaiting_second_factor(token)
        if username is None:
            return SignIn(account=None, problem="expired")
        now = self._clock.now_ms()
        locked = self._db.execute("SELECT locked_until_ms FROM accounts WHERE username = ?", (username,)).fetchone()
        if locked is None:
            return SignIn(account=None, problem="expired")
        if int(locked[0]) > now:
            return SignIn(account=None, problem="locked")
        if not self._totp_code_right(username, code):
            outcome = self._failed(username, now)
            if outcome.problem == "locked":
                self._db.execute("UPDATE sessions SET half_username = NULL WHERE token_sha256 = ?", (_digest(token),))
            return outcome
        self._db.execute("UPDATE accounts SET failures = 0 WHERE username = ?", (username,))
        self._db.execute("UPDATE sessions SET half_username = NULL WHERE token_sha256 = ?", (_digest(token),))
        return SignIn(account=self._account(username), problem=None)

    def _totp_code_right(self, username: str, code: str) -> bool:
        row = self._db.execute("SELECT totp_sealed, totp_last_step FROM accounts WHERE username = ?",
                               (username,)).fetchone()
        if row is None or row[0] is None:
            return False
        step = self._step_of(self._open(username, bytes(row[0])), code, after=int(row[1]))
        if step is None:
            return False
        self._db.execute("UPDATE accounts SET totp_last_step = ? WHERE username = ?", (step, username))
        return True

    def _step_of(self, secret: str, code: str, *, after: int) -> int | None:
        """The time step (now, or one either side: clock drift) whose code is ``code``, if newer than ``after``."""
        totp, now_s = pyotp.TOTP(secret), self._clock.now_ms() // 1000
        given = code.strip().replace(" ", "")
        for offset in (-1, 0, 1):
            step = totp.timecode(now_s) + offset
            if step > after and hmac.compare_digest(totp.at(now_s, counter_offset=offset), given):
                return step
        return None

    def _seal(self, username: str, secret: str) -> bytes:
        if self._totp_key is None:
            raise TotpUnavailable
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self._totp_key).encrypt(nonce, secret.encode(), username.encode())

    def _open(self, username: str, sealed: bytes) -> str:
        if self._totp_key is None:
            raise TotpUnavailable
        return AESGCM(self._totp_key).decrypt(sealed[:12], sealed[12:], username.encode()).decode()

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

    def open_session(self, *, account: Account, locale: str = DEFAULT_LOCALE) -> Session:
        """A new session of the signed-in ``account`` with fresh token and CSRF token (visitors: ``anonymous``)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._db.execute("DELETE FROM sessions WHERE expires_ms < ?", (self._clock.now_ms(),))
        self._db.execute("INSERT INTO sessions (token_sha256, username, csrf, locale, expires_ms) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (_digest(token), account.username, csrf, locale,
                          self._clock.now_ms() + SESSION_MS))
        return Session(token=token, csrf=csrf, locale=locale, account=account, pending=None)

    def anonymous(self, token: str | None, *, locale: str) -> Session:
        """A session kept nowhere for a visitor who is not signed in: ``token`` (the cookie's) or a new one.

        Its CSRF token is derived from the session token, so the sign-in form posted back with the
        same cookie is recognised without a row; a cookie that is not of a token's shape is replaced.
        """
        if token is None or not _TOKEN.fullmatch(token):
            token = secrets.token_urlsafe(32)
        csrf = hmac.new(self._csrf_key, token.encode(), hashlib.sha256).hexdigest()
        return Session(token=token, csrf=csrf, locale=locale, account=None, pending=None)

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
        """Add a transaction (a ``Pending``'s JSON) waiting for this session's confirmation; None clears them all.

        It waits beside those other tabs prepared, replacing only the one on the same case (``waiting.py``).
        """
        found = None if pending is None else Waiting.read(self._waiting(token)).put(Pending.from_json(pending))
        self._keep_waiting(token, found)

    def waiting(self, token: str) -> Waiting:
        """The session's waiting transactions and the forms kept to be given back, as stored now."""
        return Waiting.read(self._waiting(token))

    def take_pending(self, token: str, tx_id: str) -> Pending | None:
        """The waiting transaction ``tx_id``, taken out before any await, so a double submit signs once."""
        remaining, found = Waiting.read(self._waiting(token)).take(tx_id)
        if found is not None:
            self._keep_waiting(token, remaining)
        return found

    def give_back(self, token: str, tx_id: str) -> Pending | None:
        """Cancel the waiting transaction ``tx_id`` unsigned, keeping its form to be given back."""
        found = Waiting.read(self._waiting(token))
        pending = found.find(tx_id)
        if pending is not None:
            self._keep_waiting(token, found.give_back(pending, replaced=False))
        return pending

    def _waiting(self, token: str) -> str | None:
        row = self._db.execute("SELECT pending FROM sessions WHERE token_sha256 = ?", (_digest(token),)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def _keep_waiting(self, token: str, waiting: Waiting | None) -> None:
        self._db.execute("UPDATE sessions SET pending = ? WHERE token_sha256 = ?",
                         (None if waiting is None else waiting.to_json(), _digest(token)))
