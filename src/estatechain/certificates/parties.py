"""Names of right holders and obligors, resolved at the registry's node only (design §3.10, §3.18).

The ledger names a party by its party id; the name is in the party's sealed personal record, which
the registry can open with its own sealing key (the records are sealed to it). A member org (a bank
bound by ``identity.bind_party``) is named by its genesis display name. A party whose record this
node cannot open is named by its pseudonymous id, so a certificate is never blocked by a missing
record and never guesses a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.records.party import PartyRef
from estatechain.contract.view import StateView
from estatechain.crypto.sealing import SealedRecord, open_sealed
from estatechain.errors import EstatechainError, InputError
from estatechain.identity.genesis import Genesis
from estatechain.testing.register import SEALED_DIR, SEALING_KEY, read_sealed

UNKNOWN_KIND: Final = "unknown"


def load_sealing_key(consortium_dir: Path, org_id: str) -> X25519PrivateKey | None:
    """The org's X25519 sealing key in a dev layout (``orgs/<org>/sealing-x25519.key.pem``), None if it has none.

    Raises:
        InputError: the file is there but holds no X25519 private key.

    """
    key_path = consortium_dir / "orgs" / org_id / SEALING_KEY
    if not key_path.exists():
        return None
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, X25519PrivateKey):
        raise InputError(f"{key_path}: not an X25519 private key")
    return loaded


class PartyDirectory:
    """Opens the parties' sealed records as the registry org; one instance per node, read lazily.

    The sealed store is read once and kept; a party missing from it (sealed since) makes it read the
    store again, and a shredded party (``record.shred``) is never opened, whatever was read before.
    """

    def __init__(self, *, view: StateView, genesis: Genesis, org_id: str, sealing_key: X25519PrivateKey | None,
                 sealed_dir: Path | None) -> None:
        self._view = view
        self._genesis = genesis
        self._org_id = org_id
        self._key = sealing_key
        self._sealed_dir = sealed_dir
        self._sealed: dict[str, SealedRecord] | None = None
        self._files: set[str] = set()

    @classmethod
    def from_dev(cls, *, view: StateView, genesis: Genesis, consortium_dir: Path, ledger_dir: Path,
                 org_id: str) -> PartyDirectory:
        """The directory of a dev layout: ``orgs/<org>/sealing-x25519.key.pem`` and ``<node>/sealed/``."""
        return cls(view=view, genesis=genesis, org_id=org_id, sealing_key=load_sealing_key(consortium_dir, org_id),
                   sealed_dir=ledger_dir / SEALED_DIR)

    def __call__(self, party: PartyRef) -> Mapping[str, JSONValue]:
        """``{"kind", "name"}`` of ``party``: its member org, its opened record, or its id."""
        bound = self._view.get(keys.org_of_party(party.party_id))
        if bound is not None:
            org = str(bound.get("org"))
            name = next((o.name for o in self._genesis.orgs if o.id == org), org)
            return {"kind": "company", "name": name.split(" / ", 1)[0]}
        record = self._open(party)
        if record is not None:
            return {"kind": str(record.get("kind", UNKNOWN_KIND)), "name": str(record.get("name", ""))}
        return {"kind": UNKNOWN_KIND, "name": f"当事人 {party.party_id[:16]}"}

    def identity(self, party: PartyRef) -> str:
        """How a registry desk names ``party``: the org's name, or the person's name with their ID document.

        The registry examines an application against the contracts and ID copies it was filed with, so
        its staff need the applicant's name and ID number, which only the registry's node can open.
        """
        named = self(party)
        record = None if named["kind"] == "company" else self._open(party)
        if record is None or not record.get("id_number"):
            return str(named["name"])
        return f"{named['name']} ({record.get('id_type', '')} {record.get('id_number')})"

    def _open(self, party: PartyRef) -> Mapping[str, JSONValue] | None:
        if self._view.get(keys.shredded(party.party_id)) is not None:
            return None  # shredded: a copy of its key read before the shredding must not open it either
        sealed = self._store().get(party.party_id)
        if sealed is None:  # perhaps sealed since the store was read: take in the new import files only
            sealed = self._store(refresh=True).get(party.party_id)
        if sealed is None or self._key is None:
            return None
        commitment = bytes.fromhex(party.record_ref) if party.record_ref is not None else None
        try:
            opened = open_sealed(sealed, org_id=self._org_id, private_key=self._key, ledger_commitment=commitment)
        except EstatechainError:
            return None
        return opened.record

    def _store(self, *, refresh: bool = False) -> dict[str, SealedRecord]:
        folder = self._sealed_dir
        if self._sealed is None or refresh:
            if self._sealed is None:
                self._sealed = {}
            if folder is not None and folder.is_dir():
                fresh = {p.name for p in folder.glob("*.records.jsonl")
                         if p.with_name(p.name.replace(".records.", ".keys.")).exists()} - self._files
                if fresh:
                    self._sealed.update((r.record_id, r) for r in read_sealed(folder, skip=self._files))
                    self._files |= fresh
        return self._sealed
