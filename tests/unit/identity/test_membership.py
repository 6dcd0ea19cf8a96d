from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from estatechain.crypto import x509
from estatechain.crypto.ed25519 import ED25519_SHA256
from estatechain.errors import InputError, Refused
from estatechain.identity.devca import DevConsortium, create_dev_consortium, issue_identity
from estatechain.identity.membership import CertificateRefusal, SignerCache, resolve_signer

NOW = 1_760_000_000_000
HOUR = 3_600_000


@pytest.fixture
def dev(tmp_path: Path) -> DevConsortium:
    return create_dev_consortium(tmp_path, now_ms=NOW)


def _ca(dev: DevConsortium, org_id: str) -> tuple[cx509.Certificate, x509.PrivateKey]:
    org_dir = dev.directory / "orgs" / org_id
    cert = x509.load_certificate((org_dir / "ca.pem").read_bytes())
    key = x509.load_private_key((org_dir / "ca.key.pem").read_bytes())
    return cert, key


def _issue(  # noqa: PLR0913
    ca: cx509.Certificate,
    ca_key: x509.PrivateKey,
    *,
    org_id: str,
    role: str,
    subject_key: x509.PublicKey | None = None,
    not_after_ms: int = NOW + HOUR,
) -> bytes:
    cert = x509.issue_certificate(
        ca_cert=ca,
        ca_key=ca_key,
        subject_key=subject_key or ed25519.Ed25519PrivateKey.generate().public_key(),
        org_id=org_id,
        role=role,
        common_name="someone",
        not_before_ms=NOW - HOUR,
        not_after_ms=not_after_ms,
    )
    return x509.certificate_der(cert)


def _forge(issuer: cx509.Name, signing_key: ed25519.Ed25519PrivateKey, subject: cx509.Name) -> bytes:
    """A certificate built by hand: any issuer name, any signing key, any subject."""
    start = dt.datetime.fromtimestamp(NOW // 1000 - 3600, tz=dt.UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(ed25519.Ed25519PrivateKey.generate().public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=1))
        .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(signing_key, None)
    )
    return x509.certificate_der(cert)


def _subject(*attributes: tuple[cx509.ObjectIdentifier, str]) -> cx509.Name:
    return cx509.Name([cx509.NameAttribute(oid, value) for oid, value in attributes])


def _refusal(dev: DevConsortium, cert_der: bytes) -> Refused:
    with pytest.raises(Refused) as caught:
        resolve_signer(dev.genesis, cert_der)
    return caught.value


# ---------------------------------------------------------------------------------------------- good signers


def test_a_registry_recorder_resolves_to_its_org_type_and_role(dev: DevConsortium) -> None:
    recorder = dev.identities["gz-registry/recorder1"]
    signer = resolve_signer(dev.genesis, recorder.cert_der)
    assert (signer.org_id, signer.org_type, signer.role) == ("gz-registry", "registry", "registry.recorder")
    assert signer.fingerprint == recorder.fingerprint == x509.fingerprint(recorder.cert_der)
    assert signer.cert_der == recorder.cert_der
    assert signer.not_before_ms == NOW - HOUR
    assert signer.not_after_ms > NOW
    message = b"payload"
    signature = ED25519_SHA256.sign(recorder.private_key, message)
    assert ED25519_SHA256.verify(signer.public_key, message, signature)


def test_every_dev_identity_resolves_to_the_org_and_role_it_was_issued(dev: DevConsortium) -> None:
    cache = SignerCache(dev.genesis)
    for identity in dev.identities.values():
        signer = cache.resolve(identity.cert_der)
        assert (signer.org_id, signer.role) == (identity.org_id, identity.role)
        assert signer.org_type == dev.genesis.org(identity.org_id).type


