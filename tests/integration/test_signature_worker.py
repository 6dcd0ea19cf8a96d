"""The signature worker process: it never outlives the node that started it, even after kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import asyncio, os
from estatechain.crypto.suites import get_suite
from estatechain.node import signatures

async def main():
    suite = get_suite("ed25519-sha256")
    private, public = suite.generate()
    checker = signatures.SignatureChecker(suite, inline_below=1)
    verdicts = await asyncio.gather(*(checker.check(public, b"m", suite.sign(private, b"m")).wait()
                                      for _ in range(3)))
    print(*verdicts)
    print(*signatures._pool._processes, flush=True)
    os.kill(os.getpid(), 9)

if __name__ == "__main__":
    asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_node_killed_with_sigkill_leaves_no_worker_behind(tmp_path: Path) -> None:
    script = tmp_path / "node.py"
    script.write_text(CHILD, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                            check=False, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == -9, result.stderr
    verdicts, pids = result.stdout.splitlines()
    assert verdicts == "1 1 1"  # checked in the worker: all valid
    workers = pids.split()
    assert workers, "the batch did not go to a worker process"
    deadline = time.monotonic() + 10
    while any(alive(int(pid)) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(int(pid)) for pid in workers), f"worker(s) {workers} outlived their node"
