from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from estatechain.canonical import JSONValue
from estatechain.crypto.sealing import (
    SEALED_KEY_BYTES,
    FileKeyStore,
    KeyStore,
    MemoryKeyStore,
    NotARecipient,
    RecordShredded,
    SealedRecord,
    commit,
    open_sealed,
    seal,
    verify_opening,
)
from estatechain.errors import Conflict, InputError, IntegrityFault, NotFound

ORGS = ("gz-registry", "icbc-gz", "ccb-gz")
KEYS = {org: X25519PrivateKey.generate() for org in (*ORGS, "boc-gz")}
RECIPIENTS = {org: KEYS[org].public_key() for org in ORGS}
CHAIN = "c" * 64
RECORD: dict[str, JSONValue] = {
    "name": "陈小明",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "emoji": "𠀀 non-BMP",
}


def _sealed(record_id: str = "person/P1") -> SealedRecord:
    return seal(RECORD, record_id=record_id, chain_id=CHAIN, recipients=RECIPIENTS)


def _flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


@pytest.mark.parametrize("org", ORGS)
def test_every_recipient_opens_the_record_and_gets_what_a_court_needs(org: str) -> None:
    sealed = _sealed()
    opened = open_sealed(sealed, org_id=org, private_key=KEYS[org])
    assert opened.record == RECORD
    assert opened.commitment == sealed.commitment
    assert verify_opening(sealed.commitment, opened.salt, opened.record)


