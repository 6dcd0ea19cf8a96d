"""A real node on 127.0.0.1 (uvicorn, free port) over a fresh development consortium, in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from estatechain.clock import SystemClock
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.node.settings import Settings
from estatechain.sdk import ClientIdentity, RequestTarget
from estatechain.storage.store import LedgerStore
from estatechain.testing.serving import served


@dataclass(frozen=True, slots=True)
class RunningNode:
    url: str
    consortium: DevConsortium
    directory: Path
    org_id: str
    """The org the node serves as (outside a dev layout, its ledger folder's name), as its /v1/health names it."""

    @property
    def chain_id(self) -> str:
        return self.consortium.genesis.chain_id

    @property
    def target(self) -> RequestTarget:
        """What a request to this node is signed for."""
        return RequestTarget(chain_id=self.chain_id, node_org=self.org_id)

    def identity(self, handle: str) -> ClientIdentity:
        return ClientIdentity.from_dev(self.directory, handle)


@contextmanager
def running_node(tmp_path: Path) -> Iterator[RunningNode]:
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    LedgerStore.create(tmp_path / "ledger", consortium.genesis).close()
    settings = Settings(ledger_dir=tmp_path / "ledger", port=0, max_body_bytes=128 * 1024,
                        max_upload_bytes=256 * 1024)
    with served(settings) as url:
        org_id = str(httpx.get(f"{url}/v1/health", timeout=10).json()["org_id"])
        yield RunningNode(url=url, consortium=consortium, directory=tmp_path / "net", org_id=org_id)


@pytest.fixture(name="node")
def node_fixture(tmp_path: Path) -> Iterator[RunningNode]:
    """A running node for one test (import this fixture into the test module)."""
    with running_node(tmp_path) as started:
        yield started
