"""The sparse Merkle state tree against an independent reference definition (design §3.15)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.errors import InputError, IntegrityFault, NotFound
from estatechain.state.commitment import (
    EMPTY,
    CachingNodeStore,
    MemoryNodeStore,
    SparseMerkleTree,
    StateProof,
    position,
    record_fault,
    verify_proof,
)

State = dict[bytes, bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_root(state: State) -> bytes:
    """The root written straight from the spec: recursive, no store, no shortcuts taken in code."""

    def bit_of(key: bytes, depth: int) -> int:
        return (int.from_bytes(key, "big") >> (255 - depth)) & 1

    def subtree(keys: list[bytes], depth: int) -> bytes:
        if not keys:
            return bytes(32)
        if len(keys) == 1:
            return sha256(b"\x10" + keys[0] + state[keys[0]])
        left = [k for k in keys if bit_of(k, depth) == 0]
        right = [k for k in keys if bit_of(k, depth) == 1]
        return sha256(b"\x11" + subtree(left, depth + 1) + subtree(right, depth + 1))

    return subtree(list(state), 0)


# Keys over a tiny byte alphabet share long prefixes, so paths run deep (up to 255 levels);
# uniform keys give the shallow, realistic shape.
clustered_keys = st.lists(st.sampled_from([0x00, 0x01, 0x80, 0xFF]), min_size=32, max_size=32).map(bytes)
digests = st.binary(min_size=32, max_size=32)
keys = st.one_of(digests, clustered_keys)
# a few fixed values make unchanged rewrites common, which take their own code path
values = st.one_of(digests, st.sampled_from([bytes(32), b"\x01" * 32]))
states = st.dictionaries(keys, values, max_size=40)
batches = st.lists(st.dictionaries(keys, values, max_size=15), max_size=5)

FAST = settings(max_examples=60, deadline=None)


class CountingHash:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes) -> bytes:
        self.calls += 1
        return sha256(data)


def new_tree() -> tuple[SparseMerkleTree, MemoryNodeStore]:
    store = MemoryNodeStore()
    return SparseMerkleTree(store, sha256), store


def flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@FAST
@given(states)
def test_root_equals_the_reference_definition(state: State) -> None:
    tree, _ = new_tree()
    assert tree.update(SparseMerkleTree.EMPTY_ROOT, state) == reference_root(state)


@FAST
@given(batches)
def test_batches_one_by_one_and_all_at_once_give_the_same_root(blocks: list[State]) -> None:
    tree, _ = new_tree()
    batched = one_by_one = EMPTY
    merged: State = {}
    for block in blocks:
        batched = tree.update(batched, block)
        for key, value in block.items():
            one_by_one = tree.update(one_by_one, {key: value})
        merged.update(block)
    assert batched == one_by_one == tree.update(EMPTY, merged) == reference_root(merged)


@FAST
@given(states, st.data())
def test_root_does_not_depend_on_the_order_of_changes(state: State, data: st.DataObject) -> None:
    items = data.draw(st.permutations(list(state.items())))
    tree, _ = new_tree()
    assert tree.update(EMPTY, dict(items)) == tree.update(EMPTY, dict(reversed(items)))


@FAST
@given(batches, keys)
def test_get_and_proofs_answer_for_every_root_ever_returned(blocks: list[State], stranger: bytes) -> None:
    tree, _ = new_tree()
    root = EMPTY
    history: list[tuple[bytes, State]] = [(root, {})]
    merged: State = {}
    for block in blocks:
        root = tree.update(root, block)
        merged = {**merged, **block}
        history.append((root, merged))
    for old_root, old_state in history:
        for key in [*old_state, stranger]:
            value = old_state.get(key)
            assert tree.get(old_root, key) == value
            proof = tree.prove(old_root, key)
            assert verify_proof(sha256, old_root, key, value, proof)
            assert proof.other_leaf is None or value is None


@FAST
@given(states.filter(bool), st.data())
def test_every_tampered_presence_proof_fails(state: State, data: st.DataObject) -> None:
    tree, _ = new_tree()
    root = tree.update(EMPTY, state)
    key = data.draw(st.sampled_from(sorted(state)))
    value = state[key]
    proof = tree.prove(root, key)
    assert verify_proof(sha256, root, key, value, proof)
    for name, c_root, c_key, c_value, c_proof in tampered_claims(root, key, value, proof, state):
        assert not verify_proof(sha256, c_root, c_key, c_value, c_proof), name


@FAST
@given(states, keys, st.data())
def test_every_tampered_absence_proof_fails(state: State, key: bytes, data: st.DataObject) -> None:
    state.pop(key, None)
    tree, _ = new_tree()
    root = tree.update(EMPTY, state)
    proof = tree.prove(root, key)
    assert verify_proof(sha256, root, key, None, proof)
    for name, c_root, c_key, c_value, c_proof in tampered_claims(root, key, None, proof, state):
        assert not verify_proof(sha256, c_root, c_key, c_value, c_proof), name
    if proof.other_leaf is not None:
        other_key, other_value = proof.other_leaf
        index = data.draw(st.integers(0, 63))
        bent = (flip(other_key, index // 2), other_value) if index % 2 else (other_key, flip(other_value, index // 2))
        assert not verify_proof(sha256, root, key, None, StateProof(siblings=proof.siblings, other_leaf=bent))
        assert not verify_proof(sha256, root, key, None, StateProof(siblings=proof.siblings))
        # the leaf found is the key's own: claiming absence of that key must fail
        assert not verify_proof(sha256, root, other_key, None, proof)


Claim = tuple[str, bytes, bytes, bytes | None, StateProof]


def tampered_claims(root: bytes, key: bytes, value: bytes | None, proof: StateProof, state: State) -> list[Claim]:
    """Altered (name, root, key, value, proof) claims derived from a valid one; every one must fail."""
    sibs, other = proof.siblings, proof.other_leaf
    claims: list[Claim] = [
        ("wrong root", flip(root), key, value, proof),
        ("extra sibling", root, key, value, StateProof(siblings=(*sibs, EMPTY), other_leaf=other)),
    ]
    for i in range(len(sibs)):
        for byte in (0, 31):
            bent = (*sibs[:i], flip(sibs[i], byte), *sibs[i + 1 :])
            claims.append((f"sibling {i} byte {byte}", root, key, value, StateProof(siblings=bent, other_leaf=other)))
    if sibs:
        claims.append(("dropped sibling", root, key, value, StateProof(siblings=sibs[:-1], other_leaf=other)))
    if value is None:
        # an absence proof also covers absent keys that share its path, so "another key" means a present one
        claims.append(("some value for an absent key", root, key, bytes(32), proof))
        claims.extend(("absence of a present key", root, present, None, proof) for present in state)
    else:
        claims.append(
            (
                "presence proof carrying a leaf",
                root,
                key,
                value,
                StateProof(siblings=sibs, other_leaf=(flip(key), value)),
            )
        )
        claims.append(("other key", root, flip(key, 31), value, proof))
        claims.append(("wrong value", root, key, flip(value), proof))
        claims.append(("absence of a present key", root, key, None, proof))
        claims.extend(("another key's value", root, key, v, proof) for k, v in state.items() if v != value)
    return claims


def test_a_present_key_cannot_be_shown_absent_with_a_neighbour_leaf() -> None:
    tree, _ = new_tree()
    a, b = bytes(32), b"\x80" + bytes(31)
    root = tree.update(EMPTY, {a: b"\x01" * 32, b: b"\x02" * 32})
    # a's path is one sibling deep; presenting b's leaf as "what the path ends at" must fail
    forged = StateProof(siblings=tree.prove(root, a).siblings, other_leaf=(b, b"\x02" * 32))
    assert not verify_proof(sha256, root, a, None, forged)


def test_a_leaf_that_cannot_sit_on_the_path_is_refused() -> None:
    """A hash chain that no valid tree has: a leaf on the wrong side of the root."""
    key, stray = bytes(32), b"\xff" * 32  # bit 0 differs: stray's leaf can never be on key's path
    leaf = sha256(b"\x10" + stray + bytes(32))
    root = sha256(b"\x11" + leaf + EMPTY)
    assert not verify_proof(sha256, root, key, None, StateProof(siblings=(EMPTY,), other_leaf=(stray, bytes(32))))


@pytest.mark.parametrize(
    "proof",
    [
        StateProof(siblings=(EMPTY,) * 257),
        StateProof(siblings=(EMPTY,) * 300, other_leaf=(b"\x01" * 32, EMPTY)),
        StateProof(siblings=(EMPTY,) * 256, other_leaf=(bytes(31) + b"\x01", EMPTY)),
        StateProof(siblings=[EMPTY]),  # type: ignore[arg-type]
        StateProof(siblings=(bytearray(32),)),  # type: ignore[arg-type]
        StateProof(siblings=(), other_leaf=(EMPTY,)),  # type: ignore[arg-type]
        StateProof(siblings=(), other_leaf=[b"\x01" * 32, EMPTY]),  # type: ignore[arg-type]
    ],
)
def test_verify_refuses_edge_shapes_without_raising(proof: StateProof) -> None:
    for value in (None, EMPTY):
        assert not verify_proof(sha256, EMPTY, EMPTY, value, proof)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.binary(max_size=40), st.integers(), st.text(max_size=3)),
    st.one_of(
        st.builds(StateProof, siblings=st.lists(st.binary(max_size=33)).map(tuple)),
        st.builds(
            StateProof,
            siblings=st.one_of(st.lists(digests, max_size=3).map(tuple), st.just(tuple([EMPTY] * 257))),
            other_leaf=st.one_of(st.tuples(digests, digests), st.tuples(st.binary(max_size=33))),
        ),
        st.none(),
        st.text(max_size=3),
    ),
)
def test_verify_never_raises_on_malformed_input(value: object, proof: object) -> None:
    for root in (EMPTY, b"short", None):
        for key in (EMPTY, b"\xff" * 33, 7):
            assert verify_proof(sha256, root, key, value, proof) in {True, False}  # type: ignore[arg-type]


def test_empty_state_root_and_absence_proof() -> None:
    tree, store = new_tree()
    assert tree.update(EMPTY, {}) == EMPTY
    assert len(store) == 0
    assert tree.get(EMPTY, b"\x07" * 32) is None
    assert tree.prove(EMPTY, b"\x07" * 32) == StateProof(siblings=())
    assert verify_proof(sha256, EMPTY, b"\x07" * 32, None, StateProof(siblings=()))


def test_known_answer_vector() -> None:
    """Pins the encoding: a change to tags, bit order or shortcut leaves breaks this literal."""
    tree, _ = new_tree()
    state = {bytes(32): b"\xaa" * 32, b"\x40" + bytes(31): b"\xbb" * 32, b"\xff" * 32: b"\xcc" * 32}
    root = tree.update(EMPTY, state)
    assert root.hex() == KNOWN_ROOT
    assert len(tree.prove(root, bytes(32)).siblings) == 2


# root = H(0x11 ‖ H(0x11 ‖ H(0x10 ‖ k0 ‖ v0) ‖ H(0x10 ‖ k1 ‖ v1)) ‖ H(0x10 ‖ k2 ‖ v2)), SHA-256,
# k0 = 00…00, k1 = 40 00…00, k2 = ff…ff; checked by hand with hashlib.
KNOWN_ROOT = "a1bbc25787d8f7e14c2cc4c00f12315b8ae365e83b503b982bd4222a11008af0"


def test_a_shortcut_leaf_sits_where_its_key_becomes_unique() -> None:
    tree, _ = new_tree()
    a, b = bytes(32), b"\x01" + bytes(31)  # first differing bit: 7
    root = tree.update(EMPTY, {a: b"\x01" * 32, b: b"\x02" * 32})
    assert tree.prove(root, a).siblings[:7] == (EMPTY,) * 7
    assert len(tree.prove(root, a).siblings) == 8
    assert len(tree.prove(tree.update(EMPTY, {a: b"\x01" * 32}), a).siblings) == 0


def test_update_rehashes_only_the_changed_paths() -> None:
    counting = CountingHash()
    tree = SparseMerkleTree(MemoryNodeStore(), counting)
    root = tree.update(EMPTY, {sha256(i.to_bytes(4, "big")): sha256(b"v") for i in range(4096)})
    depth = max(len(tree.prove(root, sha256(i.to_bytes(4, "big"))).siblings) for i in range(4096))
    counting.calls = 0
    tree.update(root, {sha256(b"\x00\x00\x00\x05"): sha256(b"w")})
    assert counting.calls == depth_of(tree, root, sha256(b"\x00\x00\x00\x05")) + 1 <= depth + 1
    counting.calls = 0
    tree.update(root, {sha256(b"new key"): sha256(b"w")})
    assert counting.calls <= depth + 3


def depth_of(tree: SparseMerkleTree, root: bytes, key: bytes) -> int:
    return len(tree.prove(root, key).siblings)


@FAST
@given(batches)
def test_the_store_holds_exactly_the_nodes_of_the_roots_returned(blocks: list[State]) -> None:
    tree, store = new_tree()
    roots = [EMPTY]
    repeated: set[bytes] = set()  # pages of an update that brought the map back to an earlier state
    for block in blocks:
        before = set(store.nodes)
        root = tree.update(roots[-1], block)
        if root != roots[-1] and root in roots:
            repeated |= set(store.nodes) - before
        roots.append(root)
    assert set(store.nodes) - repeated == tree.reachable(roots)  # every other node written is under a root returned


def test_a_block_that_returns_the_map_to_an_earlier_state_returns_that_root_and_its_proofs() -> None:
    """Found by the test above (keys changed, then changed back): the earlier root, read through its first pages."""
    tree, store = new_tree()
    state = {sha256(bytes([i])): sha256(b"v1") for i in range(40)}
    first = tree.update(EMPTY, state)
    changed = {key: sha256(b"v2") for key in list(state)[:5]}
    second = tree.update(first, changed)
    back = tree.update(second, {key: state[key] for key in changed})
    assert back == first == reference_root(state)
    assert store.root_version(back) == 1  # the root keeps the version it was first written at
    for key, value in state.items():
        assert tree.get(back, key) == value
        assert verify_proof(sha256, back, key, value, tree.prove(back, key))
    assert tree.update(back, changed) == second  # and the tree goes on from there
    written = store.max_version()
    assert written == 4  # the return to ``first`` wrote pages at version 3 without a root
    reopened = SparseMerkleTree(store, sha256)  # a new tree over the same store picks the next free version
    more = {sha256(b"new"): sha256(b"v3")}
    fourth = reopened.update(second, more)
    assert store.root_version(fourth) == written + 1
    for key, value in {**state, **changed, **more}.items():
        assert reopened.get(fourth, key) == value


def test_rewriting_a_value_unchanged_keeps_the_root_and_hashes_nothing() -> None:
    counting = CountingHash()
    store = MemoryNodeStore()
    tree = SparseMerkleTree(store, counting)
    state = {sha256(bytes([i])): sha256(b"v") for i in range(50)}
    root = tree.update(EMPTY, state)
    before, counting.calls = len(store), 0
    assert tree.update(root, dict(list(state.items())[:10])) == root
    assert (len(store), counting.calls) == (before, 0)


def test_an_unchanged_leaf_rewritten_beside_a_new_neighbour_keeps_the_neighbour() -> None:
    tree, _ = new_tree()
    a, b = bytes(32), b"\x01" + bytes(31)
    root = tree.update(EMPTY, {a: b"\x0a" * 32})
    both = {a: b"\x0a" * 32, b: b"\x0b" * 32}
    assert tree.update(root, both) == reference_root(both)


def test_bad_keys_and_values_are_refused() -> None:
    tree, _ = new_tree()
    with pytest.raises(InputError, match="key_hash"):
        tree.update(EMPTY, {b"short": bytes(32)})
    with pytest.raises(InputError, match="value_hash"):
        tree.update(EMPTY, {bytes(32): b"short"})
    with pytest.raises(InputError, match="key_hash"):
        tree.get(EMPTY, b"short")
    with pytest.raises(InputError, match="32-byte"):
        SparseMerkleTree(MemoryNodeStore(), lambda data: hashlib.sha512(data).digest())


def test_unknown_root_is_not_found_and_a_missing_child_is_an_integrity_fault() -> None:
    tree, store = new_tree()
    with pytest.raises(NotFound):
        tree.get(b"\x05" * 32, bytes(32))
    with pytest.raises(NotFound):
        tree.update(b"\x05" * 32, {bytes(32): bytes(32)})
    a, b = bytes(32), b"\x10" + bytes(31)  # first differing bit: 3, the top of the second page
    root = tree.update(EMPTY, {a: b"\x01" * 32, b: b"\x02" * 32}, version=7)
    below = position(7, 3, a)
    assert set(store.nodes) == {position(7, 0, a), below}
    del store.nodes[below]
    with pytest.raises(IntegrityFault, match="version=7 depth=3 prefix=00") as caught:
        tree.prove(root, a)
    assert "page missing" in str(caught.value)
    with pytest.raises(IntegrityFault):
        tree.reachable([root])


def test_malformed_stored_node_is_an_integrity_fault() -> None:
    tree, store = new_tree()
    root = tree.update(EMPTY, {bytes(32): b"\x01" * 32, b"\x80" + bytes(31): b"\x02" * 32}, version=1)
    top = position(1, 0, bytes(32))
    store.nodes[top] = b"\x12" + store.nodes[top][1:]
    with pytest.raises(IntegrityFault, match="malformed"):
        tree.get(root, bytes(32))


def test_record_fault_names_what_is_wrong() -> None:
    top = b"\x41" + b"\x01" * 32  # kind 1 (internal node) at slot 1
    leaf = b"\x82" + bytes(32) * 3  # kind 2 (leaf) at slot 2
    reference = b"\xc8" + b"\x02" * 32 + (4).to_bytes(8, "big")  # kind 3 (page below) at slot 8, the bottom row
    assert record_fault(top + leaf) is None
    assert record_fault(b"\x01" + leaf) is None  # kind 0: the top node, its hash kept by the page above
    assert "do not parse" in (record_fault(top + b"\x02") or "")  # kind 0 below the top
    assert record_fault(top + b"\x42" + b"\x01" * 32 + b"\x44" + b"\x01" * 32 + reference) is None  # slots 1, 2, 4, 8
    assert "do not parse" in (record_fault((top + leaf)[:-1]) or "")
    assert "do not parse" in (record_fault(leaf + top) or "")  # slots out of order
    assert "do not parse" in (record_fault(b"\x01" + bytes(32)) or "")  # kind 0
    assert "slot 1" in (record_fault(leaf) or "")
    assert "internal node must" in (record_fault(top) or "")  # no child
    assert "not an internal node" in (record_fault(b"\x81" + bytes(96) + leaf) or "")  # below a leaf
    assert "page reference must" in (record_fault(top + b"\xc2" + bytes(40)) or "")  # above the bottom row


def test_position_masks_the_path_to_its_depth_and_leads_with_the_version() -> None:
    key = b"\xff" * 32
    assert position(5, 0, key) == (5).to_bytes(8, "big") + b"\x00\x00"
    assert position(5, 3, key) == (5).to_bytes(8, "big") + b"\x00\x03" + b"\xe0"
    assert position(5, 16, key) == (5).to_bytes(8, "big") + b"\x00\x10" + b"\xff\xff"
    assert position(5, 256, key) == (5).to_bytes(8, "big") + b"\x01\x00" + key
    assert position(1, 30, key) < position(2, 0, bytes(32))  # one version's nodes sort together


def test_one_update_writes_its_pages_at_its_own_version_and_pushed_down_leaves_move() -> None:
    tree, store = new_tree()
    a, b = bytes(32), b"\x01" + bytes(31)  # first differing bit: 7
    first = tree.update(EMPTY, {a: b"\x0a" * 32}, version=3)
    assert set(store.nodes) == {position(3, 0, a)}  # a lone key is a leaf at the root
    second = tree.update(first, {b: b"\x0b" * 32}, version=4)
    assert {p for p in store.nodes if p[:8] == (4).to_bytes(8, "big")} == {
        position(4, d, a) for d in (0, 3, 6)}  # three 3-level pages down to depth 8, where both leaves sit
    assert len(tree.prove(second, a).siblings) == 8  # a's leaf moved from depth 0 to depth 8
    assert tree.get(first, a) == tree.get(second, a) == b"\x0a" * 32  # the old root still reads
    assert tree.update(second, {a: b"\x0c" * 32}) == reference_root({a: b"\x0c" * 32, b: b"\x0b" * 32})
    assert store.max_version() == 5  # no version given: the next after the highest


def test_a_changed_key_costs_a_row_per_three_levels_not_a_row_per_node() -> None:
    store = CountingStore()
    tree = SparseMerkleTree(store, sha256)
    root = tree.update(EMPTY, {sha256(i.to_bytes(4, "big")): sha256(b"v") for i in range(4096)}, version=1)
    changed = sha256(b"\x00\x00\x00\x05")
    depth = depth_of(tree, root, changed)  # about 14 levels: one row a node would read and write 15
    store.reads, before = 0, len(store)
    tree.update(root, {changed: sha256(b"w")}, version=2)
    # pages are topped at depths 0, 3, 6, …; a leaf at a multiple of 3 sits on the bottom row of the page above
    pages = -(-depth // 3)
    assert (store.reads, len(store) - before) == (pages, pages)
    assert pages * 2 < depth + 1


class CountingStore(MemoryNodeStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, node_hash: bytes) -> bytes | None:
        self.reads += 1
        return super().get(node_hash)


def test_cache_gives_the_same_answers_and_saves_reads_of_the_top_levels() -> None:
    backing = CountingStore()
    cached = SparseMerkleTree(CachingNodeStore(backing, capacity=64), sha256)
    plain = SparseMerkleTree(MemoryNodeStore(), sha256)
    root_c = root_p = EMPTY
    for block in range(5):
        changes = {sha256(f"{block}/{i}".encode()): sha256(b"v") for i in range(200)}
        root_c, root_p = cached.update(root_c, changes), plain.update(root_p, changes)
    assert root_c == root_p
    backing.reads = 0
    assert cached.get(root_c, sha256(b"0/1")) == sha256(b"v")
    first_reads = backing.reads
    assert cached.get(root_c, sha256(b"0/1")) == sha256(b"v")
    assert backing.reads == first_reads  # the whole path is cached now
    assert first_reads < depth_of(plain, root_p, sha256(b"0/1")) + 1  # the top came from the cache


def test_cache_keeps_what_was_used_since_the_last_turn_and_drops_the_rest() -> None:
    backing = CountingStore()
    backing.put_many([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    cache = CachingNodeStore(backing, capacity=4)  # two generations of two
    cache.get(b"a")
    cache.get(b"b")  # the young generation is full: it becomes the old one
    cache.get(b"a")  # used again: back in the young generation
    cache.get(b"c")  # young full again: {a, c} becomes old, b (unused since) is dropped
    backing.reads = 0
    assert (cache.get(b"a"), cache.get(b"c")) == (b"1", b"3")
    assert backing.reads == 0
    assert cache.get(b"b") == b"2"
    assert backing.reads == 1
    with pytest.raises(InputError):
        CachingNodeStore(backing, capacity=1)


def test_a_write_replaces_what_the_cache_held_at_that_position() -> None:
    backing = MemoryNodeStore()
    cache = CachingNodeStore(backing, capacity=8)
    cache.put_many([(b"p", b"rolled back")])  # as if its transaction then rolled back
    backing.nodes.clear()
    cache.put_many([(b"p", b"committed")])  # the retry at the same version
    assert cache.get(b"p") == b"committed"
