"""A node finds every key it will need at start-up, before its ledger opens, or stops naming the one at fault.

What an operator on call sees: a node whose key file is missing or damaged (in its keystore or in the
development layout) refuses to start with the file named and the fix, instead of starting and then
answering "no identity" or 503 at the first signature; and a node with no keys at all still starts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from estatechain.certificates import desk
from estatechain.clock import SystemClock
from estatechain.errors import InputError
from estatechain.identity.devca import DevConsortium, create_dev_consortium, load_document_signer
from estatechain.identity.keystore import INDEX, Keystore
from estatechain.node import keys as node_keys_module
from estatechain.node.bootstrap import build_node
from estatechain.node.keys import PARTY_ID_SECRET, PASSPHRASE_VARIABLE, NodeKeys, node_keys
from estatechain.node.settings import Settings
from estatechain.storage.store import LedgerStore
from estatechain.testing.register import create_register_keys

ORG = "gz-registry"
PASSPHRASE = "a registry passphrase kept off this disk"
SEALING = bytes(range(32))
PARTY_ID = b"\x07" * 32


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes: what "nothing changed on disk" compares."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[DevConsortium, Path]:
    """A development consortium with its register keys, and one keystore of the registry holding every kind."""
    base = tmp_path_factory.mktemp("keys")
    dev = create_dev_consortium(base / "net", now_ms=SystemClock().now_ms())
    create_register_keys(dev.directory, dev.genesis)
    store = Keystore.create(base / "keystore", ORG, PASSPHRASE.encode())
    for user in ("issuer1", "intake1", "node"):  # each costs 600,000 PBKDF2 rounds: a few are enough
        store.put_identity(dev.identities[f"{ORG}/{user}"])
    store.put_document_signer(load_document_signer(dev.directory, ORG))
    store.put_sealing_key(x25519.X25519PrivateKey.from_private_bytes(SEALING))
    store.put_secret(PARTY_ID_SECRET, PARTY_ID)
    return dev, base / "keystore"


@pytest.fixture
def net(made: tuple[DevConsortium, Path], tmp_path: Path) -> Path:
    """A copy of the development consortium this test may damage."""
    return Path(shutil.copytree(made[0].directory, tmp_path / "net"))


@pytest.fixture
def keystore(made: tuple[DevConsortium, Path], tmp_path: Path) -> Path:
    """A copy of the registry's keystore this test may damage."""
    return Path(shutil.copytree(made[1], tmp_path / "keystore"))


def dev_keys(net: Path, org: str = ORG) -> NodeKeys:
    return node_keys(ledger_dir=net / "nodes" / org, org_id=None, keystore=None, passphrase_file=None)


def keystore_keys(keystore: Path) -> NodeKeys:
    return node_keys(ledger_dir=keystore.parent / "srv" / "ledger", org_id=None, keystore=keystore,
                     passphrase_file=None, environment={PASSPHRASE_VARIABLE: PASSPHRASE})


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# -- the development layout ----------------------------------------------------------------------------


@pytest.mark.parametrize("org", [ORG, "icbc-gz", "gz-identity"])
def test_a_dev_node_starts_with_its_own_keys(made: tuple[DevConsortium, Path], net: Path, org: str) -> None:
    keys = dev_keys(net, org)
    assert keys.source.startswith(f"development layout {net}")
    assert keys.identity("node") == made[0].identities[f"{org}/node"]
    assert keys.sealing_key() is not None


@pytest.mark.parametrize(("damage", "named"), [
    ("orgs/gz-registry/users/node/key.pem", "orgs/gz-registry/users/node/key.pem: missing"),
    ("orgs/gz-registry/users/issuer1/key.pem", "orgs/gz-registry/users/issuer1/key.pem: missing"),
    ("orgs/icbc-gz/users/operator1/cert.pem", "orgs/icbc-gz/users/operator1/cert.pem: missing"),
    ("identities.json", "identities.json: missing"),
])
def test_a_missing_dev_key_file_stops_the_node_at_start_naming_the_file_and_the_fix(
    net: Path, damage: str, named: str,
) -> None:
    """The dev layout used to read as "no identities" when one file of it was gone: the node started anyway."""
    (net / damage).unlink()
    with pytest.raises(InputError) as refused:
        dev_keys(net)
    message = str(refused.value)
    assert f"{net}/{named}" in message
    assert f"the development layout in {net} is damaged" in message
    assert "estatechain init NEWDIR" in message


def test_a_damaged_dev_index_stops_the_node_at_start(net: Path) -> None:
    (net / "identities.json").write_text("{")
    with pytest.raises(InputError, match=r"identities.json: not valid JSON .*is damaged.*estatechain init"):
        dev_keys(net)


