"""The report describes every kind of record the import rule accepts: no pre-chain entry of a unit goes unlisted."""

from __future__ import annotations

from estatechain.contract.rules.register_import import RECORD_KINDS
from estatechain.evidence.imports import DESCRIBE


def test_the_report_has_a_description_for_each_section_of_the_import_rule() -> None:
    assert list(DESCRIBE) == list(RECORD_KINDS)
