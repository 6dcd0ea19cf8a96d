"""``estatechain certificate``: verify an electronic registration certificate offline, or against a node."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import httpx
import typer
from rich.console import Console
from rich.table import Table

from estatechain.canonical import JSONValue
from estatechain.certificates.record import displayed_fields
from estatechain.certificates.verify import Report, StatusLookup, verify_bytes
from estatechain.errors import EstatechainError, InputError, Unavailable
from estatechain.evidence.report import local_time
from estatechain.identity.genesis import Genesis

app = typer.Typer(name="certificate", help="Electronic registration certificates (不动产登记证明).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

EXIT_FAILED: Final = 1
EXIT_NOT_IN_FORCE: Final = 3
EXIT_STATUS_NOT_CHECKED: Final = 4
"""Authentic, but offline: whether it is still in force (not cancelled, corrected …) was not asked.

A file cannot say that it was cancelled after it was issued; only the ledger can. Exit 0 ("in force")
offline would tell a court what nobody checked.
"""


def _node_lookup(base_url: str) -> StatusLookup:
    def lookup(number: str) -> dict[str, JSONValue]:
        try:
            response = httpx.get(f"{base_url.rstrip('/')}/v1/certificates/verify", params={"number": number},
                                 timeout=10.0)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the node at {base_url}: {exc}") from None
        if response.status_code != 200:
            raise Unavailable(f"the node at {base_url} answered {response.status_code}: {response.text[:200]}")
        answer: dict[str, JSONValue] = response.json()
        return answer

    return lookup


def _print(path: Path, report: Report) -> None:
    table = Table(title=f"{path} ({report.kind})", show_header=True)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in report.checks:
        table.add_row(check.name, "[green]ok[/green]" if check.ok else "[red]FAILED[/red]", check.detail)
    console.print(table)
    record = report.record
    if record is not None:
        # Every value the page shows, as the signed record holds it: a reader holds the page (or
        # ``pdftotext``'s output) against these lines, not against the page's own word.
        console.print("The signed record (what the certificate's page must show):")
        for field, value in displayed_fields(record):
            console.print(f"  {field}: {value}", markup=False, highlight=False)
        console.print(f"status: {report.status}")


def _issued(report: Report) -> None:
    """When and on whose word the certificate entered the ledger: what an offline check rests on."""
    block, org = report.block, report.attested_by
    if block is None or org is None:
        return
    console.print(f"[green]AUTHENTIC[/green]: issued in block {block.height} at {local_time(block.time_ms)}; "
                  f"that block is attested by {org}'s node alone (an evidence package can show other "
                  "orgs' attestations: estatechain evidence export)")


@app.command()
def verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="A certificate PDF or JSON file."),
    genesis: Path = typer.Option(Path("genesis.json"), "--genesis", "-g", exists=True, dir_okay=False,
                                 help="The consortium's genesis.json: the trust roots (org CAs and chain id)."),
    node: str | None = typer.Option(None, "--node", help="A node's base URL, to read the current status "
                                    "(cancelled, corrected …); offline without it."),
) -> None:
    """Verify a certificate: signature, certificate chain, record hash, ledger inclusion and status.

    Example: estatechain certificate verify cert.pdf -g devnet/genesis.json --node http://127.0.0.1:8700

    Exit 0 when every check passes and the node says it is in force; 1 naming the first failed check; 3
    when the certificate is authentic but no longer in force (cancelled, corrected, superseded); 4 when it
    is authentic but its current status was not checked (no --node).
    """
    try:
        trust = Genesis.from_bytes(genesis.read_bytes())
    except (InputError, OSError) as exc:
        err.print(f"[red]{genesis}: not a genesis file ({exc})[/red]")
        raise typer.Exit(EXIT_FAILED) from None
    lookup = _node_lookup(node) if node else None
    try:
        report = verify_bytes(file.read_bytes(), trust, lookup=lookup)
    except EstatechainError as exc:
        err.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(EXIT_FAILED) from None
    _print(file, report)
    failure = report.failure
    if failure is None:
        _issued(report)
        if node is None:
            console.print("[yellow]STATUS NOT CHECKED[/yellow]: whether it is still in force (not cancelled, "
                          "corrected or superseded since) is known only to the ledger; add --node URL to ask a node")
            raise typer.Exit(EXIT_STATUS_NOT_CHECKED)
        console.print("[green]VERIFIED[/green]: the certificate is authentic and in force (VALID on the ledger now)")
        return
    if failure.name == "status" and report.record is not None:
        err.print(f"[yellow]NOT IN FORCE[/yellow]: {failure.detail}")
        raise typer.Exit(EXIT_NOT_IN_FORCE)
    err.print(f"[red]FAILED[/red] at {failure.name}: {failure.detail}")
    raise typer.Exit(EXIT_FAILED)
