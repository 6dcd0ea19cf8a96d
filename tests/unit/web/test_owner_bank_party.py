"""The party an owner's consent names for a bank is the party that bank's inquiry desk inquires as.

An org may be bound to several organisation parties (a bank and its branches, each a USCC hash:
``identity.bind_party``). The owner chooses a bank by org on ``/portal/owner/consents``, and the
consent names one party id; the bank's inquiry desk inquires as ``cases.org_party`` and looks for
consents to that party (``consents_in_force``). When the two pick different parties of the org, the
consent the owner gave is never found by the bank, and its inquiry with consent cannot be made.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.testing.register import OFFICER
from estatechain.web.cases import org_party
from estatechain.web.routes_owner import member_banks
from web.registerledger import Ledger, registry_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path, seed=20260109) as found:
        yield found


@pytest.mark.parametrize("branch", ["0" * 64, "f" * 64])
def test_the_consent_names_the_party_the_bank_inquires_as(ledger: Ledger, branch: str) -> None:
    ledger.commit(OFFICER, "identity.bind_party", {"org": "icbc-gz", "party_id": branch})
    banks = member_banks(ledger.store, ledger.store.genesis)
    assert banks["icbc-gz"] == org_party(ledger.store, "icbc-gz")
    assert banks["ccb-gz"] == org_party(ledger.store, "ccb-gz")
