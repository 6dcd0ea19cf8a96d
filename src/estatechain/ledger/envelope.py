"""The signed transaction envelope and its static checks (shape, size, canonical form): no state.

Wire form, itself RFC 8785 canonical JSON::

    {"certificate": "<base64 DER, optional once the signer's certificate is on the ledger>",
     "payload": {"body": {...}, "chain_id": "<genesis hash>", "command": "note.put",
                 "created_at": <ms since epoch>, "nonce": "<8-64 chars>", "signer": "<cert fingerprint>",
                 "type": "estatechain.tx.v1"},
     "signature": "<base64 signature over the canonical payload bytes>"}

The tx id is the hex digest of the canonical *payload* bytes (design §3.12): the signature is not
part of it, so re-signing a payload cannot create a new transaction, and the payload names its
signer, chain and type, so a signature never verifies anywhere else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.suites import SignatureSuite, get_suite
from estatechain.errors import InputError, Refused
from estatechain.ledger.refusals import RefusalCode

TX_TYPE: Final = "estatechain.tx.v1"
_PAYLOAD_KEYS: Final = frozenset({"body", "chain_id", "command", "created_at", "nonce", "signer", "type"})
_ENVELOPE_KEYS: Final = frozenset({"certificate", "payload", "signature"})
_NONCE: Final = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
_COMMAND: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedTx:
    """A statically checked envelope: canonical, well formed; signature not yet verified."""

    raw: bytes
    tx_id: str
    payload_bytes: bytes
    command: str
    body: Mapping[str, JSONValue]
    chain_id: str
    signer: str
    nonce: str
    created_at_ms: int
    certificate: bytes | None
    signature: bytes


def _refuse(code: RefusalCode, message: str, **detail: str) -> Refused:
    return Refused(code.value, message, detail)


def _b64(value: JSONValue, field: str) -> bytes:
    if not isinstance(value, str):
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE, f"{field} must be a base64 string", field=field)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise _refuse(
            RefusalCode.MALFORMED_ENVELOPE, f"{field} is not valid base64 (standard alphabet, padded)", field=field
        ) from None


def _payload_field(payload: Mapping[str, JSONValue], name: str, pattern: re.Pattern[str], hint: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE, f"payload.{name} {hint}", field=f"payload.{name}")
    return value


def parse_envelope(data: bytes, *, suite: SignatureSuite, max_bytes: int, defer_payload: bool = False) -> SignedTx:
    """Check an envelope's size, canonical form and shape and compute its tx id.

    ``defer_payload=True`` leaves one check to the caller: that the payload bytes are canonical
    (``payload_is_canonical``). Everything around the payload is still checked here, byte for byte,
    and the tx id is the hash of the payload bytes exactly as sent, so a non-canonical copy of a
    payload never takes the tx id of the canonical one. The pipeline runs the deferred check with
    the signature's, in a batch, before anything is ordered.

    Raises:
        Refused: TOO_LARGE, NON_CANONICAL or MALFORMED_ENVELOPE, naming the field.

    """
    if len(data) > max_bytes:
        raise _refuse(RefusalCode.TOO_LARGE, f"envelope is {len(data)} bytes; the limit is {max_bytes}",
                      size=str(len(data)), limit=str(max_bytes))
    sent_payload = None
    if defer_payload:
        value, sent_payload = _split_envelope(data)
    if sent_payload is None:
        value = _decode_checked(data, max_bytes)
    if not isinstance(value, dict) or not {"payload", "signature"} <= value.keys() <= _ENVELOPE_KEYS:
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE,
                      "envelope must be an object with payload, signature and optionally certificate")
    payload = value["payload"]
    if not isinstance(payload, dict) or payload.keys() != _PAYLOAD_KEYS:
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE,
                      f"payload must be an object with exactly the keys {', '.join(sorted(_PAYLOAD_KEYS))}",
                      field="payload")
    if payload["type"] != TX_TYPE:
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE, f"payload.type must be {TX_TYPE!r}", field="payload.type")
    body = payload["body"]
    if not isinstance(body, dict):
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE, "payload.body must be an object", field="payload.body")
    created_at = payload["created_at"]
    if isinstance(created_at, bool) or not isinstance(created_at, int) or created_at < 0:
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE, "payload.created_at must be milliseconds since 1970 (integer)",
                      field="payload.created_at")
    payload_bytes = sent_payload if sent_payload is not None else canonical.encode_checked(payload)
    certificate = _b64(value["certificate"], "certificate") if "certificate" in value else None
    return SignedTx(
        raw=data,
        tx_id=suite.hash(payload_bytes).hex(),
        payload_bytes=payload_bytes,
        command=_payload_field(payload, "command", _COMMAND, "must be a dotted lower-case name like note.put"),
        body=body,
        chain_id=_payload_field(payload, "chain_id", _HEX64, "must be the 64-hex-digit genesis hash"),
        signer=_payload_field(payload, "signer", _HEX64, "must be the signer certificate's SHA-256 fingerprint"),
        nonce=_payload_field(payload, "nonce", _NONCE, "must be 8-64 characters of A-Z a-z 0-9 _ -"),
        created_at_ms=created_at,
        certificate=certificate,
        signature=_b64(value["signature"], "signature"),
    )


def _decode_checked(data: bytes, max_bytes: int) -> JSONValue:
    try:
        return canonical.decode(data, max_bytes=max_bytes, what="envelope")
    except canonical.NonCanonicalError as exc:
        raise _refuse(RefusalCode.NON_CANONICAL, str(exc)) from None
    except InputError as exc:
        raise _refuse(RefusalCode.MALFORMED_ENVELOPE, str(exc)) from None


def _split_envelope(data: bytes) -> tuple[JSONValue, bytes | None]:
    """The parsed envelope and its payload's bytes as sent, when all around the payload is canonical.

    The canonical envelope is ``{"certificate":C,"payload":P,"signature":S}`` (certificate optional)
    with C and S canonical JSON strings; so when ``data`` is exactly that frame around some bytes P,
    the envelope is canonical if and only if P is. (None, None) sends the caller to the full check.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(value, dict) or not isinstance(value.get("signature"), str):
        return None, None
    certificate = value.get("certificate")
    if certificate is not None and not isinstance(certificate, str):
        return None, None
    head = b'{"payload":' if certificate is None else b'{"certificate":' + orjson.dumps(certificate) + b',"payload":'
    tail = b',"signature":' + orjson.dumps(value["signature"]) + b"}"
    if len(value) != 2 + (certificate is not None) or not (data.startswith(head) and data.endswith(tail)):
        return None, None
    return value, data[len(head) : len(data) - len(tail)]


