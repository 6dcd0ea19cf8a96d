"""The node's append-only audit logs (``durable.append_records``): private to the node's user like its other files."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from estatechain.clock import FixedClock
from estatechain.node.peers import FETCH_LOG, MaterialLog


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): a file made without an explicit mode would be readable by every local user."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_the_fetch_record_naming_a_resident_is_readable_by_the_node_s_user_alone(tmp_path: Path) -> None:
    path = tmp_path / "node" / "materials" / FETCH_LOG  # neither folder exists yet: the first line makes them
    record = MaterialLog(FixedClock(1_700_000_000_000), path)

    async def exchange() -> None:
        await record.asked("a" * 64, org="icbc-gz", outcome="fetched", reader="b" * 64, case="c" * 64,
                           person="b" * 64, verified="a" * 64)
        await record.answered("a" * 64, org="gz-identity", node="d" * 64, outcome="refused", case="c" * 64,
                              person="e" * 64)

    asyncio.run(exchange())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [(line["side"], line["outcome"], line["person"]) for line in lines] == [
        ("asked", "fetched", "b" * 64), ("answered", "refused", "e" * 64)]


@pytest.mark.usefixtures("open_umask")
def test_a_log_moved_aside_starts_again_private(tmp_path: Path) -> None:
    path = tmp_path / FETCH_LOG
    record = MaterialLog(FixedClock(1), path)
    asyncio.run(record.answered("a" * 64, org="gz-bdc", node="d" * 64, outcome="served", case=None, person=None))
    path.rename(tmp_path / "archived.jsonl")
    asyncio.run(record.answered("a" * 64, org="gz-bdc", node="d" * 64, outcome="not_held", case=None, person=None))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert orjson.loads(path.read_bytes())["outcome"] == "not_held"
