"""`estatechain up --cluster` as a developer runs it: one org's node going down does not take the others with it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from estatechain.testing.devcluster import NODE_ORGS

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]
BANK = "ccb-gz"
START_S = 240.0
"""Three NATS servers and five nodes, a 20-unit register published through the stream, on two cores."""


def _wait_for(log: Path, pattern: str, process: subprocess.Popen[bytes], timeout_s: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := re.search(pattern, log.read_text()):
            return found
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not seen in {timeout_s} s:\n{log.read_text()}")


def _node_pid(directory: Path, org: str) -> int:
    """The pid of the node process ``up --cluster`` started for ``org`` (its command line names both)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"node" in argv and str(directory).encode() in argv and org.encode() in argv:
            return int(entry.name)
    raise AssertionError(f"no node process for {org}")


def _ready(url: str, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    status = 0
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"{url}/v1/ready", timeout=5).status_code
        except httpx.HTTPError:
            status = 0
        if status == 200:
            return status
        time.sleep(0.5)
    return status


def test_a_killed_node_is_reported_with_its_restart_command_while_the_others_keep_serving(tmp_path: Path) -> None:
    net = tmp_path / "net"
    log = tmp_path / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen([*CLI, "up", str(net), "--cluster", "--port", "0", "--units", "20"],
                              stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "250"})
    restarted: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(log, r"estatechain cluster is up", up, START_S)
        urls = dict(re.findall(r"^\s+([\w-]+)\s+(http://127\.0\.0\.1:\d+)/docs", log.read_text(), re.MULTILINE))
        assert set(urls) == set(NODE_ORGS), log.read_text()

        os.kill(_node_pid(net, BANK), signal.SIGKILL)
        restart = _wait_for(log, r"start it again: (estatechain node .+)", up, 30)
        assert f"the {BANK} node exited" in log.read_text()
        time.sleep(1.0)  # a loop that stopped the cluster would have begun by now
        assert up.poll() is None, log.read_text()
        assert _ready(urls["gz-registry"], 30) == 200, "the registry's node stopped with the bank's"

        command = shlex.split(restart.group(1))
        assert command[:2] == ["estatechain", "node"]
        with (tmp_path / "restarted.log").open("w") as out:
            restarted = subprocess.Popen([*CLI, *command[1:]], stdout=out, stderr=subprocess.STDOUT)
        assert _ready(urls[BANK], 90) == 200, (tmp_path / "restarted.log").read_text()
    finally:
        if restarted is not None:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=30)
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
    assert code == 0, log.read_text()
    assert "Stopped" in log.read_text()
    assert "Traceback" not in log.read_text()
