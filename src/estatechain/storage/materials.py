"""Content-addressed store of application materials under the node folder (design §3.11, §3.22).

Layout under ``<node>/materials/``::

    objects/<first two hex>/<sha256>     the file's bytes, named by their SHA-256
    holders/<sha256>/<holder>            an empty marker per holder that uploaded these bytes: an org id,
                                         or <org id>.<fingerprint> for a person, who holds alone

The media type is sniffed from the leading bytes (PDF, JPEG, PNG); what the uploader claims is never
trusted. ``put`` returns only after the object and the org's marker are durable: each file is
written to a temporary name, fsynced, renamed into place, and its directory fsynced, so a hash the
node has handed out survives a crash or power loss. ``get`` re-hashes what it reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from estatechain.durable import write_durably
from estatechain.errors import InputError, IntegrityFault, NotFound

MAGIC: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
"""Leading bytes → media type: the only kinds of material accepted."""

_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
_SNIFF_BYTES: Final = 16
"""Enough of a file's head for every signature in ``MAGIC``."""
_ORG: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}(\.[0-9a-f]{64})?$")
"""A holder: a member org id, or ``<org id>.<certificate fingerprint>`` for an individual (a person)."""


OFD_ROOT: Final = "OFD.xml"
"""The entry every OFD file (GB/T 33190, China's fixed-layout document format) has at the root of its ZIP."""


def sniff(data: bytes) -> str | None:
    """The media type the bytes' signature shows, or None when it is none of PDF, OFD, JPEG, PNG.

    OFD is a ZIP container: it is told from any other ZIP by its root ``OFD.xml`` entry, read from
    the archive's directory without extracting anything.
    """
    found = next((media for magic, media in MAGIC if data.startswith(magic)), None)
    if found is None and data.startswith(_ZIP):
        return _ofd_or_none(io.BytesIO(data))
    return found


_ZIP: Final = b"PK\x03\x04"


def _ofd_or_none(archive_file: IO[bytes]) -> str | None:
    """``application/ofd`` when the ZIP in ``archive_file`` has ``OFD.xml`` at its root, else None.

    ``zipfile`` seeks to the archive's central directory at the end and reads only that: a file on
    disk is never read whole to be told apart.
    """
    try:
        with zipfile.ZipFile(archive_file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    return "application/ofd" if OFD_ROOT in names else None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMaterial:
    """What a transaction references: the hash, the size and the sniffed media type."""

    sha256: str
    size: int
    media_type: str




class MaterialStore:
    """The node's material files; safe to share between requests of one process."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def _object(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    def _holders(self, sha256: str) -> Path:
        return self.root / "holders" / sha256

    def put(self, data: bytes, *, org: str) -> StoredMaterial:
        """Store ``data`` for ``org``; durable when this returns.

        Raises:
            InputError: empty, larger than the limit, or not a PDF, OFD, JPEG or PNG by its content.

        """
        if not _ORG.fullmatch(org):
            raise InputError(f"holder {org!r} is neither an org id nor <org id>.<certificate fingerprint>")
        if not data:
            raise InputError("the material is empty")
        if len(data) > self.max_bytes:
            raise InputError(f"the material is {len(data)} bytes; the limit is {self.max_bytes}")
        media = sniff(data)
        if media is None:
            raise InputError("the content is not a PDF, OFD, JPEG or PNG file (judged by its bytes, not its name "
                             "or declared type)")
        sha256 = hashlib.sha256(data).hexdigest()
        target = self._object(sha256)
        if not target.exists() or target.stat().st_size != len(data):
            write_durably(target, data)
        marker = self._holders(sha256) / org
        if not marker.exists():
            write_durably(marker, b"")
        return StoredMaterial(sha256=sha256, size=len(data), media_type=media)

    async def put_in_thread(self, data: bytes, *, org: str) -> StoredMaterial:
        """``put`` on a worker thread, for the node's request handlers; durable when this returns.

        ``put`` fsyncs the object, the holder's marker and both directories: on a slow or busy disk that
        is tens of milliseconds, during which the event loop, and so every other request and the block
        commits, would wait for one upload.

        Raises:
            InputError: as ``put``.

        """
        return await asyncio.to_thread(self.put, data, org=org)

    async def get_in_thread(self, sha256: str) -> tuple[bytes, str]:
        """``get`` on a worker thread: reading and re-hashing a file of up to the upload limit off the event loop.

        Raises:
            NotFound: as ``get``.
            IntegrityFault: as ``get``.

        """
        return await asyncio.to_thread(self.get, sha256)

    def describe(self, sha256: str) -> StoredMaterial | None:
        """What a filing may cite of a stored material (hash, size, sniffed type), or None when it is not here.

        Reads only the file's size and first bytes (for an OFD, its ZIP directory at the end as well):
        cheap enough to run on the event loop for every material a filing or a case page cites. ``get``
        checks the whole file against its hash when it is read.
        """
        if not _HEX64.fullmatch(sha256):
            return None
        target = self._object(sha256)
        try:
            with target.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
                media = _ofd_or_none(handle) if head.startswith(_ZIP) else sniff(head)
            size = target.stat().st_size
        except FileNotFoundError:
            return None
        return None if media is None else StoredMaterial(sha256=sha256, size=size, media_type=media)

    def holders(self, sha256: str) -> frozenset[str]:
        """Orgs that uploaded the material (empty when unknown)."""
        if not _HEX64.fullmatch(sha256):
            return frozenset()
        directory = self._holders(sha256)
        if not directory.is_dir():
            return frozenset()
        return frozenset(p.name for p in directory.iterdir() if not p.name.startswith("."))

    def get(self, sha256: str) -> tuple[bytes, str]:
        """The material's bytes and sniffed media type, checked against its hash.

        Raises:
            NotFound: no material with that hash.
            IntegrityFault: the stored bytes no longer hash to their name.

        """
        if not _HEX64.fullmatch(sha256):
            raise NotFound(f"no material {sha256}")
        try:
            data = self._object(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no material {sha256}") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityFault(f"materials/{sha256}", "the stored bytes do not hash to their name")
        return data, sniff(data) or "application/octet-stream"
