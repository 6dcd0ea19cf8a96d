"""The synthetic register through the pipeline: import cost per unit, then a registration mix in tx/s.

Run: .venv/bin/python bench/bench_register.py [--units 10000] [--cases 1000] [--simple-txs 5000]
     .venv/bin/python bench/bench_register.py --units 1000000      (issue 5's scale; ~1 h, ~10 GB)

1. Bound, measured first in the same run: Ed25519 verifications/s on one core (bench_pipeline).
2. Generation alone: ``synthetic.generate`` consumed without doing anything (s per unit).
3. Generation + import: the register turned into registry-signed ``register.import`` txs (party ids,
   personal records sealed to their orgs, envelopes signed) and committed through the pipeline to a
   fresh ledger; then the database size per unit (SQLite file + WAL after close) and the sealed store's.
4. Registration mix on that ledger: per case ``mortgage.first`` filed by a bank operator, confirmed by
   the owner (a person certificate bound to the owner's party) and the bank approver, accepted,
   reviewed, recorded and issued — 7 txs, all pre-signed, submitted in groups stage by stage (every
   file of a group, then every owner confirmation, …), so later steps wait for earlier ones in the
   queue as on a busy day. Reported: committed tx/s from first submission to last receipt, latency
   percentiles, and the ratio to the simple-tx rate below (goal: >= 50%).
5. Simple txs: ``bench_pipeline.pipeline_rate`` (one-row ``note.put``, certificate in every envelope,
   as in the mix) on a fresh ledger in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_pipeline import pipeline_rate, verify_bound
from estatechain.canonical import JSONValue
from estatechain.clock import SystemClock
from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import DevConsortium, Identity, create_dev_consortium, issue_identity
from estatechain.ledger.envelope import parse_envelope
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    commit_all,
    create_register_keys,
    dev_auth_ref,
)
from estatechain.testing.synthetic import generate

BANKS = ("icbc-gz", "ccb-gz")
GROUP = 100
PDF = "0" * 63 + "1"


def material(kind: str, n: int) -> dict[str, JSONValue]:
    return {"type": kind, "sha256": f"{n:064x}", "size": 150_000, "media_type": "application/pdf"}


def generation_seconds(seed: int, units: int) -> float:
    start = time.perf_counter()
    for _ in generate(seed, units):
        pass
    return time.perf_counter() - start


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def import_register(root: Path, seed: int, units: int, keep: int) -> tuple[DevConsortium, RegisterImporter, float]:
    clock = SystemClock()
    consortium = create_dev_consortium(root / "consortium", now_ms=clock.now_ms())
    keys = create_register_keys(consortium.directory, consortium.genesis)
    store = LedgerStore.create(root / "node", consortium.genesis)
    importer = RegisterImporter(TxFactory(consortium, clock), keys, root / "node" / SEALED_DIR, keep_owners=keep)
    start = time.perf_counter()
    receipts = commit_all(store, clock, (tx.envelope for tx in importer.transactions(generate(seed, units))))
    elapsed = time.perf_counter() - start
    store.close()
    assert all(r.valid for r in receipts), [r.code for r in receipts if not r.valid][:3]
    return consortium, importer, elapsed


def _latency(latencies: list[float], loop: asyncio.AbstractEventLoop, begun: float, _future: object) -> None:
    latencies.append(loop.time() - begun)


async def _submit(store: LedgerStore, envelopes: list[bytes]) -> tuple[float, list[float], list[Receipt]]:
    pipeline = Pipeline(store, SystemClock())
    runner = asyncio.create_task(pipeline.run())
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    futures = []
    start = time.perf_counter()
    for n, envelope in enumerate(envelopes):
        future = pipeline.submit_nowait(envelope)
        future.add_done_callback(functools.partial(_latency, latencies, loop, loop.time()))
        futures.append(future)
        if n % 500 == 499:
            await asyncio.sleep(0)
    receipts = list(await asyncio.gather(*futures))
    elapsed = time.perf_counter() - start
    pipeline.stop()
    await runner
    return elapsed, latencies, receipts


def _people(consortium: DevConsortium, cases: int) -> list[Identity]:
    now = SystemClock().now_ms()
    return [issue_identity(consortium.directory, org_id="gz-identity", user=f"bench-person{n}", role="person",
                           now_ms=now) for n in range(cases)]


def _cases(factory: TxFactory, owners: list[OwnerCandidate], people: list[Identity],
           bank_parties: dict[str, str]) -> Iterator[bytes]:
    """The 7 envelopes of every case, stage by stage within groups of ``GROUP`` cases."""
    suite = get_suite(factory.consortium.genesis.suite)
    limit = factory.consortium.genesis.policies.max_tx_bytes
    who = factory.identity
    for first in range(0, len(owners), GROUP):
        group = range(first, min(first + GROUP, len(owners)))
        apps: dict[int, str] = {}
        for n in group:
            owner, bank = owners[n], BANKS[n % 2]
            envelope = factory.sign(who(f"{bank}/operator1"), "application.file", {
                "business_type": "mortgage.first", "unit_number": owner.unit_number,
                "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                               {"party_id": bank_parties[bank], "capacity": "mortgagee"}],
                "materials": [material("APPLICATION_FORM", 3 * n), material("POWER_OF_ATTORNEY", 3 * n + 1),
                              material("LOAN_CONTRACT", 3 * n + 2)],
                "details": {"method": 1, "secured_principal_fen": 150_000_000 + n, "currency": "CNY",
                            "debt_term": {"start": "2026-01-04", "end": "2051-01-03"}, "scope": "主债权及利息",
                            "contract_numbers": [f"BENCH-{n:08d}"], "transfer_restricted": False,
                            "title_number": owner.title_number},
            })
            apps[n] = parse_envelope(envelope, suite=suite, max_bytes=limit).tx_id
            yield envelope
        for n in group:
            body: dict[str, JSONValue] = {"application_id": apps[n], "application_hash": apps[n],
                                          "party_id": owners[n].party_id}
            yield factory.sign(people[n], "application.confirm", body)
        for n in group:
            bank = BANKS[n % 2]
            yield factory.sign(who(f"{bank}/approver1"), "application.confirm",
                               {"application_id": apps[n], "application_hash": apps[n],
                                "party_id": bank_parties[bank]})
        for handle, command in (("gz-registry/intake1", "application.accept"),
                                ("gz-registry/reviewer1", "application.review"),
                                ("gz-registry/recorder1", "application.record")):
            for n in group:
                yield factory.sign(who(handle), command, {"application_id": apps[n]})
        for n in group:
            yield factory.sign(who("gz-registry/issuer1"), "application.issue",
                               {"application_id": apps[n], "document_sha256": PDF})


def registration_mix(root: Path, consortium: DevConsortium, importer: RegisterImporter,
                     cases: int) -> tuple[float, list[float], int, int]:
    """(committed tx/s, latencies, txs, invalid) for ``cases`` registration cases on the imported ledger."""
    clock = SystemClock()
    factory = TxFactory(consortium, clock)
    owners = importer.owners[:cases]
    people = _people(consortium, len(owners))
    store = LedgerStore.open(root / "node")
    officer = factory.identity("gz-identity/officer1")
    setup = binding_envelopes(factory, {}, importer.bank_parties) + [
        factory.sign(officer, "identity.bind_party", {"fingerprint": person.fingerprint, "party_id": owner.party_id,
                                                      "auth_ref": dev_auth_ref(owner.party_id, person.fingerprint)})
        for person, owner in zip(people, owners, strict=True)
    ]
    assert all(r.valid for r in commit_all(store, clock, setup, window=2000))
    envelopes = list(_cases(factory, owners, people, importer.bank_parties))
    elapsed, latencies, receipts = asyncio.run(_submit(store, envelopes))
    store.close()
    return len(envelopes) / elapsed, latencies, len(envelopes), sum(not r.valid for r in receipts)


def _pct(values: list[float]) -> str:
    ordered = sorted(values)
    at = {p: ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000 for p in (50, 95, 99)}
    return f"p50 {at[50]:.0f}  p95 {at[95]:.0f}  p99 {at[99]:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10_000, help="units of the synthetic register")
    parser.add_argument("--seed", type=int, default=20260104)
    parser.add_argument("--cases", type=int, default=1000, help="registration cases of 7 txs each")
    parser.add_argument("--simple-txs", type=int, default=5000, help="note.put txs for the simple-tx rate")
    args = parser.parse_args()

    nacl_rate, _ = verify_bound()
    print(f"bound: Ed25519 verify/s, one core, PyNaCl (libsodium)      {nacl_rate:10.0f}")
    generation = generation_seconds(args.seed, args.units)
    print(f"generation only, {args.units:,} units: {generation:7.1f} s  ({generation / args.units * 1e6:.0f} µs/unit)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        consortium, importer, elapsed = import_register(root, args.seed, args.units, keep=args.cases)
        c = importer.counts
        db = _size(root / "node" / LEDGER_FILE) + sum(
            _size(p) for p in (root / "node").glob(f"{LEDGER_FILE}-*") if p.is_file())
        sealed = _size(root / "node" / SEALED_DIR)
        print(f"generation + import, {c.units:,} units: {elapsed:7.1f} s  ({elapsed / c.units * 1e6:.0f} µs/unit, "
              f"{c.units / elapsed:.0f} units/s) in {c.txs:,} import txs ({c.txs / elapsed:.1f} tx/s)")
        print(f"    records: {c.ownerships:,} ownership rights, {c.mortgages:,} mortgages, {c.seizures:,} seizures, "
              f"{c.persons:,} persons, {c.companies:,} companies; {c.notices:,} pre-sale notices")
        print(f"    database (SQLite + WAL): {db / 2**20:8.1f} MiB = {db / c.units / 1024:.1f} KiB/unit; "
              f"sealed store {sealed / 2**20:.1f} MiB = {sealed / c.units / 1024:.2f} KiB/unit")
        if len(importer.owners) < args.cases:
            print(f"    only {len(importer.owners)} eligible owners: running that many cases")
        rate, latencies, txs, invalid = registration_mix(root, consortium, importer, args.cases)
    simple, simple_latencies, _ = pipeline_rate(args.simple_txs, steady=False)
    print(f"registration mix over {args.units:,} units: {rate:8.0f} committed tx/s  ({txs:,} txs, {invalid} invalid;"
          f" ratio to bound {rate / nacl_rate:.1%})")
    print(f"    latency submit->committed ms: {_pct(latencies)}  (all submitted at once: includes queueing)")
    print(f"simple note.put txs (bench_pipeline, certificate in every envelope): {simple:8.0f} committed tx/s  "
          f"(ratio to bound {simple / nacl_rate:.1%}); latency ms {_pct(simple_latencies)}")
    print(f"registration mix / simple-tx rate: {rate / simple:.1%}  (goal >= 50%)")


if __name__ == "__main__":
    main()
