"""An org's keystore: the keys its node holds for the org and for the people it signs for, encrypted at rest.

The development layout (``estatechain init``) writes every key of every org in clear into one folder,
which is only fit for a laptop. A member org in production keeps, on its own node, only its own keys —
the node identity (requests between nodes, attestations, webhook signatures), the registry's issuer
and document-signing keys, its sealing key (personal records), the identity authority's party-id
key, and the keys of the people the portal signs for (design §3.17) — and keeps them encrypted under
a passphrase that is not on the same disk (a file mounted from a secret store, or an environment
variable; ``node/settings.py``).

Format, chosen so that an outsider can check it with standard tools:

* ``keystore.json``: ``{"type": "estatechain.keystore.v1", "org": …, "entries": {name: entry}}``; an
  entry names its kind, its files, and for identities the handle's role and certificate fingerprint.
* Identities (Ed25519) and the registry's document signer (ECDSA P-256): PKCS#12 files holding the
  certificate and its key, encrypted with PBES2 (PBKDF2-HMAC-SHA256 at 600,000 rounds, AES-256-CBC)
  and MACed with HMAC-SHA256 — ``openssl pkcs12 -in issuer1.p12 -passin … -nokeys`` opens one.
  (PKCS#8 PEM would be the other standard, but the library writes it at 2,048 PBKDF2 rounds only.)
* The X25519 sealing key and raw secrets (the party-id HMAC key), which PKCS#12 cannot hold:
  ``{"kdf": "scrypt", "n", "r", "p", "aead": "AES-256-GCM", "salt", "nonce", "ciphertext"}``, the entry's
  name as associated data, so a file moved to another name does not open.

Every file is written with mode 0600 through a temporary file and an atomic rename. A wrong
passphrase, a swapped file or a key that is not its certificate's key is an ``InputError`` naming the
file; nothing is ever half-read.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography import x509 as cx509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import pkcs12

from estatechain.crypto import x509
from estatechain.durable import write_durably
from estatechain.errors import InputError
from estatechain.identity.devca import DocumentSigner, Identity

KEYSTORE_TYPE: Final = "estatechain.keystore.v1"
INDEX: Final = "keystore.json"
MIN_PASSPHRASE: Final = 12
"""Shortest passphrase accepted: the files may be copied off the machine and attacked offline."""
PBKDF2_ROUNDS: Final = 600_000
"""PBKDF2-HMAC-SHA256 iterations for PKCS#8 keys (OWASP's 2023 figure for SHA-256)."""
SCRYPT_N: Final = 2**15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

