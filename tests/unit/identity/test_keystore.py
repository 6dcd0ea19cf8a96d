"""An org's keystore holds its keys encrypted at rest, opens them only with its passphrase, and
stays readable by standard tools (``openssl pkey``) so an operator can check what is on the disk."""

from __future__ import annotations

import base64
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from estatechain.clock import SystemClock
from estatechain.crypto import x509
from estatechain.errors import InputError
from estatechain.identity.devca import DevConsortium, create_dev_consortium, load_document_signer
from estatechain.identity.keystore import INDEX, Keystore, read_passphrase

PASSPHRASE = b"correct horse battery staple"
REGISTRY = "gz-registry"
USERS = ("issuer1", "intake1", "node")


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> DevConsortium:
    return create_dev_consortium(tmp_path_factory.mktemp("net"), now_ms=SystemClock().now_ms())


@pytest.fixture
def keystore(consortium: DevConsortium, tmp_path: Path) -> Keystore:
    store = Keystore.create(tmp_path / "keystore", REGISTRY, PASSPHRASE)
    for user in USERS:  # each costs 600,000 PBKDF2 rounds to write and to read: a few are enough here
        store.put_identity(consortium.identities[f"{REGISTRY}/{user}"])
    store.put_document_signer(load_document_signer(consortium.directory, REGISTRY))
    store.put_sealing_key(x25519.X25519PrivateKey.from_private_bytes(bytes(range(32))))
    store.put_secret("party-id", b"\x01" * 32)
    return store


def test_the_reopened_keystore_gives_back_every_key_it_was_given(consortium: DevConsortium, keystore: Keystore) -> None:
    reopened = Keystore.open(keystore.directory, PASSPHRASE)
    issuer = consortium.identities[f"{REGISTRY}/issuer1"]
    assert reopened.identity("issuer1") == issuer
    message = b"a registration certificate"
    signature = ed25519.Ed25519PrivateKey.from_private_bytes(reopened.identity("issuer1").private_key).sign(message)
    certificate = cx509.load_der_x509_certificate(issuer.cert_der)
    ed25519.Ed25519PublicKey.from_public_bytes(x509.public_key_bytes(certificate)).verify(signature, message)
    assert reopened.document_signer().cert == load_document_signer(consortium.directory, REGISTRY).cert
    assert reopened.sealing_key().private_bytes_raw() == bytes(range(32))
    assert reopened.secret("party-id") == b"\x01" * 32
    assert {e.name for e in reopened.names()} == {*USERS, "docsign", "sealing", "party-id"}


def test_no_key_is_on_the_disk_in_clear_and_every_file_is_private(consortium: DevConsortium,
                                                                  keystore: Keystore) -> None:
    raw = [consortium.identities[f"{REGISTRY}/issuer1"].private_key, bytes(range(32)), b"\x01" * 32]
    for path in keystore.directory.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            for secret in raw:
                assert secret not in data, path
                assert base64.b64encode(secret) not in data, path
                assert secret.hex().encode() not in data, path
    assert sorted(p.name for p in keystore.directory.iterdir()) == sorted(
        [INDEX, "docsign.p12", "sealing.json", "party-id.secret.json",
         *(f"{e.name}.p12" for e in keystore.names() if e.kind == "identity")])


def test_openssl_opens_an_identity_with_the_passphrase_only_and_it_is_the_certificates_key(
        keystore: Keystore, tmp_path: Path) -> None:
    bundle = str(keystore.directory / "issuer1.p12")
    pass_file = tmp_path / "pass"
    pass_file.write_bytes(PASSPHRASE)
    opened = subprocess.run(["openssl", "pkcs12", "-in", bundle, "-passin", f"file:{pass_file}", "-nodes"],
                            capture_output=True, check=True).stdout
    key_pem = opened[opened.index(b"-----BEGIN PRIVATE KEY-----"):]
    cert_pem = opened[opened.index(b"-----BEGIN CERTIFICATE-----"):opened.index(b"-----END CERTIFICATE-----") + 25]
    public = subprocess.run(["openssl", "pkey", "-pubout"], input=key_pem, capture_output=True, check=True).stdout
    from_cert = subprocess.run(["openssl", "x509", "-noout", "-pubkey"], input=cert_pem, capture_output=True,
                               check=True).stdout
    assert public == from_cert
    info = subprocess.run(["openssl", "pkcs12", "-in", bundle, "-passin", f"file:{pass_file}", "-info", "-noout"],
                          capture_output=True, check=True, text=True).stderr
    assert "PBKDF2" in info, info
    assert "600000" in info, info
    assert "AES-256-CBC" in info, info
    pass_file.write_bytes(b"not the passphrase at all")
    wrong = subprocess.run(["openssl", "pkcs12", "-in", bundle, "-passin", f"file:{pass_file}", "-nodes"],
                           capture_output=True, check=False)
    assert wrong.returncode != 0


def test_a_wrong_passphrase_is_refused_when_the_keystore_opens_naming_the_file(keystore: Keystore) -> None:
    with pytest.raises(InputError, match=r"passphrase does not open"):
        Keystore.open(keystore.directory, b"a wrong passphrase!")


def test_a_secret_moved_to_another_name_or_altered_does_not_open(keystore: Keystore) -> None:
    keystore.put_secret("other", b"\x02" * 32)
    (keystore.directory / "other.secret.json").write_bytes((keystore.directory / "party-id.secret.json").read_bytes())
    with pytest.raises(InputError, match=r"other\.secret\.json: the passphrase does not open it"):
        Keystore.open(keystore.directory, PASSPHRASE).secret("other")


def test_an_identity_key_swapped_for_another_is_refused(keystore: Keystore) -> None:
    (keystore.directory / "issuer1.p12").write_bytes((keystore.directory / "intake1.p12").read_bytes())
    with pytest.raises(InputError, match=r"issuer1\.p12: fingerprint differs"):
        Keystore.open(keystore.directory, PASSPHRASE).identity("issuer1")


def test_an_org_keeps_only_its_own_identities_and_asking_for_a_missing_one_says_how_to_add_it(
        consortium: DevConsortium, keystore: Keystore) -> None:
    with pytest.raises(InputError, match="not an identity of gz-registry"):
        keystore.put_identity(consortium.identities["icbc-gz/operator1"])
    with pytest.raises(InputError, match=r"no identity entry named 'operator1'.*keystore import"):
        keystore.identity("operator1")
    assert not keystore.has("operator1")


def test_passphrases_come_from_a_private_file_or_the_environment_and_must_be_long_enough(tmp_path: Path) -> None:
    path = tmp_path / "passphrase"
    path.write_bytes(PASSPHRASE + b"\n")
    path.chmod(0o644)
    with pytest.raises(InputError, match=r"readable by others.*chmod 600"):
        read_passphrase(path, {}, "ESTATECHAIN_KEYSTORE_PASSPHRASE")
    path.chmod(0o600)
    assert read_passphrase(path, {}, "ESTATECHAIN_KEYSTORE_PASSPHRASE") == PASSPHRASE
    assert read_passphrase(None, {"V": "another long passphrase"}, "V") == b"another long passphrase"
    with pytest.raises(InputError, match="set V, or give a passphrase file"):
        read_passphrase(None, {}, "V")
    with pytest.raises(InputError, match="at least 12"):
        read_passphrase(None, {"V": "short"}, "V")
    Keystore.create(tmp_path / "ks", REGISTRY, PASSPHRASE)
    with pytest.raises(InputError, match="already there"):
        Keystore.create(tmp_path / "ks", REGISTRY, PASSPHRASE)
