"""A block's overlay shows each transaction the writes of the transactions before it."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.contract import keys as keys_module
from estatechain.contract.effects import Delete, Put, Record
from estatechain.state.overlay import Overlay


class DictView:
    def __init__(self, rows: dict[str, Record]) -> None:
        self.rows = rows

    def get(self, key: str) -> Record | None:
        return self.rows.get(key)

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        for key in sorted(self.rows):
            if key.startswith(prefix):
                yield key, self.rows[key]


keys = st.sampled_from(["a", "a/1", "a/2", "ab", "b/1", "b/2", "c"])
effects = st.lists(st.tuples(keys, st.one_of(st.none(), st.integers(0, 9))), max_size=30)


@settings(max_examples=300, deadline=None)
@given(base=st.dictionaries(keys, st.integers(0, 9)), writes=effects, prefix=st.sampled_from(["", "a", "a/", "b", "z"]))
def test_scan_and_get_equal_a_dict_with_the_writes_applied(
    base: dict[str, int], writes: list[tuple[str, int | None]], prefix: str
) -> None:
    overlay = Overlay(DictView({k: {"v": v} for k, v in base.items()}))
    expected: dict[str, Record] = {k: {"v": v} for k, v in base.items()}
    for seq, (key, value) in enumerate(writes):
        if value is None:
            overlay.apply(seq, (Delete(key=key),))
            expected.pop(key, None)
        else:
            overlay.apply(seq, (Put(key=key, value={"v": value}),))
            expected[key] = {"v": value}
    assert list(overlay.scan(prefix)) == [(k, expected[k]) for k in sorted(expected) if k.startswith(prefix)]
    for key in ["a", "a/1", "b/2", "c", "zz"]:
        assert overlay.get(key) == expected.get(key)
    assert [w[:2] for w in overlay.writes] == list(dict.fromkeys((s, k) for s, (k, _) in enumerate(writes)))


class CountingView(DictView):
    """Counts reads, to show the overlay asks committed state once per key and prefix in a block."""

    def __init__(self, rows: dict[str, Record]) -> None:
        super().__init__(rows)
        self.gets = 0
        self.scans = 0

    def get(self, key: str) -> Record | None:
        self.gets += 1
        return super().get(key)

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        self.scans += 1
        return super().scan(prefix)


def test_committed_reads_are_made_once_per_block_and_writes_still_win() -> None:
    base = CountingView({"a/1": {"v": 1}, "a/2": {"v": 2}})
    overlay = Overlay(base)
    first = overlay.get("a/1")
    assert overlay.get("a/1") is first
    assert overlay.get("missing") is None
    assert overlay.get("missing") is None
    assert list(overlay.scan("a/")) == [("a/1", {"v": 1}), ("a/2", {"v": 2})]
    overlay.apply(7, (Put(key="a/1", value={"v": 10}), Delete(key="a/2"), Put(key="a/3", value={"v": 3})))
    assert overlay.get("a/1") == {"v": 10}
    assert overlay.get("a/2") is None
    assert list(overlay.scan("a/")) == [("a/1", {"v": 10}), ("a/3", {"v": 3})]
    assert (base.gets, base.scans) == (2, 1)


def _first_segment(prefix: str) -> str:
    """Groups ``a/…`` scans under ``a/``, as ``keys.unit_index_group`` groups one unit's index kinds."""
    head, slash, _ = prefix.partition("/")
    return head + slash if slash else prefix


@settings(max_examples=300, deadline=None)
@given(base=st.dictionaries(keys, st.integers(0, 9)), writes=effects,
       prefixes=st.lists(st.sampled_from(["", "a", "a/", "a/1", "a/2", "a/3", "ab", "b/", "b/1"]), min_size=1,
                         max_size=5))
def test_scans_answered_from_their_group_equal_scans_of_their_own(
    base: dict[str, int], writes: list[tuple[str, int | None]], prefixes: list[str]
) -> None:
    rows = {k: {"v": v} for k, v in base.items()}
    grouped, plain = Overlay(DictView(dict(rows)), scan_group=_first_segment), Overlay(DictView(dict(rows)))
    for seq, (key, value) in enumerate(writes):
        effect = Delete(key=key) if value is None else Put(key=key, value={"v": value})
        for overlay in (grouped, plain):
            for prefix in prefixes:  # committed scans made before, between and after the writes
                assert list(overlay.scan(prefix)) == list(plain.scan(prefix))
            overlay.apply(seq, (effect,))
    for prefix in prefixes:
        assert list(grouped.scan(prefix)) == list(plain.scan(prefix))


def test_a_group_is_read_once_for_every_prefix_inside_it() -> None:
    base = CountingView({"a/1": {"v": 1}, "a/2": {"v": 2}, "a/20": {"v": 20}, "ab": {"v": 0}, "b/1": {"v": 3}})
    overlay = Overlay(base, scan_group=_first_segment)
    assert list(overlay.scan("a/2")) == [("a/2", {"v": 2}), ("a/20", {"v": 20})]
    assert list(overlay.scan("a/1")) == [("a/1", {"v": 1})]
    assert list(overlay.scan("a/3")) == []
    assert list(overlay.scan("a/")) == [("a/1", {"v": 1}), ("a/2", {"v": 2}), ("a/20", {"v": 20})]
    assert base.scans == 1
    assert list(overlay.scan("a")) == [("a/1", {"v": 1}), ("a/2", {"v": 2}), ("a/20", {"v": 20}), ("ab", {"v": 0})]
    assert base.scans == 2  # "a" is not inside the group "a/": read on its own


def test_the_unit_index_group_is_the_units_whole_index() -> None:
    unit = "440103001001GB00001F00010001"
    assert keys_module.unit_index_group(keys_module.unit_index(unit, "mortgage")) == f"unitidx/{unit}/"
    assert keys_module.unit_index_group(keys_module.unit_mortgage(unit, "P1", "m")) == f"unitidx/{unit}/"
    for prefix in (f"unitidx/{unit}/", f"unitidx/{unit}", "unitidx/", "unit/", "mortgage/x", ""):
        expected = f"unitidx/{unit}/" if prefix == f"unitidx/{unit}/" else prefix
        assert keys_module.unit_index_group(prefix) == expected
