"""The synthetic register through the pipeline: import cost per unit, then a registration mix in tx/s.

Run: estatechain bench register [--units 10000] [--cases 1000] [--simple-txs 5000]
     estatechain bench register --units 1000000      (issue 5's scale; ~1 h, ~10 GB)
     estatechain bench register --ledger DIR --cases 500
         (DIR made by ``estatechain init DIR --units N``: no import, the mix is added to that ledger)

1. Bound, measured first in the same run: Ed25519 verifications/s on one core (bench_pipeline).
2. Generation alone: ``synthetic.generate`` consumed without doing anything (s per unit).
3. Generation + import: the register turned into registry-signed ``register.import`` txs (party ids,
   personal records sealed to their orgs, envelopes signed) and committed through the pipeline to a
   fresh ledger; then the database size per unit (SQLite file + WAL after close) and the sealed store's.
   With ``--ledger DIR`` steps 2-3 are skipped: the ledger ``estatechain init`` built in DIR is used as it
   is (no copy; no node may be running on it: the bench is its writer), its unit count is printed, and
   the mix's cases, person identities and notes stay in it afterwards, as bench_desks' filings do. Its
   owners are read from the ledger: current sole holders of units with no seizure in effect, no advance
   notice and no open application (what the mortgage's blocking checks need), none of them a dev
   person's; each run's contract numbers and person handles carry the ledger height, so runs can be
   repeated on the same folder.
4. Registration mix on that ledger: per case ``mortgage.first`` filed by a bank operator, confirmed by
   the owner (a person certificate bound to the owner's party) and the bank approver, accepted,
   reviewed, recorded and issued — 7 txs, all pre-signed, submitted in groups stage by stage (every
   file of a group, then every owner confirmation, …), so later steps wait for earlier ones in the
   queue as on a busy day. Between the stages of each group go the banks' inquiries
   (``inquiry.request``, basis ``intent``, purpose ``PRE_LOAN``, as bench_inquiry sends them) into
   units spread over the register: ``--inquiries-per-case`` (default 6) per case. Why 6: Guangzhou's
   first two months had 14,000 registrations and 86,000 inquiries, 6.1 inquiries per registration;
   a registration is 7 txs, so inquiries are 86,000 / (86,000 + 7 x 14,000) = 47 % of the txs, and
   6 per case gives 6 / 13 = 46 %. Reported: committed tx/s of the whole mix from first submission to
   last receipt, latency percentiles, and the ratio to the simple-tx rate below (goal: >= 50%).
5. Simple txs: ``bench_pipeline.pipeline_rate`` (one-row ``note.put``, certificate in every envelope,
   as in the mix) on a fresh ledger in the same run: the goal's reference. Also shown: the same number
   of note.put txs on the mix's own ledger right after the mix (``bench/...`` notes stay in a
   ``--ledger`` folder too), which separates what the register's size costs every write (a deeper
   state tree, larger tables, more pages per commit) from what the registration logic costs. And, as
   the wall-clock rates swing when other work shares the machine, the CPU this process spent per
   committed tx in the mix and in note.put runs (fresh ledger, measured once more; the mix's ledger),
   with their ratio: the steadier figure for comparing code changes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from estatechain.bench.pipeline import pipeline_rate, verify_bound
from estatechain.canonical import JSONValue
from estatechain.clock import SystemClock
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.register import check_v13_not_seized, open_applications
from estatechain.contract.checks.unit import check_v2_housing, load_unit
from estatechain.contract.command import Rejected
from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import (
    DevConsortium,
    Identity,
    create_dev_consortium,
    issue_identity,
    load_dev_consortium,
)
from estatechain.ledger.envelope import parse_envelope
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.node.process import tune_gc
from estatechain.storage.schema import current_rows
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.testing.register import (
    SEALED_DIR,
    RegisterImporter,
    binding_envelopes,
    commit_all,
    create_register_keys,
    dev_auth_ref,
)
from estatechain.testing.synthetic import generate

BANKS = ("icbc-gz", "ccb-gz")
GROUP = 100
STAGES = 7
PDF = "0" * 63 + "1"
NODE = Path("nodes") / "gz-registry"
"""Where ``estatechain init`` puts the registry node's ledger inside its folder."""


@dataclass(frozen=True)
class Owner:
    """A unit's current sole holder, as the mortgage filing names them."""

    unit_number: str
    title_number: str
    party_id: str
    record_ref: str | None


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


