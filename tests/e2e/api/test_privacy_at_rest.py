"""No name, ID number or phone number of the synthetic register is in clear in any byte a node writes (issue 5).

A real node process runs over a consortium made by ``estatechain init`` (synthetic register, 150
units), with uvicorn and every library logger at DEBUG, its output captured to a file (the node
writes no access log: ``NodeServer`` turns it off); ``estatechain demo`` drives every business type
through it, and the registration certificates it issues (不动产登记证明; titles are not the desk's)
are prepared and signed by the registry's certificate desk. Then, as the registry, the test
downloads each one's JSON and PDF, asks the public QR lookup, signs in to the portal and opens a
desk, takes ``estatechain backup`` of the running node and exports an evidence package with
``estatechain evidence export``. Every byte is then scanned for every name, ID number and phone of the
register, in UTF-8, JSON ``\\u`` escapes and UTF-16:

- the whole consortium folder while the node runs (ledger with its -wal and -shm, outbox, portal,
  desk index, attestations, sealed records, the certificate archive, keys, dev files) and again
  after it stopped;
- the node's log and ``init``'s output;
- the backup folder, and the evidence package with every base64 string in it decoded;
- in any of those, a ZIP or gzip file decompressed, and a PDF's text extracted with ``pdftotext``
  and its streams inflated (they are Flate-compressed: raw bytes alone miss a name in a PDF).

Before the desk sealed its archive, this found the parties' names in every ``<sha256>.json`` it kept
under ``<node>/certificates/`` and in the text of every ``<sha256>.pdf``, and in their copies in the
backup.

What legitimately holds names, and is not scanned: the certificate JSON and PDF the registry
downloads (the parties and the registry need the names on the copy they are handed,
docs/certificates.md; the node hands them out and does not write them to its disk as such: it keeps
them sealed to the registry's own key, ``certificates/archive.py``), and an evidence package exported
with ``--court``, which a court asks for precisely to see the opened records. The test checks that the
downloads do name the parties, so a scan that finds nothing is a scan that could have found something.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from estatechain.certificates.archive import SEALED_SUFFIX, SealedArchive
from estatechain.certificates.parties import load_sealing_key
from estatechain.cli.demo_driver import TITLE_MARK
from estatechain.errors import IntegrityFault
from estatechain.sdk import ClientIdentity, RequestTarget, sign_request
from estatechain.testing.synthetic import generate

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]
SEED = 20260104
UNITS = 150
REGISTRY = "gz-registry"
ISSUER = "gz-registry/issuer1"
ENV = {**os.environ, "COLUMNS": "200"}
WRITTEN = ("ledger.sqlite", "outbox.sqlite", "attestations.sqlite", "portal.sqlite", "desk-index.sqlite",
           "certificates/lookups.jsonl")
"""Files the node writes beside its ledger that the scan must have seen (besides sealed/ and the archive)."""
LAUNCH = """
import asyncio, logging, sys
from pathlib import Path
from estatechain.api.server import NodeServer
from estatechain.clock import SystemClock
from estatechain.node.bootstrap import build_node
from estatechain.node.settings import Settings
from estatechain.web.devaccounts import ensure_dev_accounts

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
directory = Path(sys.argv[1])
node = directory / "nodes" / "gz-registry"
ensure_dev_accounts(directory, node, clock=SystemClock())
server = NodeServer(build_node(Settings(ledger_dir=node, port=0)), log_level="debug")
asyncio.run(server.serve(on_started=lambda s: print(f"node is up: http://127.0.0.1:{s.port}/v1/health", flush=True)))
"""
"""What ``estatechain up`` runs on an existing consortium, with every logger at DEBUG instead of WARNING."""


def clear_values() -> set[str]:
    """Every person's name, ID number and phone of the register ``init`` imported (same seed, same register)."""
    return {value for batch in generate(SEED, UNITS) for person in batch.persons
            for value in (person.name, person.id_number, person.phone)}


def forms(value: str) -> list[bytes]:
    """The byte spellings a file could use: UTF-8, JSON \\u escapes, UTF-16 (LE and BE).

    A UTF-16 spelling shorter than 6 bytes (a two-character name) is left out: 4 given bytes turn up
    by chance in megabytes of ciphertext and signatures, so a hit would say nothing.
    """
    escaped = json.dumps(value)[1:-1].encode("ascii")
    wide = [w for w in (value.encode("utf-16-le"), value.encode("utf-16-be")) if len(w) >= 6]
    return list(dict.fromkeys([value.encode(), escaped, *wide]))


