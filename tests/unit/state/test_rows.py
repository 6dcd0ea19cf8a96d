"""A state row's bytes are the same whichever way the commit path builds them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.state.rows import StateRow

json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(st.characters(max_codepoint=127)), inner,
                                                                max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1), seq=st.integers(0, 2**40), height=st.integers(1, 2**40),
       value=st.none() | st.dictionaries(st.text(st.characters(max_codepoint=127)), json_values, max_size=6))
def test_spliced_row_bytes_equal_the_encoded_row(key: str, seq: int, height: int,
                                                 value: dict[str, JSONValue] | None) -> None:
    row = StateRow(key=key, seq=seq, height=height, value=value)
    value_bytes = None if value is None else canonical.encode(value)
    assert row.to_bytes_around(value_bytes) == row.to_bytes()
