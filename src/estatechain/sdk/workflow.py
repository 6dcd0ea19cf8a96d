"""Typed workflow steps: the node prepares an unsigned payload, this client checks it and signs it.

Separate from ``transactions`` because here the node, not the caller, builds the body: everything
it returns is checked against what was asked (``_checked``) before this identity signs it. The
inquiry and certificate methods reuse that check for their own prepared payloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.ledger.envelope import TX_TYPE, build_envelope
from estatechain.sdk.errors import ProofInvalid
from estatechain.sdk.signing import SignedTransaction
from estatechain.sdk.transactions import TransactionMethods, TxStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedPayload:
    """An unsigned payload from ``POST /v1/payloads/<step>``, checked locally before it is signed.

    ``canonical`` are the exact bytes to sign (they re-encode from ``payload``), ``tx_id`` their hash.
    """

    command: str
    payload: dict[str, JSONValue]
    canonical: bytes
    tx_id: str


class WorkflowMethods(TransactionMethods):
    """Prepare, check, sign and submit a workflow step (a part of ``Client``)."""

    async def prepare(self, step: str, **fields: Any) -> PreparedPayload:  # noqa: ANN401  (JSON of the step)
        """The unsigned payload of workflow ``step`` (``confirm``, ``not_accept`` …) with ``fields`` as its body.

        Nothing the node returns is trusted blindly: the payload must name this identity as signer and
        this chain, and its canonical bytes and tx id are recomputed here.

        Raises:
            ProofInvalid: the node's payload is not what this client asked to sign.
            ServerError: the node refused it, e.g. 413 ``PAYLOAD_TOO_LARGE`` when the envelope, once signed,
                would exceed the consortium's ``max_tx_bytes`` (``detail``: ``size`` of the envelope,
                ``payload_size``, ``limit``); nothing was signed and the body must shrink by the difference.

        """
        path = "/v1/payloads/" + step.replace("_", "-")
        return await self._checked(step, await self._send("POST", path, content=orjson.dumps(fields)), fields)

    async def _checked(self, step: str, data: Any, fields: Mapping[str, Any]) -> PreparedPayload:  # noqa: ANN401
        """The node's prepared payload ``data`` of ``step``, checked against this identity, chain and ``fields``.

        Raises:
            ProofInvalid: the payload is not what this client asked to sign.

        """
        payload: dict[str, JSONValue] = data["payload"]
        encoded = canonical.encode(payload)
        if encoded != str(data["canonical"]).encode("utf-8") or self._suite.hash(encoded).hex() != data["tx_id"]:
            raise ProofInvalid(f"the node's {step} payload does not match its canonical bytes or tx id")
        if (payload.get("signer") != self.identity.fingerprint or payload.get("chain_id") != await self.chain_id()
                or payload.get("type") != TX_TYPE or payload.get("command") != data["command"]):
            raise ProofInvalid(f"the node's {step} payload names another signer, chain, type or command")
        body = payload.get("body")
        if not isinstance(body, dict) or any(body.get(k) != _without_none(v) for k, v in fields.items()
                                             if k not in {"nonce", "created_at"} and v is not None):
            raise ProofInvalid(f"the node's {step} payload body differs from the fields sent")
        return PreparedPayload(command=str(data["command"]), payload=payload, canonical=encoded,
                               tx_id=str(data["tx_id"]))

    def sign_prepared(self, prepared: PreparedPayload) -> SignedTransaction:
        """Sign a prepared payload locally with this identity's key (the node never signs for a caller)."""
        payload = prepared.payload
        body = payload["body"]
        assert isinstance(body, dict)  # checked by prepare
        envelope = build_envelope(
            suite=self._suite, private_key=self.identity.private_key, chain_id=str(payload["chain_id"]),
            signer=str(payload["signer"]), command=str(payload["command"]), body=body, nonce=str(payload["nonce"]),
            created_at_ms=int(str(payload["created_at"])),
            certificate=self.identity.cert_der if self._include_certificate else None,
        )
        return SignedTransaction(envelope=envelope, tx_id=prepared.tx_id)

    async def step(self, step: str, *, timeout_s: float = 30.0,
                   **fields: Any) -> tuple[SignedTransaction, TxStatus]:  # noqa: ANN401  (JSON of the step)
        """Prepare workflow ``step``, sign it here, submit it and wait for the commit."""
        signed = self.sign_prepared(await self.prepare(step, **fields))
        status = await self._committed(signed.tx_id, await self.submit(signed.envelope), timeout_s)
        return signed, status


def _without_none(value: Any) -> Any:  # noqa: ANN401  (any JSON value)
    """``value`` with every object member whose value is None left out, at any depth.

    The node builds a step's body from its typed model without the unset (None) fields, nested ones
    included; what was sent is compared in that form, so leaving an optional field as None is not
    mistaken for a node that altered the payload.
    """
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value
