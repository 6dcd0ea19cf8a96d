"""Destroying a shredded record's data keys at this node (design §3.10, §3.22).

The ledger's ``record.shred`` puts ``privacy/shredded/<party id>`` in state; this module makes the
node's sealed store agree with it. After every block it removes the wrapped keys of the records that
block shredded, and at start-up it sweeps every shredded mark, so a node that crashed between commit
and sweep, was restored from a backup, or joined from a snapshot still destroys the keys it holds.

The sealed store (``<node>/sealed/``) keeps ciphertexts and wrapped keys in separate files per import
transaction (``<tx>.records.jsonl`` and ``<tx>.keys.jsonl``); shredding rewrites only the small keys
file (temporary file, fsync, rename, fsync of the folder), leaving every ciphertext and every
on-ledger commitment byte for byte as it was — nothing that is hashed changes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from estatechain.contract import keys
from estatechain.ledger.envelope import parse_envelope
from estatechain.storage.store import LedgerStore

log = logging.getLogger(__name__)

SEALED_DIR: Final = "sealed"
PREFIX: Final = keys.shredded("")


def shred_keys(sealed_dir: Path, record_ids: Iterable[str]) -> int:
    """Remove the wrapped keys of ``record_ids`` from every keys file; the number of records affected."""
    wanted = set(record_ids)
    if not wanted or not sealed_dir.is_dir():
        return 0
    removed = 0
    for path in sorted(sealed_dir.glob("*.keys.jsonl")):
        lines = path.read_bytes().splitlines()
        kept = [line for line in lines if json.loads(line)["record_id"] not in wanted]
        if len(kept) == len(lines):
            continue
        removed += len(lines) - len(kept)
        fd, tmp = tempfile.mkstemp(dir=sealed_dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b"".join(line + b"\n" for line in kept))
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    if removed:
        directory = os.open(sealed_dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return removed


class Shredder:
    """Keeps one node's sealed store in line with the ledger's shredding marks."""

    def __init__(self, store: LedgerStore, node_dir: Path) -> None:
        self._store = store
        self._sealed = node_dir / SEALED_DIR

    def sweep(self) -> int:
        """Destroy the keys of every record the ledger marks shredded (start-up)."""
        return shred_keys(self._sealed, (key.removeprefix(PREFIX) for key, _ in self._store.scan(PREFIX)))

    def after_block(self, height: int, _events: object = None) -> None:
        """Destroy the keys of the records block ``height`` shredded (an event-hub hook)."""
        rows = self._store.connection.execute(
            "SELECT envelope FROM txs WHERE height = ? AND command = 'record.shred' AND status = 'valid'", (height,)
        ).fetchall()
        targets = []
        for (envelope,) in rows:
            tx = parse_envelope(bytes(envelope), suite=self._store.suite, max_bytes=len(envelope))
            targets.append(str(tx.body["party_id"]))
        if targets and (count := shred_keys(self._sealed, targets)):
            log.info("block %d shredded %d sealed record(s) at this node", height, count)
