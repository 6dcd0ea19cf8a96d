"""The verifier written from docs/evidence.md alone agrees with the document and with exported packages."""

from __future__ import annotations

import ast
import base64
import json
import re
import sys
from pathlib import Path

import pytest
from evidence_verifier import Invalid, jcs, leaf_hash, node_hash, sha256, verify

from estatechain.evidence.attestations import NodeKey
from estatechain.evidence.export import export_package
from estatechain.evidence.package import EvidenceInvalid
from estatechain.evidence.verify import verify_package
from estatechain.ledger import execution
from estatechain.testing.harness import LedgerHarness

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "evidence-example.json"


def worked_example() -> dict[str, str]:
    text = (DOCS / "evidence.md").read_text()
    block = re.search(r"```text worked-example\n(.*?)```", text, re.DOTALL)
    assert block is not None
    return dict(line.split(": ", 1) for line in block.group(1).strip().splitlines())


def test_the_worked_example_verifies_and_every_value_the_document_quotes_is_recomputed() -> None:
    data = EXAMPLE.read_bytes()
    lines = verify(data)
    assert any("application.confirm" in line for line in lines)
    quoted = worked_example()
    doc = json.loads(data)
    entry = doc["transactions"][int(quoted["tx"].removeprefix("transactions[").removesuffix("]"))]
    envelope = entry["envelope"]
    tx_id = sha256(jcs(envelope["payload"])).hex()
    envelope_hash = sha256(jcs(envelope)).hex()
    leaf = leaf_hash(jcs({"envelope_hash": envelope_hash, "height": entry["height"], "position": entry["position"],
                          "result": entry["result"], "tx_id": tx_id, "type": "estatechain.leaf.v1"}))
    inner = node_hash(bytes.fromhex(entry["proof"][0]), leaf)
    header = next(h for h in doc["headers"] if h["height"] == entry["height"])
    opening = doc["openings"][0]
    assert quoted == {
        "chain_id": sha256(jcs(doc["genesis"])).hex(),
        "tx": quoted["tx"],
        "tx_id": tx_id,
        "envelope_hash": envelope_hash,
        "leaf_hash": leaf.hex(),
        "inner_node": inner.hex(),
        "txlog_root": node_hash(bytes.fromhex(entry["proof"][1]), inner).hex(),
        "block_hash": sha256(jcs(header)).hex(),
        "attestation_digest": sha256(jcs(doc["attestations"][0])).hex(),
        "commitment": opening["commitment"],
    }
    assert header["txlog_root"] == quoted["txlog_root"]


@pytest.mark.parametrize("path", [
    ("headers", 1, "txlog_root"), ("transactions", 2, "proof", 0), ("transactions", 2, "result", "status"),
    ("attestations", 0, "payload", "state_root"), ("openings", 0, "record", "name"), ("export", "signature"),
    ("transactions", 1, "envelope", "payload", "body", "unit_number"), ("genesis", "consortium"),
])
def test_the_independent_verifier_refuses_a_changed_example(path: tuple[str | int, ...]) -> None:
    doc = json.loads(EXAMPLE.read_bytes())
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    value = parent[path[-1]]
    parent[path[-1]] = value[:-2] + ("00" if not value.endswith("00") else "11")
    with pytest.raises(Invalid):
        verify(jcs(doc))


def test_packages_exported_from_a_ledger_with_a_revoked_signer_verify_independently(tmp_path: Path) -> None:
    harness = LedgerHarness(tmp_path)
    factory = harness.factory
    operator = factory.identity("icbc-gz/operator1")
    (first,) = harness.commit([factory.note(operator, "memo/1", {"n": 1})])
    harness.clock.advance(400 * 86_400_000)
    admin = factory.identity("icbc-gz/org-admin")
    harness.commit([factory.sign(admin, "identity.revoke", {
        "certificate": base64.b64encode(operator.cert_der).decode(), "reason": "left the bank"})])
    harness.commit([factory.note(factory.identity("ccb-gz/operator1"), "memo/2", {"n": 2}, if_absent=True)])
    key = NodeKey.from_dev_layout(harness.consortium.directory, "gz-registry")
    package = export_package(harness.ledger_dir, {"kind": "tx", "tx_id": first.tx_id}, node_key=key).data
    lines = verify(package)
    assert "note.put" in lines[0]
    assert "identity.revoke" in lines[1]


def test_the_worked_examples_acting_for_column_reads_as_the_document_says() -> None:
    """§10: the binding (height 2) names 李婷 for the confirmation (height 4); the filing's bank binding is absent."""
    lines = verify(EXAMPLE.read_bytes())
    binding, filing, confirmation = (line.split("  acting for: ", 1)[1] for line in lines if "  acting for: " in line)
    assert (binding, filing) == ("—", "—")
    assert confirmation.startswith("李婷 (resident_id ")
    assert confirmation.endswith(", party 714f5f5152f6…")


def test_a_valid_transaction_after_its_signers_revocation_fails_as_in_the_product(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """§6 check 4: nodes that ignored a revocation in the same block recorded the revoked signer's note as valid."""
    harness = LedgerHarness(tmp_path)
    factory = harness.factory
    operator, admin = factory.identity("icbc-gz/operator1"), factory.identity("icbc-gz/org-admin")
    revoke = factory.sign(admin, "identity.revoke", {
        "certificate": base64.b64encode(operator.cert_der).decode(), "reason": "left the bank"})
    with monkeypatch.context() as patched:  # admission saw no revocation yet; execution looks under another key
        patched.setattr(execution, "revoked_key", lambda fingerprint: f"nowhere/{fingerprint}")
        revoked, note = harness.commit([revoke, factory.note(operator, "memo/1", {"n": 1})])
    assert (revoked.valid, note.valid, revoked.height, note.position) == (True, True, note.height, 1)
    key = NodeKey.from_dev_layout(harness.consortium.directory, "gz-registry")
    package = export_package(harness.ledger_dir, {"kind": "tx", "tx_id": note.tx_id}, node_key=key).data
    with pytest.raises(EvidenceInvalid) as product:
        verify_package(package)
    with pytest.raises(Invalid, match="its signer was revoked earlier") as independent:
        verify(package)
    assert str(independent.value).startswith(f"{product.value.where}: ")


VERIFIER = Path(__file__).with_name("evidence_verifier.py")


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    """Its worth is that it shares no code with the product: one estatechain import and it proves nothing."""
    tree = ast.parse(VERIFIER.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in imported}
    assert roots - {"__future__", "cryptography"} <= sys.stdlib_module_names, roots


@pytest.mark.parametrize("document", ["README.md", "docs/evidence.md"])
def test_the_documents_give_the_verifiers_size_truly(document: str) -> None:
    """A reader deciding whether to audit it is told its size: within a tenth of the real line count."""
    text = " ".join((DOCS.parent / document).read_text().split())
    stated = re.search(r"(?:verifier of |evidence_verifier\.py` \()about (\d+) lines", text)
    assert stated is not None, f"{document} does not say how long the independent verifier is"
    lines = len(VERIFIER.read_text().splitlines())
    assert abs(int(stated.group(1)) - lines) <= lines // 10, (stated.group(0), lines)
