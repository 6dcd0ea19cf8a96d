"""The development consortium: every org's CA and users' keys in one folder (design §3.16).

In production each org makes its own keys and hands only its CA certificate to genesis; nobody ever
holds another org's keys. A developer, a test or ``estatechain init`` needs the whole cast on one
machine instead, so this module creates it — and says in the folder that it is for development only.

Layout (paths in ``identities.json`` are relative to the folder, so it can be moved)::

    DIR/genesis.json                          canonical genesis bytes (sha256 = chain id); written last
    DIR/DEVELOPMENT-ONLY.txt
    DIR/identities.json                       handle "org/user" -> org, role, fingerprint, cert, key
    DIR/orgs/<org>/ca.pem, ca.key.pem
    DIR/orgs/<org>/users/<user>/cert.pem, key.pem
    DIR/orgs/<registry>/users/docsign/cert.pem, key.pem   ECDSA P-256 document-signing certificate

Private keys are unencrypted PKCS#8 PEM with mode 0600.

The document-signing certificate (design §3.20) is not a ledger identity and is not in
``identities.json``: it signs certificate PDFs (PAdES), which common PDF validators check only for
ECDSA or RSA keys, never Ed25519. Its subject is ``O=<org id>, OU=document-signing, CN=<the
registry's Chinese name>`` so a PDF reader names the registry as the signer; key usage is
``digitalSignature`` + ``nonRepudiation`` (content commitment).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from estatechain.crypto import x509
from estatechain.errors import Conflict, InputError
from estatechain.identity.genesis import STANDARD_ORG_TYPES, Genesis, Org, Policies

DEFAULT_NAME: Final = "Guangzhou Real Estate Registration Consortium (development)"
SUITE: Final = "ed25519-sha256"
IDENTITIES_TYPE: Final = "estatechain.dev-identities.v1"

HOUR_MS: Final = 3_600_000
YEAR_MS: Final = 365 * 24 * HOUR_MS
BACKDATE_MS: Final = HOUR_MS
"""Certificates start an hour before ``now_ms``, so clock skew between machines cannot make them 'not yet valid'."""
CA_VALIDITY_MS: Final = 10 * YEAR_MS
USER_VALIDITY_MS: Final = 5 * YEAR_MS

DOCSIGN_USER: Final = "docsign"
DOCSIGN_ROLE: Final = "document-signing"
_DOCSIGN_KEY_USAGE: Final = cx509.KeyUsage(
    digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
)

_USER_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PRIVATE: Final = 0o600

_DEV_ORGS: Final = (
    ("gz-registry", "registry", "广州市不动产登记中心 / Guangzhou Real Estate Registration Center"),
    ("icbc-gz", "bank", "中国工商银行广州分行 / Industrial and Commercial Bank of China, Guangzhou Branch"),
    ("ccb-gz", "bank", "中国建设银行广州分行 / China Construction Bank, Guangzhou Branch"),
    ("gz-court", "court", "广州市中级人民法院 / Guangzhou Intermediate People's Court"),
    ("gz-regulator", "regulator", "广州市规划和自然资源局 / Guangzhou Municipal Planning and Natural Resources Bureau"),
    ("gz-identity", "identity_authority", "广州市数字身份认证中心 / Guangzhou Digital Identity Authority"),
    ("poly-developer", "developer", "保利发展控股集团 / Poly Developments and Holdings Group"),
)
"""(id, type, display name): a registry, two banks, a court, a regulator, an identity authority, a developer."""

_HOW_MANY: Final = {"registry.reviewer": 2, "registry.recorder": 2, "person": 4}
"""Two reviewers and two recorders, because the person who reviews a case may not record it."""

_NOTICE: Final = """\
DEVELOPMENT ONLY — DO NOT USE THESE KEYS FOR ANYTHING REAL

This folder holds the private keys of every organisation in a development consortium: each org's CA
key and the keys of all its users and nodes, unencrypted. That is convenient for development and
tests, and it defeats the whole point of a consortium ledger: whoever has this folder can sign as the
registry, as any bank, as a court and as any property owner.

