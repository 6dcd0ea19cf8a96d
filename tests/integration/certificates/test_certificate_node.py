"""The certificate endpoints of a running registry node, and ``estatechain certificate verify`` against it.

The register is imported and a mortgage recorded through the pipeline (``certificate_case``); then the
ledger is laid out as ``estatechain init`` does (``<consortium>/nodes/gz-registry``) and served by
uvicorn in a thread. The issuer prepares the certificate over HTTP, signs the issue transaction with
its own key and submits it; the parties fetch JSON and PDF; anyone verifies.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from certificate_case import OWNER, Node, new_case, serve

from estatechain.certificates.archive import SealedArchive
from estatechain.certificates.parties import load_sealing_key


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    case = new_case(tmp_path_factory.mktemp("node"))
    with serve(case, case.mortgage()) as served_node:
        yield served_node


@pytest.fixture(scope="module")
def issued(node: Node) -> dict[str, Any]:
    """The issuer prepares, signs the issue transaction itself and submits it; the certificate file back."""
    prepared = node.call("gz-registry/issuer1", "POST", "/v1/certificates", {"application_id": node.app})
    assert prepared.status_code == 200, prepared.text
    issue = prepared.json()["issue"]
    assert issue["payload"]["body"]["document_sha256"] == prepared.json()["certificate"]["document_sha256"]
    submitted = node.submit("gz-registry/issuer1", "application.issue", issue["payload"]["body"])
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["result"] == "valid", submitted.text
    number = prepared.json()["certificate"]["record"]["number"]
    fetched = node.call("gz-registry/issuer1", "GET", f"/v1/certificates/{quote(number)}")
    assert fetched.status_code == 200, fetched.text
    return dict(fetched.json())


CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "certificate", "verify", *args], capture_output=True, text=True, check=False,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_only_a_registry_issuer_prepares_certificates(node: Node, issued: dict[str, Any]) -> None:
    again = node.call("gz-registry/issuer1", "POST", "/v1/certificates", {"application_id": node.app})
    assert (again.status_code, again.json()["error"]) == (409, "NOT_ISSUABLE")
    for handle in ("gz-registry/recorder1", "icbc-gz/operator1", OWNER):
        response = node.call(handle, "POST", "/v1/certificates", {"application_id": node.app})
        assert response.status_code == 403, (handle, response.text)
    assert node.call(None, "POST", "/v1/certificates", {"application_id": node.app}).status_code == 401


def test_the_parties_fetch_json_and_pdf_others_may_not(node: Node, issued: dict[str, Any], tmp_path: Path) -> None:
    number = quote(issued["record"]["number"])
    for handle in (OWNER, "icbc-gz/operator1", "gz-registry/reviewer1"):
        assert node.call(handle, "GET", f"/v1/certificates/{number}").status_code == 200, handle
    for handle in ("ccb-gz/operator1", "gz-identity/person2", "gz-court/court1"):
        response = node.call(handle, "GET", f"/v1/certificates/{number}/pdf")
        assert response.status_code == 403, handle
        assert issued["record"]["obligors"][0]["name"] not in response.text
    pdf = node.call(OWNER, "GET", f"/v1/certificates/{number}/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.content == node.call("icbc-gz/operator1", "GET", f"/v1/certificates/{number}/pdf").content


def test_cli_verifies_pdf_and_json_with_the_current_status(node: Node, issued: dict[str, Any], tmp_path: Path) -> None:
    number = quote(issued["record"]["number"])
    (tmp_path / "c.pdf").write_bytes(node.call(OWNER, "GET", f"/v1/certificates/{number}/pdf").content)
    (tmp_path / "c.json").write_bytes(orjson.dumps(issued))
    genesis = str(node.consortium / "genesis.json")
    for name in ("c.pdf", "c.json"):
        result = cli(str(tmp_path / name), "--genesis", genesis, "--node", node.url)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "VERIFIED" in result.stdout
        assert "ledger inclusion" in result.stdout
        assert "VALID on the ledger now" in result.stdout
    tampered = {**issued, "record": {**issued["record"], "date": "2025-01-01"}}
    (tmp_path / "bad.json").write_bytes(orjson.dumps(tampered))
    result = cli(str(tmp_path / "bad.json"), "--genesis", genesis)
    assert result.returncode == 1
    assert "FAILED at record signature" in result.stderr
    help_text = cli("--help").stdout
    assert "Example: estatechain certificate verify" in help_text


def test_offline_a_certificate_is_authentic_as_of_its_block_and_its_current_status_is_not_claimed(
    node: Node, issued: dict[str, Any], tmp_path: Path,
) -> None:
    """A file cannot know it was cancelled later: offline, "in force" would tell a court what nobody checked."""
    (tmp_path / "c.json").write_bytes(orjson.dumps(issued))
    result = cli(str(tmp_path / "c.json"), "--genesis", str(node.consortium / "genesis.json"))
    assert result.returncode == 4, result.stdout + result.stderr  # authentic, status not checked
    height = issued["ledger"]["height"]
    assert f"AUTHENTIC: issued in block {height} at " in result.stdout
    assert " CST; that block is attested by gz-registry's node alone" in result.stdout
    assert "STATUS NOT CHECKED" in result.stdout
    assert "in force" not in result.stdout.split("STATUS NOT CHECKED")[0]


def test_the_files_block_header_hashes_to_the_block_hash_as_an_outsider_computes_it(
    node: Node, issued: dict[str, Any],
) -> None:
    """docs/formats.md: a block's hash is H(canonical(header)); the file's header is that object, type tag and all."""
    header = issued["ledger"]["header"]
    canonical = orjson.dumps(header, option=orjson.OPT_SORT_KEYS)  # ASCII strings and integers only
    block = node.call(OWNER, "GET", f"/v1/blocks/{issued['ledger']['height']}")
    assert block.status_code == 200, block.text
    assert hashlib.sha256(canonical).hexdigest() == block.json()["hash"]


def test_public_verification_by_number_qr_and_file(node: Node, issued: dict[str, Any]) -> None:
    number = issued["record"]["number"]
    status = node.call(None, "GET", f"/v1/certificates/verify?number={quote(number)}")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "VALID"
    assert "content" not in status.json()
    qr = node.call(None, "GET", f"/v1/certificates/verify?number={quote(number)}&sha256={issued['document_sha256']}")
    content = qr.json()["content"]
    name = issued["record"]["obligors"][0]["name"]
    assert content["unit_number"] == issued["record"]["unit_number"]
    assert content["obligors"][0]["name"] == name[0] + "*" * (len(name) - 1)
    wrong = node.call(None, "GET", f"/v1/certificates/verify?number={quote(number)}&sha256={'0' * 64}")
    assert wrong.status_code == 404
    posted = node.http.post(f"{node.url}/v1/certificates/verify", content=orjson.dumps(issued))
    assert posted.status_code == 200, posted.text
    assert posted.json()["ok"] is True, posted.text
    assert posted.json()["status"] == "VALID"
    broken = node.http.post(f"{node.url}/v1/certificates/verify",
                            content=orjson.dumps({**issued, "document_sha256": "0" * 64}))
    assert broken.json()["failed"]["check"] == "record hash"
    pdf = node.call(OWNER, "GET", f"/v1/certificates/{quote(number)}/pdf").content
    uploaded = node.http.post(f"{node.url}/v1/certificates/verify", content=pdf)
    assert uploaded.status_code == 200, uploaded.text
    assert (uploaded.json()["ok"], uploaded.json()["kind"], uploaded.json()["status"]) == (True, "pdf", "VALID")
    log = node.consortium / "nodes" / "gz-registry" / "certificates" / "lookups.jsonl"
    kinds = [orjson.loads(line)["kind"] for line in log.read_bytes().splitlines()]
    assert {"status", "qr", "file"} <= set(kinds)


def test_public_lookups_are_rate_limited(node: Node, issued: dict[str, Any]) -> None:
    number = quote(issued["record"]["number"])
    answers = [node.call(None, "GET", f"/v1/certificates/verify?number={number}") for _ in range(80)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    assert limited[0].headers["retry-after"] == "60"  # when to ask again, not just "no"
    log = node.consortium / "nodes" / "gz-registry" / "certificates" / "lookups.jsonl"
    assert b'"outcome":"RATE_LIMITED"' in log.read_bytes()


def test_a_pdf_kept_for_another_qr_address_is_not_handed_out(
    node: Node, issued: dict[str, Any], tmp_path: Path,
) -> None:
    """Copies an earlier version kept for another QR address (a crafted Host before the fix: ``<sha256>.pdf``; or
    another address: ``<sha256>.<tag>.pdf``) are never handed out: the PDF signed at issue for the node's own
    address is."""
    number, sha256 = quote(issued["record"]["number"]), issued["document_sha256"]
    ledger_dir = node.consortium / "nodes" / "gz-registry"
    key = load_sealing_key(node.consortium, "gz-registry")
    assert key is not None
    archive = SealedArchive(ledger_dir / "certificates", chain_id=node.chain_id, org_id="gz-registry", key=key)
    for name in (f"{sha256}.pdf", f"{sha256}.{hashlib.sha256(b'http://evil.example/').hexdigest()[:16]}.pdf"):
        archive.write(name, b"%PDF-1.7 a copy whose QR code names http://evil.example/")
    pdf = node.call(OWNER, "GET", f"/v1/certificates/{number}/pdf")
    assert pdf.status_code == 200
    assert b"evil.example" not in pdf.content
    (tmp_path / "c.pdf").write_bytes(pdf.content)
    assert subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page")],
                          check=False, timeout=60).returncode == 0
    qr = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")], capture_output=True, text=True,
                        check=False, timeout=60)
    assert qr.stdout.startswith(f"{node.url}/v1/certificates/verify?"), qr.stdout
