"""The evidence package's vocabulary: type tags, section names and the strict field readers.

An evidence package (``docs/evidence.md``) is one RFC 8785 canonical JSON document. Everything the
ledger signed or hashed is embedded as the JSON *object* it was canonicalised from (headers, envelopes,
attestations, the export statement), not as opaque base64: canonical JSON re-encodes to the very
bytes that were hashed, so nothing is lost, a reader sees the fields, and a changed field anywhere
is a changed hash somewhere. Binary values that are not JSON (certificates, signatures, salts) are
standard padded base64; digests are lower-case hex, as in the ledger's own formats.

The readers here never trust their input: each checks type and form and raises ``EvidenceInvalid``
naming the JSON path (``transactions[3].proof[1]``) of the first bad value, because a verifier's
whole job is to say *what* failed.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.errors import IntegrityFault

EVIDENCE_TYPE: Final = "estatechain.evidence.v1"
EXPORT_TYPE: Final = "estatechain.evidence-export.v1"
MAX_PACKAGE_BYTES: Final = 256 * 1024 * 1024

SECTIONS: Final = frozenset({
    "attestations", "certificates", "chain_id", "export", "genesis", "headers", "openings", "timestamps",
    "transactions", "type",
})
TX_FIELDS: Final = frozenset({"envelope", "height", "position", "proof", "result", "seq"})
OPENING_FIELDS: Final = frozenset({"commitment", "record", "salt"})
EXPORT_FIELDS: Final = frozenset({"certificate", "payload", "signature"})
EXPORT_PAYLOAD_FIELDS: Final = frozenset({
    "attestations", "chain_id", "context_tx_ids", "head_hash", "head_height", "openings", "org", "signer",
    "subject", "tx_ids", "type",
})
SUBJECT_KINDS: Final = frozenset({"application", "tx", "unit"})

_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")


class EvidenceInvalid(IntegrityFault):
    """The package fails a check; ``where`` is the JSON path of the first bad value."""


def fail(where: str, message: str) -> EvidenceInvalid:
    """The error for ``where``, returned so that callers write ``raise`` and type checkers see the exit."""
    return EvidenceInvalid(where, message)


def obj(value: JSONValue, where: str, keys: frozenset[str]) -> dict[str, JSONValue]:
    """``value`` as an object with exactly ``keys``."""
    if not isinstance(value, dict):
        raise fail(where, "must be a JSON object")
    if value.keys() != keys:
        missing, extra = sorted(keys - value.keys()), sorted(value.keys() - keys)
        raise fail(where, f"must have exactly the fields {sorted(keys)} (missing {missing}, unexpected {extra})")
    return value


def array(value: JSONValue, where: str) -> list[JSONValue]:
    """``value`` as a JSON array."""
    if not isinstance(value, list):
        raise fail(where, "must be a JSON array")
    return value


def integer(value: JSONValue, where: str, *, low: int = 0) -> int:
    """``value`` as an integer of at least ``low`` (booleans are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise fail(where, f"must be an integer >= {low}")
    return value


def text(value: JSONValue, where: str) -> str:
    """``value`` as a non-empty string."""
    if not isinstance(value, str) or not value:
        raise fail(where, "must be a non-empty string")
    return value


def hex64(value: JSONValue, where: str) -> str:
    """``value`` as 64 lower-case hex digits (a SHA-256 digest)."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise fail(where, "must be 64 lower-case hex digits")
    return value


def b64(value: JSONValue, where: str) -> bytes:
    """``value`` as canonical padded base64: it must re-encode to exactly the same text.

    Base64 can spell one byte string several ways (the unused low bits of the last character);
    insisting on the canonical spelling means a changed character is always a changed value.
    """
    if not isinstance(value, str):
        raise fail(where, "must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise fail(where, "is not valid base64 (standard alphabet, padded)") from None
    if b64text(raw) != value:
        raise fail(where, "is not canonical base64 (re-encoding the bytes gives different text)")
    return raw


def b64text(raw: bytes) -> str:
    """Standard padded base64 text of ``raw``."""
    return base64.b64encode(raw).decode("ascii")


def record_refs(value: JSONValue, unit_number: str | None = None, *, inside: bool = False) -> set[str]:
    """Every ``record_ref`` string in ``value``; with ``unit_number``, only inside objects about that unit.

    These are the salted commitments of personal records (design §3.18) that a body mentions. The
    unit filter keeps a unit's package from opening the records of every other unit that happens to
    share an import transaction with it.
    """
    found: set[str] = set()
    if isinstance(value, dict):
        inside = inside or unit_number is None or value.get("unit_number") == unit_number
        ref = value.get("record_ref")
        if inside and isinstance(ref, str):
            found.add(ref)
        for item in value.values():
            found |= record_refs(item, unit_number, inside=inside)
    elif isinstance(value, list):
        for item in value:
            found |= record_refs(item, unit_number, inside=inside)
    return found


ORG_PARTY_KEYS: Final = frozenset({"bank_party", "developer", "requester_party"})
"""Members that name a party by their key, with no ``capacity`` beside them: an inquiry's requester, a
consent's bank, a pre-sale contract's or a building's developer (docs/evidence.md §7)."""


def named_parties(value: JSONValue) -> dict[str, str | None]:
    """Every party a body names anywhere in ``value``, with its capacity.

    Parties sit at any depth: a confirmation names its party at the top, a filing names the bank
    inside ``applicants`` (``{"party_id", "capacity": "mortgagee"}``), an inquiry names the bank it
    asks for as ``requester_party``. A ``party_id`` string comes with the ``capacity`` of its object
    (None when it states none); a string under one of ``ORG_PARTY_KEYS`` comes with that key as its
    capacity. Keys keep the order of a depth-first walk (an object's own members in key order before
    the objects nested in it), each party once with the first capacity stated for it, so the report
    lists them as the transaction does.
    """
    found: dict[str, str | None] = {}
    _walk_parties(value, found)
    return found


def _walk_parties(value: JSONValue, found: dict[str, str | None]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            party = value[key]
            if not isinstance(party, str) or party in found:
                continue
            if key == "party_id":
                capacity = value.get("capacity")
                found[party] = capacity if isinstance(capacity, str) else None
            elif key in ORG_PARTY_KEYS:
                found[party] = key
        for key in sorted(value):
            _walk_parties(value[key], found)
    elif isinstance(value, list):
        for item in value:
            _walk_parties(item, found)


def mentions(value: JSONValue, needle: str) -> bool:
    """True when ``needle`` is a string value anywhere in ``value`` (not a key, not a substring).

    This is what "names" means in docs/evidence.md §8 check 4, which outside verifiers implement from
    the text: keep the two in step.
    """
    if isinstance(value, str):
        return value == needle
    if isinstance(value, dict):
        return any(mentions(item, needle) for item in value.values())
    if isinstance(value, list):
        return any(mentions(item, needle) for item in value)
    return False


SEIZURE_REGISTER: Final = "seizure.register"
IMPORT_COMMAND: Final = "register.import"
SEIZURE_FIELD: Final = "seizure_id"
CREATED_BY_TX: Final[Mapping[str, str]] = {
    SEIZURE_REGISTER: SEIZURE_FIELD, "presale.contract": "contract_id", "inquiry.consent": "consent_id",
}
"""Commands that create a record of the unit their top-level ``unit_number`` names, with their tx id as its id,
and the top-level member by which a later step names that record instead of the unit (docs/evidence.md §8
check 4): ``seizure.release`` and ``seizure.renew`` a seizure, ``presale.sign`` a pre-sale contract,
``inquiry.consent_revoke`` an owner's consent to a bank's inquiries."""
STEP_FIELDS: Final = frozenset(CREATED_BY_TX.values())

Created = frozenset[tuple[str, str]]
"""(step field, id) of records created on a unit: ``("seizure_id", "<tx id>")`` …"""


def created_on_unit(
    unit: str | None, *, tx_id: str, command: str, valid: bool, body: Mapping[str, JSONValue],
) -> Created:
    """The records a transaction created on ``unit`` (None: on any unit), as (step field, id).

    A release, a renewal, a signature or a revocation of consent names only its record, never the
    unit, so a unit's package finds them through the records its own transactions created
    (docs/evidence.md §8 check 4): a valid command of ``CREATED_BY_TX`` whose top-level ``unit_number``
    is the unit creates the record whose id is its tx id; a valid ``register.import`` creates each
    seizure record of its ``seizures`` whose ``unit_number`` is the unit, under the id the record
    carries. An invalid transaction created nothing: an id it carries may be another unit's record.
    """
    def on_unit(value: JSONValue) -> bool:
        return value == unit if unit is not None else isinstance(value, str)

    if not valid:
        return frozenset()
    if command in CREATED_BY_TX:
        return frozenset({(CREATED_BY_TX[command], tx_id)}) if on_unit(body.get("unit_number")) else frozenset()
    records = body.get("seizures") if command == IMPORT_COMMAND else None
    if not isinstance(records, list):
        return frozenset()
    return frozenset((SEIZURE_FIELD, seizure) for record in records if isinstance(record, dict)
                     and on_unit(record.get("unit_number")) and isinstance(seizure := record.get(SEIZURE_FIELD), str))


def names_created(body: Mapping[str, JSONValue], created: Created) -> bool:
    """Whether a top-level member of ``body`` names one of ``created`` by its step field (a step on that record)."""
    return any((field, value) in created for field in STEP_FIELDS if isinstance(value := body.get(field), str))


def subject_of(value: JSONValue, where: str) -> dict[str, JSONValue]:
    """The export statement's ``subject``: which transaction, application or unit and period."""
    if not isinstance(value, dict) or value.get("kind") not in SUBJECT_KINDS:
        raise fail(where, f"must be an object whose kind is one of {sorted(SUBJECT_KINDS)}")
    kind = value["kind"]
    if kind == "tx":
        checked = obj(value, where, frozenset({"kind", "tx_id"}))
        hex64(checked["tx_id"], f"{where}.tx_id")
    elif kind == "application":
        checked = obj(value, where, frozenset({"kind", "application_id"}))
        hex64(checked["application_id"], f"{where}.application_id")
    else:
        checked = obj(value, where, frozenset({"kind", "unit_number", "from_ms", "to_ms"}))
        text(checked["unit_number"], f"{where}.unit_number")
        if integer(checked["from_ms"], f"{where}.from_ms") > integer(checked["to_ms"], f"{where}.to_ms"):
            raise fail(where, "from_ms must not be after to_ms")
    return checked


def body_of(envelope: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """The payload body of an already parsed envelope object (empty if the shape is off)."""
    payload = envelope.get("payload")
    body = payload.get("body") if isinstance(payload, dict) else None
    return body if isinstance(body, dict) else {}
