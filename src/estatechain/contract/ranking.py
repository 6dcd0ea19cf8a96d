"""Rank (顺位) of the current mortgages on a unit: 1..n in priority-key order, no gaps.

Rank follows acceptance order (细则 67) through the priority key; when a mortgage is cancelled the
later ones move up (顺位升进, 民法典 414 as analysed in domain.md L3d). Ranks are stored on the
entries so the register reads as a registry would print it, and rewritten only when they change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from estatechain.contract import keys
from estatechain.contract.effects import Put
from estatechain.contract.records import Mortgage


def ranked(mortgages: Iterable[Mortgage]) -> tuple[Mortgage, ...]:
    """``mortgages`` in priority order with ranks 1..n."""
    ordered = sorted(mortgages, key=lambda mortgage: (mortgage.priority_key, mortgage.mortgage_id))
    return tuple(replace(mortgage, rank=rank) for rank, mortgage in enumerate(ordered, start=1))


def rank_changes(
    before: Iterable[Mortgage], after: Iterable[Mortgage], *, always: str | None = None
) -> tuple[Put, ...]:
    """Puts for every mortgage in ``after`` whose rank differs from ``before`` (and for ``always``)."""
    old = {mortgage.mortgage_id: mortgage.rank for mortgage in before}
    return tuple(
        Put(key=keys.mortgage(mortgage.mortgage_id), value=mortgage.to_json())
        for mortgage in ranked(after)
        if mortgage.mortgage_id == always or old.get(mortgage.mortgage_id) != mortgage.rank
    )
