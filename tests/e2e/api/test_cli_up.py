"""`estatechain up` as a newcomer runs it: creates the consortium, prints a loopback URL, stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]


def test_up_has_help_with_an_example() -> None:
    result = subprocess.run([*CLI, "up", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "Example: estatechain up" in result.stdout


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
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0, log.read_text()
    assert "ledger closed" in log.read_text()
    assert "Traceback" not in log.read_text()
