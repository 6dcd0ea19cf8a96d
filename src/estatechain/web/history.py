"""A case's timeline as the ledger holds it: every signed step, repeated ones included, and who signed it.

The application record keeps the latest record of each step by name (``steps["held"]``), so a case
held, resumed and held again keeps only its second hold there: the first hold's time, reason and
signer would vanish from the case page, and the resume would appear before the hold it ended. The
steps' transactions are all on the ledger (``source_txs``), so an earlier hold or resume is read
back from its own transaction. Each step also names the staff member whose certificate signed it
(its common name, e.g. ``reviewer1``), not only the org, since 审核人 and 登簿人 are part of the record.

The same transactions give the legal clock its holds (``holds``): when each hold began and ended,
which the record's running total (``held_ms_total``) does not keep.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson
from cryptography import x509 as cx509
from cryptography.x509.oid import NameOID

from estatechain.canonical import JSONValue
from estatechain.contract.records import Application
from estatechain.crypto import x509
from estatechain.ledger.admission import cert_key
from estatechain.storage.store import LedgerStore
from estatechain.web.timelimits import Hold

REPEATABLE: Final = {"application.hold": "held", "application.resume": "resumed"}
"""Commands a case may see more than once, and the step name each records."""
_EXTRAS: Final = {"application.hold": ("reason",), "application.resume": ()}
"""What each repeatable step records beside who and when (``contract/rules/registration.py``)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One signed step of a case: its name in ``steps``, when, by which org and staff member, and its record."""

    name: str
    at_ms: int
    org: str
    who: str
    tx_id: str
    record: Mapping[str, JSONValue]


def timeline(store: LedgerStore, application: Application) -> list[Step]:
    """Every step of ``application`` after its filing and confirmations, in ledger order."""
    names: dict[str, str] = {}
    found: list[tuple[int, Step]] = []
    for name, record in application.steps.items():
        if isinstance(record, dict) and isinstance(record.get("tx_id"), str):
            found.append((_seq(store, str(record["tx_id"])), _step(store, names, name, record)))
    latest = {step.tx_id for _, step in found}
    for tx_id in application.source_txs:
        if tx_id not in latest:
            earlier = _earlier(store, names, tx_id)
            if earlier is not None:
                found.append(earlier)
    return [step for _, step in sorted(found, key=lambda pair: pair[0])]


def holds(store: LedgerStore, application: Application) -> tuple[Hold, ...]:
    """Every hold of the case in ledger order: the block times of its hold and of its resumption (None: not yet).

    Read from the case's own ``application.hold`` and ``application.resume`` transactions (its
    ``source_txs``), since the record keeps only the latest of each. A case never held (no ``held``
    step, nearly every case) costs no read. A hold the case left other than by a resumption (a
    refusal, a withdrawal) stays open here; the clock ends it at the time it is asked about.
    """
    if "held" not in application.steps:
        return ()
    rows = store.connection.execute(
        "SELECT command, height FROM txs WHERE tx_id IN (SELECT value FROM json_each(?)) AND status = 'valid' "
        "AND command IN ('application.hold', 'application.resume') ORDER BY seq",
        (orjson.dumps(list(application.source_txs)).decode(),)).fetchall()
    times: dict[int, int] = {}
    found: list[Hold] = []
    start: int | None = None
    for command, height in rows:
        if int(height) not in times:
            block = store.block_at(int(height))
            times[int(height)] = block[0].time_ms if block is not None else 0
        at = times[int(height)]
        if command == "application.hold" and start is None:
            start = at
        elif command == "application.resume" and start is not None:
            found.append(Hold(start, at))
            start = None
    return (*found, Hold(start)) if start is not None else tuple(found)


def _seq(store: LedgerStore, tx_id: str) -> int:
    record = store.tx_record(tx_id)
    return record.seq if record is not None else -1


def _step(store: LedgerStore, names: dict[str, str], name: str, record: Mapping[str, JSONValue]) -> Step:
    return Step(name=name, at_ms=int(str(record.get("at_ms", 0))), org=str(record.get("org", "")),
                who=signer_name(store, str(record.get("by", "")), names), tx_id=str(record["tx_id"]),
                record=record)


def _earlier(store: LedgerStore, names: dict[str, str], tx_id: str) -> tuple[int, Step] | None:
    """An earlier occurrence of a repeatable step, from its own transaction (None for anything else)."""
    row = store.connection.execute(
        "SELECT seq, height, signer, command, envelope FROM txs WHERE tx_id = ? AND status = 'valid'",
        (tx_id,)).fetchone()
    if row is None or str(row[3]) not in REPEATABLE:
        return None
    seq, height, signer, command = int(row[0]), int(row[1]), str(row[2]), str(row[3])
    block = store.block_at(height)
    payload = orjson.loads(row[4]).get("payload", {})
    body = payload.get("body", {}) if isinstance(payload, dict) else {}
    cert = store.get(cert_key(signer))
    record: dict[str, JSONValue] = {
        "by": signer, "org": str(cert.get("org", "")) if cert is not None else "",
        "at_ms": block[0].time_ms if block is not None else 0, "height": height, "tx_id": tx_id,
        **{key: body[key] for key in _EXTRAS[command] if isinstance(body, dict) and key in body}}
    return seq, _step(store, names, REPEATABLE[command], record)


def signer_name(store: LedgerStore, fingerprint: str, names: dict[str, str]) -> str:
    """The common name of the certificate ``fingerprint`` names ("" if it was never registered)."""
    if fingerprint not in names:
        row = store.get(cert_key(fingerprint)) if fingerprint else None
        certificate = row.get("certificate") if row is not None else None
        common: tuple[str, ...] = ()
        if isinstance(certificate, str):
            common = x509.subject_values(cx509.load_der_x509_certificate(base64.b64decode(certificate)),
                                         NameOID.COMMON_NAME)
        names[fingerprint] = common[0] if common else ""
    return names[fingerprint]