def payload_is_canonical(payload_bytes: bytes) -> str | None:
    """None when ``payload_bytes`` are canonical JSON; else what is wrong (the NON_CANONICAL message)."""
    return canonical.why_not_canonical(payload_bytes, what="envelope.payload")


def build_envelope(  # noqa: PLR0913  (every field of a payload is required)
    *,
    suite: SignatureSuite,
    private_key: bytes,
    chain_id: str,
    signer: str,
    command: str,
    body: Mapping[str, JSONValue],
    nonce: str,
    created_at_ms: int,
    certificate: bytes | None = None,
) -> bytes:
    """Build and sign an envelope on the signer's own side (design §3.17): the SDK's and tests' path."""
    payload: dict[str, JSONValue] = {
        "body": dict(body),
        "chain_id": chain_id,
        "command": command,
        "created_at": created_at_ms,
        "nonce": nonce,
        "signer": signer,
        "type": TX_TYPE,
    }
    payload_bytes = canonical.encode(payload)
    envelope: dict[str, JSONValue] = {
        "payload": payload,
        "signature": base64.b64encode(suite.sign(private_key, payload_bytes)).decode("ascii"),
    }
    if certificate is not None:
        envelope["certificate"] = base64.b64encode(certificate).decode("ascii")
    return canonical.encode(envelope)


def signed_size(*, suite: SignatureSuite, payload: Mapping[str, JSONValue], certificate: bytes | None) -> int:
    """The size in bytes of the envelope that will carry ``payload`` once signed, measured before anyone signs.

    The node refuses an envelope over ``max_tx_bytes`` (TOO_LARGE) only when it is submitted, after
    its signer signed it; whoever prepares a payload for someone to sign (the API's ``/v1/payloads``,
    the portal's custodial signing) measures it here to refuse it first. The signature, the
    certificate and the framing add about 1 KB: rather than guess that, the envelope is built exactly
    as the SDK builds it (``build_envelope``) with ``certificate``, signed with a stand-in key of
    ``suite``, whose signatures are as long as the signer's (Ed25519's are always 64 bytes).
    Counting the certificate is right because an envelope may always carry it; leaving it out (once
    it is on the ledger) only makes it smaller.
    """
    body = payload["body"]
    if not isinstance(body, dict):
        raise InputError("payload.body must be an object")
    envelope = build_envelope(
        suite=suite, private_key=_stand_in_key(suite.name), chain_id=str(payload["chain_id"]),
        signer=str(payload["signer"]), command=str(payload["command"]), body=body, nonce=str(payload["nonce"]),
        created_at_ms=int(str(payload["created_at"])), certificate=certificate,
    )
    return len(envelope)


@functools.cache
def _stand_in_key(suite: str) -> bytes:
    """A throwaway private key of ``suite``, made once, that only measures signature lengths."""
    return get_suite(suite).generate()[0]
