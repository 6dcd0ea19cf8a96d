"""``estatechain keystore import|list``: an org's keys, encrypted at rest, for a node outside the dev layout.

``import`` takes one org's keys out of a development consortium folder (where every org's keys lie in
clear) into a new keystore of that org alone: its identities (node, staff, and for the identity
authority the persons the portal signs for), the registry's document signer, the org's sealing key,
and the identity authority's party-id key. A node started with ``ESTATECHAIN_KEYSTORE=<dir>`` then
needs nothing else of the development folder. ``list`` shows what a keystore holds, never a key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from estatechain.errors import EstatechainError
from estatechain.identity.devca import load_dev_consortium
from estatechain.identity.keystore import Keystore, read_passphrase
from estatechain.node.keys import PARTY_ID_SECRET, PASSPHRASE_VARIABLE, NodeKeys

app = typer.Typer(name="keystore", help="Keep an org's keys encrypted at rest.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

PassphraseFile = Annotated[Path | None, typer.Option(
    "--passphrase-file", envvar="ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE",
    help=f"File (mode 0600) whose first line is the passphrase (or $ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE, as the "
         f"node reads it); else ${PASSPHRASE_VARIABLE}.")]


@app.command("import")
def import_org(
    consortium: Annotated[Path, typer.Argument(help="The development consortium folder (estatechain init DIR).")],
    org: Annotated[str, typer.Option("--org", help="The org whose keys to take, e.g. gz-registry.")],
    out: Annotated[Path, typer.Option("--out", help="The new keystore folder (must not hold one).")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Copy one org's keys from a development consortium into a new encrypted keystore."""
    try:
        passphrase = read_passphrase(passphrase_file, os.environ, PASSPHRASE_VARIABLE)
        dev = load_dev_consortium(consortium)
        if all(o.id != org for o in dev.genesis.orgs):
            raise typer.BadParameter(f"{org!r} is not a member of {consortium}; members: "
                                     f"{', '.join(o.id for o in dev.genesis.orgs)}", param_hint="--org")
        source = NodeKeys.from_dev(consortium, org)
        store = Keystore.create(out, org, passphrase)
        users = sorted(h.partition("/")[2] for h in dev.identities if h.startswith(f"{org}/"))
        for user in users:
            identity = source.identity(user)
            assert identity is not None
            store.put_identity(identity)
        extras = []
        if (signer := source.document_signer()) is not None:
            store.put_document_signer(signer)
            extras.append("document signer")
        if (sealing := source.sealing_key()) is not None:
            store.put_sealing_key(sealing)
            extras.append("sealing key")
        if org == "gz-identity" and (party_key := source.party_id_key()) is not None:
            store.put_secret(PARTY_ID_SECRET, party_key)
            extras.append("party-id key")
    except EstatechainError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"keystore of {org} at {out}: {len(users)} identities"
                  + (f", {', '.join(extras)}" if extras else "") + ", encrypted under your passphrase")
    console.print(f"start the node with ESTATECHAIN_KEYSTORE={out} and ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE=…")


@app.command("list")
def list_entries(
    keystore: Annotated[Path, typer.Argument(help="The keystore folder.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """What the keystore holds (names, kinds, roles, fingerprints), after checking the passphrase opens it."""
    try:
        store = Keystore.open(keystore, read_passphrase(passphrase_file, os.environ, PASSPHRASE_VARIABLE))
    except EstatechainError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"keystore of {store.org_id}")
    for column in ("name", "kind", "role", "certificate fingerprint", "file"):
        table.add_column(column)
    for entry in store.names():
        table.add_row(entry.name, entry.kind, entry.role or "", entry.fingerprint or "", entry.key)
    console.print(table)
