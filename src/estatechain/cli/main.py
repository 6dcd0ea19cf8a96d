"""``estatechain``: create a development consortium, run sample traffic through it, audit a ledger."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from estatechain.clock import SystemClock
from estatechain.errors import EstatechainError, IntegrityFault
from estatechain.identity.devca import create_dev_consortium, load_dev_consortium
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.storage.audit import AuditReport, audit_ledger
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory, sample_stream

app = typer.Typer(
    name="estatechain",
    help="A consortium ledger for real-estate mortgage registration.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

SINGLE_NODE_ORG = "gz-registry"


def node_dir(directory: Path, org: str = SINGLE_NODE_ORG) -> Path:
    """Where org ``org``'s node keeps its ledger inside a consortium directory."""
    return directory / "nodes" / org


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


@app.command()
def init(directory: Path = typer.Argument(..., help="Empty or new directory for the consortium.")) -> None:
    """Create a development consortium: orgs, CAs, one user per role, genesis, and the registry's ledger.

    Example: estatechain init ./devnet

    Every org's private keys end up in DIRECTORY: that is for development only. In production each
    org makes its own keys and hands only its CA certificate to genesis.
    """
    consortium = create_dev_consortium(directory, now_ms=SystemClock().now_ms())
    store = LedgerStore.create(node_dir(directory), consortium.genesis)
    store.close()
    console.print(f"[bold]Created[/bold] development consortium [cyan]{consortium.genesis.consortium}[/cyan]")
    console.print(f"  chain id   {consortium.genesis.chain_id}")
    console.print(f"  orgs       {', '.join(o.id for o in consortium.genesis.orgs)}")
    console.print(f"  identities {len(consortium.identities)} (keys in {directory / 'orgs'})")
    console.print(f"  ledger     {node_dir(directory) / LEDGER_FILE}")
    console.print("[yellow]Development only:[/yellow] every org's private keys are in this one folder.")


@app.command()
def load(
    directory: Path = typer.Argument(..., help="A directory made by `estatechain init`."),
    count: int = typer.Option(1000, "--count", "-n", min=1, help="How many sample transactions to submit."),
) -> None:
    """Sign a stream of sample transactions with the consortium's identities and commit them.

    Example: estatechain load ./devnet --count 5000

    Every tenth sample asks to create a note that exists already, so some are committed as invalid
    with a reason: the attempt itself is part of the record.
    """
    consortium = load_dev_consortium(directory)
    store = LedgerStore.open(node_dir(directory))
    receipts = asyncio.run(_submit_samples(store, consortium_factory(consortium), count))
    valid = sum(r.valid for r in receipts)
    console.print(f"Committed {len(receipts)} transactions ({valid} valid, {len(receipts) - valid} invalid with a "
                  f"reason) up to block {store.height}; head {store.head_hash[:16]}…")
    store.close()


def consortium_factory(consortium: object) -> TxFactory:
    """A transaction factory on the system clock."""
    from estatechain.identity.devca import DevConsortium  # noqa: PLC0415

    assert isinstance(consortium, DevConsortium)
    return TxFactory(consortium, SystemClock())


async def _submit_samples(store: LedgerStore, factory: TxFactory, count: int) -> list[Receipt]:
    pipeline = Pipeline(store, factory.clock)
    runner = asyncio.create_task(pipeline.run())
    receipts: list[Receipt] = []
    with _progress() as progress:
        task = progress.add_task("committing", total=count)
        window: list[asyncio.Future[Receipt]] = []
        for envelope in sample_stream(factory, count):
            window.append(pipeline.submit_nowait(envelope))
            if len(window) >= 2000:
                receipts.extend(await asyncio.gather(*window))
                progress.update(task, completed=len(receipts))
                window = []
        receipts.extend(await asyncio.gather(*window))
        progress.update(task, completed=len(receipts))
    pipeline.stop()
    await runner
    return receipts


def _ledgers(directory: Path) -> list[Path]:
    if (directory / LEDGER_FILE).exists():
        return [directory]
    nodes = sorted(p for p in (directory / "nodes").glob("*") if (p / LEDGER_FILE).exists())
    if not nodes:
        raise typer.BadParameter(f"no ledger in {directory} or {directory / 'nodes'}/*", param_hint="DIRECTORY")
    return nodes


def _advance(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update


def _report(path: Path, report: AuditReport) -> None:
    table = Table(title=f"verified {path}", show_header=False)
    for name, value in (
        ("chain id", report.chain_id), ("blocks", report.blocks), ("transactions", report.txs),
        ("  valid", report.valid_txs), ("  invalid (kept with reason)", report.invalid_txs),
        ("state versions", report.state_versions), ("state keys", report.state_keys),
        ("tx-log nodes", report.txlog_nodes), ("state-tree nodes", report.smt_nodes), ("head", report.head_hash),
    ):
        table.add_row(name, str(value))
    console.print(table)


@app.command()
def verify(
    directory: Path = typer.Argument(..., help="A consortium directory, or one node's ledger directory."),
) -> None:
    """Re-check a ledger from its stored bytes: hashes, signatures, Merkle roots, state commitment.

    Example: estatechain verify ./devnet

    Exits 0 and prints counts when everything checks out; exits 1 naming the first bad block,
    transaction or state row otherwise.
    """
    for path in _ledgers(directory):
        with _progress() as progress:
            task = progress.add_task(f"verifying {path.name}", total=None)
            try:
                report = audit_ledger(path, progress=_advance(progress, task))
            except IntegrityFault as fault:
                err.print(f"[bold red]FAILED[/bold red] {path}: first bad place: [bold]{fault.where}[/bold]")
                err.print(f"  {fault.message}")
                raise typer.Exit(1) from None
        _report(path, report)
        console.print(f"[bold green]OK[/bold green] {path}: every block, transaction and state row checks out")


@app.command()
def demo(
    directory: Path = typer.Argument(Path("devnet"), help="Where to create the development consortium."),
    count: int = typer.Option(2000, "--count", "-n", min=1, help="How many sample transactions to commit."),
) -> None:
    """Create a development consortium (unless DIRECTORY has one), commit sample transactions, verify.

    Example: estatechain demo ./devnet --count 2000
    """
    if not (directory / "genesis.json").exists():
        init(directory)
    load(directory, count)
    verify(directory)


def main() -> None:
    """Entry point that turns shell faults into one clear line and a non-zero exit."""
    try:
        app()
    except EstatechainError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        sys.exit(2)
