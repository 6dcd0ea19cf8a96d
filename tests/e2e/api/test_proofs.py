"""Blocks and RFC 9162 proofs as served, checked with the RFC's verifiers."""

from __future__ import annotations

import hashlib

from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.crypto.merkle import verify_consistency
from estatechain.sdk import SyncClient

OPERATOR = "icbc-gz/operator1"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_consistency_between_two_heads_verifies(node: RunningNode) -> None:
    with SyncClient(node.url, node.identity(OPERATOR)) as client:
        client.submit_and_wait("note.put", {"data": {}, "if_absent": False, "key": "p/1"})
        old = client.head().header
        client.submit_and_wait("note.put", {"data": {}, "if_absent": False, "key": "p/2"})
        new = client.head().header
        proof = client.consistency_proof(old.txlog_size, new.txlog_size)
    assert proof["old_root"] == old.txlog_root
    assert proof["root"] == new.txlog_root
    assert verify_consistency(sha256, old.txlog_size, new.txlog_size, [bytes.fromhex(p) for p in proof["proof"]],
                              bytes.fromhex(old.txlog_root), bytes.fromhex(new.txlog_root))
