"""``estatechain``: create a development consortium, run sample traffic through it, audit a ledger."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from estatechain.cli import bench as bench_cli
from estatechain.cli import certificate as certificate_cli
from estatechain.cli import cluster as cluster_cli
from estatechain.cli import demo as demo_cli
from estatechain.cli import evidence as evidence_cli
from estatechain.cli import keystore as keystore_cli
from estatechain.cli.demo_driver import DEVELOPER_ORG
from estatechain.cli.demo_world import DEV_DEVELOPER_USCC
from estatechain.clock import SystemClock
from estatechain.errors import Conflict, EstatechainError, InputError, IntegrityFault
from estatechain.identity.devca import add_dev_users, create_dev_consortium, load_dev_consortium
from estatechain.identity.genesis import ORG_ID_PATTERN
from estatechain.identity.parties import party_id
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.node.process import LogFormat, LogLevel, configure_logging, tune_gc
from estatechain.sdk import SdkError
from estatechain.storage import backup as backups
from estatechain.storage.audit import AuditReport, audit_ledger
from estatechain.storage.backup import MANIFEST_FILE
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory, sample_stream
from estatechain.testing.devcluster import CLUSTER_DIR
from estatechain.testing.register import (
    DEV_CO_OWNERS,
    IDENTITY_ORG,
    SEALED_DIR,
    ImportTx,
    RegisterImporter,
    assign_dev_persons,
    binding_envelopes,
    commit_all,
    create_register_keys,
    write_dev_owners,
)
from estatechain.testing.synthetic import generate

app = typer.Typer(
    name="estatechain",
    help="A consortium ledger for real-estate mortgage registration.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(evidence_cli.app, name="evidence")
app.add_typer(certificate_cli.app, name="certificate")
app.add_typer(keystore_cli.app, name="keystore")
console = Console()
err = Console(stderr=True)


@app.callback()
def _process(
    log_level: LogLevel = typer.Option(LogLevel.WARNING, "--log-level", envvar="ESTATECHAIN_LOG_LEVEL",
                                       case_sensitive=False, help="Lowest level logged to standard error."),
    log_format: LogFormat = typer.Option(LogFormat.TEXT, "--log-format", envvar="ESTATECHAIN_LOG_FORMAT",
                                         case_sensitive=False, help="text: one line a record (UTC time, level, "
                                         "logger, message); json: one JSON object a line."),
) -> None:
    """Log every command's records with time, level and logger (before the command: give these first)."""
    configure_logging(log_level, log_format)

SINGLE_NODE_ORG = "gz-registry"
DEFAULT_UNITS = 1000
DEFAULT_SEED = 20260104


def node_dir(directory: Path, org: str = SINGLE_NODE_ORG) -> Path:
    """Where org ``org``'s node keeps its ledger inside a consortium directory."""
    return directory / "nodes" / org


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