In production every organisation generates its own CA and user keys on its own systems and hands
only its CA *certificate* (never a key) to the genesis configuration. No single party ever holds
another party's keys.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """One user's certificate and raw key: enough to sign transactions as ``handle`` (``org/user``)."""

    handle: str
    org_id: str
    role: str
    cert_der: bytes
    private_key: bytes
    fingerprint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DevConsortium:
    """A development consortium on disk: its genesis and every identity in it, by handle."""

    directory: Path
    genesis: Genesis
    identities: Mapping[str, Identity]

    def by_role(self, role: str) -> tuple[Identity, ...]:
        """Identities holding ``role``, in creation order (org by org)."""
        return tuple(i for i in self.identities.values() if i.role == role)


def dev_users(roles: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(user, role) pairs for an org: one user per grantable role, more where a rule needs them."""
    users: list[tuple[str, str]] = []
    for role in roles:
        if role == "org.admin":
            users.append(("org-admin", role))
        elif role == "node":
            users.append(("node", role))
        else:
            base = role.rsplit(".", 1)[-1]
            users.extend((f"{base}{n}", role) for n in range(1, _HOW_MANY.get(role, 1) + 1))
    return tuple(users)


def create_dev_consortium(directory: Path, *, now_ms: int, name: str = DEFAULT_NAME) -> DevConsortium:
    """Create the development consortium in ``directory`` (made if missing).

    Raises:
        Conflict: ``directory`` already holds a genesis.

    """
    if (directory / "genesis.json").exists():
        raise Conflict(f"{directory / 'genesis.json'}: already holds a consortium; choose an empty directory")
    types = {t.name: t for t in STANDARD_ORG_TYPES}
    orgs: list[Org] = []
    identities: dict[str, Identity] = {}
    for org_id, org_type, display in _DEV_ORGS:
        ca_key = x509.generate_key()
        ca = x509.create_ca(
            org_id=org_id, key=ca_key, not_before_ms=now_ms - BACKDATE_MS, not_after_ms=now_ms + CA_VALIDITY_MS
        )
        org_dir = directory / "orgs" / org_id
        _write(org_dir / "ca.pem", x509.certificate_pem(ca).encode("ascii"))
        _write(org_dir / "ca.key.pem", x509.private_key_pem(ca_key), private=True)
        orgs.append(Org(id=org_id, name=display, type=org_type, ca_cert_der=x509.certificate_der(ca)))
        for user, role in dev_users(types[org_type].roles):
            identity, key = _issue(ca, ca_key, org_id=org_id, user=user, role=role, now_ms=now_ms)
            user_dir = org_dir / "users" / user
            _write(user_dir / "cert.pem", x509.certificate_pem(x509.load_certificate(identity.cert_der)).encode())
            _write(user_dir / "key.pem", x509.private_key_pem(key), private=True)
            identities[identity.handle] = identity
        if org_type == "registry":
            _issue_docsign(ca, ca_key, org_dir, org_id=org_id, name=display.split(" / ", 1)[0], now_ms=now_ms)
    genesis = Genesis(
        consortium=name,
        suite=SUITE,
        created_at_ms=now_ms,
        org_types=STANDARD_ORG_TYPES,
        orgs=tuple(orgs),
        policies=Policies(),
    )
    _write(directory / "DEVELOPMENT-ONLY.txt", _NOTICE.encode())
    _write(directory / "identities.json", _index(genesis, identities))
    tmp = directory / "genesis.json.tmp"
    _write(tmp, genesis.canonical_bytes())
    tmp.replace(directory / "genesis.json")
    return DevConsortium(directory=directory, genesis=genesis, identities=MappingProxyType(identities))


def issue_identity(  # noqa: PLR0913  (keywords only; each names a field of the certificate)
    directory: Path,
    *,
    org_id: str,
    user: str,
    role: str,
    now_ms: int,
    common_name: str | None = None,
) -> Identity:
    """Issue one more certificate from ``org_id``'s dev CA, with *any* role, in memory only.

    The role is not checked against the org's type on purpose: tests need, say, a bank-issued
    ``registry.recorder`` to show that membership refuses it. Nothing is written to ``directory``.

    Raises:
        InputError: no such org in the folder, or its CA files are unreadable.

    """
    org_dir = directory / "orgs" / org_id
    ca = x509.load_certificate(_read(org_dir / "ca.pem"), what=str(org_dir / "ca.pem"))
    ca_key = x509.load_private_key(_read(org_dir / "ca.key.pem"), what=str(org_dir / "ca.key.pem"))
    identity, _ = _issue(ca, ca_key, org_id=org_id, user=user, role=role, now_ms=now_ms, common_name=common_name)
    return identity


