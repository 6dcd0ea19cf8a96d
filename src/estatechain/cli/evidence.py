"""``estatechain evidence export|verify``: self-contained evidence packages for courts (docs/evidence.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import typer
from rich.console import Console

from estatechain.canonical import JSONValue
from estatechain.clock import CHINA_STANDARD_TIME
from estatechain.errors import EstatechainError, IntegrityFault
from estatechain.evidence.attestations import NodeKey
from estatechain.evidence.export import export_package
from estatechain.evidence.openings import Opener
from estatechain.evidence.report import OPEN_END, render, report_console
from estatechain.evidence.verify import verify_package

app = typer.Typer(name="evidence", help="Export and verify evidence packages.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
def _ms(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=CHINA_STANDARD_TIME).timestamp() * 1000)


def _subject(tx: str | None, application: str | None, unit: str | None, start: str | None,
             end: str | None) -> dict[str, JSONValue]:
    chosen = [name for name, value in (("--tx", tx), ("--application", application), ("--unit", unit)) if value]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --tx, --application or --unit", param_hint="subject")
    if tx:
        return {"kind": "tx", "tx_id": tx}
    if application:
        return {"kind": "application", "application_id": application}
    try:
        low = _ms(date.fromisoformat(start)) if start else 0
        high = _ms(date.fromisoformat(end) + timedelta(days=1)) - 1 if end else OPEN_END
    except ValueError:
        raise typer.BadParameter("--from and --to are dates like 2026-01-04 (China Standard Time)") from None
    return {"kind": "unit", "unit_number": str(unit), "from_ms": low, "to_ms": high}


@app.command()
def export(  # noqa: PLR0913, PLR0917  (typer: one parameter per option of the command)
    node: Path = typer.Argument(..., help="A node's ledger directory, e.g. DIR/nodes/gz-registry."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the package (JSON)."),
    tx: str | None = typer.Option(None, "--tx", help="One transaction, by tx id."),
    application: str | None = typer.Option(None, "--application", help="An application's whole history, by id."),
    unit: str | None = typer.Option(None, "--unit", help="A property unit's transactions, by unit number."),
    start: str | None = typer.Option(None, "--from", help="With --unit: first day (YYYY-MM-DD, CST)."),
    end: str | None = typer.Option(None, "--to", help="With --unit: last day (YYYY-MM-DD, CST)."),
    consortium: Path | None = typer.Option(None, "--consortium", help="Consortium folder with the org keys "
                                           "(default: DIR when NODE is DIR/nodes/<org>)."),
    org: str | None = typer.Option(None, "--org", help="The node's org (default: NODE's folder name)."),
    open_personal: bool = typer.Option(
        False, "--open-personal", "--court",  # noqa: FBT003  (typer takes the default positionally)
        help="Open the personal records the transactions name, with the org's sealing key (for a court).",
    ),
) -> None:
    """Export the evidence package of a transaction, an application or a unit over a period.

    Example: estatechain evidence export devnet/nodes/gz-registry --application 3f2a… -o case.json --court

    The package holds the transactions, their results, RFC 9162 inclusion proofs, the header chain to
    the head, node attestations, every signer's certificate and the genesis, and a statement of what
    was selected signed by the node's key (orgs/<org>/users/node/). --court adds the openings of the
    personal records involved, so the report can name who confirmed.
    """
    subject = _subject(tx, application, unit, start, end)
    org_id = org or node.resolve().name
    folder = consortium or node.resolve().parent.parent
    opener = Opener.from_dev_layout(folder, org_id, node) if open_personal else None
    try:
        exported = export_package(node, subject, node_key=NodeKey.from_dev_layout(folder, org_id), opener=opener)
    except EstatechainError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(1) from None
    output.write_bytes(exported.data)
    console.print(f"[bold green]Exported[/bold green] {output}: {exported.txs} transactions (+{exported.context_txs} "
                  f"context), {exported.headers} headers to head {exported.head_height}, {exported.attestations} "
                  f"attestations, {exported.openings} opened records, {len(exported.data):,} bytes")


@app.command()
def verify(
    package: Path = typer.Argument(..., help="An evidence package written by `estatechain evidence export`."),
    require_final: bool = typer.Option(
        False, "--require-final",  # noqa: FBT003  (typer takes the default positionally)
        help="Fail unless the head is attested by the consortium's finality quorum (not only the exporter's org).",
    ),
) -> None:
    """Check an evidence package offline and print who did what, when, proven by which signatures.

    Example: estatechain evidence verify case.json --require-final

    Needs nothing but the file: the genesis inside it is the trust root (compare its chain id with
    the one the consortium publishes). Exits 0 with the report, or 1 naming the first failed check.
    """
    try:
        verified = verify_package(package.read_bytes(), require_final=require_final)
    except IntegrityFault as fault:
        err.print(f"[bold red]FAILED[/bold red] {package}: [bold]{fault.where}[/bold]: {fault.message}")
        raise typer.Exit(1) from None
    report = report_console()
    render(verified, report)
    report.print(f"[bold green]OK[/bold green] {package}: every signature, proof, link and opening checks out; "
                  f"compare chain id {verified.chain_id} with the consortium's published one")
