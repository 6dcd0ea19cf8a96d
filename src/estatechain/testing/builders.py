"""Signed transactions built the way a member's own system would: locally, with its own key.

Used by tests, the demo and the benchmarks. Nothing here is a shortcut around the ledger's checks:
every envelope it builds goes through the same admission as one from a bank's SDK.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator, Mapping

from estatechain.canonical import JSONValue
from estatechain.clock import Clock
from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import DevConsortium, Identity
from estatechain.ledger.envelope import build_envelope


class TxFactory:
    """Builds and signs envelopes for a development consortium's identities."""

    def __init__(self, consortium: DevConsortium, clock: Clock) -> None:
        self.consortium = consortium
        self.clock = clock
        self.suite = get_suite(consortium.genesis.suite)
        self._prefix = secrets.token_hex(6)
        self._counter = itertools.count()

    def identity(self, handle: str) -> Identity:
        """The identity with ``handle`` (``org/user``)."""
        return self.consortium.identities[handle]

    def fresh_nonce(self) -> str:
        """A nonce never used before by this factory."""
        return f"{self._prefix}-{next(self._counter):010d}"

    def sign(  # noqa: PLR0913  (each keyword overrides one envelope field for a test)
        self,
        identity: Identity,
        command: str,
        body: Mapping[str, JSONValue],
        *,
        nonce: str | None = None,
        created_at_ms: int | None = None,
        with_certificate: bool = True,
        chain_id: str | None = None,
    ) -> bytes:
        """An envelope for ``command`` signed by ``identity``."""
        return build_envelope(
            suite=self.suite,
            private_key=identity.private_key,
            chain_id=chain_id or self.consortium.genesis.chain_id,
            signer=identity.fingerprint,
            command=command,
            body=body,
            nonce=nonce or self.fresh_nonce(),
            created_at_ms=self.clock.now_ms() if created_at_ms is None else created_at_ms,
            certificate=identity.cert_der if with_certificate else None,
        )

    def note(self, identity: Identity, key: str, data: Mapping[str, JSONValue], *, if_absent: bool = False) -> bytes:
        """A ``note.put`` envelope."""
        return self.sign(identity, "note.put", {"data": dict(data), "if_absent": if_absent, "key": key})


def sample_stream(factory: TxFactory, count: int) -> Iterator[bytes]:
    """``count`` sample transactions from the consortium's writers.

    Every tenth asks to create a note that already exists (``if_absent``), so the stream shows both
    valid transactions and ones the contract marks invalid.
    """
    writers = [i for i in factory.consortium.identities.values() if i.role != "auditor"]
    for n in range(count):
        signer = writers[n % len(writers)]
        if n % 10 == 9:
            yield factory.note(signer, f"sample/{n - 9:07d}", {"n": n}, if_absent=True)
        else:
            yield factory.note(signer, f"sample/{n:07d}", {"n": n, "by": signer.handle})