def readings(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """The file's bytes and every decoded view of them: archive members, PDF text, base64 inside JSON."""
    yield name, data
    if data.startswith(b"%PDF"):
        yield f"{name} (pdftotext)", _pdf_text(data)
        for index, stream in enumerate(_pdf_streams(data)):
            yield f"{name} (stream #{index} inflated)", stream
    elif data.startswith((b"PK\x03\x04", b"\x1f\x8b")):
        for member, inner in _members(data):
            yield from readings(f"{name}!{member}", inner)
    elif data[:1] in {b"{", b"["}:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        for index, decoded in enumerate(_base64_strings(document)):
            yield from readings(f"{name} (base64 #{index})", decoded)


def _pdf_text(data: bytes) -> bytes:
    """A PDF's text as ``pdftotext`` extracts it (UTF-8); nothing for a stand-in that is no real PDF."""
    with tempfile.TemporaryDirectory() as scratch:
        pdf = Path(scratch) / "file.pdf"
        pdf.write_bytes(data)
        return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=False,
                              timeout=60).stdout


def _pdf_streams(data: bytes) -> Iterator[bytes]:
    """Every Flate-compressed stream of a PDF, inflated (fonts' ToUnicode maps, content, embedded files)."""
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            yield zlib.decompressobj().decompress(data[match.end():])
        except zlib.error:
            continue


