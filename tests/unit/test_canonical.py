"""The fast canonical encoder gives exactly RFC 8785's bytes on everything signed data may hold."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain import canonical
from estatechain.errors import InputError

SAFE = canonical.MAX_SAFE_INT
keys = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=12)
scalars = (
    st.none() | st.booleans() | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)  # control chars and non-BMP included
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
                      max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(values)
def test_fast_encoder_matches_rfc8785(value: object) -> None:
    assert canonical.encode(value) == rfc8785.dumps(value)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(values)
def test_canonical_bytes_round_trip_and_nothing_else_does(value: object) -> None:
    data = canonical.encode(value)
    assert canonical.decode(data) == value
    if isinstance(value, (dict, list)):
        with pytest.raises(canonical.NonCanonicalError):
            canonical.decode(data[:1] + b" " + data[1:])


@pytest.mark.parametrize(
    ("value", "hint"),
    [(1.5, "floats"), (2**53, "outside"), ({"\u4e2d": 1}, "ASCII"), ({1: 2}, "ASCII"), (b"x", "bytes"),
     ("\ud800", "encode")],
)
def test_values_outside_the_interoperable_subset_are_refused_with_a_reason(value: object, hint: str) -> None:
    with pytest.raises(canonical.NonCanonicalError, match=hint):
        canonical.encode(value)


def test_oversized_input_is_refused_before_parsing() -> None:
    with pytest.raises(InputError, match="exceeds the limit"):
        canonical.decode(b"[" + b"1," * 100 + b"1]", max_bytes=50)


def test_duplicate_keys_are_not_canonical() -> None:
    with pytest.raises(canonical.NonCanonicalError):
        canonical.decode(b'{"a":1,"a":2}')


@settings(max_examples=300, deadline=None)
@given(values)
def test_a_contract_value_is_stored_as_the_same_bytes_without_the_structural_walk(value: object) -> None:
    assert canonical.encode_produced(value) == canonical.encode(value)


@pytest.mark.parametrize(("value", "hint"), [({"total": 2**53}, "outside"), ({"total": -(2**60)}, "outside"),
                                             ({"keys": {1, 2}}, "set"), ("\ud800", "encode")])
def test_a_contract_value_outside_the_subset_still_halts_the_commit_with_a_reason(value: object, hint: str) -> None:
    """An overflowing sum (or a value no JSON can carry) must never reach a state row as non-canonical bytes."""
    with pytest.raises(canonical.NonCanonicalError, match=hint):
        canonical.encode_produced(value)
