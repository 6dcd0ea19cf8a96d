"""A caller's identity on its own side: its certificate and private key (design §3.17: keys never leave).

Load from PEM files (production: the org issued them), or by handle from a development consortium
folder made by ``estatechain init`` (its ``identities.json`` names every user's files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from estatechain.crypto import x509
from estatechain.errors import InputError


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientIdentity:
    """Certificate (DER), raw Ed25519 key and the certificate's fingerprint (its key id)."""

    cert_der: bytes
    private_key: bytes
    fingerprint: str
    handle: str = ""

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path, *, handle: str = "") -> ClientIdentity:
        """Load a PEM (or DER) certificate and its unencrypted PEM Ed25519 key.

        Raises:
            InputError: a file is missing, unreadable, or the key is not the certificate's.

        """
        try:
            cert = x509.load_certificate(cert_path.read_bytes(), what=str(cert_path))
            key = x509.load_private_key(key_path.read_bytes(), what=str(key_path))
        except OSError as exc:
            raise InputError(f"cannot read identity files: {exc}") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey) or key.public_key().public_bytes_raw() != (
            x509.public_key_bytes(cert)
        ):
            raise InputError(f"{key_path}: not the Ed25519 key of {cert_path}")
        der = x509.certificate_der(cert)
        return cls(cert_der=der, private_key=x509.raw_private_key(key), fingerprint=x509.fingerprint(der),
                   handle=handle)

    @classmethod
    def from_dev(cls, directory: Path, handle: str) -> ClientIdentity:
        """The identity ``handle`` (``org/user``) of a development consortium folder.

        Raises:
            InputError: the folder has no such identity.

        """
        try:
            index = json.loads((directory / "identities.json").read_text(encoding="utf-8"))
            entry = index["identities"][handle]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{directory}: no identity {handle!r} (see identities.json)") from None
        return cls.from_files(directory / entry["cert"], directory / entry["key"], handle=handle)
