"""Checking many signatures in one call: the job a verification worker process runs.

Kept apart from the node's asyncio code so that a worker process started by ``spawn`` imports only the
signature suites, not the node.
"""

from __future__ import annotations

from collections.abc import Sequence

from estatechain.crypto.suites import get_suite

Check = tuple[bytes, bytes, bytes]
"""(public key, message, detached signature)."""


def verify_many(suite_name: str, checks: Sequence[Check]) -> bytes:
    """One byte per check, 1 when the signature verifies and 0 when it does not, in order.

    Raises:
        InputError: ``suite_name`` is not a registered suite.

    """
    verify = get_suite(suite_name).verify
    return bytes(verify(public_key, message, signature) for public_key, message, signature in checks)
