"""The content-addressed material store: sniffing, durability, holders, integrity on read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from estatechain.errors import InputError, IntegrityFault, NotFound
from estatechain.storage.materials import MaterialStore, sniff

PDF = b"%PDF-1.7\n" + b"x" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def test_content_type_comes_from_the_bytes_not_the_name() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff(b"<html>%PDF-") is None


def test_put_stores_by_hash_records_the_org_and_reads_back(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "m", max_bytes=1024)
    stored = store.put(PDF, org="icbc-gz")
    assert (stored.sha256, stored.size, stored.media_type) == (hashlib.sha256(PDF).hexdigest(), len(PDF),
                                                               "application/pdf")
    assert (tmp_path / "m" / "objects" / stored.sha256[:2] / stored.sha256).read_bytes() == PDF
    store.put(PDF, org="ccb-gz")
    assert store.holders(stored.sha256) == {"icbc-gz", "ccb-gz"}
    assert store.get(stored.sha256) == (PDF, "application/pdf")
    assert not list((tmp_path / "m").rglob("*.tmp"))


def test_refuses_empty_oversized_and_unknown_content(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "m", max_bytes=64)
    for data in (b"", PDF, b"MZ\x90\x00 an executable"):
        with pytest.raises(InputError):
            store.put(data, org="icbc-gz")


def test_unknown_hash_and_tampered_file(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "m", max_bytes=1024)
    with pytest.raises(NotFound):
        store.get("0" * 64)
    assert store.holders("0" * 64) == frozenset()
    stored = store.put(PNG, org="icbc-gz")
    (tmp_path / "m" / "objects" / stored.sha256[:2] / stored.sha256).write_bytes(PNG + b"!")
    with pytest.raises(IntegrityFault):
        store.get(stored.sha256)
