"""`estatechain up` as a newcomer runs it: creates the consortium, prints a loopback URL, stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]


def test_up_has_help_with_an_example() -> None:
    result = subprocess.run([*CLI, "up", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "Example: estatechain up" in result.stdout


def owner_codes(directory: Path) -> list[tuple[object, ...]]:
    """The stored (hashed) one-time codes of the registry node's portal."""
    path = directory / "nodes" / "gz-registry" / "portal.sqlite"
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return sorted(db.execute("SELECT * FROM one_time_codes").fetchall())


def test_up_creates_serves_on_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen([*CLI, "up", str(tmp_path / "net"), "--port", "0", "--units", "50"],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:\d+/v1/health", log.read_text())
            url = found.group(0) if found else None
            time.sleep(0.1)
        assert url is not None, log.read_text()
        assert httpx.get(url).json()["status"] == "ok"
        assert "ClientIdentity.from_dev" in log.read_text()
        codes_before = owner_codes(tmp_path / "net")
        second = subprocess.run([*CLI, "up", str(tmp_path / "net"), "--port", "0"], capture_output=True, text=True,
                                timeout=60, check=False)
        assert second.returncode != 0  # the ledger's writer lock is held by the first
        assert owner_codes(tmp_path / "net") == codes_before  # the codes the first printed still sign in
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0, log.read_text()
    assert "ledger closed" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_a_taken_port_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*CLI, "up", str(tmp_path / "net"), "--port", str(port)], capture_output=True,
                                text=True, timeout=60, check=False, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"127.0.0.1:{port} is in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "net").exists()


def test_up_without_cluster_on_a_cluster_folder_says_to_add_it(tmp_path: Path) -> None:
    (tmp_path / "net" / "cluster").mkdir(parents=True)
    result = subprocess.run([*CLI, "up", str(tmp_path / "net"), "--port", "0"], capture_output=True, text=True,
                            timeout=60, check=False, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2
    assert "--cluster" in result.stderr
    assert "Traceback" not in result.stderr


def test_join_from_with_a_ledger_already_there_is_refused_not_ignored(tmp_path: Path) -> None:
    ledger = tmp_path / "net" / "cluster" / "nodes" / "gz-court" / "ledger.sqlite"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"")  # even an empty one left by an earlier start: the node would replay the stream instead
    result = subprocess.run([*CLI, "node", str(tmp_path / "net"), "--org", "gz-court", "--port", "0",
                             "--join-from", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60,
                            check=False, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert "move the ledger aside" in result.stderr



def _cluster_folder(tmp_path: Path) -> Path:
    """A consortium with a cluster description whose NATS and peers answer nowhere (port 9 on loopback)."""
    net = tmp_path / "net"
    made = subprocess.run([*CLI, "init", str(net), "--units", "20"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert made.returncode == 0, made.stderr
    credentials = net / "cluster" / "gz-court.json"
    credentials.parent.mkdir()
    credentials.write_text(json.dumps({"user": "gz-court", "password": "p", "inbox_prefix": "_INBOX_gz-court"}))
    (net / "cluster" / "cluster.json").write_text(json.dumps({
        "credentials": {"gz-court": str(credentials)}, "servers": ["nats://127.0.0.1:9"],
        "monitoring": ["http://127.0.0.1:9"], "nodes": {}}))
    return net


def _join(net: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "node", str(net), "--org", "gz-court", "--port", "0",
                           "--join-from", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, "COLUMNS": "200"})


def test_join_from_with_a_bad_key_stops_before_asking_the_peer_and_leaves_no_ledger(tmp_path: Path) -> None:
    """The node's keys are checked before a snapshot is fetched, as before a ledger is opened (operations.md §1)."""
    net = _cluster_folder(tmp_path)
    (net / "orgs" / "gz-registry" / "users" / "intake1" / "key.pem").unlink()  # the dev layout loads whole
    result = _join(net)
    assert result.returncode == 2, result.stderr
    assert "intake1/key.pem" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not (net / "cluster" / "nodes" / "gz-court").exists()


def test_join_from_a_peer_that_does_not_answer_says_so_without_a_traceback(tmp_path: Path) -> None:
    result = _join(_cluster_folder(tmp_path))
    assert result.returncode != 0
    assert "cannot fetch a snapshot from http://127.0.0.1:9" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "net" / "cluster" / "nodes" / "gz-court" / "ledger.sqlite").exists()
