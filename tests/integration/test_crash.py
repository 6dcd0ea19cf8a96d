"""A node killed with SIGKILL at any moment keeps every transaction it acknowledged, and resumes where it stopped.

The parent starts ``crash_child.py`` on a ledger, lets it commit for a random 50–600 ms, kills it with
SIGKILL and then checks the ledger the way an operator would after a power cut: ``verify`` passes,
every acknowledged tx id is stored exactly once, the last commit the child began is either wholly
there or wholly absent, and the next child resumes on the same file. The campaign version repeats
that a thousand times.
"""

from __future__ import annotations

import os
import random  # noqa: TID251  (seeded kill delays; the seed is in every failure message)
import secrets
import select
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from estatechain.cli.main import node_dir
from estatechain.clock import SystemClock
from estatechain.crypto.merkle import verify_consistency
from estatechain.identity.devca import create_dev_consortium
from estatechain.ledger.block import BlockHeader
from estatechain.storage.audit import audit_ledger
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import sample_stream
from estatechain.testing.harness import LedgerHarness

CHILD = Path(__file__).with_name("crash_child.py")
KILL_DELAY_S = (0.05, 0.6)
"""How long after ``ready`` a kill comes: startup, the signature worker's start, the first commits."""
SLOW_MACHINE_DELAY_S = 5.0
"""The widest kill delay. While no kill has yet seen an acknowledgement, each run of 5 such kills widens
the window by its base width: on a loaded machine the child's first block can take longer than 0.6 s
(a run beside a second CPU-bound job gave 20 kills and 0 acks), and a campaign that never sees an
acknowledgement checks nothing about keeping them."""
RUN_UNTIL_KILLED = 1_000_000_000
"""The child's COUNT: more than it can ever submit before the kill."""
READY_TIMEOUT_S = 60.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Campaign:
    """Kill after kill on one consortium, starting a fresh ledger every ``kills_per_ledger`` kills.

    The full audit after every kill replays the whole ledger, so its cost grows with the ledger; starting a
    new one now and then keeps a thousand-kill campaign within minutes while every kill but the first on
    each ledger still lands on a child that resumed a killed one.
    """

    root: Path
    seed: int
    kills_per_ledger: int
    rng: random.Random = field(init=False)
    kills: int = 0
    kills_in_commit: int = 0
    acked: int = 0
    blocks: int = 0
    txs: int = 0
    ledgers: int = 0
    _ledger_acks: set[str] = field(default_factory=set)
    _ledger_blocks: int = 0
    _ledger_txs: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.consortium_dir = self.root / "consortium"
        self.genesis = create_dev_consortium(self.consortium_dir, now_ms=SystemClock().now_ms()).genesis
        self.ledger_dir = node_dir(self.consortium_dir)  # where `estatechain init` puts the registry's ledger
        self.acks_dir = self.root / "acks"
        self.acks_dir.mkdir()

    def run(self, kills: int, *, deadline: float) -> None:
        """Kill until ``kills`` kills are done or the monotonic ``deadline`` has passed."""
        while self.kills < kills and time.monotonic() < deadline:
            if self.kills % self.kills_per_ledger == 0:
                self._new_ledger()
            self._kill_once()
        self._close_ledger()

    def summary(self) -> str:
        return (f"crash campaign seed={self.seed}: {self.kills} kills ({self.kills_in_commit} inside a commit), "
                f"{self.acked} acked txs, {self.txs} txs in {self.blocks} blocks on {self.ledgers} ledger(s)")

    def _new_ledger(self) -> None:
        self._close_ledger()
        if self.ledger_dir.exists():
            for path in self.ledger_dir.iterdir():
                path.unlink()
        LedgerStore.create(self.ledger_dir, self.genesis).close()
        self.ledgers += 1
        self._ledger_acks, self._ledger_blocks, self._ledger_txs = set(), 0, 0

    def _close_ledger(self) -> None:
        self.blocks += self._ledger_blocks
        self.txs += self._ledger_txs
        self._ledger_blocks = self._ledger_txs = 0

    def _kill_once(self) -> None:
        ack_file = self.acks_dir / f"kill-{self.kills:05d}.acks"
        stderr_file = ack_file.with_suffix(".stderr")
        with stderr_file.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, str(CHILD), str(self.ledger_dir), str(self.consortium_dir), str(ack_file),
                 str(RUN_UNTIL_KILLED)], stdout=subprocess.PIPE, stderr=stderr)
        assert child.stdout is not None
        try:
            readable, _, _ = select.select([child.stdout], [], [], READY_TIMEOUT_S)
            ready = child.stdout.readline() if readable else b""
            if ready == b"ready\n":
                time.sleep(self.rng.uniform(*self._kill_delay()))
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=30)
            child.stdout.close()
        context = f"seed {self.seed}, kill #{self.kills}"
        assert ready == b"ready\n", f"{context}: the child did not start:\n{stderr_file.read_text()}"
        assert child.returncode == -signal.SIGKILL, f"{context}: the child ended early:\n{stderr_file.read_text()}"
        self.kills += 1
        self._check(ack_file, context)

    def _kill_delay(self) -> tuple[float, float]:
        """The kill-delay window: ``KILL_DELAY_S``, widened while no kill has seen an acknowledgement yet."""
        low, high = KILL_DELAY_S
        if self.acked:
            return low, high
        return low, min(high * (1 + self.kills // 5), SLOW_MACHINE_DELAY_S)

    def _check(self, ack_file: Path, context: str) -> None:
        report = audit_ledger(self.ledger_dir)  # raises IntegrityFault naming the bad place
        assert report.blocks >= self._ledger_blocks, f"{context}: committed blocks disappeared"
        began, ended = _commit_marks(ack_file.with_name(ack_file.name + ".commits"))
        if began > ended:
            self.kills_in_commit += 1
            assert report.blocks in {began - 1, began}, (
                f"{context}: killed inside the commit of block {began}, yet the ledger has {report.blocks} blocks")
        elif ended:
            assert report.blocks == ended, f"{context}: block {ended} committed, the ledger has {report.blocks}"
        acks = _acked(ack_file)
        self._ledger_acks |= acks
        self.acked += len(acks)
        conn = sqlite3.connect(f"{(self.ledger_dir / LEDGER_FILE).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows, distinct = conn.execute("SELECT COUNT(*), COUNT(DISTINCT tx_id) FROM txs").fetchone()
            stored = {row[0] for row in conn.execute("SELECT tx_id FROM txs")}
        finally:
            conn.close()
        assert rows == distinct == report.txs, f"{context}: {rows} tx rows, {distinct} distinct ids"
        lost = self._ledger_acks - stored
        assert not lost, f"{context}: {len(lost)} acknowledged txs are not in the ledger, e.g. {sorted(lost)[:3]}"
        self._ledger_blocks, self._ledger_txs = report.blocks, report.txs


def _acked(ack_file: Path) -> set[str]:
    """Tx ids on complete lines (a line cut short by the kill was never an acknowledgement)."""
    if not ack_file.exists():
        return set()
    lines = ack_file.read_text().split("\n")[:-1]  # whatever follows the last newline is incomplete
    ids = set(lines)
    assert len(ids) == len(lines), f"{ack_file}: a tx id was acknowledged twice"
    return ids


def _commit_marks(marks: Path) -> tuple[int, int]:
    """(height of the last commit begun, height of the last commit finished); 0 when none."""
    began = ended = 0
    if marks.exists():
        for line in marks.read_text().splitlines():
            what, _, height = line.partition(" ")
            if what == "begin" and height.isdigit():
                began = int(height)
            elif what == "end" and height.isdigit():
                ended = int(height)
    return began, ended


def _seed() -> int:
    return _env_int("ESTATECHAIN_CRASH_SEED", secrets.randbits(32))


def test_20_kills_during_load_lose_no_acknowledged_transaction(tmp_path: Path) -> None:
    campaign = Campaign(tmp_path, _seed(), kills_per_ledger=20)
    campaign.run(20, deadline=time.monotonic() + 300)
    sys.stdout.write(campaign.summary() + "\n")
    assert campaign.kills == 20, campaign.summary()
    assert campaign.acked > 0, f"no transaction was ever acknowledged: {campaign.summary()}"


@pytest.mark.campaign
@pytest.mark.timeout(0)
def test_1000_kills_during_load_lose_no_acknowledged_transaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kills = _env_int("ESTATECHAIN_CRASH_KILLS", 1000)
    seconds = _env_int("ESTATECHAIN_CRASH_SECONDS", 3600)
    campaign = Campaign(tmp_path, _seed(), kills_per_ledger=_env_int("ESTATECHAIN_CRASH_KILLS_PER_LEDGER", 10))
    started, outcome = time.monotonic(), "FAILED"
    try:
        campaign.run(kills, deadline=started + seconds)
        outcome = "no acknowledged tx lost"
    finally:
        with capsys.disabled():
            sys.stdout.write(f"\n{campaign.summary()}, {outcome}, {time.monotonic() - started:.0f} s\n")
    assert campaign.kills == kills, (f"stopped by the {seconds} s limit (ESTATECHAIN_CRASH_SECONDS) after "
                                     f"{campaign.kills} of {kills} kills; nothing was lost up to there")
    assert campaign.kills_in_commit > 0, "no kill landed inside a commit: the campaign did not test atomicity"


# -- clean restart --------------------------------------------------------------------------------------


def test_a_node_restarted_cleanly_continues_the_chain_and_the_tx_log_exactly(tmp_path: Path) -> None:
    harness = LedgerHarness(tmp_path)
    samples = list(sample_stream(harness.factory, 1_200))
    first = [*harness.commit(samples[:600]), *harness.commit(samples[600:800])]  # 500 + 100 + 200: three blocks
    before = harness.store
    old_height, old_head, old_size = before.height, before.head_hash, before.next_seq()
    old_txlog_root = bytes.fromhex(before.head.txlog_root) if before.head else b""
    before.close()

    harness.store = LedgerStore.open(harness.ledger_dir)
    resumed = harness.store
    assert (resumed.height, resumed.head_hash, resumed.next_seq()) == (old_height, old_head, old_size)
    harness.clock.advance(1_000)
    second = harness.commit(samples[800:])
    assert [r.seq for r in [*first, *second]] == list(range(1_200))
    assert second[0].height == old_height + 1

    headers = [BlockHeader.from_bytes(bytes(row[2]), where=f"blocks height={row[0]}") for row in
               resumed.connection.execute("SELECT height, hash, header FROM blocks ORDER BY height")]
    hashes = [row[0] for row in resumed.connection.execute("SELECT hash FROM blocks ORDER BY height")]
    assert [h.height for h in headers] == list(range(1, len(headers) + 1))
    assert [h.prev_hash for h in headers] == [resumed.genesis.chain_id, *hashes[:-1]]
    assert [h.txlog_size for h in headers] == [sum(h.tx_count for h in headers[:i + 1]) for i in range(len(headers))]
    new = resumed.head
    assert new is not None
    assert resumed.txlog.root(old_size) == old_txlog_root, "the tx log before the restart must be a prefix"
    proof = resumed.txlog.consistency_proof(old_size, new.txlog_size)
    assert verify_consistency(resumed.suite.hash, old_size, new.txlog_size, proof, old_txlog_root,
                              bytes.fromhex(new.txlog_root))
    resumed.close()
    report = audit_ledger(harness.ledger_dir)
    assert (report.blocks, report.txs) == (len(headers), 1_200)

