"""Portal accounts of a development consortium: one per dev identity, with a printed password or code.

``estatechain up`` calls ``ensure_dev_accounts``: every identity in ``identities.json`` except the
nodes' own gets a portal account whose username is its handle (``icbc-gz/operator1``) and whose key
the custody reads from the same folder. Staff passwords are random, made once, and kept in
``<consortium>/portal-accounts.json`` (mode 0600) so that ``up`` can print them again: like the keys
in that folder, this is for development only. Production orgs create accounts with their own admin
tools and never keep passwords. Demo owners have no password: each ``up`` prints a fresh one-time
code for each (``estatechain owner-code`` prints another), as the identity authority's counter would
hand one out.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.clock import Clock
from estatechain.web.accounts import OWNER_ROLE, Account, AccountStore
from estatechain.web.portal import PORTAL_DB

PASSWORDS_FILE: Final = "portal-accounts.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class DevAccount:
    """A development account and its password (staff) or a fresh one-time code (owners)."""

    username: str
    role: str
    password: str | None
    code: str | None

    @property
    def secret(self) -> str:
        """What signs this account in: the password, or the one-time code."""
        return self.password if self.password is not None else str(self.code)


def ensure_dev_accounts(consortium_dir: Path, ledger_dir: Path, *, clock: Clock) -> list[DevAccount]:
    """Create the missing accounts (existing ones keep their password); every dev account with its password."""
    index = json.loads((consortium_dir / "identities.json").read_text(encoding="utf-8"))["identities"]
    path = consortium_dir / PASSWORDS_FILE
    passwords: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    store = AccountStore(ledger_dir / PORTAL_DB, clock=clock)
    accounts = []
    try:
        for handle, entry in sorted(index.items()):
            role = str(entry["role"])
            if role == "node":
                continue
            account = Account(username=handle, handle=handle, org=str(entry["org"]), role=role)
            if role == OWNER_ROLE:
                store.add(account, secrets.token_urlsafe(32))  # never used: owners sign in with codes
                passwords.pop(handle, None)
                accounts.append(DevAccount(username=handle, role=role, password=None, code=store.issue_code(handle)))
                continue
            password = passwords.setdefault(handle, secrets.token_urlsafe(9))
            store.add(account, password)
            accounts.append(DevAccount(username=handle, role=role, password=password, code=None))
    finally:
        store.close()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle_file:
        json.dump(passwords, handle_file, indent=2, sort_keys=True)
    return accounts


def issue_owner_code(ledger_dir: Path, username: str, *, clock: Clock) -> str:
    """A fresh one-time code for the owner ``username`` of the portal beside ``ledger_dir``."""
    store = AccountStore(ledger_dir / PORTAL_DB, clock=clock)
    try:
        return store.issue_code(username)
    finally:
        store.close()
