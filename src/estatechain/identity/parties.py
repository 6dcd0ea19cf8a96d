"""Party ids: how a person or company appears on the ledger without their ID number (design §3.18).

A party id is ``HMAC-SHA256(key, input)`` in lower-case hex (64 characters), where ``key`` is held
only by the identity authority (and the registry, for imports). Others obtain party ids through the
authority's authenticated, rate-limited, recorded lookup, so nobody can enumerate ID numbers
offline: an unkeyed hash of an 18-digit resident ID falls to a brute force over regions, dates and
sequence numbers in minutes.

The HMAC input is the RFC 8785 canonical JSON of exactly three members, keys sorted::

    {"id_number":"<normal form>","id_type":"<IdType value>","type":"estatechain.party-id.v1"}

for example (UTF-8 bytes, no whitespace)::

    {"id_number":"11010519491231002X","id_type":"resident_id","type":"estatechain.party-id.v1"}

JSON string quoting makes the encoding unambiguous (no separator can be forged by a value), the
``type`` member separates this use of the key from any other, and the number is the normal form
from ``documents.validate_id`` (NFKC, no spaces or hyphens, upper case; a 15-digit resident ID
becomes its 18-digit form), so every spelling of one document yields one party id. The id type is
the fine-grained ``IdType`` (``hk_macau_permit``, not the registry's shared code 2), so documents
of different families can never collide.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from estatechain import canonical
from estatechain.errors import InputError
from estatechain.identity.documents import IdDocument, validate_id

PARTY_ID_TYPE: Final = "estatechain.party-id.v1"
MIN_KEY_BYTES: Final = 32


def party_id_input(document: IdDocument) -> bytes:
    """The exact bytes the HMAC covers for a validated document (see the module docstring)."""
    return canonical.encode({"id_number": document.number, "id_type": document.id_type.value, "type": PARTY_ID_TYPE})


def party_id_of(key: bytes, document: IdDocument) -> str:
    """Party id of an already validated document.

    Raises:
        InputError: ``key`` is shorter than 32 bytes.

    """
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            f"party-id key: {len(key)} bytes is too short; use the identity authority's key of at least "
            f"{MIN_KEY_BYTES} random bytes",
        )
    return hmac.new(key, party_id_input(document), hashlib.sha256).hexdigest()


def party_id(key: bytes, id_type: str, id_number: str, *, field: str = "id_number") -> str:
    """Validate ``id_number`` for ``id_type`` (rule V5), then return its party id (64 hex characters).

    Raises:
        DocumentError: the number breaks its type's format rule; ``field`` names it in the message.
        InputError: ``key`` is shorter than 32 bytes.

    """
    return party_id_of(key, validate_id(id_type, id_number, field=field))
