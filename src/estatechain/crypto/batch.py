"""Checking many signatures in one call: the job a verification worker process runs.

Kept apart from the node's asyncio code so that a worker process started by ``spawn`` imports only the
signature suites and the canonical encoder, not the node.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

from estatechain import canonical
from estatechain.crypto.suites import get_suite

Check = tuple[bytes, bytes, bytes, bool]
"""(public key, message, detached signature, whether the message must also be canonical JSON)."""

BAD_SIGNATURE: Final = 0
VALID: Final = 1
NON_CANONICAL: Final = 2


def watch_parent(parent_pid: int, interval_s: float = 0.5) -> None:
    """Worker initializer: exit as soon as the process that started this worker is gone.

    A worker waits on a queue whose writing end it holds itself, so it would never see its parent
    die: after a ``kill -9`` of a node it would wait forever (with its resource tracker), and a crash
    campaign would leave thousands behind.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def verify_many(suite_name: str, checks: Sequence[Check]) -> bytes:
    """One verdict byte per check, in order: ``VALID``, ``BAD_SIGNATURE`` or ``NON_CANONICAL``.

    Raises:
        InputError: ``suite_name`` is not a registered suite.

    """
    verify = get_suite(suite_name).verify
    return bytes(verdict(verify, check) for check in checks)


def verdict(verify: Callable[[bytes, bytes, bytes], bool], check: Check) -> int:
    """The verdict on one check (``verify`` is a suite's ``verify``)."""
    public_key, message, signature, must_be_canonical = check
    if must_be_canonical and canonical.why_not_canonical(message) is not None:
        return NON_CANONICAL
    return VALID if verify(public_key, message, signature) else BAD_SIGNATURE
