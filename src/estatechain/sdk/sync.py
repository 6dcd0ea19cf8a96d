"""``SyncClient``: the blocking face of ``Client`` for code without an event loop.

A thin wrapper: each method runs the asyncio client's method to completion on a private loop, so
there is one implementation of signing, submission and verification (style §6.8).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from estatechain.canonical import JSONValue
from estatechain.sdk.client import Block, Client, TxStatus, VerifiedInclusion
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.signing import SignedTransaction

_T = TypeVar("_T")


class SyncClient:
    """Blocking client of one node; ``with SyncClient(url, identity) as c: c.submit_and_wait(...)``."""

    def __init__(self, base_url: str, identity: ClientIdentity, *, chain_id: str | None = None,
                 timeout_s: float = 10.0) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = Client(base_url, identity, chain_id=chain_id, timeout_s=timeout_s)

    def _run(self, work: Coroutine[Any, Any, _T]) -> _T:
        return self._loop.run_until_complete(work)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and the private loop."""
        if not self._loop.is_closed():
            self._run(self._client.aclose())
            self._loop.close()

    def chain_id(self) -> str:
        """See ``Client.chain_id``."""
        return self._run(self._client.chain_id())

    def sign(self, command: str, body: Mapping[str, JSONValue]) -> SignedTransaction:
        """See ``Client.sign``."""
        return self._run(self._client.sign(command, body))

    def submit(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """See ``Client.submit``."""
        return self._run(self._client.submit(envelope, wait_s=wait_s))

    def status(self, tx_id: str) -> TxStatus:
        """See ``Client.status``."""
        return self._run(self._client.status(tx_id))

    def wait_for_commit(self, tx_id: str, *, timeout_s: float = 30.0) -> TxStatus:
        """See ``Client.wait_for_commit``."""
        return self._run(self._client.wait_for_commit(tx_id, timeout_s=timeout_s))

    def submit_and_wait(self, command: str, body: Mapping[str, JSONValue], *,
                        timeout_s: float = 30.0) -> tuple[SignedTransaction, TxStatus]:
        """See ``Client.submit_and_wait``."""
        return self._run(self._client.submit_and_wait(command, body, timeout_s=timeout_s))

    def block(self, height: int | str) -> Block:
        """See ``Client.block``."""
        return self._run(self._client.block(height))

    def head(self) -> Block:
        """See ``Client.head``."""
        return self._run(self._client.head())

    def members(self) -> dict[str, Any]:
        """See ``Client.members``."""
        return self._run(self._client.members())

    def verify_inclusion(self, envelope: bytes, status: TxStatus) -> VerifiedInclusion:
        """See ``Client.verify_inclusion``."""
        return self._run(self._client.verify_inclusion(envelope, status))
