"""Executing one block: the ledger's own checks at block time, then the contract, in block order.

Used identically by the pipeline (to build a block) and by the audit (to replay one), so a replay
reaches byte-identical results and state. An authentic transaction that fails here is kept in its
block, marked invalid with its code, and changes nothing (design §3.13–3.14).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.command import Accepted, Command
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Put
from estatechain.contract.execute import execute
from estatechain.contract.rules.governance import revoked_key
from estatechain.identity.genesis import Policies
from estatechain.ledger.admission import AdmittedTx, cert_key
from estatechain.ledger.refusals import InvalidCode
from estatechain.ledger.results import VALID, ExecutedTx, TxResult
from estatechain.state.overlay import Overlay, ScanningView


def _ledger_check(item: AdmittedTx, view: Overlay, time_ms: int, policies: Policies) -> TxResult | None:
    """Checks that depend on block time or on state at this point of the block."""
    tx, signer = item.tx, item.signer
    earliest, latest = time_ms - policies.tx_window_past_ms, time_ms + policies.tx_window_future_ms
    if not earliest <= tx.created_at_ms <= latest:
        return TxResult(valid=False, code=InvalidCode.OUTSIDE_TIME_WINDOW,
                        message="The transaction's creation time is outside the window around block time; "
                                "sign it again with the current time.",
                        detail={"created_at": str(tx.created_at_ms), "block_time": str(time_ms)})
    if not signer.not_before_ms <= time_ms <= signer.not_after_ms:
        return TxResult(valid=False, code=InvalidCode.CERTIFICATE_NOT_VALID_AT_BLOCK_TIME,
                        message="The signer's certificate is not valid at block time; renew it.",
                        detail={"not_before": str(signer.not_before_ms), "not_after": str(signer.not_after_ms)})
    if view.get(revoked_key(signer.fingerprint)) is not None:
        return TxResult(valid=False, code=InvalidCode.SIGNER_REVOKED,
                        message="The signer's certificate was revoked before this transaction was executed.",
                        detail={"signer": signer.fingerprint})
    return None


def _registration(item: AdmittedTx, view: Overlay, height: int) -> tuple[Effect, ...]:
    """Register the signer's certificate on its first valid use, so later envelopes may omit it."""
    signer = item.signer
    if view.get(cert_key(signer.fingerprint)) is not None:
        return ()
    value: dict[str, JSONValue] = {
        "certificate": base64.b64encode(signer.cert_der).decode("ascii"),
        "org": signer.org_id,
        "role": signer.role,
        "registered_height": height,
    }
    return (Put(key=cert_key(signer.fingerprint), value=value),)


def execute_block(  # noqa: PLR0913  (a block's context is this wide)
    view: ScanningView,
    admitted: Sequence[AdmittedTx],
    *,
    chain_id: str,
    policies: Policies,
    height: int,
    time_ms: int,
    first_seq: int,
) -> tuple[list[ExecutedTx], Overlay]:
    """Execute ``admitted`` in order over ``view``; return their results and the block's writes."""
    overlay = Overlay(view, scan_group=keys.unit_index_group)
    executed: list[ExecutedTx] = []
    for position, item in enumerate(admitted):
        seq = first_seq + position
        result = _ledger_check(item, overlay, time_ms, policies)
        if result is None:
            ctx = BlockContext(chain_id=chain_id, height=height, block_time_ms=time_ms, tx_id=item.tx.tx_id,
                               tx_seq=seq, signer=item.signer.fingerprint, signer_org=item.signer.org_id,
                               signer_org_type=item.signer.org_type, signer_role=item.signer.role)
            outcome = execute(overlay, ctx, Command(name=item.tx.command, body=item.tx.body, facts=item.facts))
            if isinstance(outcome, Accepted):
                overlay.apply(seq, _registration(item, overlay, height) + outcome.effects)
                result = VALID
            else:
                rejection = outcome.rejection
                result = TxResult(valid=False, code=str(rejection.code), message=rejection.message,
                                  detail=dict(rejection.detail))
        executed.append(ExecutedTx(tx=item.tx, result=result))
    return executed, overlay