def test_validity_and_revocation_are_left_to_the_ledger(dev: DevConsortium) -> None:
    ca, key = _ca(dev, "icbc-gz")
    expired = _issue(ca, key, org_id="icbc-gz", role="bank.operator", not_after_ms=NOW - HOUR // 2)
    signer = resolve_signer(dev.genesis, expired)
    assert signer.not_after_ms < NOW


# ---------------------------------------------------------------------------------------------- refusals


def test_bank_issued_registry_recorder_is_not_grantable(dev: DevConsortium) -> None:
    rogue = issue_identity(dev.directory, org_id="icbc-gz", user="rogue", role="registry.recorder", now_ms=NOW)
    refused = _refusal(dev, rogue.cert_der)
    assert refused.code == CertificateRefusal.ROLE_NOT_GRANTABLE == "ROLE_NOT_GRANTABLE"
    assert "'bank' org may grant" in refused.message
    assert refused.detail["role"] == "registry.recorder"
    assert refused.detail["org_id"] == "icbc-gz"
    assert isinstance(refused, InputError)


def test_certificate_without_a_role_is_not_grantable(dev: DevConsortium) -> None:
    ca, key = _ca(dev, "icbc-gz")
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    cert = _forge(ca.subject, key, _subject((NameOID.ORGANIZATION_NAME, "icbc-gz"), (NameOID.COMMON_NAME, "x")))
    refused = _refusal(dev, cert)
    assert refused.code == "ROLE_NOT_GRANTABLE"
    assert "(no OU)" in refused.message


def test_certificate_with_two_roles_is_not_grantable(dev: DevConsortium) -> None:
    ca, key = _ca(dev, "icbc-gz")
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    subject = _subject(
        (NameOID.ORGANIZATION_NAME, "icbc-gz"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "bank.operator"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "bank.approver"),
    )
    assert _refusal(dev, _forge(ca.subject, key, subject)).code == "ROLE_NOT_GRANTABLE"


def test_certificate_from_a_ca_outside_genesis_has_unknown_issuer(dev: DevConsortium) -> None:
    key = x509.generate_key()
    foreign = x509.create_ca(org_id="foreign-bank", key=key, not_before_ms=NOW - HOUR, not_after_ms=NOW + HOUR)
    refused = _refusal(dev, _issue(foreign, key, org_id="foreign-bank", role="bank.operator"))
    assert refused.code == "UNKNOWN_ISSUER"
    assert "no member org's CA is named" in refused.message
    assert refused.detail["issuer"] == "CN=foreign-bank CA,O=foreign-bank"


def test_impostor_ca_with_a_member_ca_name_has_unknown_issuer(dev: DevConsortium) -> None:
    key = x509.generate_key()
    impostor = x509.create_ca(org_id="gz-registry", key=key, not_before_ms=NOW - HOUR, not_after_ms=NOW + HOUR)
    refused = _refusal(dev, _issue(impostor, key, org_id="gz-registry", role="registry.recorder"))
    assert refused.code == "UNKNOWN_ISSUER"
    assert "signature does not verify" in refused.message
    assert refused.detail["org_id"] == "gz-registry"


def test_certificate_signed_by_another_orgs_ca_key_but_naming_the_registry_has_unknown_issuer(
    dev: DevConsortium,
) -> None:
    registry_ca, _ = _ca(dev, "gz-registry")
    _, bank_key = _ca(dev, "icbc-gz")
    assert isinstance(bank_key, ed25519.Ed25519PrivateKey)
    subject = _subject(
        (NameOID.ORGANIZATION_NAME, "gz-registry"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "registry.recorder"),
        (NameOID.COMMON_NAME, "forged"),
    )
    refused = _refusal(dev, _forge(registry_ca.subject, bank_key, subject))
    assert refused.code == "UNKNOWN_ISSUER"
    assert "'gz-registry'" in refused.message
    assert "signature does not verify" in refused.message


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a certificate", b"\x30\x03\x02\x01\x01", bytes(range(256))],
    ids=["empty", "text", "short-der", "noise"],
)
def test_garbage_is_a_malformed_certificate(dev: DevConsortium, garbage: bytes) -> None:
    refused = _refusal(dev, garbage)
    assert refused.code == "MALFORMED_CERTIFICATE"
    assert refused.detail["fingerprint"] == x509.fingerprint(garbage)


def test_pem_or_truncated_der_is_a_malformed_certificate(dev: DevConsortium) -> None:
    der = dev.identities["gz-registry/recorder1"].cert_der
    pem = x509.certificate_pem(x509.load_certificate(der)).encode()
    for bad in (pem, der[:-1], der + b"\x00"):
        assert _refusal(dev, bad).code == "MALFORMED_CERTIFICATE"


def test_a_certificate_with_its_version_byte_changed_is_malformed_not_an_internal_error(dev: DevConsortium) -> None:
    """Found by the random tamper campaign: ``cryptography`` raises ``InvalidVersion``, which is no ValueError."""
    der = dev.identities["gz-registry/recorder1"].cert_der
    v3 = b"\xa0\x03\x02\x01\x02"  # TBSCertificate's [0] EXPLICIT version: v3
    assert der.count(v3) == 1
    bad = der.replace(v3, v3[:-1] + b"\x7a")
    refused = _refusal(dev, bad)
    assert refused.code == "MALFORMED_CERTIFICATE"
    assert "not a valid X509 version" in refused.message
    with pytest.raises(InputError, match=r"recorder1: not a PEM or DER X\.509 certificate"):
        x509.load_certificate(bad, what="recorder1")


def test_non_ed25519_signer_key_is_malformed_for_this_suite(dev: DevConsortium) -> None:
    ca, key = _ca(dev, "gz-registry")
    ecdsa = x509.generate_key(x509.ECDSA_P256).public_key()
    refused = _refusal(dev, _issue(ca, key, org_id="gz-registry", role="registry.issuer", subject_key=ecdsa))
    assert refused.code == "MALFORMED_CERTIFICATE"
    assert "ecdsa-p256" in refused.message


def test_ca_certificate_used_as_signer_is_not_an_end_entity(dev: DevConsortium) -> None:
    refused = _refusal(dev, dev.genesis.org("gz-registry").ca_cert_der)
    assert refused.code == "NOT_END_ENTITY"


def test_subject_org_other_than_the_issuing_org_is_a_mismatch(dev: DevConsortium) -> None:
    ca, key = _ca(dev, "icbc-gz")
    refused = _refusal(dev, _issue(ca, key, org_id="ccb-gz", role="bank.operator"))
    assert refused.code == "ORG_MISMATCH"
    assert refused.detail == {
        "fingerprint": refused.detail["fingerprint"],
        "org_id": "icbc-gz",
        "subject_o": "ccb-gz",
    }


# ---------------------------------------------------------------------------------------------- cache


def test_cache_returns_the_same_signer_and_keeps_no_refusals(dev: DevConsortium) -> None:
    cache = SignerCache(dev.genesis)
    der = dev.identities["icbc-gz/operator1"].cert_der
    first = cache.resolve(der)
    assert cache.resolve(der) is first
    with pytest.raises(Refused):
        cache.resolve(b"garbage")
    assert len(cache) == 1


def test_cache_is_bounded(dev: DevConsortium) -> None:
    cache = SignerCache(dev.genesis, max_entries=2)
    for identity in list(dev.identities.values())[:5]:
        cache.resolve(identity.cert_der)
    assert len(cache) == 2