def test_the_commitment_is_sha256_of_salt_and_canonical_record() -> None:
    sealed = _sealed()
    opened = open_sealed(sealed, org_id="icbc-gz", private_key=KEYS["icbc-gz"])
    body = json.dumps(RECORD, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sealed.commitment == hashlib.sha256(opened.salt + body).digest()
    assert commit(opened.salt, RECORD) == sealed.commitment
    assert len(opened.salt) == 32


def test_a_court_rejects_a_wrong_opening() -> None:
    sealed = _sealed()
    opened = open_sealed(sealed, org_id="gz-registry", private_key=KEYS["gz-registry"])
    assert not verify_opening(sealed.commitment, bytes(32), opened.record)
    assert not verify_opening(sealed.commitment, opened.salt, {**RECORD, "phone": "13800138001"})
    assert not verify_opening(sealed.commitment, opened.salt, {**RECORD, "area": 1.5})  # type: ignore[dict-item]


def test_sealing_twice_uses_fresh_keys_salts_and_nonces() -> None:
    first, second = _sealed(), _sealed()
    assert first.commitment != second.commitment
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_nothing_personal_is_readable_in_the_stored_bytes() -> None:
    data = _sealed().to_bytes()
    for value in ("11010519491231002X", "13800138000", "陈小明"):
        assert value.encode() not in data
    assert all(len(k.sealed_key) == SEALED_KEY_BYTES for k in _sealed().wrapped_keys)


def test_an_org_that_is_not_a_recipient_cannot_open() -> None:
    with pytest.raises(NotARecipient, match="boc-gz"):
        open_sealed(_sealed(), org_id="boc-gz", private_key=KEYS["boc-gz"])


def test_a_recipient_id_with_someone_elses_private_key_fails() -> None:
    with pytest.raises(IntegrityFault, match="cannot unwrap"):
        open_sealed(_sealed(), org_id="icbc-gz", private_key=KEYS["ccb-gz"])


@pytest.mark.parametrize("change", [
    lambda s: dataclasses.replace(s, ciphertext=_flip(s.ciphertext, 40)),
    lambda s: dataclasses.replace(s, ciphertext=_flip(s.ciphertext, len(s.ciphertext) - 1)),
    lambda s: dataclasses.replace(s, nonce=_flip(s.nonce)),
    lambda s: dataclasses.replace(s, commitment=_flip(s.commitment)),
    lambda s: dataclasses.replace(s, chain_id="d" * 64),
], ids=["ciphertext", "tag", "nonce", "commitment", "chain-id"])
def test_tampered_ciphertext_or_associated_data_fails(change: object) -> None:
    tampered = change(_sealed())  # type: ignore[operator]
    with pytest.raises(IntegrityFault):
        open_sealed(tampered, org_id="ccb-gz", private_key=KEYS["ccb-gz"])


def test_a_ciphertext_moved_to_another_record_id_fails() -> None:
    sealed = _sealed("person/P1")
    with pytest.raises(IntegrityFault):
        open_sealed(dataclasses.replace(sealed, record_id="person/P2"), org_id="ccb-gz", private_key=KEYS["ccb-gz"])


def test_a_wrapped_key_copied_onto_another_record_does_not_unwrap() -> None:
    one, two = _sealed("person/P1"), _sealed("person/P2")
    mixed = dataclasses.replace(two, wrapped_keys=one.wrapped_keys)
    with pytest.raises(IntegrityFault, match="cannot unwrap"):
        open_sealed(mixed, org_id="icbc-gz", private_key=KEYS["icbc-gz"])


def test_the_ledger_commitment_must_match_the_stored_copy() -> None:
    sealed, other = _sealed(), _sealed()
    open_sealed(sealed, org_id="icbc-gz", private_key=KEYS["icbc-gz"], ledger_commitment=sealed.commitment)
    with pytest.raises(IntegrityFault, match="ledger"):
        open_sealed(sealed, org_id="icbc-gz", private_key=KEYS["icbc-gz"], ledger_commitment=other.commitment)


def test_serialised_form_round_trips_and_is_strict() -> None:
    sealed = _sealed()
    data = sealed.to_bytes()
    assert SealedRecord.from_bytes(data) == sealed
    assert data.startswith(b'{"chain_id":"' + CHAIN.encode() + b'","ciphertext":"')
    doc = json.loads(data)
    assert [k["org_id"] for k in doc["wrapped_keys"]] == sorted(ORGS)
    for broken in (
        {**doc, "type": "other"},
        {**doc, "nonce": doc["nonce"].upper()},
        {**doc, "commitment": doc["commitment"][:-2]},
        {**doc, "wrapped_keys": list(reversed(doc["wrapped_keys"]))},
        {k: v for k, v in doc.items() if k != "nonce"},
    ):
        with pytest.raises(InputError):
            SealedRecord.from_bytes(json.dumps(broken, sort_keys=True, separators=(",", ":")).encode())
    with pytest.raises(InputError):
        SealedRecord.from_bytes(data.replace(b",", b", ", 1))


def test_seal_refuses_no_recipients_and_non_canonical_records() -> None:
    with pytest.raises(InputError, match="recipients"):
        seal(RECORD, record_id="r", chain_id=CHAIN, recipients={})
    with pytest.raises(InputError, match="float"):
        seal({"area": 1.5}, record_id="r", chain_id=CHAIN, recipients=RECIPIENTS)  # type: ignore[dict-item]
    with pytest.raises(InputError, match="record_id"):
        seal(RECORD, record_id="", chain_id=CHAIN, recipients=RECIPIENTS)


@pytest.fixture(params=["memory", "file"])
def key_store(request: pytest.FixtureRequest, tmp_path: Path) -> KeyStore:
    if request.param == "memory":
        return MemoryKeyStore()
    return FileKeyStore(tmp_path / "keys")


def test_shredding_makes_a_record_unreadable_without_changing_its_bytes(key_store: KeyStore) -> None:
    sealed = _sealed("person/P9")
    key_store.put(sealed.record_id, sealed.wrapped_keys)
    stored = sealed.without_keys()
    before = stored.to_bytes()
    commitment = stored.commitment
    assert open_sealed(stored, org_id="icbc-gz", private_key=KEYS["icbc-gz"], key_store=key_store).record == RECORD

    key_store.shred(sealed.record_id)

    assert stored.to_bytes() == before
    assert stored.commitment == commitment
    for org in ORGS:
        with pytest.raises(RecordShredded, match="crypto-shredded"):
            open_sealed(stored, org_id=org, private_key=KEYS[org], key_store=key_store)
    with pytest.raises(NotARecipient):
        open_sealed(stored, org_id="icbc-gz", private_key=KEYS["icbc-gz"])
    key_store.shred(sealed.record_id)
    with pytest.raises(Conflict):
        key_store.put(sealed.record_id, sealed.wrapped_keys)


def test_other_records_survive_a_shred(key_store: KeyStore) -> None:
    kept, gone = _sealed("person/A"), _sealed("person/B")
    key_store.put(kept.record_id, kept.wrapped_keys)
    key_store.put(gone.record_id, gone.wrapped_keys)
    key_store.shred(gone.record_id)
    assert key_store.get(kept.record_id) == kept.wrapped_keys
    with pytest.raises(NotFound, match="no wrapped keys"):
        key_store.get("person/never")


def test_the_file_key_store_persists_and_deletes_the_key_file(tmp_path: Path) -> None:
    sealed = _sealed("person/F")
    FileKeyStore(tmp_path).put(sealed.record_id, sealed.wrapped_keys)
    reopened = FileKeyStore(tmp_path)
    assert reopened.get(sealed.record_id) == sealed.wrapped_keys
    assert len(list(tmp_path.glob("*.keys"))) == 1
    reopened.shred(sealed.record_id)
    assert list(tmp_path.glob("*.keys")) == []
    with pytest.raises(RecordShredded):
        FileKeyStore(tmp_path).get(sealed.record_id)


def test_a_damaged_key_file_is_an_integrity_fault(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    sealed = _sealed("person/D")
    store.put(sealed.record_id, sealed.wrapped_keys)
    (path,) = tmp_path.glob("*.keys")
    path.write_bytes(b'{"not":"a list"}')
    with pytest.raises(IntegrityFault):
        store.get(sealed.record_id)
