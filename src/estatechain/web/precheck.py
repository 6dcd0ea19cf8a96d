"""The rules run once before signing, on the register as it stands, so the person sees a failure first.

The contract is a pure function (design §3.1), so the portal can ask it what the pending transaction
would do in the next block without writing anything. A failure is shown on the confirmation page
with its code and texts, and the page offers no signature: the ledger is spared an attempt that
would only be kept as invalid. The ledger's own execution remains the decision: state may change
between this check and the block, and then the outcome page shows the ledger's code.
"""

from __future__ import annotations

from dataclasses import dataclass

from estatechain.contract.command import Command, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.execute import execute
from estatechain.node.service import NodeService
from estatechain.web.custody import Pending


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A rule's failure: its stable code and the rejection's detail (the catalogue fills the text)."""

    code: str
    detail: dict[str, str]


def precheck(service: NodeService, pending: Pending, *, fingerprint: str, org: str, role: str) -> Failure | None:
    """What the contract says about ``pending`` signed by ``fingerprint`` in the next block; None if valid."""
    store = service.store
    ctx = BlockContext(chain_id=service.genesis.chain_id, height=store.height + 1,
                       block_time_ms=service.clock.now_ms(), tx_id=pending.tx_id, tx_seq=0, signer=fingerprint,
                       signer_org=org, signer_org_type=service.genesis.org(org).type, signer_role=role)
    outcome = execute(store, ctx, Command(name=pending.command, body=pending.body, facts={}))
    if isinstance(outcome, Rejected):
        rejection = outcome.rejection
        return Failure(code=str(rejection.code), detail={str(k): str(v) for k, v in rejection.detail.items()})
    return None
