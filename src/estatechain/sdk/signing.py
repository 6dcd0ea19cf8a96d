"""Signing on the caller's side: RFC 9421 request signatures and transaction envelopes.

Request profile (the node's ``api/auth.py`` verifies it): label ``sig``; covered ``@method``,
``@path``, ``@query`` and, with a body, ``content-digest`` (RFC 9530 sha-256); parameters
``created``, ``expires``, ``nonce``, ``keyid`` (certificate fingerprint), ``alg="ed25519"`` and
``tag`` (``RequestTarget.tag``: the chain id and the org id of the node the request is sent to). The
certificate goes in ``Estatechain-Certificate`` as base64 DER.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from estatechain.canonical import JSONValue
from estatechain.crypto.suites import get_suite
from estatechain.ledger.envelope import build_envelope, parse_envelope
from estatechain.sdk.identity import ClientIdentity

CERTIFICATE_HEADER: Final = "Estatechain-Certificate"
COVERED: Final = ("@method", "@path", "@query")
LABEL: Final = "sig"
SUITE: Final = "ed25519-sha256"


@dataclass(slots=True)
class _Message:
    method: str
    url: str
    headers: httpx.Headers


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestTarget:
    """The node a request is signed for: its network (chain id) and the member org that runs it.

    Signed as the RFC 9421 ``tag`` parameter, ``<chain id>/<org id>``, so a request captured on its
    way to one node is refused at any other: another org's node of the same consortium (whose replay
    cache never saw its nonce) or a node of another network that knows the same certificate. Not
    ``@authority``: a node behind a proxy sees a rewritten ``Host``. ``GET /v1/health`` names both.
    """

    chain_id: str
    node_org: str

    @property
    def tag(self) -> str:
        """The signature's ``tag`` value."""
        return f"{self.chain_id}/{self.node_org}"

    @classmethod
    def from_tag(cls, tag: str) -> RequestTarget | None:
        """The target a ``tag`` names, or None when it is not of the form ``<chain id>/<org id>``."""
        chain_id, separator, node_org = tag.partition("/")
        return cls(chain_id=chain_id, node_org=node_org) if separator and chain_id and node_org else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedTransaction:
    """An envelope signed locally: its exact bytes and tx id (hash of the canonical payload)."""

    envelope: bytes
    tx_id: str


def sign_request(  # noqa: PLR0913  (keywords only; each is one signature parameter)
    request: httpx.Request,
    identity: ClientIdentity,
    *,
    target: RequestTarget,
    created_s: int,
    nonce: str | None = None,
    expires_s: int | None = None,
    include_certificate: bool = True,
) -> None:
    """Add ``Signature-Input``, ``Signature`` (and ``Content-Digest`` with a body) to ``request``.

    ``target`` is the node the request goes to; no other node accepts it (``RequestTarget``).
    """
    key = ed25519.Ed25519PrivateKey.from_private_bytes(identity.private_key)
    keys = MappingKeyResolver(public_keys={}, private_keys={identity.fingerprint: key})
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    if include_certificate:
        request.headers[CERTIFICATE_HEADER] = base64.b64encode(identity.cert_der).decode("ascii")
    body = request.content
    signer.sign(
        _Message(method=request.method, url=str(request.url), headers=request.headers),
        key_id=identity.fingerprint,
        created=datetime.fromtimestamp(created_s, tz=UTC),
        expires=datetime.fromtimestamp(expires_s if expires_s is not None else created_s + 60, tz=UTC),
        nonce=nonce or secrets.token_urlsafe(16),
        label=LABEL,
        tag=target.tag,
        covered_component_ids=COVERED,
        body=body or None,
    )


def sign_transaction(  # noqa: PLR0913  (keywords only; every payload field)
    identity: ClientIdentity,
    *,
    chain_id: str,
    command: str,
    body: Mapping[str, JSONValue],
    created_at_ms: int,
    nonce: str | None = None,
    include_certificate: bool = True,
) -> SignedTransaction:
    """Build and sign an envelope with ``identity``'s own key; the node never signs for a caller."""
    suite = get_suite(SUITE)
    envelope = build_envelope(
        suite=suite, private_key=identity.private_key, chain_id=chain_id, signer=identity.fingerprint,
        command=command, body=body, nonce=nonce or secrets.token_urlsafe(18), created_at_ms=created_at_ms,
        certificate=identity.cert_der if include_certificate else None,
    )
    tx = parse_envelope(envelope, suite=suite, max_bytes=len(envelope))
    return SignedTransaction(envelope=envelope, tx_id=tx.tx_id)
