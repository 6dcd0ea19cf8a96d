"""A new org node joins from a peer's snapshot instead of replaying the whole stream (design §3.15).

The joiner trusts nothing in the file it downloads: it re-derives every block, tx-log node and state
commitment from the stored bytes (the same audit as ``estatechain verify``), checks that the
snapshot belongs to this consortium, and accepts it only when the genesis quorum of orgs attested
exactly the snapshot's head (block hash and state root) on the attestation stream. Only then is the
file moved into place; the node then reads the ordering stream from the position the snapshot's
last block recorded, like any restarted node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.crypto.suites import get_suite
from estatechain.errors import Conflict, EstatechainError, IntegrityFault, Unavailable
from estatechain.identity.genesis import Genesis
from estatechain.ledger.attestation import verify_attestation
from estatechain.ordering.jetstream import JetStreamOrdering, NatsAccess
from estatechain.sdk.client import Client
from estatechain.sdk.errors import SdkError
from estatechain.sdk.identity import ClientIdentity
from estatechain.storage.audit import AuditReport, audit_ledger
from estatechain.storage.store import LEDGER_FILE, LedgerStore

SNAPSHOT_PATH: Final = "/v1/cluster/snapshot"
STAGING: Final = ".join"


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinReport:
    """What the joiner checked before adopting the snapshot."""

    height: int
    head_hash: str
    state_root: str
    stream_position: int
    attested_by: tuple[str, ...]
    audit: AuditReport
    size: int


async def join_from_snapshot(  # noqa: PLR0913  (keywords only; each is needed)
    *, peer_url: str, identity: ClientIdentity, ledger_dir: Path, genesis: Genesis, access: NatsAccess,
    wait_s: float = 60.0,
) -> JoinReport:
    """Download, audit and attest-check a peer's ledger snapshot, then put it in ``ledger_dir``.

    Raises:
        Conflict: ``ledger_dir`` already holds a ledger.
        IntegrityFault: the snapshot fails the audit, is of another chain, or its head is not attested by a quorum.
        Unavailable: the peer or NATS cannot be reached, or no quorum attested the head within ``wait_s``.

    """
    if (ledger_dir / LEDGER_FILE).exists():
        raise Conflict(f"{ledger_dir / LEDGER_FILE} exists; a node joins from a snapshot only into an empty folder")
    staging = ledger_dir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        async with Client(peer_url, identity, chain_id=genesis.chain_id, timeout_s=60.0) as peer:
            try:
                size = await peer.download(SNAPSHOT_PATH, staging / LEDGER_FILE)
            except (EstatechainError, SdkError) as exc:  # SdkError: the peer did not answer at all
                raise Unavailable(f"cannot fetch a snapshot from {peer_url}: {exc}") from None
        audit = await asyncio.to_thread(audit_ledger, staging)
        store = LedgerStore.open(staging, readonly=True)
        try:
            if store.genesis.chain_id != genesis.chain_id or store.head is None:
                raise IntegrityFault(peer_url, "the snapshot is of another consortium, or holds no block")
            head, head_hash, position = store.head, store.head_hash, store.stream_position
        finally:
            store.close()
        orgs = await _attested_by(access, genesis, head.height, (head_hash, head.state_root), wait_s)
        with (staging / LEDGER_FILE).open("rb") as file:
            os.fsync(file.fileno())
        (staging / LEDGER_FILE).replace(ledger_dir / LEDGER_FILE)
        return JoinReport(height=head.height, head_hash=head_hash, state_root=head.state_root,
                          stream_position=position, attested_by=orgs, audit=audit, size=size)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


async def _attested_by(
    access: NatsAccess, genesis: Genesis, height: int, claim: tuple[str, str], wait_s: float
) -> tuple[str, ...]:
    """The orgs that attested ``claim`` at ``height``, once they reach the quorum; refuse on a contrary quorum."""
    transport = await JetStreamOrdering.connect(access, chain_id=genesis.chain_id)
    quorum = genesis.policies.finality_quorum
    suite = get_suite(genesis.suite)
    agreeing: set[str] = set()
    contrary: dict[tuple[str, str], set[str]] = {}
    stream = transport.attestations(0)
    try:
        async with asyncio.timeout(wait_s):
            async for _seq, data in stream:
                with contextlib.suppress(EstatechainError):
                    attestation = verify_attestation(data, genesis=genesis, suite=suite)
                    if attestation.height != height:
                        continue
                    if attestation.claim == claim:
                        agreeing.add(attestation.org)
                    else:
                        contrary.setdefault(attestation.claim, set()).add(attestation.org)
                if len(agreeing) >= quorum:
                    return tuple(sorted(agreeing))
                for other, orgs in contrary.items():
                    if len(orgs) >= quorum:
                        raise IntegrityFault(f"snapshot head {height}", f"the orgs {sorted(orgs)} attested block "
                                             f"{other[0]}, not the snapshot's {claim[0]}; the peer's copy differs")
    except TimeoutError:
        raise Unavailable(f"only {sorted(agreeing) or 'no org'} attested the snapshot head {height} within "
                          f"{wait_s:.0f} s; the quorum is {quorum}; try again when the head is final") from None
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        await transport.close()
    raise Unavailable("the attestation stream ended")
