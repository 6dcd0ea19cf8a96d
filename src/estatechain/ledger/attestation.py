"""Block attestations: an org node's signed statement "at height H I committed block B with state S".

Design §3.6: every node signs (height, block hash, state hash) after committing; a block is
consortium-final when the genesis policy's quorum of orgs attested the same hashes, and a node that
sees a peer attest a different hash for a height it committed stops and raises an alarm. Evidence
packages carry the attestations over the headers they rest on, so a court sees which orgs vouched
for a block without trusting the node that exported the package.

Wire form, RFC 8785 canonical JSON (the same shape as a transaction envelope)::

    {"certificate": "<base64 DER of the node certificate>",
     "payload": {"block_hash": "<hex>", "chain_id": "<genesis hash>", "height": <int>, "org": "<org id>",
                 "signer": "<cert SHA-256 fingerprint>", "state_root": "<hex>",
                 "type": "estatechain.attestation.v1"},
     "signature": "<base64 signature over the canonical payload bytes>"}

The signer must be a certificate with role ``node`` issued by the named org's CA (checked against
genesis); validity periods and revocation are judged by whoever relies on the attestation, at the
attested height, exactly as for transactions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.suites import SignatureSuite
from estatechain.errors import InputError, Refused
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import resolve_signer

ATTESTATION_TYPE: Final = "estatechain.attestation.v1"
NODE_ROLE: Final = "node"
_PAYLOAD_KEYS: Final = frozenset({"block_hash", "chain_id", "height", "org", "signer", "state_root", "type"})
_ENVELOPE_KEYS: Final = frozenset({"certificate", "payload", "signature"})
_HEX: Final = re.compile(r"^[0-9a-f]{32,128}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Attestation:
    """A verified attestation: which org vouches for which block and state at which height."""

    chain_id: str
    height: int
    block_hash: str
    state_root: str
    org: str
    signer: str
    raw: bytes

    @property
    def claim(self) -> tuple[str, str]:
        """What two attestations of one height must agree on: (block hash, state root)."""
        return (self.block_hash, self.state_root)


def sign_attestation(  # noqa: PLR0913  (every field of the payload is required)
    *,
    suite: SignatureSuite,
    private_key: bytes,
    cert_der: bytes,
    chain_id: str,
    org: str,
    height: int,
    block_hash: str,
    state_root: str,
) -> bytes:
    """The canonical wire bytes of an attestation signed with the node's key."""
    payload: dict[str, JSONValue] = {
        "block_hash": block_hash,
        "chain_id": chain_id,
        "height": height,
        "org": org,
        "signer": hashlib.sha256(cert_der).hexdigest(),
        "state_root": state_root,
        "type": ATTESTATION_TYPE,
    }
    signature = suite.sign(private_key, canonical.encode(payload))
    return canonical.encode({
        "certificate": base64.b64encode(cert_der).decode("ascii"),
        "payload": payload,
        "signature": base64.b64encode(signature).decode("ascii"),
    })


def verify_attestation(data: bytes, *, genesis: Genesis, suite: SignatureSuite) -> Attestation:
    """Check an attestation's form, chain, signer (a ``node`` of the named org) and signature.

    Raises:
        InputError: the bytes are not a well-formed, canonical attestation of this chain.
        Refused: the certificate is not a member org's node certificate, or the signature is wrong.

    """
    value, payload = _shape(data)
    height, org = payload["height"], payload["org"]
    texts = {k: payload[k] for k in ("block_hash", "state_root", "chain_id", "signer")}
    if not isinstance(height, int) or height < 1 or not isinstance(org, str):
        raise InputError("attestation.payload: height must be a positive integer and org a string")
    for name, text in texts.items():
        if not isinstance(text, str) or not _HEX.fullmatch(text):
            raise InputError(f"attestation.payload.{name}: must be a lowercase hex digest")
    if texts["chain_id"] != genesis.chain_id:
        raise InputError(f"attestation: chain id {texts['chain_id']} is not this consortium's {genesis.chain_id}")
    cert_der, signature = _b64(value["certificate"], "certificate"), _b64(value["signature"], "signature")
    if hashlib.sha256(cert_der).hexdigest() != texts["signer"]:
        raise InputError("attestation.payload.signer: is not the fingerprint of the attached certificate")
    signer = resolve_signer(genesis, cert_der)
    if signer.org_id != org or signer.role != NODE_ROLE:
        raise Refused("ATTESTATION_SIGNER", f"attestations are signed by a {NODE_ROLE!r} certificate of the org "
                      f"they name; this one is {signer.role!r} of {signer.org_id!r}", {"org": str(org)})
    if not suite.verify(signer.public_key, canonical.encode(payload), signature):
        raise Refused("BAD_SIGNATURE", "the attestation's signature does not verify", {"org": org})
    return Attestation(chain_id=texts["chain_id"], height=height, block_hash=str(texts["block_hash"]),
                       state_root=str(texts["state_root"]), org=org, signer=str(texts["signer"]), raw=data)


def _shape(data: bytes) -> tuple[dict[str, JSONValue], dict[str, JSONValue]]:
    """The envelope and payload objects, with exactly their fields, from canonical bytes."""
    try:
        value = canonical.decode(data, what="attestation")
    except ValueError as exc:
        raise InputError(f"attestation: not canonical JSON: {exc}") from None
    if not isinstance(value, dict) or value.keys() != _ENVELOPE_KEYS:
        raise InputError(f"attestation: expected exactly the fields {sorted(_ENVELOPE_KEYS)}")
    payload = value["payload"]
    if not isinstance(payload, dict) or payload.keys() != _PAYLOAD_KEYS or payload["type"] != ATTESTATION_TYPE:
        raise InputError(f"attestation.payload: expected the fields {sorted(_PAYLOAD_KEYS)} of {ATTESTATION_TYPE}")
    return value, payload


def _b64(value: JSONValue, field: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"attestation.{field}: must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise InputError(f"attestation.{field}: is not valid base64 (standard alphabet, padded)") from None
