"""`estatechain demo` against a node that `estatechain up` runs, as a newcomer would after `./scripts/run`.

The node is a separate process on a free loopback port over a fresh consortium with a small register;
the demo is another process that signs every step with the acting party's dev key. Afterwards the
test checks, as an outsider with its own keys: every business type completed, every tx id the demo
reported is committed valid, every certificate number it printed answers the public verify endpoint
with the status the run left it in and the record hash the issuer put on the ledger, and the
registration certificates verify with `estatechain certificate verify` against the genesis.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from estatechain.sdk import Client, ClientIdentity

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]
UNITS = "150"
BUSINESS_TYPES = {
    "mortgage.first", "mortgage.cancel", "purchase_notice.first", "mortgage_notice.first", "mortgage_notice.change",
    "mortgage_notice.transfer", "mortgage_notice.correct", "mortgage_notice.cancel", "building.first_registration",
    "ownership.transfer", "mortgage.convert", "inquiry", "seizure", "presale.contract",
}
ENV = {**os.environ, "COLUMNS": "200"}


@dataclass(frozen=True, slots=True)
class UpNode:
    url: str
    directory: Path


@pytest.fixture(name="node")
def node_fixture(tmp_path: Path) -> Iterator[UpNode]:
    directory = tmp_path / "net"
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen([*CLI, "up", str(directory), "--port", "0", "--units", UNITS],
                                   stdout=out, stderr=subprocess.STDOUT, env=ENV)
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"(http://127\.0\.0\.1:\d+)/v1/health", log.read_text())
            url = found.group(1) if found else None
            time.sleep(0.1)
        assert url is not None, log.read_text()
        yield UpNode(url=url, directory=directory)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False, env=ENV)


async def committed_valid(node: UpNode, tx_ids: list[str]) -> dict[str, str]:
    """Each tx's result as the node reports it to an auditor's own signed request."""
    async with Client(node.url, ClientIdentity.from_dev(node.directory, "gz-regulator/auditor1")) as auditor:
        statuses = await asyncio.gather(*(auditor.status(tx) for tx in tx_ids))
    return {s.tx_id: f"{s.status}/{s.result}" for s in statuses}


async def certificate_file(node: UpNode, number: str) -> bytes:
    async with Client(node.url, ClientIdentity.from_dev(node.directory, "gz-registry/issuer1")) as issuer:
        request = issuer.build_request("GET", f"/v1/certificates/{quote(number)}", target=await issuer.target())
        data: dict[str, Any] = await issuer.send(request)
    return orjson.dumps(data)


def test_demo_drives_every_business_type_and_its_certificates_verify(node: UpNode, tmp_path: Path) -> None:
    report_path = tmp_path / "demo.json"
    result = cli("demo", str(node.directory), "--node", node.url, "--report", str(report_path), timeout=80)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "all committed valid" in result.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = report["rows"]
    assert {r["business"] for r in rows} == BUSINESS_TYPES
    assert {r["title"] for r in rows if r["business"] == "mortgage.first"} == {
        "mortgage first registration (ordinary)", "mortgage first registration (maximum)"}
    assert all(r["txs"] for r in rows)

    # every tx the demo reported is on the ledger, valid; the table printed each one's prefix
    tx_ids = [tx for r in rows for tx in r["txs"]]
    assert len(tx_ids) == len(set(tx_ids)) >= 80
    assert set(asyncio.run(committed_valid(node, tx_ids)).values()) == {"committed/valid"}
    assert all(tx[:12] in result.stdout for tx in tx_ids)

    # every certificate number printed: the public endpoint knows it, in the state the run left it in
    certified = [r for r in rows if r["certificate"]]
    assert len(certified) == 11
    with httpx.Client(base_url=node.url, timeout=10) as public:
        for row in certified:
            assert row["certificate"] in result.stdout
            answer = public.get("/v1/certificates/verify", params={"number": row["certificate"]}).json()
            assert (answer["number"], answer["status"]) == (row["certificate"], row["expected_status"]), row
            assert answer["document_sha256"] == row["document_sha256"], row
    statuses = sorted(r["expected_status"] for r in certified)
    assert statuses == ["CANCELLED", "CANCELLED", "CONVERTED", "CONVERTED", "CORRECTED", "SUPERSEDED",
                        "SUPERSEDED", "SUPERSEDED", "VALID", "VALID", "VALID"]

    # the registration certificates verify offline against the genesis, with the live status from the node
    genesis = str(node.directory / "genesis.json")
    converted = next(r for r in rows if r["business"] == "mortgage.convert")
    changed = next(r for r in rows if r["business"] == "mortgage_notice.first")
    for row, code, verdict in ((converted, 0, "VERIFIED"), (changed, 3, "NOT IN FORCE")):
        path = tmp_path / f"{row['business']}.json"
        path.write_bytes(asyncio.run(certificate_file(node, row["certificate"])))
        checked = cli("certificate", "verify", str(path), "--genesis", genesis, "--node", node.url)
        assert checked.returncode == code, checked.stdout + checked.stderr
        assert verdict in checked.stdout + checked.stderr