def unit_count(store: LedgerStore) -> int:
    """Units in the register (current ``unit/`` rows)."""
    row = store.connection.execute(current_rows("count(*)", "unit/"))
    return int(row.fetchone()[0])


def spread_units(store: LedgerStore, count: int) -> list[str]:
    """``count`` unit numbers spread evenly over the register in key order (every n-th unit)."""
    step = max(unit_count(store) // max(count, 1), 1)
    rows = store.connection.execute(current_rows("key", "unit/") + " ORDER BY key")
    return [str(key).removeprefix("unit/") for n, (key,) in enumerate(rows) if n % step == 0][:count]


def ledger_owners(store: LedgerStore, count: int, exclude: set[str]) -> list[Owner]:
    """``count`` owners of a built ledger whose units a mortgage's blocking checks let through.

    Ownership rows are read in key order, every n-th one so that the cases spread over the register,
    starting at an offset taken from the ledger's height: a repeated run picks other units, instead of
    stacking one more mortgage per run on the same ones (which made each run slower than the last, as
    every check over a unit's mortgages grew). A candidate is kept when it is the unit's current right
    with a single holder not in ``exclude``, the unit is housing, and it has no seizure in effect, no
    advance notice and no open application (checked with the contract's own functions on the store, so
    a case is refused only if the contract changed).
    """
    now = SystemClock().now_ms()
    total = int(store.connection.execute(
        current_rows("count(*)", "ownership/")).fetchone()[0])
    step = max(total // (count * 3), 1)
    offset = store.height % step
    # streamed: a million rows at full scale
    rows = store.connection.execute(current_rows("value", "ownership/") + " WHERE value IS NOT NULL ORDER BY key")
    found: list[Owner] = []
    seen: set[str] = set()
    for n, (value,) in enumerate(rows):
        if (n - offset) % step:
            continue
        row = orjson.loads(value)
        holders, unit_number = row["holders"], row["unit_number"]
        if row["status"] != "current" or len(holders) != 1 or holders[0]["party_id"] in exclude or unit_number in seen:
            continue
        unit = load_unit(store, unit_number)
        if isinstance(unit, Rejected) or check_v2_housing(unit) or check_v13_not_seized(store, unit_number, now):
            continue
        if current_notices(store, unit_number) or open_applications(store, unit_number, now):
            continue
        seen.add(unit_number)
        found.append(Owner(unit_number, row["title_number"], holders[0]["party_id"], holders[0].get("record_ref")))
        if len(found) == count:
            break
    return found


def _latency(latencies: list[float], loop: asyncio.AbstractEventLoop, begun: float, _future: object) -> None:
    latencies.append(loop.time() - begun)


@dataclass(frozen=True)
class Run:
    """One batch of pre-signed txs through a pipeline: wall seconds, this process's CPU seconds, latencies."""

    seconds: float
    cpu_seconds: float
    latencies: list[float]
    receipts: list[Receipt]

    def rate(self) -> float:
        """Committed tx/s."""
        return len(self.receipts) / self.seconds

    def cpu_us(self) -> float:
        """CPU µs of this process (every thread: pipeline, checkpointer) per committed tx."""
        return self.cpu_seconds / len(self.receipts) * 1e6


async def _submit(store: LedgerStore, envelopes: list[bytes]) -> Run:
    pipeline = Pipeline(store, SystemClock())
    runner = asyncio.create_task(pipeline.run())
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    futures = []
    start, cpu = time.perf_counter(), time.process_time()
    for n, envelope in enumerate(envelopes):
        future = pipeline.submit_nowait(envelope)
        future.add_done_callback(functools.partial(_latency, latencies, loop, loop.time()))
        futures.append(future)
        if n % 500 == 499:
            await asyncio.sleep(0)
    receipts = list(await asyncio.gather(*futures))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    pipeline.stop()
    await runner
    return Run(seconds=elapsed, cpu_seconds=cpu, latencies=latencies, receipts=receipts)


def _people(consortium: DevConsortium, cases: int, tag: str) -> list[Identity]:
    now = SystemClock().now_ms()
    return [issue_identity(consortium.directory, org_id="gz-identity", user=f"bench-{tag}person{n}", role="person",
                           now_ms=now) for n in range(cases)]


@dataclass(frozen=True)
class Mix:
    """What one run submits: the cases' owners and persons, the inquiries' units, and run-unique names."""

    owners: Sequence[Owner]
    people: Sequence[Identity]
    bank_parties: dict[str, str]
    inquiry_units: Sequence[str]
    inquiries_per_case: int
    contract_prefix: str


def _inquiries(factory: TxFactory, mix: Mix, first: int, count: int) -> Iterator[bytes]:
    """``count`` bank inquiries, the ``first``-th onwards, into the mix's units in turn, the banks alternating."""
    units = mix.inquiry_units
    for n in range(first, first + count):
        yield factory.sign(factory.identity(f"{BANKS[n % 2]}/operator1"), "inquiry.request",
                           {"unit_number": units[n % len(units)], "basis": "intent", "purpose": "PRE_LOAN"})


def _filing(factory: TxFactory, mix: Mix, n: int) -> bytes:
    owner, bank = mix.owners[n], BANKS[n % 2]
    return factory.sign(factory.identity(f"{bank}/operator1"), "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                       {"party_id": mix.bank_parties[bank], "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM", 3 * n), material("POWER_OF_ATTORNEY", 3 * n + 1),
                      material("LOAN_CONTRACT", 3 * n + 2)],
        "details": {"method": 1, "secured_principal_fen": 150_000_000 + n, "currency": "CNY",
                    "debt_term": {"start": "2026-01-04", "end": "2051-01-03"}, "scope": "主债权及利息",
                    "contract_numbers": [f"{mix.contract_prefix}{n:08d}"], "transfer_restricted": False,
                    "title_number": owner.title_number},
    })