@app.command()
def init(
    directory: Path = typer.Argument(..., help="Empty or new directory for the consortium."),
    units: int = typer.Option(DEFAULT_UNITS, "--units", "-u", min=1, help="Units of the synthetic register."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of the synthetic register (same seed, same register)."),
) -> None:
    """Create a development consortium with a synthetic Guangzhou register on the registry's ledger.

    Example: estatechain init ./devnet --units 5000 --seed 7

    Creates orgs, CAs, one user per role and genesis; imports a deterministic synthetic register as
    registry-signed register.import transactions through the ledger pipeline (personal data sealed
    off the ledger under nodes/gz-registry/sealed/); binds the dev persons gz-identity/person1..4 to
    sole owners of the register and gz-identity/person5..6 to the two co-owners of one unit, so they
    can confirm applications (see orgs/gz-identity/dev-owners.json).

    Every org's private keys end up in DIRECTORY: that is for development only. In production each
    org makes its own keys and hands only its CA certificate to genesis.
    """
    clock = SystemClock()
    consortium = create_dev_consortium(directory, now_ms=clock.now_ms())
    sole_owners = [i.handle for i in consortium.by_role("person")]
    consortium = add_dev_users(consortium, IDENTITY_ORG, tuple((user, "person") for user in DEV_CO_OWNERS),
                               now_ms=clock.now_ms())
    keys = create_register_keys(directory, consortium.genesis)
    console.print(f"[bold]Created[/bold] development consortium [cyan]{consortium.genesis.consortium}[/cyan]")
    console.print(f"  chain id   {consortium.genesis.chain_id}")
    console.print(f"  orgs       {', '.join(o.id for o in consortium.genesis.orgs)}")
    console.print(f"  identities {len(consortium.identities)} (keys in {directory / 'orgs'})")
    store = LedgerStore.create(node_dir(directory), consortium.genesis)
    try:
        factory = TxFactory(consortium, clock)
        importer = RegisterImporter(factory, keys, node_dir(directory) / SEALED_DIR)
        with _progress() as progress:
            task = progress.add_task("importing the synthetic register", total=units)
            txs: list[ImportTx] = []

            def stream() -> Iterator[bytes]:
                for tx in importer.transactions(generate(seed, units)):
                    txs.append(tx)
                    yield tx.envelope

            def committed(index: int, receipt: Receipt) -> None:
                _require_valid(receipt, "register.import")
                progress.advance(task, txs[index].units)

            commit_all(store, clock, stream(), on_receipt=committed)
        persons = assign_dev_persons(sole_owners, [f"{IDENTITY_ORG}/{user}" for user in DEV_CO_OWNERS], importer)
        # the banks' parties as the register names them, and the dev developer's company, so its desk can
        # file pre-sale contracts from the first start (the demo binds it again, which changes nothing)
        developer = party_id(keys.party_key, "uscc", DEV_DEVELOPER_USCC)
        org_parties = {**importer.bank_parties, DEVELOPER_ORG: developer}
        for receipt in commit_all(store, clock, binding_envelopes(factory, persons, org_parties)):
            _require_valid(receipt, "identity.bind_party")
        owners_file = write_dev_owners(directory, persons)
        counts = importer.counts
        console.print(f"  register   imported {counts.units:,} units, {counts.ownerships:,} ownership rights, "
                      f"{counts.mortgages:,} mortgages, {counts.notices:,} pre-sale notices, {counts.seizures:,} "
                      f"seizures in {counts.txs:,} register.import transactions (seed {seed})")
        console.print(f"  parties    {counts.persons:,} persons and {counts.companies:,} companies as party ids; "
                      f"their records sealed in {node_dir(directory) / SEALED_DIR}")
        console.print(f"  owners     {', '.join(persons)} bound to synthetic owners ({owners_file})")
        console.print(f"  ledger     {node_dir(directory) / LEDGER_FILE}, height {store.height}")
    finally:
        store.close()
    console.print("[yellow]Development only:[/yellow] every org's private keys are in this one folder.")


def _require_valid(receipt: Receipt, what: str) -> None:
    if not receipt.valid:
        raise Conflict(f"{what} tx {receipt.tx_id} was marked invalid: {receipt.code} {receipt.message}")


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
    """The ledgers ``verify`` checks: one node's, a backup's, or every node's of a consortium folder.

    ``up`` keeps its node under ``DIR/nodes/<org>``, ``up --cluster`` one per org under
    ``DIR/cluster/nodes/<org>``, ``backup`` the node under ``ARCHIVE/node``; an operator names the
    folder they have, not the layout inside it. In a consortium folder only folders named as an org
    id are nodes: a copy the runbook moved aside (``<org>.old``, ``<org>.bad``) is named as skipped, not
    audited as if it were a node.
    """
    if (directory / LEDGER_FILE).exists():
        return [directory]
    if (directory / "node" / LEDGER_FILE).exists() and (directory / MANIFEST_FILE).exists():
        return [directory / "node"]
    folders = (directory / "nodes", directory / CLUSTER_DIR / "nodes")
    found = sorted(p for folder in folders for p in folder.glob("*") if (p / LEDGER_FILE).exists())
    nodes = [p for p in found if ORG_ID_PATTERN.fullmatch(p.name)]
    for aside in (p for p in found if p not in nodes):
        console.print(f"skipped {aside}: not named as an org's node (a copy moved aside?); verify it by its own path")
    if not nodes:
        looked = ", ".join(f"{folder}/*" for folder in folders)
        raise typer.BadParameter(f"no ledger in {directory}, {directory}/node (a backup), {looked}",
                                 param_hint="DIRECTORY")
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
        ("tx-log nodes", report.txlog_nodes), ("state-tree pages", report.smt_nodes), ("head", report.head_hash),
    ):
        table.add_row(name, str(value))
    console.print(table)


