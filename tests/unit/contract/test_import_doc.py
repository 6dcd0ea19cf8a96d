"""docs/formats.md describes every record an import may carry, member by member, as the import rule reads it.

An expert judging a unit's evidence package meets the whole ``register.import`` that brought the
unit's pre-chain entries onto the ledger; the document is where they learn what each record holds.
The kinds are read from the rule (``RECORD_KINDS``) and the members from each kind's record type, so a
section or a field added to the rule without its description fails here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from estatechain.contract.rules.register_import import RECORD_KINDS

DOC = Path(__file__).parents[3] / "docs" / "formats.md"
SECTION = "## Register import (`register.import`)"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/formats.md has no section {SECTION!r}"
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end < 0 else text[start:end]


def table_row(doc: str, kind: str) -> str:
    """The line of the section's table that describes ``kind``."""
    rows = [line for line in doc.splitlines() if line.startswith(f"| `{kind}` |")]
    assert len(rows) == 1, f"docs/formats.md: expected one table row for the import section {kind!r}"
    return rows[0]


def test_every_record_kind_the_import_rule_accepts_is_named_in_formats_md() -> None:
    doc = section()
    assert RECORD_KINDS  # the rule must say what it accepts
    for kind in RECORD_KINDS:
        table_row(doc, kind)


def test_every_member_of_each_imported_record_is_described_in_its_row() -> None:
    doc = section()
    missing = {kind: [f.name for f in dataclasses.fields(record) if f"`{f.name}`" not in table_row(doc, kind)]
               for kind, record in RECORD_KINDS.items()}
    assert not any(missing.values()), missing


def test_the_section_says_how_persons_appear_and_what_an_import_cannot_prove() -> None:
    doc = " ".join(section().split())
    assert '{"party_id": "<64 hex>", "record_ref": "<64 hex>" | null}' in doc
    assert "No name or ID number stands in an import" in doc
    assert "**What an expert can conclude from an import transaction.**" in doc
    assert "**What it cannot conclude.** That the records are true" in doc