def add_dev_users(
    consortium: DevConsortium, org_id: str, users: tuple[tuple[str, str], ...], *, now_ms: int,
) -> DevConsortium:
    """Issue and keep more users of ``org_id`` (``(user, role)`` pairs) in an existing dev consortium.

    ``estatechain init`` adds the persons bound to the co-owners of one unit this way, after the
    standard users, so the standard handles (``person1..4``) keep what they are bound to. The users'
    key files are written like ``create_dev_consortium`` writes them and ``identities.json`` is
    rewritten with them appended.

    Raises:
        Conflict: a handle already exists in the consortium.
        InputError: no such org in the folder, or its CA files are unreadable.

    """
    directory = consortium.directory
    org_dir = directory / "orgs" / org_id
    ca = x509.load_certificate(_read(org_dir / "ca.pem"), what=str(org_dir / "ca.pem"))
    ca_key = x509.load_private_key(_read(org_dir / "ca.key.pem"), what=str(org_dir / "ca.key.pem"))
    identities = dict(consortium.identities)
    for user, role in users:
        if f"{org_id}/{user}" in identities:
            raise Conflict(f"{org_id}/{user}: already exists in {directory}")
        identity, key = _issue(ca, ca_key, org_id=org_id, user=user, role=role, now_ms=now_ms)
        user_dir = org_dir / "users" / user
        _write(user_dir / "cert.pem", x509.certificate_pem(x509.load_certificate(identity.cert_der)).encode())
        _write(user_dir / "key.pem", x509.private_key_pem(key), private=True)
        identities[identity.handle] = identity
    _write(directory / "identities.json", _index(consortium.genesis, identities))
    return DevConsortium(directory=directory, genesis=consortium.genesis, identities=MappingProxyType(identities))


def load_dev_consortium(directory: Path) -> DevConsortium:
    """Read a development consortium back, checking every certificate against its index entry.

    Raises:
        InputError: a file is missing or corrupt (the message names it).

    """
    genesis_path = directory / "genesis.json"
    data = _read(genesis_path)
    try:
        genesis = Genesis.from_bytes(data)
    except InputError as exc:
        raise InputError(f"{genesis_path}: {exc}") from None
    index_path = directory / "identities.json"
    entries = _parse_index(index_path, genesis)
    identities: dict[str, Identity] = {}
    for handle, entry in entries.items():
        identities[handle] = _load_identity(directory, index_path, handle, entry)
    return DevConsortium(directory=directory, genesis=genesis, identities=MappingProxyType(identities))


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSigner:
    """A registry's ECDSA P-256 document-signing certificate and key (PAdES signatures on certificate PDFs)."""

    org_id: str
    cert: cx509.Certificate
    key: ec.EllipticCurvePrivateKey


def docsign_paths(directory: Path, org_id: str) -> tuple[Path, Path]:
    """Where ``org_id``'s document-signing certificate and key are in a dev consortium folder."""
    base = directory / "orgs" / org_id / "users" / DOCSIGN_USER
    return base / "cert.pem", base / "key.pem"


def load_document_signer(directory: Path, org_id: str) -> DocumentSigner:
    """Read a registry's document-signing certificate and key from a dev consortium folder.

    Raises:
        InputError: the files are missing, or the key is not the certificate's ECDSA P-256 key.

    """
    cert_path, key_path = docsign_paths(directory, org_id)
    cert = x509.load_certificate(_read(cert_path), what=str(cert_path))
    key = x509.load_private_key(_read(key_path), what=str(key_path))
    public = x509.public_key(cert)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(public, ec.EllipticCurvePublicKey) or (
        public.public_numbers() != key.public_key().public_numbers()
    ):
        raise InputError(f"{key_path}: not the ECDSA P-256 key of {cert_path}")
    return DocumentSigner(org_id=org_id, cert=cert, key=key)


# ---------------------------------------------------------------------------------------------- internals


