"""The human-readable report of a verified package: who did what, when, proven by which signatures.

Written for a judge or a lawyer reading it beside the package: one line per transaction with its
block time in China Standard Time (UTC+8, no daylight saving, so a fixed offset is exact and needs
no time-zone database), the command, the signer's org, role and certificate subject, whom the signer
acted for (through the identity authority's binding committed before the transaction and, when the
package opens it, the person's record), the result and the checks that prove it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final, TextIO

from cryptography import x509 as cx509
from cryptography.x509.oid import NameOID
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from estatechain.canonical import JSONValue
from estatechain.clock import china_time
from estatechain.crypto import x509
from estatechain.evidence import imports
from estatechain.evidence.facts import Verified, VerifiedTx
from estatechain.evidence.package import SEIZURE_REGISTER, STEP_FIELDS, created_on_unit, named_parties

OPEN_END: Final = 2**53 - 1
"""``to_ms`` of a unit's package exported without ``--to``: every block up to the head (no calendar date)."""
_CERTIFICATE_DETAIL: Final = re.compile(r"title_number|(?:[a-z_]+_)?certificate_number")
"""A filing's ``details`` members that cite a register certificate (证书/证明号): public numbers, no personal data."""
_UNITS_SHOWN: Final = 3
_TX_ID_CHARS: Final = 64
RECORD_KINDS: Final = {"consent_id": "consent", "contract_id": "pre-sale contract", "seizure_id": "seizure"}
"""What the report calls the record a step names by each of ``package.STEP_FIELDS``."""
_UNBOUNDED: Final = 100_000
"""Columns of a report written to a pipe or a file: wide enough that no line is ever wrapped or cut."""


def report_console(file: TextIO | None = None) -> Console:
    """A console for the report: a terminal's own width, or no width limit for a pipe or a file.

    Off a terminal rich assumes 80 columns and cuts table cells to fit ("applicati…"): a report saved
    for a court or read through ``grep`` must keep every character, and nothing there needs to fit a
    screen. ``file`` is where to write (stdout when None).
    """
    screen = Console(file=file)
    return screen if screen.is_terminal else Console(file=file, width=_UNBOUNDED)


def local_time(ms: int) -> str:
    """Block time as ``YYYY-MM-DD HH:MM:SS CST`` (Asia/Shanghai); a time no calendar date has, in ms.

    A package is read years later, possibly one made by other software: a bound outside the years
    1–9999 must not stop the report, so it is printed as the number it is.
    """
    try:
        moment = china_time(ms)
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms since 1970-01-01 UTC (no calendar date)"
    return moment.strftime("%Y-%m-%d %H:%M:%S CST")


def _common_name(der: bytes) -> str:
    names = x509.subject_values(cx509.load_der_x509_certificate(der), NameOID.COMMON_NAME)
    return names[0] if names else "?"


def _person(record: dict[str, JSONValue]) -> str:
    return f"{record.get('name')} ({record.get('id_type')} {record.get('id_number')})"


def acting_for(verified: Verified, tx: VerifiedTx) -> str:
    """Whom the signer acted for, as far as the package proves it *at signing time*.

    A person's certificate acts for the party the identity authority bound it to; a member org's
    signer acts for the organisation parties its body names (at any depth: a filing names the bank
    inside ``applicants``) that the identity authority bound to the signer's own org — the contract's
    rule (V7) too. Only a binding committed before this transaction proves it: a binding that comes
    later says whom the key acts for from then on, so the report says it came later instead of
    naming the party as if it were known when this transaction was signed.
    """
    bound = verified.cert_parties.get(tx.signer.fingerprint)
    if bound is not None:
        if not bound.before(tx.height, tx.position):
            return (f"not proven at signing: the identity authority bound this certificate to party "
                    f"{bound.value[:12]}… only later, at height {bound.height}")
        ref = verified.party_refs.get(bound.value)
        record = verified.openings.get(ref) if ref is not None else None
        if record is not None:
            return f"{_person(record)}, party {bound.value[:12]}…"
        return f"party {bound.value[:12]}… (record not opened)"
    lines = []
    for party, capacity in named_parties(tx.body).items():
        org = verified.org_parties.get(party)
        if org is None or org.value != tx.signer.org_id:
            continue
        role = f" ({capacity})" if capacity is not None else ""
        if org.before(tx.height, tx.position):
            lines.append(f"party {party[:12]}… = org {org.value}{role}")
        else:
            lines.append(f"party {party[:12]}…{role}: not proven at signing, bound to org {org.value} only later, "
                         f"at height {org.height}")
    return "\n".join(lines) or "—"


