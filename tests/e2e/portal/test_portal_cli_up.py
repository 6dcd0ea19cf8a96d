"""`estatechain up` prints a portal account per dev identity; a printed password or owner code signs in (no browser)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]


def test_up_prints_portal_accounts_whose_passwords_sign_in(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen([*CLI, "up", str(tmp_path / "net"), "--port", "0", "--units", "50"],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        account = None
        while account is None and time.monotonic() < deadline and process.poll() is None:
            account = re.search(r"^\s+icbc-gz/operator1\s+bank\.operator\s+(\S+)$", log.read_text(), re.MULTILINE)
            time.sleep(0.1)
        assert account is not None, log.read_text()
        portal = re.search(r"http://127\.0\.0\.1:\d+/portal", log.read_text())
        assert portal is not None
        with httpx.Client(base_url=portal.group(0)) as browser:
            page = browser.get("/signin")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            answer = browser.post("/signin", data={"csrf": csrf.group(1), "username": "icbc-gz/operator1",
                                                   "password": account.group(1)})
            assert answer.status_code == 303
            assert answer.headers["location"] == "/portal/bank"
            assert "HttpOnly" in answer.headers["set-cookie"]
            assert "SameSite=strict" in answer.headers["set-cookie"]
            desk = browser.get("/bank")
            assert desk.status_code == 200
            assert "银行工作台" in desk.text
        assert (tmp_path / "net" / "portal-accounts.json").stat().st_mode & 0o077 == 0
        printed = re.search(r"^\s+gz-identity/person1\s+owner\s+(\d{8})$", log.read_text(), re.MULTILINE)
        assert printed is not None, log.read_text()
        assert owner_signs_in(portal.group(0), printed.group(1)).headers["location"] == "/portal/owner"
        assert owner_signs_in(portal.group(0), printed.group(1)).status_code == 401  # a code works once
        another = subprocess.run([*CLI, "owner-code", str(tmp_path / "net"), "gz-identity/person1"],
                                 capture_output=True, text=True, check=True, timeout=60)
        fresh = re.search(r"one-time code (\d{8})", another.stdout)
        assert fresh is not None, another.stdout
        assert owner_signs_in(portal.group(0), fresh.group(1)).status_code == 303
        refused = subprocess.run([*CLI, "owner-code", str(tmp_path / "net"), "icbc-gz/operator1"],
                                 check=False, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2
        assert "Not an owner" in refused.stderr + refused.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def owner_signs_in(portal: str, code: str) -> httpx.Response:
    """A sign-in of the demo owner person1 with ``code`` from a fresh browser."""
    with httpx.Client(base_url=portal) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text)
        assert csrf is not None
        return browser.post("/signin", data={"csrf": csrf.group(1), "username": "gz-identity/person1",
                                             "password": code})