def _members(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The files inside a ZIP, a .tar.gz or a plain gzip stream."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield member, archive.read(member)
        return
    inner = gzip.decompress(data)
    try:
        with tarfile.open(fileobj=io.BytesIO(inner)) as tar:
            for info in tar.getmembers():
                extracted = tar.extractfile(info)
                if extracted is not None:
                    yield info.name, extracted.read()
    except tarfile.ReadError:
        yield "(gunzip)", inner


def _base64_strings(value: Any) -> Iterator[bytes]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _base64_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _base64_strings(item)
    elif isinstance(value, str) and len(value) >= 16 and re.fullmatch(r"[A-Za-z0-9+/_-]+=*", value):
        try:
            yield base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
        except (binascii.Error, ValueError):
            return


def leaks(files: dict[str, bytes], values: set[str]) -> list[tuple[str, str]]:
    """``(where, value)`` for every value found in clear in any reading of any file."""
    patterns = {value: forms(value) for value in sorted(values)}
    found: list[tuple[str, str]] = []
    for name, data in sorted(files.items()):
        for where, bytes_ in readings(name, data):
            found.extend((where, value) for value, spelled in patterns.items() if any(f in bytes_ for f in spelled))
    return found


def assert_none_in_clear(files: dict[str, bytes], values: set[str]) -> None:
    """Fail naming every file (or decoded view of one) and every value found in it."""
    found = leaks(files, values)
    assert not found, f"{len(found)} personal values in clear:\n" + "\n".join(f"  {w}: {v}" for w, v in found)


def tree(root: Path, label: str) -> dict[str, bytes]:
    """Every file under ``root`` by ``label/relative path``, read now."""
    return {f"{label}/{p.relative_to(root).as_posix()}": p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass(frozen=True, slots=True)
class Run:
    directory: Path
    node_dir: Path
    chain_id: str
    written_while_running: dict[str, bytes]
    written_after_stop: dict[str, bytes]
    logs: dict[str, bytes]
    backup: Path
    evidence: Path
    court_evidence: Path
    downloads: dict[str, bytes]
    """``<number>.json`` / ``<number>.pdf`` → what the registry was handed (names in clear, legitimately)."""
    documents: dict[str, str]
    """Certificate number → record hash."""
    qr_content: dict[str, Any]


def _wait_for_url(process: subprocess.Popen[bytes], out: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/v1/health", out.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.1)
    pytest.fail(f"the node did not start: {out.read_text(errors='replace')[-3000:]}")


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _signed_get(http: httpx.Client, directory: Path, target: RequestTarget, handle: str, path: str) -> httpx.Response:
    request = httpx.Request("GET", f"{http.base_url}".rstrip("/") + path)
    sign_request(request, ClientIdentity.from_dev(directory, handle), target=target, created_s=int(time.time()))
    response = http.send(request)
    assert response.status_code == 200, (path, response.text)
    return response


def _portal_visit(url: str, directory: Path, handle: str) -> None:
    """Sign in to the portal as ``handle`` and open its desk: sessions and the desk index get written."""
    password = json.loads((directory / "portal-accounts.json").read_text(encoding="utf-8"))[handle]
    with httpx.Client(base_url=f"{url}/portal", timeout=30) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text)
        assert csrf is not None
        answer = browser.post("/signin", data={"csrf": csrf.group(1), "username": handle, "password": password})
        assert answer.status_code == 303, answer.text
        desk = browser.get(answer.headers["location"].removeprefix("/portal"))
        assert desk.status_code == 200, desk.text


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("privacy")
    directory, node_dir = base / "net", base / "net" / "nodes" / REGISTRY
    init = _cli("init", str(directory), "--units", str(UNITS), "--seed", str(SEED))
    log = base / "node.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", LAUNCH, str(directory)], stdout=out,
                                   stderr=subprocess.STDOUT, env=ENV)
    try:
        url = _wait_for_url(process, log)
        health = httpx.get(f"{url}/v1/health", timeout=10).json()
        chain_id = str(health["chain_id"])
        target = RequestTarget(chain_id=chain_id, node_org=str(health["org_id"]))
        report = base / "demo.json"
        _cli("demo", str(directory), "--node", url, "--seed", str(SEED), "--report", str(report), timeout=300)
        rows = json.loads(report.read_text(encoding="utf-8"))["rows"]
        certified = {r["certificate"]: r["document_sha256"] for r in rows
                     if r["certificate"] and TITLE_MARK not in r["certificate"]}  # titles are not the desk's
        downloads: dict[str, bytes] = {}
        with httpx.Client(base_url=url, timeout=60) as http:
            for number in certified:
                path = f"/v1/certificates/{quote(number)}"
                downloads[f"{number}.json"] = _signed_get(http, directory, target, ISSUER, path).content
                downloads[f"{number}.pdf"] = _signed_get(http, directory, target, ISSUER, f"{path}/pdf").content
            first = next(r for r in rows if r["business"] == "mortgage.first")
            qr = http.get("/v1/certificates/verify",
                          params={"number": first["certificate"], "sha256": first["document_sha256"]})
            assert qr.status_code == 200, qr.text
        _portal_visit(url, directory, "gz-registry/intake1")
        backup = base / "backup"
        _cli("backup", str(node_dir), str(backup))
        evidence = base / "evidence.json"
        _cli("evidence", "export", str(node_dir), "--application", first["application_id"], "-o", str(evidence))
        court = base / "evidence-court.json"
        _cli("evidence", "export", str(node_dir), "--application", first["application_id"], "-o", str(court),
             "--court")
        while_running = tree(directory, "net")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text(errors="replace")[-3000:]
    return Run(directory=directory, node_dir=node_dir, chain_id=chain_id, written_while_running=while_running,
               written_after_stop=tree(directory, "net"),
               logs={"node.log": log.read_bytes(), "init output": (init.stdout + init.stderr).encode()},
               backup=backup, evidence=evidence, court_evidence=court, downloads=downloads, documents=certified,
               qr_content=qr.json()["content"])


@pytest.fixture(scope="module")
def values() -> set[str]:
    found = clear_values()
    assert len(found) > 300  # 150 units: a few hundred persons' names, ID numbers and phones
    return found


def test_the_certificates_handed_to_the_registry_name_the_parties_so_the_scan_can_find_names(
        run: Run, values: set[str]) -> None:
    """The downloads are the legitimate exception: they must name the parties, else the scan proves nothing."""
    assert len(run.documents) >= 5
    in_json = {value for name, data in run.downloads.items() if name.endswith(".json")
               for value in values if value.encode() in data}
    assert in_json, "no certificate names a person of the register"
    pdf_leaks = {value for _, value in leaks({n: d for n, d in run.downloads.items() if n.endswith(".pdf")}, values)}
    assert in_json & pdf_leaks, "the PDFs' text does not show the names their JSON carries"
    masked = [p["name"] for box in ("right_holders", "obligors") for p in run.qr_content[box]
              if p.get("kind") != "company"]
    assert masked
    assert all(name.endswith("*") for name in masked)