def what(verified: Verified, tx: VerifiedTx) -> str:
    """The command column: the command and what it was about, so that two filings do not read alike.

    A filing shows its business type, its application id, its unit and the certificate numbers and
    cause its details cite (a mortgage's filing and its cancellation's differ here); a later step shows
    which application it belongs to; a revocation shows whose certificate and why. Nothing personal:
    certificate and unit numbers are register numbers, and parties appear only in "acting for".
    """
    body, lines = tx.body, [tx.command]
    app = body.get("application_id")
    if tx.command == "application.file":
        details = body.get("details")
        cited = details if isinstance(details, dict) else {}
        lines.append(f"{body.get('business_type')} {tx.tx_id[:12]}…")
        if isinstance(body.get("unit_number"), str):
            lines.append(f"unit {body['unit_number']}")
        lines += [f"{key}: {value}" for key, value in sorted(cited.items())
                  if isinstance(value, str) and (_CERTIFICATE_DETAIL.fullmatch(key) or key == "reason")]
    elif isinstance(app, str):
        filing = next((t for t in verified.txs if t.tx_id == app and t.command == "application.file"), None)
        kind = filing.body.get("business_type") if filing is not None else None
        lines.append(f"of {kind if isinstance(kind, str) else 'application'} {app[:12]}…")
    elif tx.command == "identity.revoke":
        lines += _revocation(body)
    elif tx.command == SEIZURE_REGISTER:
        lines.append(f"seizure {tx.tx_id[:12]}…")
        if isinstance(body.get("unit_number"), str):
            lines.append(f"unit {body['unit_number']}")
    elif (step := _record_step(verified, body)) is not None:
        lines.append(step)
    elif imports.is_import(tx):
        lines += imports.row_lines(verified, tx)
    return "\n".join(lines)


def _record_step(verified: Verified, body: dict[str, JSONValue]) -> str | None:
    """Which record a seizure's release or renewal, a contract's signature or a consent's revocation acts on.

    Such a step names only its record's id (docs/evidence.md §8 check 4, rule 3): the reader matches it
    to the row that created the record (a ``seizure.register``, ``presale.contract``, ``inquiry.consent``
    or an import), shown when the package holds it. None for a body that names no such record.
    """
    for field in sorted(STEP_FIELDS):
        if isinstance(record := body.get(field), str):
            shown = f"{RECORD_KINDS[field]} {record[:12]}…" if len(record) == _TX_ID_CHARS \
                else f"{RECORD_KINDS[field]} {record}"
            for n, tx in enumerate(verified.txs, 1):
                if (field, record) in created_on_unit(None, tx_id=tx.tx_id, command=tx.command, valid=tx.valid,
                                                      body=tx.body):
                    return f"of {shown} (created in row {n})"
            return f"of {shown}"
    return None


def _revocation(body: dict[str, JSONValue]) -> list[str]:
    """Whose certificate an ``identity.revoke`` revokes (its CN and fingerprint) and the reason it records."""
    lines = []
    try:
        der = base64.b64decode(str(body.get("certificate")), validate=True)
        lines.append(f"revokes {_common_name(der)} ({x509.fingerprint(der)[:12]}…)")
    except (binascii.Error, ValueError):
        lines.append("revokes a certificate this report cannot read")
    if isinstance(body.get("reason"), str):
        lines.append(f"reason: {body['reason']}")
    return lines


