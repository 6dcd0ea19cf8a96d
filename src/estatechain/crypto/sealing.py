"""Envelope encryption of personal records to the orgs entitled to read them (design §3.10, §3.18, §3.22).

A personal record (a JSON object: name, ID number, phone …) never stands on the shared ledger in
clear. ``seal`` produces:

- a fresh 32-byte data key per record (``os.urandom`` via ``AESGCM.generate_key``), never stored;
- ``ciphertext`` = AES-256-GCM(data key, ``nonce``, plaintext, ad) with a fresh 12-byte nonce, where
  ``plaintext = salt ‖ canonical(record)`` (32-byte random salt, then the record's RFC 8785 bytes)
  and ``ad`` = canonical ``{"chain_id":…,"commitment":"<hex>","record_id":…,"type":"estatechain.sealed-record.v1"}``,
  so a ciphertext moved to another record, chain or commitment fails to decrypt;
- ``commitment`` = SHA-256(salt ‖ canonical(record)), 32 bytes: the **only** part that goes on the
  ledger. AES-GCM is not key-committing (one ciphertext can be made to decrypt under two keys to
  two records), so every opener re-computes the commitment and compares it with the ledger's;
- one wrapped key per recipient org: RFC 9180 HPKE base mode, single shot, with
  DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM, plaintext = the data key,
  ``info`` = canonical ``{"chain_id":…,"org_id":…,"record_id":…,"type":"estatechain.key-wrap.v1"}``.
  ``sealed_key`` = HPKE ``enc`` (32 bytes) ‖ AEAD ciphertext (32 + 16 bytes) = 80 bytes.

Why HPKE rather than libsodium sealed boxes: sealed boxes take no context, so a wrapped key could be
copied to another record or recipient entry unnoticed; HPKE's ``info`` binds it to (chain, record,
org). HPKE is a published standard (RFC 9180) with test vectors, so a court expert can re-check an
opening with any conforming implementation, and it keeps one library (``cryptography``) and
AES-GCM throughout, the same shape a national SM2/SM4 suite can follow later. A home-made
X25519 + HKDF + AES-GCM wrap would be the same construction with our own, unreviewed key schedule.

Why the salt is *inside* the ciphertext instead of beside it in clear: with ``salt`` and the
on-ledger commitment anyone could test guesses (an 18-digit resident ID has only ~10^9 plausible
values) and confirm a person's data offline; and after crypto-shredding the same guesses would
still work. Encrypted, the salt is known only to entitled orgs, who hand it to a court together
with the record when they open it (``verify_opening``).

Crypto-shredding: wrapped keys live in a ``KeyStore`` apart from the ciphertext (peers, streams,
snapshots and backups hold ciphertext and wrapped keys only, never data keys). ``shred`` destroys a
record's wrapped keys; its ciphertext and commitment stay byte-for-byte as they were, so no block
hash breaks, but nobody can open it any more. An org that opened the record earlier may have kept
the plaintext: shredding cannot reach copies made outside the store.

Serialised form (``SealedRecord.to_bytes``): canonical JSON, byte fields in lower-case hex::

    {"chain_id":str,"ciphertext":hex,"commitment":hex,"nonce":hex,"record_id":str,
     "type":"estatechain.sealed-record.v1","wrapped_keys":[{"org_id":str,"sealed_key":hex},…]}

with ``wrapped_keys`` sorted by ``org_id`` (empty once detached for a key store).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.durable import fsync_dir, write_durably
from estatechain.errors import Conflict, InputError, IntegrityFault, NotFound

SEALED_RECORD_TYPE: Final = "estatechain.sealed-record.v1"
KEY_WRAP_TYPE: Final = "estatechain.key-wrap.v1"
SALT_BYTES: Final = 32
NONCE_BYTES: Final = 12
COMMITMENT_BYTES: Final = 32
SEALED_KEY_BYTES: Final = 80
MAX_SEALED_BYTES: Final = 1024 * 1024

_HEX: Final = re.compile(r"(?:[0-9a-f]{2})*")
_HPKE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class NotARecipient(NotFound):
    """The org asked to open a record was not among the orgs it was sealed to."""


class RecordShredded(NotFound):
    """The record's data key was destroyed: the record can no longer be read by anyone."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WrappedKey:
    """A record's data key encrypted to one org: HPKE ``enc`` (32 bytes) ‖ ciphertext (48 bytes)."""

    org_id: str
    sealed_key: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedRecord:
    """A personal record as stored off the ledger; only ``commitment`` goes on the ledger."""

    record_id: str
    chain_id: str
    nonce: bytes
    ciphertext: bytes
    commitment: bytes
    wrapped_keys: tuple[WrappedKey, ...]

    def without_keys(self) -> SealedRecord:
        """The same record with its wrapped keys removed, for storage beside a ``KeyStore``."""
        return replace(self, wrapped_keys=())

    def to_bytes(self) -> bytes:
        """Canonical serialised form (see the module docstring)."""
        return canonical.encode({
            "chain_id": self.chain_id,
            "ciphertext": self.ciphertext.hex(),
            "commitment": self.commitment.hex(),
            "nonce": self.nonce.hex(),
            "record_id": self.record_id,
            "type": SEALED_RECORD_TYPE,
            "wrapped_keys": [{"org_id": k.org_id, "sealed_key": k.sealed_key.hex()} for k in self.wrapped_keys],
        })

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedRecord:
        """Parse ``to_bytes`` output, strictly (canonical form, types, lengths).

        Raises:
            InputError: the bytes are not a well-formed sealed record; the message names the field.

        """
        doc = canonical.decode(data, max_bytes=MAX_SEALED_BYTES, what="sealed record")
        if not isinstance(doc, dict) or set(doc) != {
            "chain_id", "ciphertext", "commitment", "nonce", "record_id", "type", "wrapped_keys",
        }:
            raise InputError("sealed record: expected exactly the members chain_id, ciphertext, commitment, "
                             "nonce, record_id, type, wrapped_keys")
        if doc["type"] != SEALED_RECORD_TYPE:
            raise InputError(f"sealed record.type: expected {SEALED_RECORD_TYPE!r}, got {doc['type']!r}")
        items = doc["wrapped_keys"]
        if not isinstance(items, list):
            raise InputError("sealed record.wrapped_keys: expected a list of {org_id, sealed_key}")
        keys = tuple(_wrapped_key_from_json(item, f"sealed record.wrapped_keys[{i}]") for i, item in enumerate(items))
        if [k.org_id for k in keys] != sorted({k.org_id for k in keys}):
            raise InputError("sealed record.wrapped_keys: must be sorted by org_id without duplicates")
        return cls(
            record_id=_text(doc["record_id"], "sealed record.record_id"),
            chain_id=_text(doc["chain_id"], "sealed record.chain_id"),
            nonce=_hex(doc["nonce"], "sealed record.nonce", NONCE_BYTES),
            ciphertext=_hex(doc["ciphertext"], "sealed record.ciphertext", None),
            commitment=_hex(doc["commitment"], "sealed record.commitment", COMMITMENT_BYTES),
            wrapped_keys=keys,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedRecord:
    """A decrypted record with what a court needs to check it against the ledger's commitment."""

    record: dict[str, JSONValue]
    salt: bytes
    commitment: bytes


def commit(salt: bytes, record: Mapping[str, JSONValue]) -> bytes:
    """SHA-256(salt ‖ canonical(record)): the on-ledger commitment of a personal record."""
    return hashlib.sha256(salt + canonical.encode(dict(record))).digest()


def verify_opening(commitment: bytes, salt: bytes, record: Mapping[str, JSONValue]) -> bool:
    """True when (``salt``, ``record``) opens ``commitment``: what a court runs on a disclosed record.

    Needs no key and none of our code beyond RFC 8785 and SHA-256. Never raises on a wrong opening;
    a record that cannot be canonicalised (floats, non-ASCII keys) simply does not open it.
    """
    try:
        expected = commit(salt, record)
    except InputError:
        return False
    return hmac.compare_digest(expected, commitment)


def seal(
    record: Mapping[str, JSONValue],
    *,
    record_id: str,
    chain_id: str,
    recipients: Mapping[str, X25519PublicKey],
) -> SealedRecord:
    """Encrypt ``record`` so that exactly the orgs in ``recipients`` can open it.

    Raises:
        InputError: no recipients, an empty id, or a record that is not canonical JSON (floats,
            non-ASCII keys, too deep).

    """
    if not recipients:
        raise InputError("recipients: seal a record to at least one entitled org")
    _text(record_id, "record_id")
    _text(chain_id, "chain_id")
    for org_id in recipients:
        _text(org_id, "recipients")
    body = canonical.encode(dict(record))
    salt = os.urandom(SALT_BYTES)
    commitment = hashlib.sha256(salt + body).digest()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, salt + body, _data_ad(record_id, chain_id, commitment))
    wrapped = tuple(
        WrappedKey(
            org_id=org_id,
            sealed_key=_HPKE.encrypt(data_key, recipients[org_id], info=_wrap_info(record_id, chain_id, org_id)),
        )
        for org_id in sorted(recipients)
    )
    return SealedRecord(
        record_id=record_id, chain_id=chain_id, nonce=nonce, ciphertext=ciphertext, commitment=commitment,
        wrapped_keys=wrapped,
    )


