"""The node's trusted proxies: read from ESTATECHAIN_TRUSTED_PROXIES as a comma-separated list, none by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from estatechain.node.settings import Settings


def test_no_proxy_is_trusted_unless_the_operator_lists_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESTATECHAIN_TRUSTED_PROXIES", raising=False)
    assert Settings(ledger_dir=Path("ledger")).trusted_proxies == ()
    monkeypatch.setenv("ESTATECHAIN_TRUSTED_PROXIES", " 10.0.0.5, 10.8.0.0/16,::1 ")
    assert Settings(ledger_dir=Path("ledger")).trusted_proxies == ("10.0.0.5", "10.8.0.0/16", "::1")
    monkeypatch.setenv("ESTATECHAIN_TRUSTED_PROXIES", "")
    assert Settings(ledger_dir=Path("ledger")).trusted_proxies == ()


@pytest.mark.parametrize("entry", ["*", "proxy.example.cn", "10.0.0.1/8", "10.0.0.0/33"])
def test_an_entry_that_is_not_an_address_or_network_stops_the_node(monkeypatch: pytest.MonkeyPatch,
                                                                    entry: str) -> None:
    monkeypatch.setenv("ESTATECHAIN_TRUSTED_PROXIES", f"127.0.0.1,{entry}")
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(ledger_dir=Path("ledger"))