def unit_numbers(value: JSONValue) -> set[str]:
    """Every string under a member named ``unit_number``, at any depth: the units a body is about."""
    if isinstance(value, dict):
        unit = value.get("unit_number")
        found = {unit} if isinstance(unit, str) else set()
        return found.union(*(unit_numbers(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(unit_numbers(item) for item in value))
    return set()


def left_out(verified: Verified) -> str | None:
    """For a transaction's or an application's package: the later events on its unit that it does not hold.

    Such a package stays silent about what happened to the unit afterwards (the mortgage it records may
    have been cancelled since, by a new application): a reader must be told that silence is no proof,
    which unit to ask about, and how. None for a unit's package, which holds every transaction naming it.
    """
    kind = verified.subject["kind"]
    if kind == "unit":
        return None
    own = [t for t in verified.txs if not t.context]
    units = sorted(set().union(*(unit_numbers(t.body) for t in own)))
    what = "this transaction" if kind == "tx" else "this application's own transactions"
    if not units:
        apps = sorted({str(t.body["application_id"]) for t in own if isinstance(t.body.get("application_id"), str)})
        step = f"; it is a step of application {apps[0]}: export --application {apps[0]} to see its unit" if apps \
            else ""
        return (f"the package holds {what} only, which names no unit: later transactions are outside its subject "
                f"and not shown{step}")
    shown = ", ".join(units[:_UNITS_SHOWN]) + (f" and {len(units) - _UNITS_SHOWN} more"
                                               if len(units) > _UNITS_SHOWN else "")
    return (f"the package holds {what} only: later transactions on unit {shown} (such as a later cancellation, "
            f"a seizure or a transfer) are outside its subject and not shown, even if committed before the head; "
            f"export them with `estatechain evidence export NODE --unit {units[0]}`")


def _proof(verified: Verified, tx: VerifiedTx) -> str:
    attested = ", ".join(tx.attested_by) or "—"
    lines = [f"signature ✓ · inclusion ✓ leaf {tx.seq} at height {tx.height}",
             f"header chain ✓ to head {verified.head_height} · attested here by: {attested}"]
    if tx.revoked_at is not None:
        when = "later" if tx.revoked_at > (tx.height, tx.position) else "before this transaction"
        lines.append(f"certificate revoked {when}, at height {tx.revoked_at[0]}; judged at height {tx.height}")
    return "\n".join(lines)


def render(verified: Verified, console: Console) -> None:
    """Print the report of ``verified`` on ``console``."""
    head_orgs = ", ".join(verified.head_attested_by)
    final = "consortium-final" if len(verified.head_attested_by) >= verified.quorum else (
        f"{len(verified.head_attested_by)} of the {verified.quorum} orgs a final block needs")
    console.print(f"[bold]Evidence package[/bold] of {verified.consortium}")
    console.print(f"  chain id    {verified.chain_id}")
    console.print(f"  subject     {_subject(verified.subject)}")
    console.print(f"  exported by {verified.exporter_org}'s node at head {verified.head_height} "
                  f"({local_time(verified.head_time_ms)}), hash {verified.head_hash}")
    console.print(f"  head attested by {head_orgs} ({final}); {verified.headers} headers chained to it")
    console.print(f"  selection   complete as {verified.exporter_org} states it in its signed export statement; "
                  "a package cannot show a transaction it leaves out")
    if set(verified.head_attested_by) <= {verified.exporter_org}:
        console.print(f"  [yellow]results and proofs rest on {verified.exporter_org}'s word alone: no other org "
                      "attested the head[/yellow]")
    if (outside := left_out(verified)) is not None:
        console.print(f"  later events [yellow]{escape(outside)}[/yellow]")
    for heading, text in imports.summary(verified):
        console.print(f"  {heading} [yellow]{escape(text)}[/yellow]")
    table = Table(show_lines=True)
    for column in ("#", "time (block)", "command", "signer org / role / subject", "acting for", "result",
                   "proven by"):
        table.add_column(column, overflow="fold")  # a narrow screen wraps a cell; it never cuts one ("applicati…")
    for n, tx in enumerate(verified.txs, 1):
        result = "[green]valid[/green]" if tx.valid else f"[red]invalid[/red] {tx.code}"
        if imports.is_import(tx):
            result += "\n[yellow]pre-chain data[/yellow]"
        label = escape(what(verified, tx)) + ("\n[dim](context)[/dim]" if tx.context else "")
        table.add_row(str(n), local_time(tx.time_ms), label,
                      f"{tx.signer.org_id} / {tx.signer.role}\n{_common_name(tx.signer.cert_der)}",
                      acting_for(verified, tx), result, _proof(verified, tx))
    console.print(table)
    if verified.openings:
        console.print("[bold]Opened personal records[/bold] (SHA-256(salt ‖ record) equals the ledger's record_ref):")
        for commitment, record in verified.openings.items():
            console.print(f"  {commitment[:16]}…  {_person(record)}")


def _subject(subject: dict[str, JSONValue]) -> str:
    kind = subject["kind"]
    if kind == "tx":
        return f"transaction {subject['tx_id']}"
    if kind == "application":
        return f"application {subject['application_id']}, from its filing to the head at export"
    low, high = subject["from_ms"], subject["to_ms"]
    assert isinstance(low, int)
    assert isinstance(high, int)
    start = "the first block" if low <= 0 else local_time(low)
    end = "the head at export" if high >= OPEN_END else local_time(high)
    return f"unit {subject['unit_number']} from {start} to {end}"