Kind = Literal["identity", "docsign", "sealing", "secret"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One keystore entry as ``keystore.json`` lists it."""

    name: str
    kind: Kind
    key: str
    """The file, relative to the keystore folder."""
    role: str | None = None
    fingerprint: str | None = None

    def to_json(self) -> dict[str, str]:
        """The index's object for this entry (absent fields left out)."""
        fields = {"kind": self.kind, "key": self.key, "role": self.role, "fingerprint": self.fingerprint}
        return {k: v for k, v in fields.items() if v is not None}


class Keystore:
    """An org's keystore folder, opened with its passphrase."""

    def __init__(self, directory: Path, org_id: str, entries: Mapping[str, Entry], passphrase: bytes) -> None:
        self.directory = directory
        self.org_id = org_id
        self._entries = dict(entries)
        self._passphrase = passphrase

    # -- opening and creating --------------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, org_id: str, passphrase: bytes) -> Keystore:
        """A new, empty keystore for ``org_id`` (the folder must not hold one already)."""
        _check_passphrase(passphrase)
        if (directory / INDEX).exists():
            raise InputError(f"{directory / INDEX}: a keystore is already there; open it instead")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = cls(directory, org_id, {}, passphrase)
        store._write_index()
        return store

    @classmethod
    def open(cls, directory: Path, passphrase: bytes) -> Keystore:
        """The keystore in ``directory``; its keys are decrypted when asked for, the passphrase checked now."""
        path = directory / INDEX
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise InputError(f"{path}: no keystore here; create one with `estatechain keystore import`") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(document, dict) or document.get("type") != KEYSTORE_TYPE:
            raise InputError(f"{path}: not a keystore index (expected type {KEYSTORE_TYPE!r})")
        org_id, raw = document.get("org"), document.get("entries")
        if not isinstance(org_id, str) or not isinstance(raw, dict):
            raise InputError(f"{path}: expected string 'org' and object 'entries'")
        entries = {name: _entry(path, name, value) for name, value in raw.items()}
        store = cls(directory, org_id, entries, passphrase)
        store._check_passphrase_opens()
        return store

    def _check_passphrase_opens(self) -> None:
        """Fail at start-up, not at the first signature, when the passphrase is wrong."""
        first = next(iter(self._entries.values()), None)
        if first is not None and first.kind in {"secret", "sealing"}:
            self._open_secret(first)
        elif first is not None:
            self._bundle(first)

    # -- reading ---------------------------------------------------------------------------------------

    def names(self) -> Iterator[Entry]:
        """Every entry, by name."""
        for name in sorted(self._entries):
            yield self._entries[name]

    def has(self, name: str) -> bool:
        """Whether an entry named ``name`` is there."""
        return name in self._entries

    def check_files(self) -> None:
        """Every file ``keystore.json`` lists is in the folder: one ``stat`` each, nothing decrypted.

        A node runs this at start-up. The keys of staff and of the people the portal signs for are
        decrypted only when one of them signs (each opening costs 600,000 PBKDF2 rounds, and an identity
        authority keeps one per person), so without this a lost file would surface at that person's
        first signature instead of when the operator starts the node.

        Raises:
            InputError: naming every listed entry whose file is missing, and the index that lists it.

        """
        missing = [e for e in self.names() if not (self.directory / e.key).is_file()]
        if missing:
            named = ", ".join(f"{e.kind} {e.name!r} ({self.directory / e.key})" for e in missing)
            raise InputError(f"{self.directory / INDEX} lists keys whose files are missing: {named}; restore the "
                             "keystore folder from its backup, or build it again with `estatechain keystore import`")

    def _get(self, name: str, kind: Kind) -> Entry:
        entry = self._entries.get(name)
        if entry is None or entry.kind != kind:
            raise InputError(f"{self.directory / INDEX}: no {kind} entry named {name!r}; "
                             f"add it with `estatechain keystore import`")
        return entry

    def identity(self, user: str) -> Identity:
        """The identity ``<org>/<user>``: its certificate and its (decrypted) Ed25519 key."""
        entry = self._get(user, "identity")
        assert entry.role is not None
        key, cert = self._bundle(entry)
        der = cert.public_bytes(serialization.Encoding.DER)
        if x509.fingerprint(der) != entry.fingerprint:
            raise InputError(f"{self.directory / entry.key}: fingerprint differs from {INDEX} for {user!r}; "
                             "the file was replaced")
        if not isinstance(key, ed25519.Ed25519PrivateKey) or (
            key.public_key().public_bytes_raw() != x509.public_key_bytes(cert)
        ):
            raise InputError(f"{self.directory / entry.key}: its key is not the Ed25519 key of its certificate")
        return Identity(handle=f"{self.org_id}/{user}", org_id=self.org_id, role=entry.role, cert_der=der,
                        private_key=key.private_bytes_raw(), fingerprint=entry.fingerprint or "")

    def document_signer(self) -> DocumentSigner:
        """The registry's document-signing certificate and ECDSA P-256 key (PAdES)."""
        entry = self._get("docsign", "docsign")
        key, cert = self._bundle(entry)
        public = cert.public_key()
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(public, ec.EllipticCurvePublicKey) or (
            public.public_numbers() != key.public_key().public_numbers()
        ):
            raise InputError(f"{self.directory / entry.key}: its key is not the ECDSA P-256 key of its certificate")
        return DocumentSigner(org_id=self.org_id, cert=cert, key=key)

    def sealing_key(self) -> x25519.X25519PrivateKey:
        """The org's X25519 key that opens the personal records sealed to it."""
        return x25519.X25519PrivateKey.from_private_bytes(self._open_secret(self._get("sealing", "sealing")))

    def secret(self, name: str) -> bytes:
        """A raw secret (the party-id HMAC key), decrypted."""
        return self._open_secret(self._get(name, "secret"))

    def _bundle(self, entry: Entry) -> tuple[object, cx509.Certificate]:
        path = self.directory / entry.key
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(_read(path), self._passphrase)
        except ValueError:
            raise InputError(f"{path}: the passphrase does not open it (or it is not a PKCS#12 file)") from None
        if cert is None:
            raise InputError(f"{path}: holds no certificate")
        return key, cert

    def _open_secret(self, entry: Entry) -> bytes:
        path = self.directory / entry.key
        try:
            sealed = json.loads(_read(path))
            salt, nonce, ciphertext = (base64.b64decode(sealed[f], validate=True)
                                       for f in ("salt", "nonce", "ciphertext"))
            kdf = Scrypt(salt=salt, length=32, n=int(sealed["n"]), r=int(sealed["r"]), p=int(sealed["p"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a keystore secret ({exc})") from None
        try:
            return AESGCM(kdf.derive(self._passphrase)).decrypt(nonce, ciphertext, entry.name.encode())
        except InvalidTag:
            raise InputError(f"{path}: the passphrase does not open it (or the file was altered or renamed)") from None

    # -- writing ---------------------------------------------------------------------------------------

    def put_identity(self, identity: Identity) -> None:
        """Keep ``identity`` (one of this org's) under its user name."""
        org_id, _, user = identity.handle.partition("/")
        if org_id != self.org_id:
            raise InputError(f"{identity.handle}: not an identity of {self.org_id}; each org keeps only its own")
        entry = Entry(name=_name(user), kind="identity", key=f"{user}.p12", role=identity.role,
                      fingerprint=identity.fingerprint)
        key = ed25519.Ed25519PrivateKey.from_private_bytes(identity.private_key)
        self._write(entry.key, self._pkcs12(user, key, cx509.load_der_x509_certificate(identity.cert_der)))
        self._add(entry)

    def put_document_signer(self, signer: DocumentSigner) -> None:
        """Keep the registry's document-signing certificate and key."""
        entry = Entry(name="docsign", kind="docsign", key="docsign.p12")
        self._write(entry.key, self._pkcs12("docsign", signer.key, signer.cert))
        self._add(entry)

    def put_sealing_key(self, key: x25519.X25519PrivateKey) -> None:
        """Keep the org's X25519 sealing key."""
        self._put_sealed(Entry(name="sealing", kind="sealing", key="sealing.json"), key.private_bytes_raw())

    def put_secret(self, name: str, value: bytes) -> None:
        """Keep a raw secret under ``name``."""
        self._put_sealed(Entry(name=_name(name), kind="secret", key=f"{name}.secret.json"), value)

    def _put_sealed(self, entry: Entry, value: bytes) -> None:
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        ciphertext = AESGCM(kdf.derive(self._passphrase)).encrypt(nonce, value, entry.name.encode())
        document = {"kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "aead": "AES-256-GCM",
                    "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
                    "ciphertext": base64.b64encode(ciphertext).decode()}
        self._write(entry.key, (json.dumps(document, indent=2) + "\n").encode())
        self._add(entry)

    def _pkcs12(self, name: str, key: pkcs12.PKCS12PrivateKeyTypes, cert: cx509.Certificate) -> bytes:
        encryption = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(PBKDF2_ROUNDS)
                      .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
                      .build(self._passphrase))
        return pkcs12.serialize_key_and_certificates(name.encode(), key, cert, None, encryption)

    def _add(self, entry: Entry) -> None:
        self._entries[entry.name] = entry
        self._write_index()

    def _write_index(self) -> None:
        document = {"type": KEYSTORE_TYPE, "org": self.org_id,
                    "entries": {name: self._entries[name].to_json() for name in sorted(self._entries)}}
        self._write(INDEX, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())

    def _write(self, relative: str, data: bytes) -> None:
        """Write one file (0600) atomically and durably."""
        write_durably(self.directory / relative, data)


def read_passphrase(path: Path | None, environment: Mapping[str, str], variable: str) -> bytes:
    """The keystore passphrase from a file (first line; must not be readable by others) or an environment variable."""
    if path is not None:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise InputError(f"{path}: the keystore passphrase file is missing") from None
        if mode & 0o077:
            raise InputError(f"{path}: the passphrase file is readable by others (mode {mode & 0o777:o}); "
                             f"chmod 600 {path}")
        passphrase = path.read_bytes().split(b"\n", 1)[0]
    elif variable in environment:
        passphrase = environment[variable].encode()
    else:
        raise InputError(f"no keystore passphrase: set {variable}, or give a passphrase file (mode 0600) with "
                         "ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE, or --passphrase-file on the keystore commands")
    _check_passphrase(passphrase)
    return passphrase


def _check_passphrase(passphrase: bytes) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise InputError(f"the keystore passphrase has {len(passphrase)} bytes; use at least {MIN_PASSPHRASE}")


def _name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(f"{name!r}: a keystore entry name is lower-case letters, digits, '.', '_' or '-'")
    return name


def _entry(path: Path, name: str, value: object) -> Entry:
    kinds = ("identity", "docsign", "sealing", "secret")
    if not isinstance(value, dict) or value.get("kind") not in kinds or not isinstance(value.get("key"), str):
        raise InputError(f"{path}: entries.{name}: expected kind (one of {', '.join(kinds)}) and key")
    role, fingerprint = value.get("role"), value.get("fingerprint")
    if value["kind"] == "identity" and not (isinstance(role, str) and isinstance(fingerprint, str)):
        raise InputError(f"{path}: entries.{name}: an identity needs its role and certificate fingerprint")
    relative = Path(value["key"])
    if relative.is_absolute() or len(relative.parts) != 1:
        raise InputError(f"{path}: entries.{name}: {value['key']!r} must be a file name inside the keystore folder")
    return Entry(name=_name(name), kind=value["kind"], key=value["key"],
                 role=role if isinstance(role, str) else None,
                 fingerprint=fingerprint if isinstance(fingerprint, str) else None)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: missing from the keystore") from None
