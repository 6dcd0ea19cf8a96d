"""The content-addressed material store: sniffing, durability, holders, integrity on read."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
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


def _ofd(payload: bytes, *, root: bool = True) -> bytes:
    """An OFD package (a ZIP with ``OFD.xml`` at its root) carrying ``payload`` uncompressed, like a scan."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        if root:
            archive.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>')
        archive.writestr("Doc_0/Res/scan.jpg", payload)
    return out.getvalue()


def _bytes_read() -> int:
    """Bytes this process has read through system calls so far (Linux ``/proc/self/io``, ``rchar``)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_describing_a_large_ofd_reads_its_zip_directory_not_the_whole_file(tmp_path: Path) -> None:
    """A case page describes every material it cites on the event loop: an 8 MB scan must not be read whole."""
    store = MaterialStore(tmp_path / "m", max_bytes=16 * 1024 * 1024)
    document = _ofd(os.urandom(8 * 1024 * 1024))
    stored = store.put(document, org="icbc-gz")
    assert stored.media_type == "application/ofd"
    before = _bytes_read()
    described = store.describe(stored.sha256)
    read = _bytes_read() - before
    assert described == stored
    assert read < 256 * 1024, f"describe read {read:,} bytes of an {len(document):,}-byte file"
    with pytest.raises(InputError):  # a ZIP without OFD.xml at its root is still refused
        store.put(_ofd(b"x" * 1000, root=False), org="icbc-gz")