@app.command()
def verify(
    directory: Path = typer.Argument(..., help="A consortium directory (every node's ledger, cluster nodes "
                                               "included), or one node's ledger directory."),
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
def backup(
    node: Path = typer.Argument(..., help="A node's directory, e.g. DIR/nodes/gz-registry (may be running)."),
    archive: Path = typer.Argument(..., help="New or empty directory for the backup."),
) -> None:
    """Back up a node online: ledger and every SQLite file, sealed records, materials, the org's keys.

    Example: estatechain backup ./devnet/nodes/gz-registry ./backups/2026-01-04

    SQLite files are copied with SQLite's online backup API (a consistent snapshot, safe while the
    node commits); other files byte for byte with their permissions. When NODE sits in a consortium
    folder (DIR/nodes/<org>), the org's key folder DIR/orgs/<org>/ is included. ARCHIVE gets a
    manifest.json with every file's size and SHA-256 and the ledger's height and head hash.

    Exit codes: 0 backed up; 2 bad input (NODE holds no ledger, ARCHIVE exists and is not empty),
    nothing written.
    """
    try:
        result = backups.backup(node, archive)
    except (InputError, Conflict) as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(2) from None
    size = sum(f.size for f in result.files)
    keys = (f"; keys of {result.org}" if result.org else
            "; [yellow]no org keys found beside the node (a keystore is backed up on its own)[/yellow]")
    console.print(f"[bold green]Backed up[/bold green] {node} to {archive}: {len(result.files)} files, "
                  f"{size:,} bytes{keys}")
    console.print(f"  ledger height {result.height}, head {result.head_hash}")


@app.command()
def restore(
    archive: Path = typer.Argument(..., help="A directory written by `estatechain backup`."),
    node: Path = typer.Argument(..., help="New or empty directory to restore the node into."),
    keys_dir: Path | None = typer.Option(None, "--keys-dir", help="New or empty directory for the org's keys "
                                         "(default: DIR/orgs/<org> when NODE is DIR/nodes/<org> or "
                                         "DIR/cluster/nodes/<org>; required for any other NODE, or when "
                                         "DIR/orgs/<org> already holds keys)."),
) -> None:
    """Check a backup against its manifest, restore it into an empty node directory, verify the ledger.

    Example: estatechain restore ./backups/2026-01-04 ./devnet2/nodes/gz-registry

    Example: estatechain restore ./backups/2026-01-04 ./devnet/nodes/gz-registry --keys-dir ./restored-keys

    Every file is checked against the manifest before anything is written; the first bad file is
    named and nothing changes. Restore never writes over a file: to restore a node in place, move
    its folder aside first; if its org's keys are still in DIR/orgs/<org>, pass --keys-dir with a new
    folder for the archived copy. After copying, the restored ledger is re-audited from its bytes and
    must end at the head the manifest recorded.

    Exit codes: 0 restored and verified; 1 the archive failed its manifest check (nothing written) or
    the restored ledger failed its audit; 2 bad input (ARCHIVE missing, NODE or the key folder not
    empty, no place for the keys without --keys-dir), nothing written.
    """
    try:
        result = backups.restore(archive, node, keys_dir=keys_dir)
    except IntegrityFault as fault:
        err.print(f"[bold red]FAILED[/bold red] {archive}: first bad place: [bold]{fault.where}[/bold]")
        err.print(f"  {fault.message}")
        raise typer.Exit(1) from None
    except (InputError, Conflict) as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(2) from None
    keys = f"; keys in {result.keys_dir}" if result.keys_dir else ""
    console.print(f"[bold]Restored[/bold] {result.files} files into {node}{keys}")
    if keys_dir is not None and result.keys_dir is None:
        console.print(f"  [yellow]the archive holds no org keys; nothing was written to {keys_dir}[/yellow]")
    _report(node, result.report)
    console.print(f"[bold green]OK[/bold green] {node}: every block, transaction and state row checks out")


@app.command()
def demo(
    directory: Path = typer.Argument(Path("devnet"), help="The consortium folder the node was started on "
                                     "(its dev identities sign every step)."),
    node_url: str = typer.Option(demo_cli.DEFAULT_NODE, "--node", help="Base URL of the running node."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed `init` made the synthetic register with."),
    report: Path | None = typer.Option(None, "--report", help="Where to write the run with full tx ids as JSON "
                                       "(default: DIRECTORY/demo-report.json)."),
) -> None:
    """Drive a running node through every business type over signed HTTP, each step signed by the party that acts.

    Example: ./scripts/run   (in one terminal; or: estatechain up ./devnet)
    Example: estatechain demo ./devnet --node http://127.0.0.1:8700

    Mortgage first registration (ordinary and maximum-amount) and cancellation; the pre-sale chain on an
    unsold flat: purchase notice, 预抵押 filing, change, transfer (ICBC → CCB), correction and
    cancellation, a second 预抵押, the building's first registration and 预告转本 (ownership, then
    mortgage); an inquiry with the owner's consent and its registry-signed answer; a seizure by the
    court and its release. Ends with a table of business type, application, certificate and tx ids;
    each certificate can be checked with `estatechain certificate verify` or GET /v1/certificates/verify.
    """
    try:
        chain_id, rows = demo_cli.run_demo(node_url, directory, seed, console=console, err=err)
    except SdkError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(1) from None
    table = Table(title=f"estatechain demo: every business type on {node_url}", show_lines=True)
    for column in ("business type", "application id (or first tx)", "certificate", "tx ids (first 12 hex)"):
        table.add_column(column, overflow="fold")
    for shown in demo_cli.table_rows(rows):
        table.add_row(*shown)
    console.print(table)
    path = directory / "demo-report.json" if report is None else report
    demo_cli.write_report(path, node_url, chain_id, rows)
    console.print(f"Every tx id in full, with each certificate's record hash: {path}")
    console.print(f"[bold green]OK[/bold green]: {len(rows)} business steps, "
                  f"{sum(len(r.txs) for r in rows)} transactions, all committed valid")


def require_free_port(port: int, host: str = "127.0.0.1") -> None:
    """Refuse a taken API port before anything is opened or written, naming the way out.

    The server would find out only after the ledger was open and the pipeline running, and exit 3
    with the socket's own words.

    Raises:
        InputError: ``port`` is in use on ``host``.

    """
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a closed port's
        try:                                                           # TIME_WAIT is no conflict
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"--port {port}: {host}:{port} is in use ({exc.strerror}); stop what listens there "
                             "(another node?) or pass another --port") from None


@app.command()
def up(
    directory: Path = typer.Argument(Path("devnet"), help="Consortium directory; created with `init` if absent."),
    port: int = typer.Option(8700, "--port", "-p", min=0, max=65535, help="API port on 127.0.0.1 (0: any free)."),
    units: int = typer.Option(DEFAULT_UNITS, "--units", min=1, help="Units in the synthetic register (new only)."),
    cluster: bool = typer.Option(
        False, "--cluster", help="One node per org over 3 NATS servers (API ports PORT…PORT+4; 0: any free ports)."),  # noqa: FBT003
) -> None:
    """Run the registry's node of a development consortium and serve its HTTP API on 127.0.0.1.

    Example: estatechain up ./devnet --port 8700
    Example: estatechain up ./devnet-cluster --cluster

    With --cluster: three NATS JetStream servers and one node process per org (registry, two banks,
    court, identity authority), each with its own ledger in DIRECTORY/cluster/nodes/<org> and API
    port, all committing the same blocks from one replicated stream. A node that exits is reported with
    the command that starts it again, and the others keep running; Ctrl-C stops them all.

    Creates DIRECTORY with `estatechain init` when it holds no consortium, opens the registry
    node's ledger, starts the pipeline and serves the API (OpenAPI at /openapi.json, docs at /docs)
    until Ctrl-C or SIGTERM; then the block being gathered commits and the ledger closes cleanly.
    The web portal is at /portal: every dev staff identity has an account whose password is printed
    (and kept in DIRECTORY/portal-accounts.json, development only); each demo owner gets a fresh
    one-time code, printed too (`estatechain owner-code` prints another).
    """
    from estatechain.api.server import NodeServer  # noqa: PLC0415  (only `up` needs the web stack)
    from estatechain.node.bootstrap import build_node  # noqa: PLC0415
    from estatechain.node.settings import Settings  # noqa: PLC0415
    from estatechain.web.devaccounts import ensure_dev_accounts  # noqa: PLC0415

    if cluster:
        cluster_cli.up_cluster(directory, port=port, units=units, seed=DEFAULT_SEED)
        return
    if (directory / CLUSTER_DIR).is_dir() and not node_dir(directory).exists():
        raise InputError(f"{directory} holds a development cluster; run `estatechain up {directory} --cluster`")
    require_free_port(port)
    if not (directory / "genesis.json").exists():
        init(directory, units=units, seed=DEFAULT_SEED)
    service = build_node(Settings(ledger_dir=node_dir(directory), port=port))  # takes the ledger's writer lock
    accounts = ensure_dev_accounts(directory, node_dir(directory), clock=SystemClock())  # then new owner codes
    server = NodeServer(service, log_level="warning")

    def started(s: NodeServer) -> None:
        _announce(directory, s.port, s.service.genesis.chain_id)
        print(f"  Keys       {s.service.keys.source}", flush=True)  # noqa: T201
        print(f"  Portal     http://127.0.0.1:{s.port}/portal   (dev accounts, password beside each; "  # noqa: T201
              f"kept in {directory / 'portal-accounts.json'})", flush=True)
        for account in accounts:
            if account.password is not None:
                print(f"    {account.username:<28} {account.role:<20} {account.password}", flush=True)  # noqa: T201
        print("  Owners     one-time code beside each (valid 24 h, once; "  # noqa: T201
              f"`estatechain owner-code {directory} HANDLE` for another)", flush=True)
        for account in accounts:
            if account.code is not None:
                print(f"    {account.username:<28} {'owner':<20} {account.code}", flush=True)  # noqa: T201

    asyncio.run(server.serve(on_started=started))
    console.print("[bold]Stopped[/bold]: pipeline stopped, ledger closed.")


@app.command("owner-code")
def owner_code(
    directory: Path = typer.Argument(..., help="Consortium directory of a development node (`estatechain up`)."),
    handle: str = typer.Argument(..., help="The owner's handle, e.g. gz-identity/person1."),
) -> None:
    """Print a fresh one-time portal code for a demo owner (valid 24 hours, once; earlier codes stop working).

    Example: estatechain owner-code ./devnet gz-identity/person1

    Owners have no portal password: the identity authority hands them a code, as here. Safe while
    the node runs.
    """
    from estatechain.web.devaccounts import issue_owner_code  # noqa: PLC0415
    from estatechain.web.portal import PORTAL_DB  # noqa: PLC0415

    if not (node_dir(directory) / PORTAL_DB).exists():
        err.print(f"[bold red]No portal accounts[/bold red] in {node_dir(directory)}: start the node once with "
                  f"`estatechain up {directory}`, which creates them")
        raise typer.Exit(2)
    try:
        code = issue_owner_code(node_dir(directory), handle, clock=SystemClock())
    except KeyError:
        err.print(f"[bold red]Not an owner[/bold red]: {handle!r} has no owner account in {directory} "
                  "(owners are the gz-identity/personN handles `estatechain up` lists)")
        raise typer.Exit(2) from None
    console.print(f"{handle}  one-time code [bold]{code}[/bold]  (valid 24 h, once)")


@app.command()
def node(
    directory: Path = typer.Argument(..., help="Consortium directory of a cluster started with `up --cluster`."),
    org: str = typer.Option(..., "--org", help="The member org whose node this is."),
    port: int = typer.Option(8700, "--port", "-p", min=0, max=65535, help="API port on 127.0.0.1."),
    join_from: str | None = typer.Option(None, "--join-from", help="A peer node's URL: start a new node from its "
                                         "snapshot instead of replaying the whole stream."),
) -> None:
    """Run one org's node of a development cluster: its own ledger, NATS credentials and API port.

    Example: estatechain node ./devnet-cluster --org icbc-gz --port 8701
    Example: estatechain node ./devnet-cluster --org gz-court --port 8705 --join-from http://127.0.0.1:8700

    With --join-from (only for a node without a ledger yet) the peer's snapshot is downloaded, audited
    in full and accepted only when the genesis quorum of orgs attested its head; then the node reads
    the stream from where the snapshot ends.

    `up --cluster` starts one of these per org. The node refuses to start when a NATS server or the
    stream lacks a setting that keeps acknowledged writes (sync always, R3, file storage, discard
    new, deny delete and purge), naming each; then it catches up from the stream and serves its API.
    """
    from estatechain.api.server import NodeServer  # noqa: PLC0415  (only serving commands need the web stack)
    from estatechain.node.bootstrap import build_node  # noqa: PLC0415
    from estatechain.node.cluster import ClusterPipeline  # noqa: PLC0415
    from estatechain.node.keys import node_keys  # noqa: PLC0415
    from estatechain.node.settings import Settings  # noqa: PLC0415

    ledger = cluster_cli.cluster_node_dir(directory, org) / LEDGER_FILE
    if join_from is not None and ledger.exists():
        raise Conflict(f"--join-from: {ledger} exists already; a node joins from a snapshot only without a ledger. "
                       "Start it without --join-from to catch up from the stream, or move the ledger aside to rejoin")
    if join_from is not None:
        planned = Settings(**cluster_cli.cluster_settings(directory, org, port, create=False))  # type: ignore[arg-type]
        node_keys(ledger_dir=planned.ledger_dir, org_id=planned.org_id, keystore=planned.keystore,
                  passphrase_file=planned.keystore_passphrase_file)  # a bad key stops it before any download
        report = cluster_cli.join_cluster(directory, org, join_from)
        console.print(f"[bold]Joined[/bold] from {join_from}: height {report.height}, head {report.head_hash[:16]}…, "
                      f"attested by {', '.join(report.attested_by)}; {report.audit.txs:,} txs re-checked")
    require_free_port(port)
    service = build_node(Settings(**cluster_cli.cluster_settings(directory, org, port)))  # type: ignore[arg-type]
    console.print(f"  keys: {service.keys.source}")

    async def serve() -> None:
        if isinstance(service.pipeline, ClusterPipeline):
            await service.pipeline.connect()
        await NodeServer(service, log_level="warning").serve()

    asyncio.run(serve())
    console.print(f"[bold]Stopped[/bold]: {org} node stopped, ledger closed.")


def _announce(directory: Path, port: int, chain_id: str) -> None:
    base = f"http://127.0.0.1:{port}"
    lines = [
        f"estatechain node is up: {base}/v1/health",
        f"  API docs   {base}/docs   (OpenAPI {base}/openapi.json, metrics {base}/metrics)",
        f"  chain id   {chain_id}",
        f"  ledger     {node_dir(directory) / LEDGER_FILE}",
        "  Every /v1 call except health and ready is signed (RFC 9421) with a member's certificate key.",
        f"  Dev identities are in {directory / 'identities.json'}; sign in from Python with the SDK:",
        "    from pathlib import Path",
        "    from estatechain.sdk import ClientIdentity, SyncClient",
        f'    me = ClientIdentity.from_dev(Path({str(directory)!r}), "icbc-gz/operator1")',
        f'    with SyncClient("{base}", me) as node: print(node.members()["caller"])',
        "  Stop with Ctrl-C.",
    ]
    print("\n".join(lines), flush=True)  # noqa: T201  (plain lines a newcomer or a script can grep)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def bench(ctx: typer.Context,
          name: str = typer.Argument("", help="The benchmark; none, or --help, lists them.")) -> None:
    """Run a benchmark: each figure next to a bound measured in the same run (design §5).

    Example: estatechain bench pipeline --txs 2000 --repeat 1

    Everything after NAME goes to the benchmark itself (`estatechain bench register --help` shows its
    options). The commands recorded in docs/benchmarks.md run the same modules.
    """
    if name in ("", "--help", "-h"):
        typer.echo(bench_cli.usage())
        return
    bench_cli.run(name, list(ctx.args))


def main() -> None:
    """Entry point that turns shell faults into one clear line and a non-zero exit."""
    tune_gc()
    try:
        app()
    except EstatechainError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)  # one line, whatever the width: grep finds it
        sys.exit(2)


if __name__ == "__main__":
    main()
