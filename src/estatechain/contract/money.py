"""Money as integer fen with a currency code: the only amount type the register knows.

design.md §3.2 forbids floats in signed data, so every amount is an integer count of fen (分). The
national data standard keeps 万元 doubles; those are converted exactly at the edge (1 万元 =
1 000 000 fen) and displayed from fen without rounding (domain.md §6.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from estatechain.contract.effects import JSON, Record

CURRENCY: Final = "CNY"
"""The only currency the platform accepts (domain.md header) [A]."""

MAX_FEN: Final = 10**13
"""Ceiling of a single amount: 1 000 亿元 (V9) [A]."""

FEN_PER_WAN_YUAN: Final = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class Money:
    """An amount of ``fen`` in ``currency``; arithmetic stays in integers."""

    fen: int
    currency: str = CURRENCY

    def to_json(self) -> dict[str, JSON]:
        """The stored form: ``{"fen": int, "currency": str}``."""
        return {"fen": self.fen, "currency": self.currency}

    @staticmethod
    def from_json(value: Record) -> Money:
        """Read the stored form written by ``to_json`` (state is trusted: a bad row is a bug)."""
        fen, currency = value.get("fen"), value.get("currency")
        if type(fen) is not int or not isinstance(currency, str):
            raise ValueError("stored money must be {fen: int, currency: str}")
        return Money(fen=fen, currency=currency)


def valid_amount(value: object) -> bool:
    """V9: a JSON integer (not a bool) with ``0 < value ≤ 10^13``."""
    return type(value) is int and 0 < value <= MAX_FEN


def wan_yuan_text(fen: int) -> str:
    """The amount in 万元 as printed on certificates: exact, up to six decimals, no trailing zeros.

    ``70000000`` → ``"70"``; ``123456789`` → ``"123.456789"``. Never rounds (domain.md §6.1).
    """
    sign = "-" if fen < 0 else ""
    whole, rest = divmod(abs(fen), FEN_PER_WAN_YUAN)
    if rest == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{rest:06d}".rstrip("0")