def test_no_personal_value_is_in_clear_in_any_file_under_the_consortium_while_the_node_runs_and_after(
        run: Run, values: set[str]) -> None:
    node = f"net/nodes/{REGISTRY}"
    assert f"{node}/ledger.sqlite-wal" in run.written_while_running
    for files in (run.written_while_running, run.written_after_stop):
        assert_none_in_clear(files, values)
        names = set(files)
        assert {f"{node}/{name}" for name in WRITTEN} <= names, sorted(names)
        archived = [n for n in names if n.startswith(f"{node}/certificates/") and n.endswith(SEALED_SUFFIX)]
        assert len(archived) == 2 * len(run.documents), sorted(names)  # each certificate's JSON and PDF, sealed


def test_the_node_log_at_debug_and_the_init_output_name_no_one(run: Run, values: set[str]) -> None:
    log = run.logs["node.log"]
    assert b"Started server process" in log
    assert b" DEBUG " in log  # every library logger wrote at DEBUG
    assert_none_in_clear(run.logs, values)


def test_a_backup_of_the_running_node_holds_no_personal_value_and_restores_the_sealed_archive(
        run: Run, values: set[str], tmp_path: Path) -> None:
    files = tree(run.backup, "backup")
    assert_none_in_clear(files, values)
    assert any(n.startswith("backup/node/certificates/") and n.endswith(SEALED_SUFFIX) for n in files)
    restored = tmp_path / "restored"
    _cli("restore", str(run.backup), str(restored / "nodes" / REGISTRY))
    key = load_sealing_key(restored, REGISTRY)
    assert key is not None
    archive = SealedArchive(restored / "nodes" / REGISTRY / "certificates", chain_id=run.chain_id, org_id=REGISTRY,
                            key=key)
    for number, sha256 in run.documents.items():
        kept = archive.read(f"{sha256}.json")
        assert kept is not None
        assert orjson.loads(kept) == orjson.loads(run.downloads[f"{number}.json"])
        [pdf] = (restored / "nodes" / REGISTRY / "certificates").glob(f"{sha256}.*.pdf{SEALED_SUFFIX}")  # one address
        assert archive.read(pdf.name.removesuffix(SEALED_SUFFIX)) == run.downloads[f"{number}.pdf"]


def test_an_evidence_package_without_court_openings_names_no_one(run: Run, values: set[str]) -> None:
    files = {"evidence.json": run.evidence.read_bytes()}
    assert sum(1 for _ in readings("evidence.json", files["evidence.json"])) > 10  # its base64 parts were decoded
    assert_none_in_clear(files, values)


def test_only_the_court_package_carries_the_opened_records_the_court_asked_for(run: Run, values: set[str]) -> None:
    """``--court`` is the declared exception: the operator writes it for a court, wherever they choose."""
    opened = {value for _, value in leaks({"court.json": run.court_evidence.read_bytes()}, values)}
    assert len(opened) >= 3  # at least the owner's name, ID number and phone


def test_a_sealed_copy_opens_only_under_its_own_name_and_a_clear_copy_left_by_an_older_node_gets_sealed(
        tmp_path: Path) -> None:
    key = X25519PrivateKey.generate()
    archive = SealedArchive(tmp_path, chain_id="chain-a", org_id=REGISTRY, key=key)
    archive.write(f"{'a' * 64}.json", '{"name":"张三"}'.encode())
    assert "张三".encode() not in (tmp_path / f"{'a' * 64}.json{SEALED_SUFFIX}").read_bytes()
    shutil.copy(tmp_path / f"{'a' * 64}.json{SEALED_SUFFIX}", tmp_path / f"{'b' * 64}.json{SEALED_SUFFIX}")
    with pytest.raises(IntegrityFault):
        archive.read(f"{'b' * 64}.json")
    with pytest.raises(IntegrityFault):
        SealedArchive(tmp_path, chain_id="chain-b", org_id=REGISTRY, key=key).read(f"{'a' * 64}.json")
    with pytest.raises(IntegrityFault):
        SealedArchive(tmp_path, chain_id="chain-a", org_id=REGISTRY,
                      key=X25519PrivateKey.generate()).read(f"{'a' * 64}.json")
    (tmp_path / f"{'c' * 64}.pdf").write_bytes(b"%PDF clear copy")
    assert archive.read(f"{'c' * 64}.pdf") == b"%PDF clear copy"
    assert not (tmp_path / f"{'c' * 64}.pdf").exists()
    assert (tmp_path / f"{'c' * 64}.pdf{SEALED_SUFFIX}").exists()
    assert archive.read(f"{'c' * 64}.pdf") == b"%PDF clear copy"
    assert archive.read(f"{'d' * 64}.pdf") is None
