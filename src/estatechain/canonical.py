"""Canonical bytes: the one path to anything that is signed or hashed (design §3.2, §3.12, §3.23).

Signed data is RFC 8785 (JCS) JSON. RFC 8785 is expensive in pure Python, so the hot path uses
``orjson`` with sorted keys, which yields the same bytes under two restrictions that we validate:
numbers are integers within ±(2**53 − 1) (no floats at all), and object keys are ASCII. Property
tests compare this encoder with the ``rfc8785`` package on generated payloads.

``decode`` is strict: the bytes must already be in canonical form, so a signature always covers
exactly the bytes that are stored and hashed.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import orjson

from estatechain.errors import InputError

JSONValue: TypeAlias = "bool | int | str | list[JSONValue] | dict[str, JSONValue] | None"
"""What signed data may hold: no floats, integers only within the interoperable range."""

MAX_SAFE_INT: Final = 2**53 - 1
MAX_DEPTH: Final = 32
DEFAULT_MAX_BYTES: Final = 256 * 1024


class NonCanonicalError(InputError):
    """Bytes that parse as JSON but are not in RFC 8785 form (or hold values we do not allow)."""


def _valid(value: object, depth: int = 0) -> bool:  # noqa: PLR0911  (one return per JSON type)
    """Fast structural check; ``_explain`` re-walks only when this says no, to name the path."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INT <= value <= MAX_SAFE_INT  # type: ignore[operator]
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or not key.isascii() or not _valid(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_valid(item, depth + 1) for item in value)  # type: ignore[attr-defined]
    return False


def _explain(value: object, path: str, depth: int) -> None:
    """Raise the error that says where ``value`` leaves the subset where orjson equals RFC 8785."""
    if depth > MAX_DEPTH:
        raise NonCanonicalError(f"{path}: nested deeper than {MAX_DEPTH} levels; flatten the structure")
    if isinstance(value, float):
        raise NonCanonicalError(f"{path}: floats are not allowed in signed data; use integers (fen, ms)")
    if isinstance(value, int) and not isinstance(value, bool) and not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        raise NonCanonicalError(f"{path}: integer {value} is outside ±(2**53-1); send large amounts as decimal strings")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _explain(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise NonCanonicalError(f"{path}: object key {key!r} must be an ASCII string")
            _explain(item, f"{path}.{key}", depth + 1)
    elif not (value is None or isinstance(value, (bool, str, int))):
        raise NonCanonicalError(f"{path}: values of type {type(value).__name__} cannot be signed")


def encode(value: object) -> bytes:
    """Return the canonical (RFC 8785) UTF-8 bytes of ``value``.

    Raises:
        NonCanonicalError: ``value`` holds a float, an out-of-range integer, a non-ASCII key,
            a lone surrogate, or a type JSON cannot carry.

    """
    if not _valid(value):
        _explain(value, "$", 0)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise NonCanonicalError(f"$: cannot encode as canonical JSON: {exc}") from exc


def encode_checked(value: object) -> bytes:
    """Canonical bytes of a value already known to be in the signable subset (no re-validation).

    For the hot path only: parts of an envelope that ``decode`` already checked, and records built
    from such parts and integers. Anything else must go through ``encode``.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def encode_produced(value: object) -> bytes:
    """Canonical bytes of a state value the contract produced, without the structural walk.

    The contract builds its values from command bodies that ``decode`` already checked, from stored
    rows, and from integers and literal keys of its own; ``mypy --strict`` keeps floats and other
    types out of them (``contract.effects.JSON``). Re-walking every value a block stores cost about
    6 % of a registration transaction. The one thing the contract's own arithmetic could still get
    wrong, an integer beyond ±(2**53 − 1), orjson checks for free (``OPT_STRICT_INTEGER``). Nothing
    else is checked here: a float, a non-ASCII key or nesting past ``encode``'s limit would be stored
    as orjson writes it, and only the audit's replay, which re-encodes every stored value with
    ``encode``, would then refuse the ledger; typing is what keeps them out of the contract. What
    comes from outside is still checked in full: envelopes by ``decode``, and a ledger's stored
    values when an audit replays it (``storage.audit`` encodes with ``encode``).

    Raises:
        NonCanonicalError: an integer outside ±(2**53 − 1) or a type JSON cannot carry.

    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except (TypeError, orjson.JSONEncodeError) as exc:
        _explain(value, "$", 0)
        raise NonCanonicalError(f"$: cannot encode as canonical JSON: {exc}") from exc


def why_not_canonical(data: bytes, *, what: str = "payload") -> str | None:
    """None when ``decode`` accepts ``data`` whatever its size; else the message saying what is wrong."""
    try:
        decode(data, max_bytes=len(data), what=what)
    except InputError as exc:
        return str(exc)
    return None


def decode(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "payload") -> JSONValue:
    """Parse ``data``, insisting that it is already canonical and at most ``max_bytes`` long.

    Raises:
        InputError: ``data`` is too large or is not JSON.
        NonCanonicalError: ``data`` is JSON but not byte-for-byte its canonical form
            (key order, whitespace, escapes, duplicate keys, number spelling).

    """
    if len(data) > max_bytes:
        raise InputError(f"{what}: {len(data)} bytes exceeds the limit of {max_bytes}; send less data")
    try:
        value: JSONValue = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{what}: not valid UTF-8 JSON ({exc}); send RFC 8785 canonical JSON") from exc
    again = encode(value)
    if again != data:
        at = next((i for i, (a, b) in enumerate(zip(again, data, strict=False)) if a != b),
                  min(len(again), len(data)))
        raise NonCanonicalError(
            f"{what}: not in RFC 8785 canonical form (first difference at byte {at}); "
            "serialise with sorted keys, no whitespace, integers only"
        )
    return value
