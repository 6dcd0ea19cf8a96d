"""Party-id lookups at the identity authority's node: signed, for filing staff only, V5-checked, rate-limited,
recorded without the ID number."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.identity.parties import party_id
from estatechain.node.settings import Settings
from estatechain.sdk import ClientIdentity, SdkError, SyncClient
from estatechain.sdk.client import Client
from estatechain.storage.store import LedgerStore
from estatechain.testing.register import create_register_keys
from estatechain.testing.serving import served

RESIDENT_ID = "11010519491231002X"  # GB 11643's published example: a valid check character


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[str, Path, bytes]]:
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    keys = create_register_keys(tmp_path / "net", consortium.genesis)
    ledger = tmp_path / "net" / "nodes" / "gz-identity"
    LedgerStore.create(ledger, consortium.genesis).close()
    with served(Settings(ledger_dir=ledger, port=0)) as url:
        yield url, tmp_path / "net", keys.party_key


def _lookup(url: str, directory: Path, handle: str, body: dict[str, str]) -> str:
    async def call() -> str:
        async with Client(url, ClientIdentity.from_dev(directory, handle)) as client:
            return await client.lookup_party(body["id_type"], body["id_number"])

    return asyncio.run(call())


def test_a_bank_operator_gets_the_party_id_and_the_log_holds_no_id_number(node: tuple[str, Path, bytes]) -> None:
    url, directory, key = node
    answer = _lookup(url, directory, "icbc-gz/operator1", {"id_type": "resident_id", "id_number": RESIDENT_ID})
    assert answer == party_id(key, "resident_id", RESIDENT_ID)
    log = (directory / "nodes" / "gz-identity" / "parties" / "lookups.jsonl").read_bytes()
    assert answer.encode() in log
    assert RESIDENT_ID.encode() not in log
    assert b"icbc-gz" in log


def test_the_blocking_client_looks_up_a_party_id_as_the_async_one_does(node: tuple[str, Path, bytes]) -> None:
    url, directory, key = node
    with SyncClient(url, ClientIdentity.from_dev(directory, "icbc-gz/operator1")) as client:
        assert client.lookup_party("resident_id", RESIDENT_ID) == party_id(key, "resident_id", RESIDENT_ID)
        with pytest.raises(SdkError, match="V5_ID_NUMBER_INVALID"):
            client.lookup_party("resident_id", "110105194912310021")


def test_a_bad_check_character_is_refused_with_v5_and_persons_may_not_look_up(
    node: tuple[str, Path, bytes],
) -> None:
    url, directory, _ = node
    with pytest.raises(SdkError, match="V5_ID_NUMBER_INVALID"):
        _lookup(url, directory, "icbc-gz/operator1", {"id_type": "resident_id", "id_number": "110105194912310021"})
    with pytest.raises(SdkError, match="FORBIDDEN"):
        _lookup(url, directory, "gz-identity/person1", {"id_type": "resident_id", "id_number": RESIDENT_ID})


def test_lookups_beyond_the_rate_are_refused_with_429(node: tuple[str, Path, bytes]) -> None:
    url, directory, _ = node

    async def flood() -> list[str]:
        outcomes = []
        async with Client(url, ClientIdentity.from_dev(directory, "gz-court/court1")) as client:
            for _ in range(35):
                try:
                    await client.lookup_party("resident_id", RESIDENT_ID)
                    outcomes.append("ok")
                except SdkError as exc:
                    outcomes.append(type(exc).__name__ + str(exc))
        return outcomes

    outcomes = asyncio.run(flood())
    assert outcomes[:30] == ["ok"] * 30
    assert all("RATE_LIMITED" in o for o in outcomes[30:])
