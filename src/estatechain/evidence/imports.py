"""Pre-chain data in a verified package: what a ``register.import`` brought onto the ledger, and for which unit.

A registry enters the register it kept before the ledger as ``register.import`` transactions (design
§3.15), each carrying the records of many units (docs/formats.md, "Register import"). The package
proves that the registry signed those records and that they were committed at that height, unaltered
since; it does not prove that they were true when imported. That rests on the registry's import and
the old register behind it, and the online-litigation rules (Art. 18, domain.md §8) ask whoever relies
on data that may have been unreliable *before* it went on chain for its own proof of source. So the
report marks an import's row as pre-chain data and says which of a unit's entries rest on an import
alone, as far as the package's transactions show: v1 carries no state proof of the unit's rows at the
head (docs/evidence.md §11).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.contract.certificate_number import normalise
from estatechain.contract.rules.register_import import RECORD_KINDS
from estatechain.evidence.facts import Verified, VerifiedTx
from estatechain.evidence.package import IMPORT_COMMAND

PRE_CHAIN: Final = ("imported from the register kept before the ledger: its content rests on the registry's import, "
                    "not on signed steps on this ledger")
"""What an import's row says about itself: the words a reader of the report is meant to see."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedEntry:
    """One record an import brought onto the ledger for the subject's unit, and the later rows that name it."""

    kind: str
    """The import section it came from (``mortgages`` …)."""
    label: str
    """What the entry is, by register numbers only (no party, no amount): ``mortgage IMP-… (rank 1, …)``."""
    row: int
    """The report row (1-based) of the import that carries it."""
    named_by: tuple[int, ...]
    """Report rows of later valid transactions that name the entry's id or certificate number."""


def _text(item: Mapping[str, JSONValue], key: str) -> str:
    value = item.get(key)
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else "?"


def _numbered(item: Mapping[str, JSONValue], *keys: str) -> tuple[str, ...]:
    return tuple(value for key in keys if isinstance(value := item.get(key), str) and value)


def _unit(item: Mapping[str, JSONValue]) -> tuple[str, tuple[str, ...]]:
    # Every transaction of a unit's package names the unit, so naming says nothing about its record.
    return f"unit record ({_text(item, 'kind')}, {_text(item, 'use')})", ()


def _ownership(item: Mapping[str, JSONValue]) -> tuple[str, tuple[str, ...]]:
    holders = item.get("holders")
    count = len(holders) if isinstance(holders, list) else 0
    label = (f"ownership right {_text(item, 'right_id')} (title {_text(item, 'title_number')}, "
             f"{_text(item, 'form')}, {count} holder{'' if count == 1 else 's'})")
    return label, _numbered(item, "right_id", "title_number")


def _ranked(kind: str, id_key: str) -> Callable[[Mapping[str, JSONValue]], tuple[str, tuple[str, ...]]]:
    def describe(item: Mapping[str, JSONValue]) -> tuple[str, tuple[str, ...]]:
        number = item.get("certificate_number")
        cited = f"certificate {number}" if isinstance(number, str) else "no certificate"
        return (f"{kind} {_text(item, id_key)} (rank {_text(item, 'rank')}, {cited})",
                _numbered(item, id_key, "certificate_number"))
    return describe


def _seizure(item: Mapping[str, JSONValue]) -> tuple[str, tuple[str, ...]]:
    label = (f"seizure {_text(item, 'seizure_id')} ({_text(item, 'authority_org')}, order {_text(item, 'order_no')}, "
             f"queue {_text(item, 'queue_order')})")
    return label, _numbered(item, "seizure_id")


DESCRIBE: Final[Mapping[str, Callable[[Mapping[str, JSONValue]], tuple[str, tuple[str, ...]]]]] = {
    "units": _unit, "ownerships": _ownership, "mortgages": _ranked("mortgage", "mortgage_id"),
    "notices": _ranked("advance notice", "notice_id"), "seizures": _seizure,
}
"""Per section of the import rule (``RECORD_KINDS``): the entry's label and the strings a later step cites it by.

A test holds these keys equal to the rule's sections, so a new kind of imported record cannot go
unreported here.
"""


def is_import(tx: VerifiedTx) -> bool:
    """Whether ``tx`` is a registry's import of pre-chain records."""
    return tx.command == IMPORT_COMMAND


