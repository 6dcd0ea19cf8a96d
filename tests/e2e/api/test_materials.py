"""Materials over real HTTP: sniffed type, content address, and reads for the uploading org and the registry only."""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain import durable
from estatechain.sdk import Client

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def send(node: RunningNode, handle: str, method: str, path: str, content: bytes | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        async with Client(node.url, node.identity(handle), chain_id=node.chain_id) as c:
            request = c.build_request(method, path, content=content, target=node.target)
            request.headers["content-type"] = "image/png"  # a lie the node must not believe
            return await c._http.send(request)

    response: httpx.Response = asyncio.run(go())
    return response


def test_upload_is_addressed_by_sha256_with_the_sniffed_type_and_read_only_by_the_entitled(
    node: RunningNode,
) -> None:
    up = send(node, "icbc-gz/operator1", "POST", "/v1/materials", PDF)
    assert up.status_code == 201, up.text
    body: dict[str, Any] = up.json()
    assert body == {"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF), "media_type": "application/pdf"}
    path = f"/v1/materials/{body['sha256']}"
    own = send(node, "icbc-gz/approver1", "GET", path)
    assert (own.status_code, own.content, own.headers["content-type"]) == (200, PDF, "application/pdf")
    registry = send(node, "gz-registry/reviewer1", "GET", path)
    assert (registry.status_code, registry.content) == (200, PDF)
    other = send(node, "ccb-gz/operator1", "GET", path)
    assert (other.status_code, other.json()["error"]) == (403, "FORBIDDEN")
    absent = send(node, "ccb-gz/operator1", "GET", f"/v1/materials/{'0' * 64}")
    assert absent.status_code == 403  # no probing for other orgs' documents
    missing = send(node, "gz-registry/reviewer1", "GET", f"/v1/materials/{'0' * 64}")
    assert missing.status_code == 404


def ofd(root: bool = True) -> bytes:
    """A minimal OFD package (GB/T 33190: a ZIP whose root holds OFD.xml), or a ZIP without that entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if root:
            archive.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>')
        archive.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    return out.getvalue()


def test_an_ofd_document_uploads_as_application_ofd_and_another_zip_does_not(node: RunningNode) -> None:
    document = ofd()  # once: a ZIP entry carries the time it was written
    up = send(node, "icbc-gz/operator1", "POST", "/v1/materials", document)
    assert (up.status_code, up.json()["media_type"]) == (201, "application/ofd"), up.text
    read = send(node, "gz-registry/reviewer1", "GET", f"/v1/materials/{up.json()['sha256']}")
    assert (read.status_code, read.headers["content-type"], read.content) == (200, "application/ofd", document)
    other = send(node, "icbc-gz/operator1", "POST", "/v1/materials", ofd(root=False))
    assert (other.status_code, other.json()["error"]) == (400, "MATERIAL_REFUSED")
    assert "PDF, OFD, JPEG or PNG" in other.json()["message"]


def test_content_that_is_not_pdf_jpeg_or_png_is_refused(node: RunningNode) -> None:
    response = send(node, "icbc-gz/operator1", "POST", "/v1/materials", b"MZ\x90\x00 not a document")
    assert (response.status_code, response.json()["error"]) == (400, "MATERIAL_REFUSED")
    empty = send(node, "icbc-gz/operator1", "POST", "/v1/materials", b"")
    assert empty.status_code == 400
    too_big = send(node, "icbc-gz/operator1", "POST", "/v1/materials", b"%PDF-" + b"0" * (300 * 1024))
    assert (too_big.status_code, too_big.json()["detail"]["limit"]) == (413, str(256 * 1024))


def test_a_scan_larger_than_any_transaction_uploads_while_other_routes_keep_their_limit(node: RunningNode) -> None:
    scan = b"%PDF-1.7\n" + bytes(range(256)) * (200 * 4)  # 200 KiB: over the node's 128 KiB body limit
    up = send(node, "icbc-gz/operator1", "POST", "/v1/materials", scan)
    assert (up.status_code, up.json()["size"]) == (201, len(scan)), up.text
    envelope = send(node, "icbc-gz/operator1", "POST", "/v1/transactions", b"{" + b" " * (200 * 1024) + b"}")
    assert (envelope.status_code, envelope.json()["detail"]["limit"]) == (413, str(128 * 1024))


SLOW_DISK_S = 1.5
"""How long each durable write of a material takes in the slow-disk test (object and holder's marker: twice)."""


def test_an_upload_to_a_slow_disk_does_not_hold_up_the_nodes_other_requests(
    node: RunningNode, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scan being fsynced must not freeze the node: another client's request is answered meanwhile."""
    write_synced = durable._write_synced  # the file write the slow disk stands in for
    writing = threading.Event()
    written: list[float] = []

    def slow(path: Path, flags: int, mode: int, data: bytes) -> None:
        if "materials" in path.parts:
            writing.set()
            time.sleep(SLOW_DISK_S)
            written.append(time.monotonic())
        write_synced(path, flags, mode, data)

    monkeypatch.setattr(durable, "_write_synced", slow)

    async def upload() -> httpx.Response:
        async with Client(node.url, node.identity("icbc-gz/operator1"), chain_id=node.chain_id) as c:
            request = c.build_request("POST", "/v1/materials", content=PDF, target=node.target)
            return await c._http.send(request)

    async def health() -> tuple[httpx.Response, float]:
        assert await asyncio.to_thread(writing.wait, 30), "the upload never reached the disk"
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
            response = await http.get("/v1/health")
            return response, time.monotonic()

    async def both() -> tuple[httpx.Response, tuple[httpx.Response, float]]:
        return await asyncio.gather(upload(), health())

    up, (ok, answered) = asyncio.run(both())
    assert (up.status_code, ok.status_code) == (201, 200), up.text
    assert len(written) == 2  # the object and the org's marker
    assert answered < written[0], "the health check waited for the upload's first write: the event loop was held"
    read = send(node, "icbc-gz/approver1", "GET", f"/v1/materials/{up.json()['sha256']}")
    assert (read.status_code, read.content) == (200, PDF)  # and the upload is durable and readable as before
