"""Transactions signed here and submitted: ``sign``, ``submit``, ``status``, ``wait_for_commit``.

The base of every write: the workflow steps, inquiries and certificate issues all end in a signed
envelope that goes through ``submit`` (or ``submit_inquiry``) and waits for the commit the same way.
``TxStatus`` lives here because this is where the node's answer about a transaction is read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from estatechain.canonical import JSONValue
from estatechain.errors import EstatechainError
from estatechain.ledger.envelope import parse_envelope
from estatechain.sdk.errors import CommitTimeout
from estatechain.sdk.signing import SignedTransaction, sign_transaction
from estatechain.sdk.transport import Transport


@dataclass(frozen=True, slots=True, kw_only=True)
class TxStatus:
    """A transaction's status as the node reports it."""

    tx_id: str
    status: str
    result: str | None = None
    code: str | None = None
    message: str | None = None
    detail: dict[str, Any] | None = None
    height: int | None = None
    seq: int | None = None
    position: int | None = None

    @property
    def committed(self) -> bool:
        """True once a block holds the transaction."""
        return self.status == "committed"

    @property
    def valid(self) -> bool:
        """True when committed and valid."""
        return self.result == "valid"


class TransactionMethods(Transport):
    """Sign, submit, ask the status of and wait for a transaction (a part of ``Client``)."""

    async def sign(self, command: str, body: Mapping[str, JSONValue], *, nonce: str | None = None,
                   created_at_ms: int | None = None) -> SignedTransaction:
        """Build and sign a transaction locally with this identity."""
        return sign_transaction(
            self.identity, chain_id=await self.chain_id(), command=command, body=body, nonce=nonce,
            created_at_ms=time.time_ns() // 1_000_000 if created_at_ms is None else created_at_ms,
            include_certificate=self._include_certificate,
        )

    async def submit(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """Submit signed envelope bytes; the same envelope again returns the first submission's status.

        With ``wait_s`` the node holds the answer until the commit (at most 30 s and its ``max_wait_s``),
        so this request may take ``wait_s`` longer than the client's ``timeout_s``: it is given that long.

        Raises:
            SdkError: no answer in time, or the connection broke after the envelope was sent: the message
                names the tx id, which may have been committed; ask ``status(tx_id)`` before anything else.

        """
        return await self._submit_to("/v1/transactions", envelope, wait_s)

    async def _submit_to(self, path: str, envelope: bytes, wait_s: float) -> TxStatus:
        """POST signed envelope bytes to ``path`` (``/v1/transactions`` or ``/v1/inquiries``), waiting ``wait_s``."""
        request = self.build_request("POST", path, content=envelope, target=await self.target(),
                                     params={"wait": str(wait_s)} if wait_s else None)
        if wait_s:
            timeout = self._http.timeout
            request.extensions["timeout"] = httpx.Timeout(
                connect=timeout.connect, write=timeout.write, pool=timeout.pool,
                read=None if timeout.read is None else timeout.read + wait_s).as_dict()
        return read_status(await self._exchange(request, tx_id=self._tx_id(envelope)))

    def _tx_id(self, envelope: bytes) -> str:
        """The tx id of envelope bytes, to name in an error; ``<unreadable envelope>`` when they do not parse."""
        try:
            return parse_envelope(envelope, suite=self._suite, max_bytes=len(envelope)).tx_id
        except EstatechainError:
            return "<unreadable envelope>"

    async def status(self, tx_id: str) -> TxStatus:
        """The transaction's current status."""
        return read_status(await self._send("GET", f"/v1/transactions/{tx_id}"))

    async def wait_for_commit(self, tx_id: str, *, timeout_s: float = 30.0, poll_s: float = 0.05) -> TxStatus:
        """Poll until the transaction is committed.

        Raises:
            CommitTimeout: still pending after ``timeout_s``.

        """
        deadline = time.monotonic() + timeout_s
        while True:
            status = await self.status(tx_id)
            if status.committed:
                return status
            if time.monotonic() >= deadline:
                raise CommitTimeout(f"transaction {tx_id} still pending after {timeout_s} s")
            await asyncio.sleep(poll_s)
            poll_s = min(poll_s * 2, 1.0)

    async def submit_and_wait(self, command: str, body: Mapping[str, JSONValue], *,
                              timeout_s: float = 30.0) -> tuple[SignedTransaction, TxStatus]:
        """Sign, submit and wait for the commit; returns the signed transaction and its committed status."""
        signed = await self.sign(command, body)
        status = await self._committed(signed.tx_id, await self.submit(signed.envelope), timeout_s)
        return signed, status

    async def _committed(self, tx_id: str, status: TxStatus, timeout_s: float) -> TxStatus:
        """``status`` of a submission once committed: as answered when it already is, else waited for.

        Raises:
            CommitTimeout: still pending after ``timeout_s``.

        """
        return status if status.committed else await self.wait_for_commit(tx_id, timeout_s=timeout_s)


def read_status(data: Mapping[str, Any]) -> TxStatus:
    """The node's JSON of a transaction's status as a ``TxStatus``."""
    return TxStatus(tx_id=data["tx_id"], status=data["status"], result=data.get("result"), code=data.get("code"),
                    message=data.get("message"), detail=data.get("detail"), height=data.get("height"),
                    seq=data.get("seq"), position=data.get("position"))
