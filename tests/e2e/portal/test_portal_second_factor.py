"""TOTP for staff and one-time codes for owners, without a browser: what each accepts, once, and for how long.

The codes come from pyotp with the secret the account page shows, as an authenticator app would
compute them; the store's clock is fixed, so a code's time step is known.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pyotp
import pytest

from estatechain.clock import FixedClock
from estatechain.web.accounts import (
    CODE_MS,
    MAX_FAILURES,
    SECOND_FACTOR_MS,
    Account,
    AccountStore,
    PasswordRefused,
    TotpUnavailable,
)

CLERK = Account(username="icbc-gz/operator1", handle="icbc-gz/operator1", org="icbc-gz", role="bank.operator")
OWNER = Account(username="gz-identity/person1", handle="gz-identity/person1", org="gz-identity", role="person")
START_MS = 1_800_000_000_000


def store(tmp_path: Path, clock: FixedClock, *, key: bytes | None = b"k" * 32) -> AccountStore:
    accounts = AccountStore(tmp_path / "portal.sqlite", clock=clock, totp_key=key)
    accounts.add(CLERK, "correct horse")
    accounts.add(OWNER, secrets.token_urlsafe(32))
    return accounts


def code(secret: str, clock: FixedClock, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now_ms() // 1000, counter_offset=offset)


def enrolled(accounts: AccountStore, clock: FixedClock) -> str:
    secret, uri = accounts.begin_totp(CLERK, "correct horse")
    assert uri.startswith("otpauth://totp/")
    assert secret in uri
    assert not accounts.totp_on(CLERK.username)  # not in force before a code confirms it
    assert accounts.confirm_totp(CLERK, code(secret, clock))
    assert accounts.totp_on(CLERK.username)
    clock.advance(30_000)  # the confirming code's step is used up
    return secret


def test_with_totp_on_the_password_alone_does_not_sign_in(tmp_path: Path) -> None:
    clock = FixedClock(START_MS)
    accounts = store(tmp_path, clock)
    secret = enrolled(accounts, clock)
    anonymous = accounts.anonymous(None, locale="zh-CN")
    first = accounts.sign_in(CLERK.username, "correct horse")
    assert first.problem == "second_factor"
    accounts.begin_second_factor(anonymous, CLERK)
    assert accounts.second_factor(anonymous.token, "000000" if code(secret, clock) != "000000" else "111111"
                                  ).account is None
    done = accounts.second_factor(anonymous.token, code(secret, clock))
    assert done.account == CLERK
    assert done.problem is None
    assert accounts.awaiting_second_factor(anonymous.token) is None  # the half-done sign-in is used up


def test_a_code_is_accepted_once_and_within_one_step_of_drift(tmp_path: Path) -> None:
    clock = FixedClock(START_MS)
    accounts = store(tmp_path, clock)
    secret = enrolled(accounts, clock)
    session = accounts.anonymous(None, locale="zh-CN")
    accounts.begin_second_factor(session, CLERK)
    clock.advance(30_000)
    used = code(secret, clock, offset=-1)  # a phone 30 s behind
    assert accounts.second_factor(session.token, used).account == CLERK
    again = accounts.anonymous(None, locale="zh-CN")
    accounts.begin_second_factor(again, CLERK)
    assert accounts.second_factor(again.token, used).problem == "wrong"  # replay of a used step
    assert accounts.second_factor(again.token, code(secret, clock, offset=3)).problem == "wrong"  # too far ahead


def test_wrong_codes_lock_the_account_and_a_right_password_does_not_reset_the_count(tmp_path: Path) -> None:
    clock = FixedClock(START_MS)
    accounts = store(tmp_path, clock)
    secret = enrolled(accounts, clock)
    wrong = f"{(int(code(secret, clock)) + 500_000) % 1_000_000:06d}"
    outcomes = []
    for _ in range(MAX_FAILURES):
        session = accounts.anonymous(None, locale="zh-CN")
        assert accounts.sign_in(CLERK.username, "correct horse").problem == "second_factor"
        accounts.begin_second_factor(session, CLERK)
        outcomes.append(accounts.second_factor(session.token, wrong).problem)
    assert outcomes == ["wrong"] * (MAX_FAILURES - 1) + ["locked"]
    assert accounts.sign_in(CLERK.username, "correct horse").problem == "locked"


def test_the_second_step_expires(tmp_path: Path) -> None:
    clock = FixedClock(START_MS)
    accounts = store(tmp_path, clock)
    secret = enrolled(accounts, clock)
    session = accounts.anonymous(None, locale="zh-CN")
    accounts.begin_second_factor(session, CLERK)
    clock.advance(SECOND_FACTOR_MS + 1)
    assert accounts.second_factor(session.token, code(secret, clock)).problem == "expired"


def test_the_secret_is_sealed_at_rest_and_needs_a_current_code_to_turn_off(tmp_path: Path) -> None:
    clock = FixedClock(START_MS)
    accounts = store(tmp_path, clock)
    secret = enrolled(accounts, clock)
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("portal.sqlite*"))
    assert secret.encode() not in raw
    assert not accounts.turn_off_totp(CLERK, "123456" if code(secret, clock) != "123456" else "654321")
    assert accounts.totp_on(CLERK.username)
    assert accounts.turn_off_totp(CLERK, code(secret, clock))
    assert accounts.sign_in(CLERK.username, "correct horse").account == CLERK
    assert accounts.sign_in(CLERK.username, "correct horse").problem is None


def test_without_a_sealing_key_totp_cannot_be_turned_on(tmp_path: Path) -> None:
    accounts = store(tmp_path, FixedClock(START_MS), key=None)
    with pytest.raises(TotpUnavailable):
        accounts.begin_totp(CLERK, "correct horse")


def test_an_owners_one_time_code_works_once_and_for_a_day(tmp_path: Path) -> None:
    clock = FixedClock(START_MS)
    accounts = store(tmp_path, clock)
    first = accounts.issue_code(OWNER.username)
    assert len(first) == 8
    assert first.isdigit()
    assert accounts.sign_in(OWNER.username, first).account == OWNER
    assert accounts.sign_in(OWNER.username, first).problem == "wrong"  # used up
    late = accounts.issue_code(OWNER.username)
    clock.advance(CODE_MS + 1)
    assert accounts.sign_in(OWNER.username, late).problem == "wrong"  # expired
    older, newer = accounts.issue_code(OWNER.username), accounts.issue_code(OWNER.username)
    assert accounts.sign_in(OWNER.username, older).problem == "wrong"  # a new code replaces the old
    assert accounts.sign_in(OWNER.username, newer[:4] + "-" + newer[4:]).account == OWNER  # typed with a dash
    with pytest.raises(KeyError):
        accounts.issue_code(CLERK.username)  # staff sign in with passwords
    with pytest.raises(KeyError):
        accounts.begin_totp(OWNER, "any")


def test_setting_up_an_authenticator_needs_the_password_and_a_wrong_one_counts_towards_the_lock(
        tmp_path: Path) -> None:
    """A session left open must not let a passer-by tie the account to their phone and lock its owner out."""
    accounts = store(tmp_path, FixedClock(START_MS))
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(PasswordRefused):
            accounts.begin_totp(CLERK, "wrong horse")
    assert not accounts.totp_on(CLERK.username)
    assert accounts.sign_in(CLERK.username, "correct horse").account == CLERK  # failures reset
    for _ in range(MAX_FAILURES):
        with pytest.raises(PasswordRefused):
            accounts.begin_totp(CLERK, "wrong horse")
    assert accounts.sign_in(CLERK.username, "correct horse").problem == "locked"
    with pytest.raises(PasswordRefused):
        accounts.begin_totp(CLERK, "correct horse")  # locked: not even the right one