def _issue_docsign(  # noqa: PLR0913  (keywords only)
    ca: cx509.Certificate, ca_key: x509.PrivateKey, org_dir: Path, *, org_id: str, name: str, now_ms: int,
) -> None:
    """The registry's document-signing certificate, written under ``users/docsign``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = x509.issue_certificate(
        ca_cert=ca, ca_key=ca_key, subject_key=key.public_key(), org_id=org_id, role=DOCSIGN_ROLE,
        common_name=name, not_before_ms=now_ms - BACKDATE_MS,
        not_after_ms=min(now_ms + USER_VALIDITY_MS, x509.not_after_ms(ca)), key_usage=_DOCSIGN_KEY_USAGE,
    )
    user_dir = org_dir / "users" / DOCSIGN_USER
    _write(user_dir / "cert.pem", x509.certificate_pem(cert).encode("ascii"))
    _write(user_dir / "key.pem", x509.private_key_pem(key), private=True)



def _issue(  # noqa: PLR0913  (keywords only)
    ca: cx509.Certificate,
    ca_key: x509.PrivateKey,
    *,
    org_id: str,
    user: str,
    role: str,
    now_ms: int,
    common_name: str | None = None,
) -> tuple[Identity, ed25519.Ed25519PrivateKey]:
    if not _USER_PATTERN.fullmatch(user):
        raise InputError(f"user: {user!r} must match {_USER_PATTERN.pattern}")
    if common_name is None:
        # Person certificates never carry a real name (design §3.18): the subject is a pseudonym.
        common_name = f"person-{secrets.token_hex(8)}" if role == "person" else user
    key = ed25519.Ed25519PrivateKey.generate()
    cert = x509.issue_certificate(
        ca_cert=ca,
        ca_key=ca_key,
        subject_key=key.public_key(),
        org_id=org_id,
        role=role,
        common_name=common_name,
        not_before_ms=now_ms - BACKDATE_MS,
        not_after_ms=min(now_ms + USER_VALIDITY_MS, x509.not_after_ms(ca)),
    )
    der = x509.certificate_der(cert)
    identity = Identity(
        handle=f"{org_id}/{user}",
        org_id=org_id,
        role=role,
        cert_der=der,
        private_key=x509.raw_private_key(key),
        fingerprint=x509.fingerprint(der),
    )
    return identity, key


def _user_paths(handle: str) -> tuple[str, str]:
    org_id, user = handle.split("/", 1)
    base = f"orgs/{org_id}/users/{user}"
    return f"{base}/cert.pem", f"{base}/key.pem"


def _index(genesis: Genesis, identities: Mapping[str, Identity]) -> bytes:
    entries = {}
    for handle, identity in identities.items():
        cert, key = _user_paths(handle)
        entries[handle] = {
            "org": identity.org_id,
            "role": identity.role,
            "fingerprint": identity.fingerprint,
            "cert": cert,
            "key": key,
        }
    document = {"type": IDENTITIES_TYPE, "chain_id": genesis.chain_id, "identities": entries}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _parse_index(path: Path, genesis: Genesis) -> dict[str, dict[str, str]]:
    try:
        document = json.loads(_read(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != IDENTITIES_TYPE:
        raise InputError(f"{path}: not an identity index (expected type {IDENTITIES_TYPE!r})")
    if document.get("chain_id") != genesis.chain_id:
        raise InputError(f"{path}: chain_id does not match genesis.json; the folder mixes two consortia")
    entries = document.get("identities")
    if not isinstance(entries, dict):
        raise InputError(f"{path}: identities: expected an object keyed by handle")
    for handle, entry in entries.items():
        fields = ("org", "role", "fingerprint", "cert", "key")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise InputError(f"{path}: identities.{handle}: expected string fields {', '.join(fields)}")
        org_id, _, user = handle.partition("/")
        if (
            org_id != entry["org"]
            or not _USER_PATTERN.fullmatch(user)
            or (entry["cert"], entry["key"]) != _user_paths(handle)
        ):
            raise InputError(f"{path}: identities.{handle}: handle or file paths do not follow the layout")
    return entries


def _load_identity(directory: Path, index_path: Path, handle: str, entry: Mapping[str, str]) -> Identity:
    cert_path, key_path = directory / entry["cert"], directory / entry["key"]
    cert = x509.load_certificate(_read(cert_path), what=str(cert_path))
    der = x509.certificate_der(cert)
    if x509.fingerprint(der) != entry["fingerprint"]:
        raise InputError(f"{cert_path}: fingerprint differs from {index_path} for {handle!r}; the file was replaced")
    subject_o = x509.subject_values(cert, NameOID.ORGANIZATION_NAME)
    subject_ou = x509.subject_values(cert, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if (subject_o, subject_ou) != ((entry["org"],), (entry["role"],)):
        raise InputError(f"{cert_path}: subject O/OU differ from {index_path} for {handle!r}")
    key = x509.load_private_key(_read(key_path), what=str(key_path))
    if not isinstance(key, ed25519.Ed25519PrivateKey) or key.public_key().public_bytes_raw() != x509.public_key_bytes(
        cert
    ):
        raise InputError(f"{key_path}: not the Ed25519 key of {cert_path}")
    return Identity(
        handle=handle,
        org_id=entry["org"],
        role=entry["role"],
        cert_der=der,
        private_key=x509.raw_private_key(key),
        fingerprint=entry["fingerprint"],
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: missing; create the consortium first (estatechain init)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write a file; private ones are created 0600 and re-chmodded in case they existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _PRIVATE if private else 0o644
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as file:
        if private:
            os.fchmod(file.fileno(), _PRIVATE)
        file.write(data)
