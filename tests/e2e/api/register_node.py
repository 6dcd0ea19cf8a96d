"""A real node on 127.0.0.1 over a small imported synthetic register, with two dev persons bound to owners.

The consortium is laid out as ``estatechain init`` makes it (``<dir>/nodes/gz-registry`` holds the
registry's ledger), so the node finds the registry's ``node`` identity that signs inquiry answers.
The register is imported through the real pipeline with a fixed clock at the current time, then the
ledger is closed and served by uvicorn in a thread like ``running_node.py`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from estatechain.clock import FixedClock, SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.settings import Settings
from estatechain.sdk import ClientIdentity, RequestTarget
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    commit_all,
    create_register_keys,
)
from estatechain.testing.serving import served
from estatechain.testing.synthetic import generate

SEED = 20260104
UNITS = 100
OWNER_A = "gz-identity/person1"
OWNER_B = "gz-identity/person2"


@dataclass(frozen=True, slots=True)
class RegisterNode:
    url: str
    chain_id: str
    consortium_dir: Path
    ledger_dir: Path
    bank_parties: dict[str, str]
    owners: dict[str, OwnerCandidate]
    """Dev person handle → the unit owner it is bound to."""

    def identity(self, handle: str) -> ClientIdentity:
        return ClientIdentity.from_dev(self.consortium_dir, handle)

    @property
    def target(self) -> RequestTarget:
        """What a request to this node is signed for: in the dev layout a node's folder is its org."""
        return RequestTarget(chain_id=self.chain_id, node_org=self.ledger_dir.name)


def import_register(consortium_dir: Path, ledger_dir: Path) -> tuple[str, RegisterImporter, dict[str, OwnerCandidate]]:
    clock = FixedClock(SystemClock().now_ms())
    consortium = create_dev_consortium(consortium_dir, now_ms=clock.now_ms())
    factory = TxFactory(consortium, clock)
    store = LedgerStore.create(ledger_dir, consortium.genesis)
    try:
        keys = create_register_keys(consortium_dir, consortium.genesis)
        importer = RegisterImporter(factory, keys, ledger_dir / SEALED_DIR, keep_owners=10_000)
        txs = [tx.envelope for tx in importer.transactions(generate(SEED, UNITS, batch_size=50))]
        receipts = commit_all(store, clock, txs)
        assert [(r.code, r.message) for r in receipts if not r.valid] == []
        free = [c for c in importer.owners if not c.mortgages]
        assert len(free) >= 2, "the synthetic register of this seed has too few unmortgaged owners"
        owners = {OWNER_A: free[0], OWNER_B: free[1]}
        bound = commit_all(store, clock, binding_envelopes(factory, owners, importer.bank_parties))
        assert all(r.valid for r in bound)
    finally:
        store.close()
    return consortium.genesis.chain_id, importer, owners


serving = served
"""A node built from ``settings`` served in a thread; its URL (``estatechain.testing.serving``)."""


@contextmanager
def register_node(tmp_path: Path) -> Iterator[RegisterNode]:
    consortium_dir = tmp_path / "net"
    ledger_dir = consortium_dir / "nodes" / "gz-registry"
    chain_id, importer, owners = import_register(consortium_dir, ledger_dir)
    with serving(Settings(ledger_dir=ledger_dir, port=0)) as url:
        yield RegisterNode(url=url, chain_id=chain_id, consortium_dir=consortium_dir, ledger_dir=ledger_dir,
                           bank_parties=dict(importer.bank_parties), owners=owners)