@pytest.mark.parametrize(("damage", "named"), [
    (f"orgs/{ORG}/users/docsign/key.pem", f"orgs/{ORG}/users/docsign/key.pem"),
    (f"orgs/{ORG}/sealing-x25519.key.pem", f"orgs/{ORG}/sealing-x25519.key.pem"),
])
def test_a_damaged_dev_document_signer_or_sealing_key_stops_the_node_at_start(
    net: Path, damage: str, named: str,
) -> None:
    (net / damage).write_text("not a key\n")
    with pytest.raises(InputError) as refused:
        dev_keys(net)
    assert f"{net}/{named}" in str(refused.value)


@pytest.mark.parametrize("ledger", ["srv/ledger", "elsewhere/nodes/gz-registry"])
def test_with_no_development_layout_around_the_ledger_a_node_still_starts_without_keys(
    tmp_path: Path, ledger: str,
) -> None:
    keys = node_keys(ledger_dir=tmp_path / ledger, org_id=None, keystore=None, passphrase_file=None)
    assert keys.source.startswith("no keys")
    assert keys.identity("node") is None


def test_a_dev_node_with_a_missing_key_changes_nothing_on_disk_its_ledger_is_never_opened(
    made: tuple[DevConsortium, Path], net: Path,
) -> None:
    ledger_dir = net / "nodes" / ORG
    LedgerStore.create(ledger_dir, made[0].genesis).close()
    (net / "orgs" / ORG / "users" / "node" / "key.pem").unlink()
    before = files_of(net)
    with pytest.raises(InputError, match=r"users/node/key\.pem: missing"):
        build_node(Settings(ledger_dir=ledger_dir, port=0))
    assert files_of(net) == before  # no outbox, no attestations, no ledger lock or journal


# -- the org's keystore --------------------------------------------------------------------------------


def test_a_keystore_node_opens_every_key_it_needs_at_start_once(made: tuple[DevConsortium, Path],
                                                                 keystore: Path) -> None:
    dev = made[0]
    keys = keystore_keys(keystore)
    assert keys.source == f"keystore {keystore}"
    assert keys.identity("node") == dev.identities[f"{ORG}/node"]
    assert keys.identity_with_role(desk.ISSUER_ROLE) == dev.identities[f"{ORG}/issuer1"]
    signer = keys.document_signer()
    assert signer is not None
    assert signer.cert == load_document_signer(dev.directory, ORG).cert
    sealing = keys.sealing_key()
    assert sealing is not None
    assert sealing.private_bytes_raw() == SEALING
    assert keys.party_id_key() == PARTY_ID
    (keystore / "sealing.json").unlink()  # read at start and kept: a later loss does not reach a running node
    assert keys.sealing_key() is sealing


@pytest.mark.parametrize("victim", ["node.p12", "issuer1.p12", "intake1.p12", "sealing.json", "party-id.secret.json"])
def test_a_keystore_file_that_is_gone_stops_the_node_at_start_naming_it(keystore: Path, victim: str) -> None:
    """Only the first entry was opened at start (to check the passphrase); the rest failed at first use."""
    (keystore / victim).unlink()
    with pytest.raises(InputError) as refused:
        keystore_keys(keystore)
    message = str(refused.value)
    assert f"{keystore / INDEX} lists keys whose files are missing" in message
    assert f"({keystore / victim})" in message
    assert "estatechain keystore import" in message


@pytest.mark.parametrize(("victim", "what"), [
    ("node.p12", "the node identity gz-registry/node"),
    ("issuer1.p12", "the issuer identity (registry.issuer)"),
    ("sealing.json", "the sealing key"),
    ("party-id.secret.json", "the party-id key"),
])
def test_a_damaged_keystore_key_stops_the_node_at_start_naming_the_key_and_its_file(
    keystore: Path, victim: str, what: str,
) -> None:
    flip_a_byte(keystore / victim)
    with pytest.raises(InputError) as refused:
        keystore_keys(keystore)
    message = str(refused.value)
    assert message.startswith(f"keystore {keystore}: cannot load {what}: ")
    assert f"{keystore / victim}: " in message


def test_a_keystore_without_the_node_identity_stops_the_node_naming_the_keystore(
    made: tuple[DevConsortium, Path], tmp_path: Path,
) -> None:
    store = Keystore.create(tmp_path / "keystore", ORG, PASSPHRASE.encode())
    store.put_identity(made[0].identities[f"{ORG}/issuer1"])
    with pytest.raises(InputError) as refused:
        keystore_keys(tmp_path / "keystore")
    message = str(refused.value)
    assert f"{tmp_path / 'keystore' / INDEX}: this keystore of {ORG} holds no identity 'node'" in message
    assert "estatechain keystore import" in message


def test_the_issuer_role_checked_at_start_is_the_one_the_certificate_desk_signs_with() -> None:
    assert node_keys_module.ISSUER_ROLE == desk.ISSUER_ROLE