def _stages(factory: TxFactory, mix: Mix, group: range) -> list[list[bytes]]:
    """One group's 7 stages in order: file, owner confirms, approver confirms, accept, review, record, issue."""
    suite = get_suite(factory.consortium.genesis.suite)
    limit = factory.consortium.genesis.policies.max_tx_bytes
    who = factory.identity
    files = [_filing(factory, mix, n) for n in group]
    apps = {n: parse_envelope(env, suite=suite, max_bytes=limit).tx_id for n, env in zip(group, files, strict=True)}
    stages = [files, [
        factory.sign(mix.people[n], "application.confirm",
                     {"application_id": apps[n], "application_hash": apps[n], "party_id": mix.owners[n].party_id})
        for n in group
    ], [
        factory.sign(who(f"{BANKS[n % 2]}/approver1"), "application.confirm",
                     {"application_id": apps[n], "application_hash": apps[n],
                      "party_id": mix.bank_parties[BANKS[n % 2]]})
        for n in group
    ]]
    for handle, command in (("gz-registry/intake1", "application.accept"),
                            ("gz-registry/reviewer1", "application.review"),
                            ("gz-registry/recorder1", "application.record")):
        stages.append([factory.sign(who(handle), command, {"application_id": apps[n]}) for n in group])
    stages.append([factory.sign(who("gz-registry/issuer1"), "application.issue",
                                {"application_id": apps[n], "document_sha256": PDF}) for n in group])
    return stages


def _cases(factory: TxFactory, mix: Mix) -> Iterator[bytes]:
    """Every case's 7 envelopes, stage by stage within groups of ``GROUP`` cases, each stage followed by its
    share of the group's inquiries (so they arrive all along, as on a working day).
    """
    asked = 0
    for first in range(0, len(mix.owners), GROUP):
        group = range(first, min(first + GROUP, len(mix.owners)))
        share = len(group) * mix.inquiries_per_case
        for stage, envelopes in enumerate(_stages(factory, mix, group)):
            yield from envelopes
            count = share * (stage + 1) // STAGES - share * stage // STAGES
            yield from _inquiries(factory, mix, asked, count)
            asked += count


def registration_mix(store: LedgerStore, factory: TxFactory, mix: Mix, setup: list[bytes]) -> Run:
    """The mix on ``store`` after committing ``setup`` (bindings)."""
    receipts = commit_all(store, SystemClock(), setup, window=2000)
    assert all(r.valid for r in receipts), [r.code for r in receipts if not r.valid][:3]
    return asyncio.run(_submit(store, list(_cases(factory, mix))))


