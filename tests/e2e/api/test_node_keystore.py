"""A registry node run the production way: its ledger outside the development folder, its keys from its
own encrypted keystore, opened with a passphrase file — and nothing of the development folder left.

The keystore is made with ``estatechain keystore import`` from the dev consortium, then the consortium's
key folders are deleted and the ledger moved. The node must still sign inquiry answers with the
registry's ``node`` key and webhooks with the same key; it must refuse to start without its passphrase
or with a wrong one, saying which.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
from register_node import OWNER_A, import_register, serving
from typer.testing import CliRunner

from estatechain.certificates.desk import CertificateDesk
from estatechain.cli.main import app
from estatechain.crypto import x509
from estatechain.errors import InputError
from estatechain.identity.devca import load_dev_consortium, load_document_signer
from estatechain.node.bootstrap import build_node
from estatechain.node.settings import Settings
from estatechain.sdk import Client, ClientIdentity

PASSPHRASE = "a registry passphrase kept off this disk"


def test_a_registry_node_signs_with_its_keystore_alone_and_refuses_a_wrong_passphrase(tmp_path: Path) -> None:
    consortium_dir, dev_ledger = tmp_path / "net", tmp_path / "net" / "nodes" / "gz-registry"
    chain_id, _, owners = import_register(consortium_dir, dev_ledger)
    dev = load_dev_consortium(consortium_dir)
    owner_identity = ClientIdentity.from_dev(consortium_dir, OWNER_A)
    registry_node = dev.identities["gz-registry/node"]
    pass_file = tmp_path / "passphrase"
    pass_file.write_text(PASSPHRASE + "\n")
    pass_file.chmod(0o600)

    runner = CliRunner()
    made = runner.invoke(app, ["keystore", "import", str(consortium_dir), "--org", "gz-registry",
                               "--out", str(tmp_path / "keystore"), "--passphrase-file", str(pass_file)])
    assert made.exit_code == 0, made.output
    assert "document signer" in made.output
    listed = runner.invoke(app, ["keystore", "list", str(tmp_path / "keystore")],  # the variable the node reads
                           env={"ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE": str(pass_file)})
    assert listed.exit_code == 0, listed.output
    assert registry_node.fingerprint[:16] in listed.output.replace("\n", "").replace("│", "").replace(" ", "")
    assert "icbc-gz" not in listed.output  # an org's keystore holds its own keys only

    ledger = tmp_path / "srv" / "ledger"
    shutil.move(dev_ledger, ledger)
    signer_before = load_document_signer(consortium_dir, "gz-registry")
    shutil.rmtree(consortium_dir / "orgs")  # every key of the development layout is gone
    settings = Settings(ledger_dir=ledger, port=0, keystore=tmp_path / "keystore",
                        keystore_passphrase_file=pass_file)

    with serving(settings) as url:
        async def ask() -> dict[str, Any]:
            async with Client(url, owner_identity, chain_id=chain_id) as client:
                signed = client.sign_prepared(await client.prepare(
                    "inquiry", unit_number=owners[OWNER_A].unit_number, basis="own_right"))
                status: dict[str, Any] = await client._send("POST", "/v1/inquiries", content=signed.envelope,
                                                            params={"wait": "10"})
                assert status["status"] == "committed"
                answer: dict[str, Any] = await client._send("GET", f"/v1/inquiries/{status['tx_id']}/answer")
                return answer

        answer = asyncio.run(ask())
    assert x509.fingerprint(base64.b64decode(answer["certificate"])) == registry_node.fingerprint
    assert answer["answer"]["signer"] == registry_node.fingerprint

    node = build_node(settings)
    try:
        assert node.keys.source == f"keystore {tmp_path / 'keystore'}"
        assert node.outbox is not None
        assert node.outbox.key is not None
        assert node.outbox.key.fingerprint == registry_node.fingerprint  # webhooks signed by the same node key
        assert node.keys.identity("node") == registry_node
        assert node.party_key is None  # the identity authority's key is not the registry's to hold
        desk = CertificateDesk.from_keys(node.store, keys=node.keys, ledger_dir=ledger)
        assert desk.keys.issuer == dev.identities["gz-registry/issuer1"]
        assert desk.keys.docsign.cert == signer_before.cert
    finally:
        asyncio.run(node.stop())

    pass_file.write_text("not the registry's passphrase\n")
    with pytest.raises(InputError, match="passphrase does not open"):
        build_node(settings)
    with pytest.raises(InputError, match="no keystore passphrase: set ESTATECHAIN_KEYSTORE_PASSPHRASE"):
        build_node(Settings(ledger_dir=ledger, port=0, keystore=tmp_path / "keystore"))