def open_sealed(
    sealed: SealedRecord,
    *,
    org_id: str,
    private_key: X25519PrivateKey,
    key_store: KeyStore | None = None,
    ledger_commitment: bytes | None = None,
) -> OpenedRecord:
    """Decrypt ``sealed`` as ``org_id`` and check it against its commitment.

    Wrapped keys come from ``key_store`` when one is given (the authoritative place, where
    shredding happens), otherwise from ``sealed.wrapped_keys``. Pass ``ledger_commitment`` (the
    bytes on the ledger) whenever the sealed record came from outside the ledger: the commitment
    it carries is only as trustworthy as the store that kept it.

    Raises:
        RecordShredded: the record's keys were destroyed.
        NotFound: ``key_store`` holds no keys for the record (never stored there).
        NotARecipient: the record was not sealed to ``org_id``.
        IntegrityFault: a wrapped key, the ciphertext or its context was altered, ``private_key``
            is not ``org_id``'s, or the plaintext does not match the commitment.

    """
    where = f"sealed record {sealed.record_id}"
    if ledger_commitment is not None and not hmac.compare_digest(ledger_commitment, sealed.commitment):
        raise IntegrityFault(where, "its commitment differs from the one on the ledger; the stored copy was replaced")
    keys = key_store.get(sealed.record_id) if key_store is not None else sealed.wrapped_keys
    wrapped = next((k for k in keys if k.org_id == org_id), None)
    if wrapped is None:
        holders = ", ".join(k.org_id for k in keys)
        raise NotARecipient(f"{where}: not sealed to org {org_id!r}; only {holders} can open it")
    info = _wrap_info(sealed.record_id, sealed.chain_id, org_id)
    try:
        data_key = _HPKE.decrypt(wrapped.sealed_key, private_key, info=info)
    except InvalidTag:
        raise IntegrityFault(
            where, f"cannot unwrap the data key for {org_id!r}: the private key is not that org's, or the "
            "wrapped key was altered or belongs to another record",
        ) from None
    try:
        plaintext = AESGCM(data_key).decrypt(
            sealed.nonce, sealed.ciphertext, _data_ad(sealed.record_id, sealed.chain_id, sealed.commitment),
        )
    except InvalidTag:
        raise IntegrityFault(where, "ciphertext, nonce, record id, chain id or commitment was altered") from None
    salt, body = plaintext[:SALT_BYTES], plaintext[SALT_BYTES:]
    if not hmac.compare_digest(hashlib.sha256(salt + body).digest(), sealed.commitment):
        raise IntegrityFault(where, "the decrypted record does not match its commitment; the sealer was dishonest")
    try:
        record = canonical.decode(body, max_bytes=MAX_SEALED_BYTES, what=f"{where} plaintext")
    except InputError as exc:
        raise IntegrityFault(where, f"the decrypted record is not canonical JSON: {exc}") from None
    if not isinstance(record, dict):
        raise IntegrityFault(where, "the decrypted record is not a JSON object")
    return OpenedRecord(record=record, salt=salt, commitment=sealed.commitment)


