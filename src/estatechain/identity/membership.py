"""Who a certificate speaks for: resolve a signer certificate against the genesis orgs.

This runs for every submitted transaction, so it answers one question only — is this certificate
issued by a member org's CA, for a role that org's type may grant? — and is cached per fingerprint.
It deliberately does *not* look at the validity period or revocation: those depend on block time
and on state at a height, which the ledger checks (design §3.3, §3.13); a cached ``Signer`` is
therefore a fact about the certificate alone and never goes stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cryptography import x509 as cx509
from cryptography.x509.oid import NameOID

from estatechain.crypto import x509
from estatechain.errors import Refused
from estatechain.identity.genesis import Genesis, Org

DEFAULT_CACHE_ENTRIES: Final = 100_000


class CertificateRefusal(StrEnum):
    """Stable codes for certificates that cannot sign (the same wire names as ``ledger.refusals``)."""

    MALFORMED_CERTIFICATE = "MALFORMED_CERTIFICATE"
    UNKNOWN_ISSUER = "UNKNOWN_ISSUER"
    ROLE_NOT_GRANTABLE = "ROLE_NOT_GRANTABLE"
    ORG_MISMATCH = "ORG_MISMATCH"
    NOT_END_ENTITY = "NOT_END_ENTITY"


@dataclass(frozen=True, slots=True, kw_only=True)
class Signer:
    """A resolved signer: which member org, org type and role a certificate speaks for."""

    fingerprint: str
    org_id: str
    org_type: str
    role: str
    public_key: bytes
    not_before_ms: int
    not_after_ms: int
    cert_der: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class _Issuer:
    org: Org
    ca: cx509.Certificate
    roles: frozenset[str]


def _issuers(genesis: Genesis) -> dict[cx509.Name, _Issuer]:
    """Member CAs by subject name (genesis guarantees the names are distinct)."""
    issuers: dict[cx509.Name, _Issuer] = {}
    for org in genesis.orgs:
        ca = cx509.load_der_x509_certificate(org.ca_cert_der)
        roles = frozenset(genesis.org_type(org.type).roles)
        issuers[ca.subject] = _Issuer(org=org, ca=ca, roles=roles)
    return issuers


def _refuse(code: CertificateRefusal, message: str, **detail: str) -> Refused:
    return Refused(code.value, message, detail)


def _only(values: tuple[str, ...]) -> str | None:
    return values[0] if len(values) == 1 else None


def _resolve(
    issuers: Mapping[cx509.Name, _Issuer], key_algorithm: str | None, suite: str, cert_der: bytes, digest: str
) -> Signer:
    try:
        cert = cx509.load_der_x509_certificate(cert_der)
        issuer_name = cert.issuer
        ca_flag = x509.is_ca(cert)
        organisations = x509.subject_values(cert, NameOID.ORGANIZATION_NAME)
        units = x509.subject_values(cert, NameOID.ORGANIZATIONAL_UNIT_NAME)
    except x509.UNPARSEABLE as exc:
        raise _refuse(
            CertificateRefusal.MALFORMED_CERTIFICATE,
            f"signer certificate is not a parseable DER X.509 certificate ({exc}); send the DER bytes",
            fingerprint=digest,
        ) from None
    if x509.key_algorithm(cert) != key_algorithm:
        raise _refuse(
            CertificateRefusal.MALFORMED_CERTIFICATE,
            f"signer certificate key is {x509.key_algorithm(cert) or 'of an unsupported type'}; "
            f"suite {suite!r} signs with {key_algorithm}",
            fingerprint=digest,
        )
    issuer = issuers.get(issuer_name)
    if issuer is None:
        raise _refuse(
            CertificateRefusal.UNKNOWN_ISSUER,
            f"no member org's CA is named {issuer_name.rfc4514_string()!r}; use a certificate from a genesis org",
            fingerprint=digest,
            issuer=issuer_name.rfc4514_string(),
        )
    if not x509.signature_verifies(cert, issuer.ca):
        raise _refuse(
            CertificateRefusal.UNKNOWN_ISSUER,
            f"certificate names org {issuer.org.id!r}'s CA as issuer, but that CA's signature does not verify",
            fingerprint=digest,
            issuer=issuer_name.rfc4514_string(),
            org_id=issuer.org.id,
        )
    if ca_flag:
        raise _refuse(
            CertificateRefusal.NOT_END_ENTITY,
            "a CA certificate (basicConstraints CA:TRUE) cannot sign transactions; use an end-entity certificate",
            fingerprint=digest,
            org_id=issuer.org.id,
        )
    org_id = _only(organisations)
    if org_id != issuer.org.id:
        raise _refuse(
            CertificateRefusal.ORG_MISMATCH,
            f"subject O={', '.join(organisations) or '(none)'} must be exactly the issuing org {issuer.org.id!r}",
            fingerprint=digest,
            org_id=issuer.org.id,
            subject_o=", ".join(organisations),
        )
    role = _only(units)
    if role is None or role not in issuer.roles:
        shown = ", ".join(units) or "(no OU)"
        raise _refuse(
            CertificateRefusal.ROLE_NOT_GRANTABLE,
            f"role OU={shown} is not one a {issuer.org.type!r} org may grant "
            f"(exactly one OU of: {', '.join(sorted(issuer.roles))})",
            fingerprint=digest,
            org_id=issuer.org.id,
            org_type=issuer.org.type,
            role=shown,
        )
    return Signer(
        fingerprint=digest,
        org_id=issuer.org.id,
        org_type=issuer.org.type,
        role=role,
        public_key=x509.public_key_bytes(cert),
        not_before_ms=x509.not_before_ms(cert),
        not_after_ms=x509.not_after_ms(cert),
        cert_der=cert_der,
    )


def resolve_signer(genesis: Genesis, cert_der: bytes) -> Signer:
    """Resolve one certificate without caching (use ``SignerCache`` on the hot path).

    Raises:
        Refused: with a ``CertificateRefusal`` code naming why the certificate cannot sign.

    """
    return SignerCache(genesis).resolve(cert_der)


class SignerCache:
    """``resolve_signer`` with the member CAs parsed once and successes cached by fingerprint.

    Only successes are cached, so garbage certificates cannot grow the cache; it is still bounded
    (oldest entry dropped first) because a long-running node sees every certificate ever used.
    """

    __slots__ = ("_entries", "_issuers", "_key_algorithm", "_max_entries", "_suite")

    def __init__(self, genesis: Genesis, *, max_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        self._issuers = _issuers(genesis)
        self._suite = genesis.suite
        self._key_algorithm = x509.SUITE_KEY_ALGORITHMS.get(genesis.suite)
        self._max_entries = max_entries
        self._entries: dict[str, Signer] = {}

    def resolve(self, cert_der: bytes) -> Signer:
        """The signer this DER certificate speaks for.

        Raises:
            Refused: with a ``CertificateRefusal`` code naming why the certificate cannot sign.

        """
        digest = x509.fingerprint(cert_der)
        cached = self._entries.get(digest)
        if cached is not None:
            return cached
        signer = _resolve(self._issuers, self._key_algorithm, self._suite, cert_der, digest)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[signer.fingerprint] = signer
        return signer

    def __len__(self) -> int:
        return len(self._entries)
