"""Consortium finality and divergence alarms from block attestations (design §3.6).

Every node attests each block it commits and reads every org's attestations. A height is
consortium-final once ``finality_quorum`` orgs (this one included) attested the same block hash and
state root as this node committed. A peer attesting a *different* claim for a height this node
committed raises the alarm: one of the two copies was altered, or runs a contract that decides
differently; the node stops accepting writes until an operator looks (it keeps serving reads, so the
evidence stays inspectable).

Each org's last attested height is kept in memory too (read once at start, then updated as
attestations arrive), for ``GET /v1/cluster`` and the ``estatechain_org_attested_height`` gauge: a
stopped peer is otherwise invisible while the quorum holds without it.

Attestations are kept in ``attestations.sqlite`` beside the ledger (not in the ledger file: they
arrive after a block commits, from other orgs, and are not part of any block), so evidence packages
can carry the signatures of every org that vouched for a header.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.evidence.attestations import ATTESTATIONS_FILE, ATTESTATIONS_SCHEMA
from estatechain.ledger.attestation import Attestation

log = logging.getLogger(__name__)

_POSITION: Final = "CREATE TABLE IF NOT EXISTS position(one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL)"
"""Where this node stopped reading the attestation stream; the attestations table is the evidence store's."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Alarm:
    """Two claims for one height: ours and a peer's. Reported by the API, metrics and the log."""

    height: int
    org: str
    ours: tuple[str, str]
    theirs: tuple[str, str]

    @property
    def message(self) -> str:
        """One line for an operator on call."""
        return (f"DIVERGENCE at height {self.height}: {self.org} attests block {self.theirs[0][:16]}… state "
                f"{self.theirs[1][:16]}…, this node committed block {self.ours[0][:16]}… state {self.ours[1][:16]}…; "
                "writes are refused until the copies are compared (estatechain verify on both nodes)")


class Finality:
    """Attestations received, the final height, and the first divergence seen."""

    def __init__(self, directory: Path, *, quorum: int, claim_of: Callable[[int], tuple[str, str] | None]) -> None:
        """``claim_of(height)`` is this node's committed (block hash, state root) at a height, if any."""
        self._conn = sqlite3.connect(directory / ATTESTATIONS_FILE, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(ATTESTATIONS_SCHEMA)
        self._conn.execute(_POSITION)
        self._quorum = quorum
        self._claim_of = claim_of
        self.alarm: Alarm | None = None
        self.final_height = 0
        self._latest: dict[str, int] = {
            str(org): int(height)
            for org, height in self._conn.execute("SELECT org, MAX(height) FROM attestations GROUP BY org")
        }
        rows = self._conn.execute(
            "SELECT height, block_hash, state_root FROM attestations GROUP BY height, block_hash, state_root "
            "HAVING COUNT(DISTINCT org) >= ? ORDER BY height DESC LIMIT 16", (quorum,)).fetchall()
        for height, block_hash, state_root in rows:
            if claim_of(int(height)) == (str(block_hash), str(state_root)):
                self.final_height = int(height)
                break

    @property
    def position(self) -> int:
        """The attestation-stream sequence read so far (resume point after a restart)."""
        row = self._conn.execute("SELECT seq FROM position").fetchone()
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def committed(self, height: int) -> None:
        """Called once this node committed ``height``: compare with what peers already said about it."""
        rows = self._conn.execute("SELECT org, block_hash, state_root FROM attestations WHERE height = ?",
                                  (height,)).fetchall()
        for org, their_hash, their_root in rows:
            self._compare(height, str(org), (str(their_hash), str(their_root)))
        self._update_final(height)

    def record(self, attestation: Attestation, *, seq: int) -> None:
        """Keep a verified attestation (ours or a peer's) read at attestation-stream position ``seq``."""
        self._conn.execute("BEGIN")
        self._conn.execute(
            "INSERT OR IGNORE INTO attestations VALUES (?,?,?,?,?,?)",
            (attestation.height, attestation.org, attestation.signer, attestation.block_hash, attestation.state_root,
             attestation.raw),
        )
        self._conn.execute("INSERT OR REPLACE INTO position VALUES (1, ?)", (seq,))
        self._conn.execute("COMMIT")
        if attestation.height > self._latest.get(attestation.org, 0):
            self._latest[attestation.org] = attestation.height
        if self._claim_of(attestation.height) is not None:
            self._compare(attestation.height, attestation.org, attestation.claim)
            self._update_final(attestation.height)

    def last_attested(self) -> dict[str, int]:
        """The highest height each org has attested so far, by org (orgs that never attested are absent).

        Counted whatever the claim: a peer attesting a different block still shows it is running (the
        alarm reports the difference).
        """
        return dict(self._latest)

    def attestations(self, height: int) -> list[bytes]:
        """The stored attestations of ``height``, one per org, in org order."""
        rows = self._conn.execute("SELECT raw FROM attestations WHERE height = ? ORDER BY org, signer",
                                  (height,)).fetchall()
        return [bytes(r[0]) for r in rows]

    def agreeing(self, height: int) -> list[str]:
        """Orgs whose attestation of ``height`` matches this node's committed claim."""
        ours = self._claim_of(height)
        if ours is None:
            return []
        rows = self._conn.execute("SELECT DISTINCT org FROM attestations WHERE height = ? AND block_hash = ? AND "
                                  "state_root = ? ORDER BY org", (height, *ours)).fetchall()
        return [str(r[0]) for r in rows]

    def _compare(self, height: int, org: str, theirs: tuple[str, str]) -> None:
        ours = self._claim_of(height)
        if ours is not None and theirs != ours and self.alarm is None:
            self.alarm = Alarm(height=height, org=org, ours=ours, theirs=theirs)
            log.error("%s", self.alarm.message)

    def _update_final(self, height: int) -> None:
        if height > self.final_height and len(self.agreeing(height)) >= self._quorum:
            self.final_height = height
