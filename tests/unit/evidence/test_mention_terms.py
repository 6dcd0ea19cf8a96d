"""The evidence index's term patterns find every unit number and application id a canonical envelope names.

Selection trusts the index to be complete (it parses each candidate to drop false ones), so a unit
number the patterns missed would silently drop a transaction from a court's package.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from hypothesis import given
from hypothesis import strategies as st

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.evidence.mentions import indexed_unit_number, terms_of
from estatechain.evidence.package import body_of, mentions

UNIT_NUMBERS = st.from_regex(r"[0-9]{12}[GJZ][ABSXCDEFHGWYLN][0-9]{5}[FLQW][0-9]{8}", fullmatch=True)
APPLICATION_IDS = st.text("0123456789abcdef", min_size=64, max_size=64)
SCALARS = st.one_of(st.text(max_size=30), st.integers(-(2**53) + 1, 2**53 - 1), st.booleans(), st.none(), UNIT_NUMBERS)
KEYS = st.text(st.characters(max_codepoint=127), max_size=10)  # canonical JSON keys are ASCII
BODIES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)


def string_leaves(value: JSONValue) -> Iterator[str]:
    """Every string value anywhere in ``value`` (not the keys): what ``mentions`` compares a subject with."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)


@given(body=st.dictionaries(KEYS, BODIES, max_size=5), unit=UNIT_NUMBERS,
       application_id=st.one_of(st.none(), APPLICATION_IDS))
def test_every_unit_number_and_the_application_id_of_a_body_are_terms(
    body: dict[str, JSONValue], unit: str, application_id: str | None,
) -> None:
    body = {**body, "unit_number": unit}  # where most commands name it; the strategies put others anywhere
    if application_id is not None:
        body["application_id"] = application_id
    envelope = canonical.encode({"payload": {"body": body, "command": "x"}, "signature": "AAAA"})
    terms = terms_of(envelope)
    named = {leaf for leaf in string_leaves(body) if indexed_unit_number(leaf)}
    assert unit in named
    assert all(mentions(body, leaf) for leaf in named)
    assert named <= terms
    if application_id is not None:
        assert application_id in terms


def test_a_unit_number_inside_a_longer_string_or_used_as_a_key_is_no_mention_but_may_be_a_candidate() -> None:
    unit = "440106001001GB00001F00010001"
    envelope = canonical.encode({"payload": {"body": {"note": f"see {unit}", unit: 1}}})
    assert not mentions(body_of(orjson.loads(envelope)), unit)
    assert unit in terms_of(envelope)  # a key is a candidate: harmless, selection parses and drops it
    assert terms_of(canonical.encode({"payload": {"body": {"note": f"see {unit}"}}})) == set()