def _notes(store: LedgerStore, factory: TxFactory, count: int, tag: str) -> Run:
    """``count`` one-row ``note.put`` txs signed as bench_pipeline signs them (certificate in every envelope)."""
    writers = [i for i in factory.consortium.identities.values() if i.role != "auditor"]
    envelopes = [factory.sign(writers[n % len(writers)], "note.put",
                              {"data": {"n": n}, "key": f"bench/{tag}{n:08d}"}) for n in range(count)]
    run = asyncio.run(_submit(store, envelopes))
    assert all(r.valid for r in run.receipts), [r.code for r in run.receipts if not r.valid][:3]
    return run


def fresh_notes(count: int) -> Run:
    """Step 5's simple txs once more, on a fresh ledger, for their CPU time (``pipeline_rate`` reports wall only).

    On a machine shared with other work the wall-clock rates of two phases can swing by a factor of two
    between runs; the CPU this process spent per committed tx is steadier, so its ratio is shown too.
    """
    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        consortium = create_dev_consortium(Path(tmp) / "c", now_ms=clock.now_ms())
        store = LedgerStore.create(Path(tmp) / "node", consortium.genesis)
        try:
            return _notes(store, TxFactory(consortium, clock), count, "")
        finally:
            store.close()


def person_bindings(factory: TxFactory, mix: Mix) -> list[bytes]:
    """The identity officer binds each case's person certificate to its owner's party."""
    officer = factory.identity("gz-identity/officer1")
    return [factory.sign(officer, "identity.bind_party", {"fingerprint": person.fingerprint, "party_id": owner.party_id,
                                                          "auth_ref": dev_auth_ref(owner.party_id, person.fingerprint)})
            for person, owner in zip(mix.people, mix.owners, strict=True)]


def _pct(values: list[float]) -> str:
    ordered = sorted(values)
    at = {p: ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000 for p in (50, 95, 99)}
    return f"p50 {at[50]:.0f}  p95 {at[95]:.0f}  p99 {at[99]:.0f}"


@dataclass(frozen=True)
class MixResult:
    """One run's figures on the register: its size, the mix, and simple txs on the same ledger after it."""

    units: int
    mix: Run
    notes: Run


def imported_mix(args: argparse.Namespace) -> MixResult:
    """Steps 2-4 on a fresh synthetic register: (units, mix rate, latencies, txs, invalid by code)."""
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
        owners = [Owner(o.unit_number, o.title_number, o.party_id, o.record_ref) for o in importer.owners[:args.cases]]
        factory = TxFactory(consortium, SystemClock())
        store = LedgerStore.open(root / "node")
        try:
            mix = Mix(owners=owners, people=_people(consortium, len(owners), ""), bank_parties=importer.bank_parties,
                      inquiry_units=spread_units(store, 2000), inquiries_per_case=args.inquiries_per_case,
                      contract_prefix="BENCH-")
            setup = binding_envelopes(factory, {}, importer.bank_parties) + person_bindings(factory, mix)
            run = registration_mix(store, factory, mix, setup)
            notes = _notes(store, factory, args.simple_txs, "")
        finally:
            store.close()
    return MixResult(units=c.units, mix=run, notes=notes)


def warn_if_uncached(ledger_file: Path) -> None:
    """Say so when the ledger file is larger than this machine's memory: the figures are then the disk's.

    At a million units a registry node's rates fell from about 1,260 to 380-560 tx/s once its 22 GB file
    outgrew a 23 GiB machine's page cache (docs/benchmarks.md); a figure taken that way is not comparable.
    """
    size = ledger_file.stat().st_size
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return
    fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
    total = int(fields["MemTotal"].split()[0]) * 1024
    if size > total * 0.8:
        print(f"warning: the ledger file is {size / 2**30:.1f} GiB and this machine has {total / 2**30:.1f} GiB of "
              "memory: the page cache cannot hold it, so these rates are the disk's (compare only with runs "
              "made the same way)", flush=True)