def _records(body: Mapping[str, JSONValue]) -> list[tuple[str, dict[str, JSONValue]]]:
    """(section, record) of every record an import body carries, in the rule's section order."""
    found: list[tuple[str, dict[str, JSONValue]]] = []
    for name in RECORD_KINDS:
        items = body.get(name)
        if isinstance(items, list):
            found += [(name, item) for item in items if isinstance(item, dict)]
    return found


def scope(tx: VerifiedTx) -> str:
    """How much an import carries: its records and the units they belong to (most of them other units')."""
    records = _records(tx.body)
    units = {item["unit_number"] for _, item in records if isinstance(item.get("unit_number"), str)}
    return f"records of {len(units)} unit{'' if len(units) == 1 else 's'}, {len(records)} in all"


def row_lines(verified: Verified, tx: VerifiedTx) -> list[str]:
    """An import row's own words under its command: pre-chain data, how much it carries, how much is the unit's."""
    first, rest = PRE_CHAIN.split(": ", 1)
    lines = [f"pre-chain data: {first}:", rest, f"carries {scope(tx)}"]
    unit = verified.subject.get("unit_number")
    if verified.subject["kind"] == "unit" and isinstance(unit, str):
        own = sum(1 for _, item in _records(tx.body) if item.get("unit_number") == unit)
        lines.append(f"{own} of them unit {unit}'s (listed above the table)" if own
                     else f"none of them unit {unit}'s")
    return lines


def unit_entries(verified: Verified, unit_number: str) -> list[ImportedEntry]:
    """The entries of ``unit_number`` that the package's valid imports carry, with the later rows naming each.

    "Names" is docs/evidence.md §8's whole-string test, with certificate numbers compared in their one
    spelling (full-width brackets and digits as ASCII), as the contract looks them up.
    """
    entries: list[ImportedEntry] = []
    for row, tx in enumerate(verified.txs, 1):
        if not (tx.valid and is_import(tx)):
            continue
        later = [(n, _strings(t.body)) for n, t in enumerate(verified.txs, 1) if n > row and t.valid]
        for name, item in _records(tx.body):
            if item.get("unit_number") != unit_number:
                continue
            label, names = DESCRIBE[name](item)
            wanted = {normalise(value) for value in names}
            named_by = tuple(n for n, strings in later if wanted & strings)
            entries.append(ImportedEntry(kind=name, label=label, row=row, named_by=named_by))
    return entries


def _strings(value: JSONValue) -> set[str]:
    """Every string value anywhere in ``value`` (not the keys), certificate spelling normalised."""
    if isinstance(value, str):
        return {normalise(value)}
    if isinstance(value, dict):
        return set().union(*(_strings(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(item) for item in value))
    return set()


def summary(verified: Verified) -> list[tuple[str, str]]:
    """The report summary's lines about pre-chain data, as (heading, text); none without an import.

    For a unit's package: which import rows carry the unit's entries, which of those entries no later
    transaction names (they rest on the import alone), and which a later row names (that row may
    have changed, ended or only cited the entry: the reader is sent to it).
    """
    rows = [(n, tx) for n, tx in enumerate(verified.txs, 1) if tx.valid and is_import(tx)]
    if not rows:
        return []
    lines = [("pre-chain data", f"row {n} (register.import at height {tx.height}, {scope(tx)}) is {PRE_CHAIN}")
             for n, tx in rows]
    unit = verified.subject.get("unit_number")
    if verified.subject["kind"] != "unit" or not isinstance(unit, str):
        return lines
    entries = unit_entries(verified, unit)
    alone = [f"{e.label} (row {e.row})" for e in entries if not e.named_by]
    named = [f"{e.label} (row {e.row}): named by row{'' if len(e.named_by) == 1 else 's'} "
             f"{', '.join(map(str, e.named_by))}" for e in entries if e.named_by]
    alone_text = (f"unit {unit}'s entries that no later transaction in this package names: "
                  f"{'; '.join(alone) if alone else 'none'} — as far as the package's transactions show: v1 holds "
                  "no state proof, so it cannot show which entries are still current at the head "
                  "(docs/evidence.md §11)")
    lines.append(("rest only on an import", alone_text))
    if named:
        named_text = (f"unit {unit}'s imported entries that a later transaction names (read that row: it may have "
                      f"changed or ended the entry, or only cited it): {'; '.join(named)}")
        lines.append(("named later", named_text))
    return lines