class KeyStore(Protocol):
    """**Protocol:** where wrapped data keys live, apart from ciphertexts, so that they can be shredded."""

    def put(self, record_id: str, keys: Sequence[WrappedKey]) -> None:
        """Store the wrapped keys of ``record_id`` (replacing earlier ones, e.g. after re-sealing to more orgs).

        Raises ``Conflict`` when the record was shredded: a shredded record never comes back.
        """
        ...

    def get(self, record_id: str) -> tuple[WrappedKey, ...]:
        """The wrapped keys of ``record_id``; ``RecordShredded`` if destroyed, ``NotFound`` if never stored."""
        ...

    def shred(self, record_id: str) -> None:
        """Destroy the wrapped keys of ``record_id`` for good; shredding twice is harmless."""
        ...


class MemoryKeyStore:
    """A ``KeyStore`` in a dict, for tests and single-process tools."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[WrappedKey, ...]] = {}
        self._shredded: set[str] = set()

    def put(self, record_id: str, keys: Sequence[WrappedKey]) -> None:
        """See ``KeyStore.put``."""
        if record_id in self._shredded:
            raise Conflict(f"record {record_id}: its keys were shredded; a shredded record cannot be re-keyed")
        self._keys[record_id] = tuple(keys)

    def get(self, record_id: str) -> tuple[WrappedKey, ...]:
        """See ``KeyStore.get``."""
        if record_id in self._shredded:
            raise RecordShredded(f"record {record_id}: its data key was destroyed (crypto-shredded); it cannot be read")
        try:
            return self._keys[record_id]
        except KeyError:
            raise NotFound(f"record {record_id}: no wrapped keys are stored for it") from None

    def shred(self, record_id: str) -> None:
        """See ``KeyStore.shred``."""
        self._keys.pop(record_id, None)
        self._shredded.add(record_id)


class FileKeyStore:
    """A ``KeyStore`` in a local folder: one file per record, named by SHA-256 of the record id.

    ``<hash>.keys`` holds canonical JSON ``[{"org_id":…,"sealed_key":hex},…]``, written atomically
    (temporary file, fsync, rename, fsync of the folder). Shredding unlinks it and leaves an empty
    ``<hash>.shredded`` marker so that a later read says "shredded" rather than "never stored".
    Unlinking does not scrub the disk blocks (SSDs and copy-on-write file systems keep old data):
    the keys are useless without the orgs' private keys, which is what makes this acceptable.
    """

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)

    def _path(self, record_id: str, suffix: str) -> Path:
        return self._dir / f"{hashlib.sha256(record_id.encode()).hexdigest()}.{suffix}"

    def put(self, record_id: str, keys: Sequence[WrappedKey]) -> None:
        """See ``KeyStore.put``."""
        if self._path(record_id, "shredded").exists():
            raise Conflict(f"record {record_id}: its keys were shredded; a shredded record cannot be re-keyed")
        data = canonical.encode([{"org_id": k.org_id, "sealed_key": k.sealed_key.hex()} for k in keys])
        write_durably(self._path(record_id, "keys"), data)

    def get(self, record_id: str) -> tuple[WrappedKey, ...]:
        """See ``KeyStore.get``."""
        if self._path(record_id, "shredded").exists():
            raise RecordShredded(f"record {record_id}: its data key was destroyed (crypto-shredded); it cannot be read")
        path = self._path(record_id, "keys")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"record {record_id}: no wrapped keys are stored for it") from None
        try:
            items = json.loads(data)
            keys = tuple(_wrapped_key_from_json(item, f"[{i}]") for i, item in enumerate(items))
        except (ValueError, TypeError) as exc:
            raise IntegrityFault(str(path), f"wrapped-key file is damaged: {exc}") from None
        if not isinstance(items, list):
            raise IntegrityFault(str(path), "wrapped-key file is damaged: expected a JSON list")
        return keys

    def shred(self, record_id: str) -> None:
        """See ``KeyStore.shred``."""
        self._path(record_id, "shredded").touch()
        self._path(record_id, "keys").unlink(missing_ok=True)
        self._sync_dir()

    def _sync_dir(self) -> None:
        fsync_dir(self._dir)


def _data_ad(record_id: str, chain_id: str, commitment: bytes) -> bytes:
    return canonical.encode({
        "chain_id": chain_id, "commitment": commitment.hex(), "record_id": record_id, "type": SEALED_RECORD_TYPE,
    })


def _wrap_info(record_id: str, chain_id: str, org_id: str) -> bytes:
    return canonical.encode({"chain_id": chain_id, "org_id": org_id, "record_id": record_id, "type": KEY_WRAP_TYPE})


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{field}: expected a non-empty string")
    return value


def _hex(value: object, field: str, size: int | None) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise InputError(f"{field}: expected an even number of lower-case hex digits")
    raw = bytes.fromhex(value)
    if size is not None and len(raw) != size:
        raise InputError(f"{field}: expected {size} bytes, got {len(raw)}")
    return raw


def _wrapped_key_from_json(item: object, field: str) -> WrappedKey:
    if not isinstance(item, dict) or set(item) != {"org_id", "sealed_key"}:
        raise InputError(f"{field}: expected exactly {{org_id, sealed_key}}")
    return WrappedKey(
        org_id=_text(item["org_id"], f"{field}.org_id"),
        sealed_key=_hex(item["sealed_key"], f"{field}.sealed_key", SEALED_KEY_BYTES),
    )
