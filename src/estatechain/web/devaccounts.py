"""Portal accounts of a development consortium: one per dev identity, with a printed password.

``estatechain up`` calls ``ensure_dev_accounts``: every identity in ``identities.json`` except the
nodes' own gets a portal account whose username is its handle (``icbc-gz/operator1``) and whose key
the custody reads from the same folder. Passwords are random, made once, and kept in
``<consortium>/portal-accounts.json`` (mode 0600) so that ``up`` can print them again: like the keys
in that folder, this is for development only. Production orgs create accounts with their own admin
tools and never keep passwords.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.clock import Clock
from estatechain.web.accounts import Account, AccountStore
from estatechain.web.portal import PORTAL_DB

PASSWORDS_FILE: Final = "portal-accounts.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class DevAccount:
    """A development account and its password."""

    username: str
    role: str
    password: str


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
            password = passwords.setdefault(handle, secrets.token_urlsafe(9))
            store.add(Account(username=handle, handle=handle, org=str(entry["org"]), role=role), password)
            accounts.append(DevAccount(username=handle, role=role, password=password))
    finally:
        store.close()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle_file:
        json.dump(passwords, handle_file, indent=2, sort_keys=True)
    return accounts
