"""Effects: the only way the contract changes state. The ledger applies them in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

JSON: TypeAlias = "bool | int | str | list[JSON] | dict[str, JSON] | None"
"""A value the contract can store; the same subset the canonical encoder accepts (no floats)."""

Record: TypeAlias = Mapping[str, JSON]


@dataclass(frozen=True, slots=True, kw_only=True)
class Put:
    """Write ``value`` as the current version of ``key``; the previous version becomes history."""

    key: str
    value: Record


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete:
    """End ``key``'s current version. History stays; the ledger stores a tombstone."""

    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Emit:
    """An event for subscribers (not state): for example a bank's webhook after recording."""

    name: str
    data: Record


Effect: TypeAlias = Put | Delete | Emit
