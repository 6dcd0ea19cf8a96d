"""Custodial signing (design §3.17): the portal signs for a person with the key their org keeps for them.

Only portal users sign this way, and only after a confirmation page has shown the business summary
and the tx id of the exact payload that will be signed: ``prepare`` fixes every payload field
(nonce and creation time included) and computes the tx id, the session keeps that pending payload,
and ``sign`` signs those same bytes once the person confirms. Such a transaction says so on the
ledger: its nonce starts with ``CUSTODIAL_PREFIX`` (the nonce is signed and part of the tx id).

``prepare`` measures the envelope the payload will make once signed, as the API's prepare does
(``ledger.envelope.signed_size``), and refuses one over the consortium's ``max_tx_bytes``
(``TooLarge``): the node would refuse it only after the person signed it, with a text that cannot
say which of the form's fields to shorten.

Keys: the node's own (``node/keys.py``): the org's keystore, encrypted at rest, or in the development
layout (``<consortium>/nodes/<org>``) the key files named in ``<consortium>/identities.json``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.suites import get_suite
from estatechain.errors import InputError
from estatechain.ledger.envelope import TX_TYPE, build_envelope, signed_size
from estatechain.node.keys import NodeKeys
from estatechain.sdk.identity import ClientIdentity

CUSTODIAL_PREFIX: Final = "portal-custodial-"
"""How a custodial transaction says so: the start of its (signed) nonce."""
SUITE: Final = "ed25519-sha256"


class TooLarge(InputError):
    """Signed, the payload would make an envelope over the consortium's ``max_tx_bytes``; nothing was signed."""

    def __init__(self, *, command: str, size: int, limit: int) -> None:
        super().__init__(f"signed, this {command} would make a transaction of {size} bytes, over the "
                         f"consortium's max_tx_bytes of {limit}: shorten it by at least {size - limit} bytes")
        self.command = command
        self.size = size
        self.limit = limit

    @property
    def excess(self) -> int:
        """How many bytes the form must lose to fit."""
        return self.size - self.limit


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """A payload waiting for its signer's confirmation, with what the confirmation page shows."""

    handle: str
    command: str
    body: dict[str, JSONValue]
    nonce: str
    created_at: int
    tx_id: str
    summary: list[list[str]]
    """Label/value pairs in plain words; labels are message ids translated on the page."""
    back: str
    """The portal page to return to afterwards."""
    draft: dict[str, JSONValue] | None = None
    """The form this payload was prepared from, as typed (not signed): given back to it when the
    confirmation is cancelled or replaced, so no written reason is lost (``waiting.py``)."""

    def to_json(self) -> str:
        """Stored in the session row."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> Pending:
        """Read back what ``to_json`` stored."""
        data = json.loads(text)
        return Pending(**data)


class KeyCustody:
    """The keys an org keeps for its portal users: the node's keys (its keystore, or the dev layout)."""

    def __init__(self, keys: NodeKeys, *, max_tx_bytes: int) -> None:
        self._keys = keys
        self._max_tx_bytes = max_tx_bytes
        self._cache: dict[str, ClientIdentity] = {}

    def identity(self, handle: str) -> ClientIdentity:
        """The identity (certificate and key) of ``handle``.

        In the development layout one node serves every org's desks and finds every identity; with a
        keystore, a node keeps only its own org's people.

        Raises:
            InputError: this node keeps no key for ``handle``.

        """
        if handle not in self._cache:
            self._cache[handle] = self._find(handle)
        return self._cache[handle]

    def _find(self, handle: str) -> ClientIdentity:
        keys = self._keys
        if keys.keystore is None and keys.consortium_dir is not None:
            return ClientIdentity.from_dev(keys.consortium_dir, handle)
        org, _, user = handle.partition("/")
        found = keys.identity(user) if org == keys.org_id else None
        if found is None:
            raise InputError(f"this node keeps no key for {handle}")
        return ClientIdentity(cert_der=found.cert_der, private_key=found.private_key, fingerprint=found.fingerprint)

    def prepare(  # noqa: PLR0913  (keywords only; the payload's fields and the page's)
        self, *, handle: str, chain_id: str, command: str, body: dict[str, JSONValue], now_ms: int,
        summary: list[list[str]], back: str, draft: dict[str, JSONValue] | None = None,
    ) -> Pending:
        """Fix the payload ``handle`` would sign and compute its tx id; nothing is signed yet.

        Raises:
            TooLarge: signed, the payload would exceed ``max_tx_bytes`` (the node would refuse it).
            InputError: this node keeps no key for ``handle``.

        """
        identity = self.identity(handle)
        nonce = CUSTODIAL_PREFIX + secrets.token_urlsafe(18)
        payload: dict[str, JSONValue] = {"body": body, "chain_id": chain_id, "command": command,
                                         "created_at": now_ms, "nonce": nonce, "signer": identity.fingerprint,
                                         "type": TX_TYPE}
        suite = get_suite(SUITE)
        size = signed_size(suite=suite, payload=payload, certificate=identity.cert_der)
        if size > self._max_tx_bytes:
            raise TooLarge(command=command, size=size, limit=self._max_tx_bytes)
        tx_id = suite.hash(canonical.encode(payload)).hex()
        return Pending(handle=handle, command=command, body=body, nonce=nonce, created_at=now_ms, tx_id=tx_id,
                       summary=summary, back=back, draft=draft)

    def sign(self, pending: Pending, *, chain_id: str) -> bytes:
        """The signed envelope of exactly the pending payload (its tx id is the one the page showed)."""
        identity = self.identity(pending.handle)
        return build_envelope(suite=get_suite(SUITE), private_key=identity.private_key, chain_id=chain_id,
                              signer=identity.fingerprint, command=pending.command, body=pending.body,
                              nonce=pending.nonce, created_at_ms=pending.created_at, certificate=identity.cert_der)
