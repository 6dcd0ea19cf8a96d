"""Which rules apply at which height: old blocks replay under the rules of their time.

Each entry maps an activation height to the complete rule table from that height on. Unchanged rules
are reused by reference (composition, not inheritance), so a rule change is one new entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from estatechain.contract.rule import Rule
from estatechain.contract.rules import (
    application,
    building,
    governance,
    identity,
    inquiry,
    note,
    notice_correct,
    notice_end,
    presale,
    privacy,
    register_import,
    registration,
    seizure,
)

# The holiday calendar (``calendar.set`` in governance.RULES; working days for 细则 81's deadlines), pre-sale
# contract termination and 带押过户 with a new loan (business types behind ``application.file``) joined _V1
# rather than a new entry: no production chain exists, development chains are re-created, and domain.md
# §5.1 makes the on-ledger calendar part of the rules from the start. So did the one-spelling tightening
# (ASCII digits only in unit numbers, dates, certificate numbers and e-licence ids; no trailing line break
# in an id or key; full-width certificate digits read as ASCII), which refuses only values no real
# register holds. So did the 90-day lapse's 民法典 203 (a last day the registry does not work moves to its
# next working day) and 221 (an application for the final registration filed in time holds the notice while
# it is open), which only delay when ``notice.mark_lapsed`` is first accepted; and the review notes of a
# conversion or a pre-sale transfer, which record that lapse judged at filing. So did ``inquiry.request``
# writing only its log record, no longer the unit's "who looked" index row beside it (each node lists a
# unit's inquiries from the records, web/inquiryindex.py): every accepted inquiry's effects, and so every
# later state root, differ from a ledger made before, which must be re-created. On a live chain,
# a change that alters the outcome of old blocks (the ex-officio correction's day counting, this lapse day)
# would be a new entry.
_V1: Final[Mapping[str, Rule]] = {
    **note.RULES,
    **governance.RULES,
    **privacy.RULES,
    **identity.RULES,
    **register_import.RULES,
    **application.RULES,
    **registration.RULES,
    **seizure.RULES,
    **presale.RULES,
    **building.RULES,
    **notice_end.RULES,
    **notice_correct.RULES,
    **inquiry.RULES,
}

VERSIONS: Final[tuple[tuple[int, Mapping[str, Rule]], ...]] = ((1, _V1),)
"""(activation height, rule table), ascending by height."""


def rules_at(height: int) -> Mapping[str, Rule]:
    """The rule table in force at ``height``."""
    table = VERSIONS[0][1]
    for activation, candidate in VERSIONS:
        if activation <= height:
            table = candidate
    return table


def known_commands() -> frozenset[str]:
    """Every command name any version knows: anything else is refused at submission."""
    return frozenset(name for _, table in VERSIONS for name in table)