def ledger_mix(args: argparse.Namespace) -> MixResult:
    """Step 4 on the ledger ``estatechain init`` built in ``args.ledger``, in place."""
    directory: Path = args.ledger
    consortium = load_dev_consortium(directory)
    dev_owners = directory / "orgs" / "gz-identity" / "dev-owners.json"
    dev_parties = ({str(o["party_id"]) for o in json.loads(dev_owners.read_text(encoding="utf-8")).values()}
                   if dev_owners.exists() else set())
    store = LedgerStore.open(directory / NODE)
    try:
        units = unit_count(store)
        bank_parties = {str(r["org"]): str(r["party_id"]) for _, r in store.scan("identity/orgparty/")}
        owners = ledger_owners(store, args.cases, dev_parties)
        print(f"ledger {directory}: {units:,} units, height {store.height:,}; {len(owners)} eligible owners for "
              f"{args.cases} cases", flush=True)
        warn_if_uncached(directory / NODE / LEDGER_FILE)
        tag = f"h{store.height}-"
        factory = TxFactory(consortium, SystemClock())
        mix = Mix(owners=owners, people=_people(consortium, len(owners), tag), bank_parties=bank_parties,
                  inquiry_units=spread_units(store, 2000), inquiries_per_case=args.inquiries_per_case,
                  contract_prefix=f"BENCH-{tag}")
        missing = [bank for bank in BANKS if bank not in bank_parties]
        setup = (binding_envelopes(factory, {}, {b: p for b, p in bank_parties.items() if b in missing})
                 + person_bindings(factory, mix))
        run = registration_mix(store, factory, mix, setup)
        notes = _notes(store, factory, args.simple_txs, tag)
    finally:
        store.close()
    return MixResult(units=units, mix=run, notes=notes)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench register", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10_000, help="units of the synthetic register")
    parser.add_argument("--seed", type=int, default=20260104)
    parser.add_argument("--cases", type=int, default=1000, help="registration cases of 7 txs each")
    parser.add_argument("--inquiries-per-case", type=int, default=6, help="bank inquiries per case (see step 4)")
    parser.add_argument("--ledger", type=Path, help="a folder made by `estatechain init DIR --units N`: "
                                                     "add the mix to its ledger instead of importing a register")
    parser.add_argument("--simple-txs", type=int, default=5000, help="note.put txs for the simple-tx rate")
    args = parser.parse_args(argv)
    tune_gc()  # as the node process does (estatechain.node.process)

    nacl_rate, _ = verify_bound()
    print(f"bound: Ed25519 verify/s, one core, PyNaCl (libsodium)      {nacl_rate:10.0f}")
    result = ledger_mix(args) if args.ledger else imported_mix(args)
    simple, simple_latencies, _ = pipeline_rate(args.simple_txs, steady=False)
    fresh = fresh_notes(args.simple_txs)
    run, notes = result.mix, result.notes
    rate, txs = run.rate(), len(run.receipts)
    invalid: dict[str, int] = {}
    for receipt in run.receipts:
        if not receipt.valid:
            invalid[str(receipt.code)] = invalid.get(str(receipt.code), 0) + 1
    inquiries = txs * args.inquiries_per_case // (STAGES + args.inquiries_per_case)
    print(f"registration mix over {result.units:,} units: {rate:8.0f} committed tx/s  ({txs:,} txs: "
          f"{txs - inquiries:,} in {(txs - inquiries) // STAGES:,} cases + {inquiries:,} inquiries; "
          f"{sum(invalid.values())} invalid{' ' + str(invalid) if invalid else ''}; "
          f"ratio to bound {rate / nacl_rate:.1%})")
    print(f"    latency submit->committed ms: {_pct(run.latencies)}  (all submitted at once: includes queueing)")
    print(f"simple note.put txs (bench_pipeline, certificate in every envelope): {simple:8.0f} committed tx/s  "
          f"(ratio to bound {simple / nacl_rate:.1%}); latency ms {_pct(simple_latencies)}")
    print(f"    the same note.put txs on the mix's ledger, after it: {notes.rate():8.0f} committed tx/s "
          f"(= {notes.rate() / simple:.0%} of the fresh ledger's: what the register's size costs any write)")
    print(f"    CPU of this process per committed tx: mix {run.cpu_us():.0f} µs, note.put on a fresh ledger "
          f"{fresh.cpu_us():.0f} µs ({fresh.rate():.0f} tx/s), on the mix's ledger {notes.cpu_us():.0f} µs; "
          f"CPU ratio {fresh.cpu_us() / run.cpu_us():.1%} (fresh), {notes.cpu_us() / run.cpu_us():.1%} (same ledger)")
    print(f"registration mix / simple-tx rate: {rate / simple:.1%}  (goal >= 50%); "
          f"/ simple on the same ledger: {rate / notes.rate():.1%}")


if __name__ == "__main__":
    main()
