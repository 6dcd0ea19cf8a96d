"""Accounts and sessions without a browser: argon2id at rest, lockout and its end, session expiry, one-time pending."""

from __future__ import annotations

from pathlib import Path

from estatechain.clock import FixedClock
from estatechain.web.accounts import LOCK_MS, MAX_FAILURES, SESSION_MS, Account, AccountStore
from estatechain.web.custody import Pending

CLERK = Account(username="icbc-gz/operator1", handle="icbc-gz/operator1", org="icbc-gz", role="bank.operator")


def store(tmp_path: Path, clock: FixedClock) -> AccountStore:
    accounts = AccountStore(tmp_path / "portal.sqlite", clock=clock)
    assert accounts.add(CLERK, "correct horse")
    assert not accounts.add(CLERK, "another password")  # an existing account keeps its password
    return accounts


def test_passwords_are_stored_as_argon2id_hashes(tmp_path: Path) -> None:
    accounts = store(tmp_path, FixedClock(1_800_000_000_000))
    accounts.close()
    raw = (tmp_path / "portal.sqlite").read_bytes()
    assert b"$argon2id$" in raw
    assert b"correct horse" not in raw


def test_the_lock_ends_after_its_time_and_a_good_password_then_works(tmp_path: Path) -> None:
    clock = FixedClock(1_800_000_000_000)
    accounts = store(tmp_path, clock)
    for _ in range(MAX_FAILURES - 1):
        assert accounts.sign_in(CLERK.username, "wrong").problem == "wrong"
    assert accounts.sign_in(CLERK.username, "wrong").problem == "locked"
    assert accounts.sign_in(CLERK.username, "correct horse").problem == "locked"
    clock.advance(LOCK_MS + 1)
    assert accounts.sign_in(CLERK.username, "correct horse").account == CLERK
    assert accounts.sign_in("nobody", "whatever").problem == "wrong"  # unknown and wrong look the same


def test_a_session_expires_when_idle_and_its_pending_tx_is_taken_once(tmp_path: Path) -> None:
    clock = FixedClock(1_800_000_000_000)
    accounts = store(tmp_path, clock)
    session = accounts.open_session(account=CLERK)
    waiting = Pending(handle="h", command="c", body={}, nonce="n", created_at=0, tx_id="t" * 64, summary=[], back="")
    accounts.set_pending(session.token, waiting.to_json())
    assert accounts.take_pending(session.token, "t" * 64) == waiting
    assert accounts.take_pending(session.token, "t" * 64) is None
    clock.advance(SESSION_MS - 1)
    assert accounts.session(session.token) is not None  # use moves the expiry on
    clock.advance(SESSION_MS + 1)
    assert accounts.session(session.token) is None
    assert accounts.session("not-a-token") is None
