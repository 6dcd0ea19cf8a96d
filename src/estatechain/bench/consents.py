"""The bank's look-up of a unit's consents with many consents on the ledger: the index against a full pass.

Run: estatechain bench consents [--units 10000] [--owners 2000] [--per-owner 10] [--lookups 200]

Why: a bank's filing and inquiry pages ask, on every view, which of the unit's owners gave the bank a
consent that is in force. domain.md §7 sizes the platform at 10^7 inquiries a year, most of them before
a loan and on a consent, so the ``consent/`` rows grow by millions a year.

1. Ledger: ``estatechain init`` of ``--units`` units in a temporary directory (or ``--ledger DIR``, copied
   first: the consents are added to the copy).
2. Consents: ``--owners`` owners of the register (as ``bench_register`` picks them), each a person
   certificate bound to the owner's party, give ``--per-owner`` pre-loan consents on their unit, to the two
   banks in turn: signed ``inquiry.consent`` txs through the real pipeline.
3. Bound, same run: the pass over every ``consent/`` row that the pages made before the index (SQLite
   picks the unit's rows by their bytes, then they are decoded): p50 / p95 per look-up of ``--lookups``
   owners' units spread over those that gave consents, the banks alternating.
4. The product: ``consents_in_force`` through ``ConsentIndex`` (first build timed; the look-ups then are
   catch-ups with nothing new, as on a quiet desk): p50 / p95 and the ratio of p95 to the bound's.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

from estatechain.bench import register as br
from estatechain.bench.inquiry import CLI
from estatechain.clock import SystemClock
from estatechain.contract.records.inquiry import Consent
from estatechain.identity.devca import load_dev_consortium
from estatechain.storage.schema import current_rows
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.web.cases import consents_in_force
from estatechain.web.consentindex import FILE, ConsentIndex

TODAY = 20_000
"""A day number (2024-10-04) before every consent's expiry (2099-12-31)."""


def full_pass(store: LedgerStore, unit_number: str, bank_party: str) -> list[Consent]:
    """The look-up before the index: the unit's rows picked out of the whole ``consent/`` range."""
    needle = b'"unit_number":' + orjson.dumps(unit_number)
    rows = store.connection.execute(
        current_rows("value", "consent/") + " WHERE value IS NOT NULL AND instr(value, ?) > 0 ORDER BY key",
        (needle,))
    found = [Consent.from_json(orjson.loads(value)) for (value,) in rows]
    return [c for c in found if c.unit_number == unit_number and c.bank_party == bank_party and c.revoked_ms is None]


def give_consents(directory: Path, owners_wanted: int, per_owner: int) -> tuple[list[br.Owner], dict[str, str], int]:
    """Bind persons to owners and commit their consents; (owners, bank parties, consent rows on the ledger)."""
    consortium = load_dev_consortium(directory)
    store = LedgerStore.open(directory / br.NODE)
    try:
        factory = TxFactory(consortium, SystemClock())
        banks = {str(r["org"]): str(r["party_id"]) for _, r in store.scan("identity/orgparty/")}
        owners = br.ledger_owners(store, owners_wanted, set())
        people = br._people(consortium, len(owners), f"consent{store.height}-")  # noqa: SLF001 (the bench's own)
        mix = br.Mix(owners=owners, people=people, bank_parties=banks, inquiry_units=[], inquiries_per_case=0,
                     contract_prefix="")
        asyncio.run(br._submit(store, br.person_bindings(factory, mix)))  # noqa: SLF001
        pairs = list(zip(people, owners, strict=True))
        consents = [factory.sign(person, "inquiry.consent", {
            "unit_number": owner.unit_number, "bank_party": banks[br.BANKS[k % 2]], "purpose": "PRE_LOAN",
            "expires_on": "2099-12-31"}) for k in range(per_owner) for person, owner in pairs]
        asyncio.run(br._submit(store, consents))  # noqa: SLF001
        total = int(store.connection.execute(
            current_rows("count(*)", "consent/")).fetchone()[0])
        return owners, banks, total
    finally:
        store.close()


def percentiles(lookup: Callable[[str, str], object], picks: list[tuple[str, str]]) -> tuple[float, float]:
    """p50 and p95 in ms of ``lookup`` over ``picks``."""
    times = []
    for unit, bank in picks:
        begun = time.perf_counter()
        lookup(unit, bank)
        times.append((time.perf_counter() - begun) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench consents", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--ledger", type=Path, default=None, help="an `estatechain init` folder to copy")
    parser.add_argument("--owners", type=int, default=2_000)
    parser.add_argument("--per-owner", type=int, default=10)
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "net"
        if args.ledger is not None:
            shutil.copytree(args.ledger, directory)
        else:
            subprocess.run([*CLI, "init", str(directory), "--units", str(args.units)], check=True,
                           stdout=subprocess.DEVNULL)
        begun = time.perf_counter()
        owners, banks, total = give_consents(directory, args.owners, args.per_owner)
        print(f"{len(owners):,} owners gave {total:,} consents in {time.perf_counter() - begun:.0f} s", flush=True)
        store = LedgerStore.open(directory / br.NODE, readonly=True)
        index = ConsentIndex(directory / br.NODE / FILE, store.connection)
        try:
            begun = time.perf_counter()
            index.build(directory / br.NODE / LEDGER_FILE)
            print(f"index first build: {time.perf_counter() - begun:.2f} s", flush=True)
            picks = [(owners[n * 7919 % len(owners)].unit_number, banks[br.BANKS[n % 2]])  # spread, repeatable
                     for n in range(args.lookups)]
            bound = percentiles(lambda unit, bank: full_pass(store, unit, bank), picks)
            indexed = percentiles(lambda unit, bank: consents_in_force(store, index, unit, bank, today=TODAY), picks)
        finally:
            index.close()
            store.close()
    print(f"bound: full pass over {total:,} consent rows, per look-up ms p50 {bound[0]:.2f}  p95 {bound[1]:.2f}")
    print(f"consents_in_force through the index, ms p50 {indexed[0]:.2f}  p95 {indexed[1]:.2f}  "
          f"(p95 = {indexed[1] / bound[1]:.1%} of the full pass)")


if __name__ == "__main__":
    main()
