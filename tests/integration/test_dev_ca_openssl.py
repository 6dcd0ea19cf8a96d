"""The development consortium on disk, checked with the real ``openssl`` binary (design §3.3)."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID

from estatechain.crypto import x509
from estatechain.errors import Conflict, InputError
from estatechain.identity.devca import DevConsortium, create_dev_consortium, load_dev_consortium

NOW = 1_760_000_000_000
AT = str(NOW // 1000 + 60)  # openssl checks validity at this time, never at the wall clock

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENSSL, *args], capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture(scope="module", autouse=True)
def _openssl_with_ed25519() -> None:
    if not Path(OPENSSL).exists():
        pytest.fail("openssl binary not installed; scripts/setup installs Debian's openssl package")
    version = _openssl("version").stdout
    match = re.match(r"OpenSSL (\d+)\.(\d+)\.(\d+)", version)
    if match is None or tuple(int(part) for part in match.groups()) < (1, 1, 1):
        pytest.fail(f"needs OpenSSL >= 1.1.1 for Ed25519 certificates, found {version.strip()!r}")


@pytest.fixture
def dev(tmp_path: Path) -> DevConsortium:
    return create_dev_consortium(tmp_path / "dev", now_ms=NOW)


def _orgs(dev: DevConsortium) -> list[Path]:
    return sorted(path for path in (dev.directory / "orgs").iterdir() if path.is_dir())


def _verify(ca: Path, *certs: Path, at: str = AT) -> subprocess.CompletedProcess[str]:
    return _openssl("verify", "-x509_strict", "-attime", at, "-CAfile", str(ca), *map(str, certs))


# ---------------------------------------------------------------------------------------------- openssl


def test_every_certificate_passes_openssl_verify_against_its_org_ca(dev: DevConsortium) -> None:
    written = {p for p in dev.directory.rglob("*.pem") if not p.name.endswith("key.pem")}
    checked: set[Path] = set()
    for org_dir in _orgs(dev):
        certs = [org_dir / "ca.pem", *sorted(org_dir.glob("users/*/cert.pem"))]
        result = _verify(org_dir / "ca.pem", *certs)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.splitlines() == [f"{cert}: OK" for cert in certs]
        checked.update(certs)
    assert checked == written
    registries = sum(1 for org in dev.genesis.orgs if org.type == "registry")  # + document signing
    assert len(checked) == len(dev.identities) + len(dev.genesis.orgs) + registries


def test_certificate_verified_against_the_wrong_org_ca_fails(dev: DevConsortium) -> None:
    orgs = _orgs(dev)
    for org_dir, other in zip(orgs, [*orgs[1:], orgs[0]], strict=True):
        for cert in sorted(org_dir.glob("users/*/cert.pem")):
            result = _verify(other / "ca.pem", cert)
            assert result.returncode != 0, f"{cert} verified against {other.name}'s CA"
            assert "unable to get local issuer certificate" in result.stdout + result.stderr
        result = _verify(other / "ca.pem", org_dir / "ca.pem")
        assert result.returncode != 0
        assert "self-signed certificate" in result.stdout + result.stderr


def test_openssl_honours_the_validity_period(dev: DevConsortium) -> None:
    org_dir = dev.directory / "orgs" / "gz-registry"
    result = _verify(org_dir / "ca.pem", org_dir / "users" / "recorder1" / "cert.pem", at=str(NOW // 1000 - 7200))
    assert result.returncode != 0
    assert "not yet valid" in result.stdout + result.stderr


def test_private_keys_are_pkcs8_matching_their_certificates(dev: DevConsortium) -> None:
    for org_dir in _orgs(dev):
        pairs = [
            (org_dir / "ca.key.pem", org_dir / "ca.pem"),
            *((user / "key.pem", user / "cert.pem") for user in sorted((org_dir / "users").iterdir())[:2]),
        ]
        for key, cert in pairs:
            assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
            from_key = _openssl("pkey", "-in", str(key), "-pubout")
            from_cert = _openssl("x509", "-in", str(cert), "-noout", "-pubkey")
            assert from_key.returncode == from_cert.returncode == 0, from_key.stderr + from_cert.stderr
            assert from_key.stdout == from_cert.stdout


def test_key_files_are_readable_by_the_owner_only(dev: DevConsortium) -> None:
    keys = sorted(dev.directory.rglob("*key.pem"))
    registries = sum(1 for org in dev.genesis.orgs if org.type == "registry")  # + document signing
    assert len(keys) == len(dev.identities) + len(dev.genesis.orgs) + registries
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


# ---------------------------------------------------------------------------------------------- layout


def test_layout_and_index_match_the_consortium(dev: DevConsortium) -> None:
    root = dev.directory
    assert (root / "genesis.json").read_bytes() == dev.genesis.canonical_bytes()
    assert "development" in (root / "DEVELOPMENT-ONLY.txt").read_text().lower()
    index = json.loads((root / "identities.json").read_text())
    assert index["chain_id"] == dev.genesis.chain_id
    entry = index["identities"]["gz-registry/recorder1"]
    assert entry == {
        "org": "gz-registry",
        "role": "registry.recorder",
        "fingerprint": dev.identities["gz-registry/recorder1"].fingerprint,
        "cert": "orgs/gz-registry/users/recorder1/cert.pem",
        "key": "orgs/gz-registry/users/recorder1/key.pem",
    }
    assert set(index["identities"]) == set(dev.identities)


def test_dev_consortium_has_the_cast_the_rules_need(dev: DevConsortium) -> None:
    assert [org.id for org in dev.genesis.orgs] == [
        "gz-registry",
        "icbc-gz",
        "ccb-gz",
        "gz-court",
        "gz-regulator",
        "gz-identity",
        "poly-developer",
    ]
    assert [i.handle for i in dev.by_role("registry.reviewer")] == ["gz-registry/reviewer1", "gz-registry/reviewer2"]
    assert len(dev.by_role("registry.recorder")) == 2
    assert {i.org_id for i in dev.by_role("bank.operator")} == {"icbc-gz", "ccb-gz"}
    assert len(dev.by_role("node")) == len(dev.by_role("org.admin")) == len(dev.genesis.orgs)
    persons = dev.by_role("person")
    assert len(persons) == 4
    for person in persons:
        cert = x509.load_certificate(person.cert_der)
        (common_name,) = x509.subject_values(cert, NameOID.COMMON_NAME)
        assert re.fullmatch(r"person-[0-9a-f]{16}", common_name)


def test_load_reads_back_the_same_consortium(dev: DevConsortium) -> None:
    loaded = load_dev_consortium(dev.directory)
    assert loaded.genesis == dev.genesis
    assert loaded.genesis.chain_id == dev.genesis.chain_id
    assert dict(loaded.identities) == dict(dev.identities)


def test_creating_over_an_existing_consortium_is_a_conflict(dev: DevConsortium) -> None:
    before = (dev.directory / "genesis.json").read_bytes()
    with pytest.raises(Conflict, match="already holds a consortium"):
        create_dev_consortium(dev.directory, now_ms=NOW)
    assert (dev.directory / "genesis.json").read_bytes() == before


def test_missing_or_corrupt_files_are_named(dev: DevConsortium, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"empty/genesis.json: missing"):
        load_dev_consortium(tmp_path / "empty")

    cert = dev.directory / "orgs" / "icbc-gz" / "users" / "operator1" / "cert.pem"
    cert.write_bytes(b"not a certificate")
    with pytest.raises(InputError, match=re.escape(str(cert))):
        load_dev_consortium(dev.directory)

    (dev.directory / "identities.json").write_text("{")
    with pytest.raises(InputError, match=r"identities.json: not valid JSON"):
        load_dev_consortium(dev.directory)

    (dev.directory / "genesis.json").write_bytes(b'{"type": 1}')
    with pytest.raises(InputError, match=r"genesis.json: genesis: not in RFC 8785 canonical form"):
        load_dev_consortium(dev.directory)


def test_a_swapped_certificate_is_detected(dev: DevConsortium) -> None:
    users = dev.directory / "orgs" / "gz-registry" / "users"
    shutil.copy(users / "recorder2" / "cert.pem", users / "recorder1" / "cert.pem")
    with pytest.raises(InputError, match="fingerprint differs"):
        load_dev_consortium(dev.directory)
