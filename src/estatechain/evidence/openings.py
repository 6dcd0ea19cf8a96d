"""Openings of personal-record commitments for a court (design §3.18).

The ledger holds only ``record_ref`` = SHA-256(salt ‖ canonical(record)) of each sealed personal
record. An org the record was sealed to can decrypt it and hand the court (salt, record); the court
recomputes the hash and compares it with the commitment that stands in a proven transaction, so the
opening needs no trust in the org that made it (``crypto.sealing.verify_opening``).

The sealed store is the node's ``sealed/`` folder: per import transaction ``<tx>.records.jsonl``
(ciphertexts, no keys) and ``<tx>.keys.jsonl`` (wrapped data keys), as the register importer writes
it. The org's X25519 sealing key comes from the development layout,
``orgs/<org>/sealing-x25519.key.pem``. Both names are repeated here rather than imported from
``estatechain.testing``, which sits above the node layer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from estatechain.canonical import JSONValue
from estatechain.crypto.sealing import SealedRecord, WrappedKey, open_sealed
from estatechain.errors import InputError, NotFound
from estatechain.evidence.package import b64text

SEALED_DIR: Final = "sealed"
SEALING_KEY: Final = "sealing-x25519.key.pem"


@dataclass(frozen=True, slots=True, kw_only=True)
class Opener:
    """An org that can open sealed records: its id, its sealing key and the node's sealed store."""

    org: str
    private_key: X25519PrivateKey
    sealed_dir: Path

    @classmethod
    def from_dev_layout(cls, consortium_dir: Path, org: str, ledger_dir: Path) -> Opener:
        """The opener for ``org`` with its key from a development consortium folder.

        Raises:
            InputError: the key file is missing or not an X25519 private key.

        """
        path = consortium_dir / "orgs" / org / SEALING_KEY
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise InputError(f"{path}: missing; opening personal records needs the org's sealing key") from None
        if not isinstance(key, X25519PrivateKey):
            raise InputError(f"{path}: not an X25519 private key")
        return cls(org=org, private_key=key, sealed_dir=ledger_dir / SEALED_DIR)

    def open(self, commitments: Iterable[str]) -> list[dict[str, JSONValue]]:
        """``{"commitment", "record", "salt"}`` for each commitment, sorted by commitment.

        Raises:
            NotFound: a commitment is in no sealed record of the store.
            RecordShredded, NotARecipient, IntegrityFault: the record cannot be opened by this org.

        """
        wanted = set(commitments)
        found: dict[str, dict[str, JSONValue]] = {}
        for sealed in _read_sealed(self.sealed_dir):
            commitment = sealed.commitment.hex()
            if commitment in wanted and commitment not in found:
                opened = open_sealed(sealed, org_id=self.org, private_key=self.private_key)
                found[commitment] = {"commitment": commitment, "record": opened.record,
                                     "salt": b64text(opened.salt)}
        missing = sorted(wanted - found.keys())
        if missing:
            raise NotFound(f"personal records {', '.join(missing)} are not in {self.sealed_dir}; "
                           "export from the node that holds the sealed store, or without openings")
        return [found[c] for c in sorted(found)]


def _read_sealed(sealed_dir: Path) -> Iterator[SealedRecord]:
    """Every sealed record of the store with its wrapped keys joined back."""
    for records_path in sorted(sealed_dir.glob("*.records.jsonl")):
        keys_path = records_path.with_name(records_path.name.replace(".records.", ".keys."))
        wrapped: dict[str, tuple[WrappedKey, ...]] = {}
        if keys_path.exists():
            for line in keys_path.read_bytes().splitlines():
                item = json.loads(line)
                wrapped[item["record_id"]] = tuple(
                    WrappedKey(org_id=k["org_id"], sealed_key=bytes.fromhex(k["sealed_key"]))
                    for k in item["wrapped_keys"]
                )
        for line in records_path.read_bytes().splitlines():
            record = SealedRecord.from_bytes(line)
            yield SealedRecord(record_id=record.record_id, chain_id=record.chain_id, nonce=record.nonce,
                               ciphertext=record.ciphertext, commitment=record.commitment,
                               wrapped_keys=wrapped.get(record.record_id, ()))
