"""The registry node's certificate archive, encrypted at rest to the registry org's own sealing key.

A signed certificate names its right holders and obligors in clear: the parties and the registry
need those names on the copy they are handed (docs/certificates.md). The copies the desk keeps on
the node's disk (``<node>/certificates/``) must not hold them in clear, like every other byte a node
writes (issue 5: "no personal name, ID number or phone number … in clear anywhere a node writes").
So each kept file is sealed to the registry org's X25519 sealing key, the key its parties' personal
records are already sealed to, and opened only when the desk serves or renders it.

The construction is RFC 9180 HPKE in base mode, single shot, with the suite of
``crypto/sealing.py`` (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM), whole file as the
plaintext, and ``info`` = canonical ``{"chain_id":…,"file":…,"org_id":…,"type":ARCHIVE_TYPE}``. The
``info`` binds a ciphertext to its file name (which carries the record hash and the kind, ``.json``
or ``.pdf``), so a sealed copy moved to another name, chain or org fails to open instead of being
served as another certificate. ``<name>.sealed`` holds HPKE ``enc`` (32 bytes) ‖ ciphertext.

Why not ``sealing.seal`` itself: it wraps a canonical JSON record under a commitment meant for the
ledger and caps a record at 1 MiB of hex; an archived file is opaque bytes (a PDF with embedded
fonts) that no ledger commits to, so the record layer would only add base64 and hex around it.

A node that kept clear copies before this module existed still serves them: a clear file is sealed
the first time it is read and the clear one unlinked (unlinking does not scrub the disk blocks; an
operator who needs that re-creates the folder from a backup taken afterwards).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from estatechain import canonical
from estatechain.durable import fsync_dir, write_durably
from estatechain.errors import InputError, IntegrityFault

ARCHIVE_TYPE: Final = "estatechain.certificate-archive.v1"
SEALED_SUFFIX: Final = ".sealed"
_HPKE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
"""The suite of ``crypto/sealing.py``'s key wraps: one HPKE configuration across the node."""


class SealedArchive:
    """A folder of files sealed to one org; names are plain (``<sha256>.json``), contents are not."""

    def __init__(self, directory: Path, *, chain_id: str, org_id: str, key: X25519PrivateKey) -> None:
        self.directory = directory
        self._chain_id = chain_id
        self._org_id = org_id
        self._key = key

    def read(self, name: str) -> bytes | None:
        """The clear bytes of ``name``, or None when the archive holds no such file.

        Raises:
            IntegrityFault: the sealed file does not open under this org's key for this name and chain
                (altered, moved from another name, or sealed by another node's org).

        """
        sealed = self._path(name, sealed=True)
        try:
            data = sealed.read_bytes()
        except FileNotFoundError:
            return self._adopt(name)
        try:
            return _HPKE.decrypt(data, self._key, info=self._info(name))
        except (InvalidTag, ValueError):
            raise IntegrityFault(str(sealed), f"does not open as {name} of {self._org_id} on this chain: the "
                                 "file was altered or moved from another name, or the key is not the org's") from None

    def write(self, name: str, data: bytes) -> None:
        """Seal ``data`` as ``name`` and write it atomically and durably: a copy handed out must survive a crash."""
        sealed = _HPKE.encrypt(data, self._key.public_key(), info=self._info(name))
        write_durably(self._path(name, sealed=True), sealed)

    def _adopt(self, name: str) -> bytes | None:
        """A clear copy an earlier version kept: seal it, drop the clear one, return its bytes."""
        clear = self._path(name, sealed=False)
        try:
            data = clear.read_bytes()
        except FileNotFoundError:
            return None
        self.write(name, data)
        clear.unlink()
        fsync_dir(self.directory)
        return data

    def _path(self, name: str, *, sealed: bool) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise InputError(f"archive file name {name!r}: expected a plain name such as <sha256>.json")
        return self.directory / (name + SEALED_SUFFIX if sealed else name)

    def _info(self, name: str) -> bytes:
        return canonical.encode({"chain_id": self._chain_id, "file": name, "org_id": self._org_id,
                                 "type": ARCHIVE_TYPE})
