"""A dict-backed ``StateView`` and a driver that executes contract commands block by block.

Contract unit tests run the real ``execute`` against this view (style.md §6.4: a real in-process
twin, not a mock): accepted effects are applied in order, rejected commands must leave every row
as it was, and each command gets the next height and tx sequence so priority keys are realistic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from estatechain.contract.command import Accepted, Command, Outcome
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Delete, Effect, Emit, Put, Record
from estatechain.contract.execute import execute

ORG_TYPES = {
    "registry.intake": "registry", "registry.reviewer": "registry", "registry.recorder": "registry",
    "registry.issuer": "registry", "registry.admin": "registry", "bank.operator": "bank", "bank.approver": "bank",
    "court": "court", "state_organ": "state_organ", "person": "identity_authority",
    "identity.officer": "identity_authority", "developer": "developer", "auditor": "regulator",
}
"""The org type that grants each role (identity/genesis.py), so contexts look like the ledger's."""


class DictView:
    """Current state in a dict; ``scan`` yields in ascending key order like the real store."""

    def __init__(self, rows: Mapping[str, Record] | None = None) -> None:
        self.rows: dict[str, Record] = dict(rows or {})

    def get(self, key: str) -> Record | None:
        """The current value of ``key``."""
        return self.rows.get(key)

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Rows under ``prefix`` in key order."""
        for key in sorted(self.rows):
            if key.startswith(prefix):
                yield key, self.rows[key]

    def apply(self, effects: tuple[Effect, ...]) -> None:
        """Apply accepted effects in order (events are not state)."""
        for effect in effects:
            if isinstance(effect, Put):
                self.rows[effect.key] = effect.value
            elif isinstance(effect, Delete):
                self.rows.pop(effect.key, None)


@dataclass
class ContractDriver:
    """Executes commands one per block over a ``DictView`` with a settable block time."""

    view: DictView = field(default_factory=DictView)
    time_ms: int = 1_767_456_000_000
    """2026-01-04 00:00 in Guangzhou (UTC+8), the day the platform opened."""
    height: int = 0
    seq: int = 0
    chain_id: str = "test-chain"
    events: list[Emit] = field(default_factory=list)

    def run(  # noqa: PLR0913  (one keyword per context field a test may set)
        self,
        name: str,
        body: Mapping[str, JSON],
        *,
        role: str,
        signer: str,
        org: str,
        facts: Mapping[str, JSON] | None = None,
    ) -> Outcome:
        """Execute ``name`` in a new block; apply its effects when accepted."""
        self.height += 1
        self.seq += 1
        tx_id = hashlib.sha256(f"{self.chain_id}/{self.seq}/{name}/{signer}".encode()).hexdigest()
        ctx = BlockContext(chain_id=self.chain_id, height=self.height, block_time_ms=self.time_ms, tx_id=tx_id,
                           tx_seq=self.seq, signer=signer, signer_org=org, signer_org_type=ORG_TYPES.get(role, "?"),
                           signer_role=role)
        outcome = execute(self.view, ctx, Command(name=name, body=body, facts=facts or {}))
        if isinstance(outcome, Accepted):
            self.view.apply(outcome.effects)
            self.events.extend(effect for effect in outcome.effects if isinstance(effect, Emit))
        return outcome

    def advance_days(self, days: int) -> None:
        """Move block time forward."""
        self.time_ms += days * 86_400_000
