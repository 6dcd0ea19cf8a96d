"""Typed readers for JSON objects, shared by record decoding and command bodies.

A reader raises ``FieldError`` naming the dotted path of the field; rule modules turn it into a
``MALFORMED_COMMAND`` rejection at their boundary, so no exception leaves ``execute``. For stored
rows the error would mean corrupt state, which is a bug and is allowed to halt the node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from estatechain.contract.effects import JSON, Record

HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
"""Lower-case 64-hex: sha256 digests, tx ids, certificate fingerprints and party ids (HMAC-SHA256)."""

IDENT: Final = re.compile(r"^[A-Za-z0-9._:-]{1,96}$")
"""Ledger-made or imported record ids and contract numbers: safe inside a state key."""


StoredRow: TypeAlias = Mapping[str, Any]
"""A row read back from the ledger's state, as a record's ``from_stored`` takes it: its shape is that record's
``to_json``, so it is read without a type check per field (``Application.from_stored`` says what guards it)."""


class FieldError(Exception):
    """A field is missing or has the wrong shape; ``field`` is its dotted path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def obj(value: JSON | object, field: str) -> Record:
    """A JSON object."""
    if type(value) is not dict and not isinstance(value, Mapping):  # the exact-type test spares the ABC check
        raise FieldError(field, "must be a JSON object")
    return value


def text(data: Record, name: str, field: str = "", *, max_len: int = 500) -> str:
    """A non-empty string of at most ``max_len`` characters."""
    value = data.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise FieldError(f"{field}{name}", f"must be a text of 1-{max_len} characters")
    return value


def opt_text(data: Record, name: str, field: str = "", *, max_len: int = 500) -> str | None:
    """An optional string (absent or null gives None)."""
    if data.get(name) is None:
        return None
    return text(data, name, field, max_len=max_len)


def pattern(data: Record, name: str, regex: re.Pattern[str], field: str = "", *, what: str) -> str:
    """A string matching ``regex``."""
    value = data.get(name)
    if not isinstance(value, str) or regex.fullmatch(value) is None:
        raise FieldError(f"{field}{name}", f"must be {what}")
    return value


def opt_pattern(data: Record, name: str, regex: re.Pattern[str], field: str = "", *, what: str) -> str | None:
    """An optional string matching ``regex``."""
    if data.get(name) is None:
        return None
    return pattern(data, name, regex, field, what=what)


def hex64(data: Record, name: str, field: str = "") -> str:
    """A lower-case 64-hex digest or id."""
    return pattern(data, name, HEX64, field, what="64 lower-case hex characters")


def ident(data: Record, name: str, field: str = "") -> str:
    """A record id or contract number usable inside a key."""
    return pattern(data, name, IDENT, field, what="1-96 characters of A-Z a-z 0-9 . _ : -")


def integer(data: Record, name: str, field: str = "", *, low: int = 0, high: int = 2**53 - 1) -> int:
    """A JSON integer (never a bool) within ``[low, high]``."""
    value = data.get(name)
    if type(value) is not int or not low <= value <= high:
        raise FieldError(f"{field}{name}", f"must be an integer from {low} to {high}")
    return value


def opt_integer(data: Record, name: str, field: str = "", *, low: int = 0, high: int = 2**53 - 1) -> int | None:
    """An optional integer."""
    if data.get(name) is None:
        return None
    return integer(data, name, field, low=low, high=high)


def boolean(data: Record, name: str, field: str = "") -> bool:
    """A JSON boolean."""
    value = data.get(name)
    if not isinstance(value, bool):
        raise FieldError(f"{field}{name}", "must be true or false")
    return value


def array(data: Record, name: str, field: str = "", *, low: int = 0, high: int = 1000) -> Sequence[JSON]:
    """A JSON array of ``low``..``high`` items."""
    value = data.get(name)
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise FieldError(f"{field}{name}", f"must be a list of {low}-{high} items")
    return value


def objects(data: Record, name: str, field: str = "", *, low: int = 0, high: int = 1000) -> tuple[Record, ...]:
    """A JSON array of objects."""
    items = array(data, name, field, low=low, high=high)
    # The path is formatted only for the item that fails: decoding a stored record reads thousands of
    # objects per block, and each f-string would be built and dropped.
    for index, item in enumerate(items):
        if type(item) is not dict and not isinstance(item, Mapping):
            raise FieldError(f"{field}{name}[{index}]", "must be a JSON object")
    return tuple(items)  # type: ignore[arg-type]  # every item was just checked to be a Mapping


def texts(data: Record, name: str, field: str = "", *, high: int = 100) -> tuple[str, ...]:
    """A JSON array of non-empty strings."""
    items = array(data, name, field, high=high)
    if not all(isinstance(item, str) and item for item in items):
        raise FieldError(f"{field}{name}", "must be a list of non-empty texts")
    return tuple(str(item) for item in items)


def choice(data: Record, name: str, options: frozenset[str], field: str = "") -> str:
    """A string out of ``options``."""
    value = data.get(name)
    if not isinstance(value, str) or value not in options:
        raise FieldError(f"{field}{name}", f"must be one of {', '.join(sorted(options))}")
    return value
