"""RFC 9162 Merkle functions against the recursive reference, and every tampered proof rejected.

Leaves are always distinct (each derives from its index), so a proof that verifies for a
different leaf or position would be a real soundness bug, not a duplicate-leaf coincidence.

Tree size is the one input a proof does not bind by itself: RFC 9162 node hashes do not encode
their level, so a proof for (index, size) also verifies for any other size whose proof has the
same shape (same sequence of left/right siblings). The size tests therefore compare the verifier
with that shape, computed here from the RFC's recursive definitions, and
``test_a_proof_does_not_bind_the_tree_size_by_itself`` pins the example down.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.crypto.merkle import (
    MerkleAccumulator,
    consistency_proof_naive,
    empty_root,
    fold_right,
    inclusion_proof_naive,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    split_point,
    verify_consistency,
    verify_inclusion,
)
from estatechain.errors import InputError


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves(n: int, seed: int = 0) -> list[bytes]:
    return [leaf_hash(sha256, seed.to_bytes(8, "big") + i.to_bytes(4, "big")) for i in range(n)]


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def inclusion_shape(index: int, size: int) -> tuple[str, ...]:
    """Sides of the siblings in PATH(index, D[size]), leaf to root (RFC 9162 §2.1.3.1)."""
    sides: list[str] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            sides.append("right")
            hi = lo + k
        else:
            sides.append("left")
            lo += k
    return tuple(reversed(sides))


def consistency_shape(old: int, new: int) -> tuple[str, ...]:
    """Steps of PROOF(old, D[new]) (RFC 9162 §2.1.4.1): where it starts, then each sibling's side."""
    if old == new:
        return ("equal",)
    sides: list[str] = []
    lo, hi = 0, new
    complete = True
    while old != hi:
        k = split_point(hi - lo)
        if old <= lo + k:
            sides.append("right")
            hi = lo + k
        else:
            sides.append("left")
            lo += k
            complete = False
    return ("old-root" if complete else "node", *reversed(sides))


def assert_every_changed_proof_is_rejected(
    verify: Callable[[list[bytes]], bool], proof: list[bytes], known: list[bytes], bit: int
) -> None:
    """Flip a bit in each element, drop each element, insert an element at each position."""
    for position in range(len(proof)):
        for b in (0, 255, bit):
            flipped = list(proof)
            flipped[position] = flip(flipped[position], b)
            assert not verify(flipped), ("flipped", position, b)
        assert not verify(proof[:position] + proof[position + 1 :]), ("dropped", position)
    for position in range(len(proof) + 1):
        for extra in (*known, sha256(b"extra"), empty_root(sha256)):
            assert not verify([*proof[:position], extra, *proof[position:]]), ("added", position)
    assert not verify([*proof, b""]), "trailing garbage"
    assert not verify([b"", *proof]), "preceding garbage"


POWERS_NEAR = sorted({max(1, 2**k + d) for k in range(12) for d in (-1, 0, 1)})
sizes = st.one_of(st.integers(1, 2000), st.sampled_from([s for s in POWERS_NEAR if s <= 2000]))
FAST = settings(max_examples=60, deadline=None)


def test_leaf_and_node_hashes_carry_the_rfc_9162_prefixes() -> None:
    assert leaf_hash(sha256, b"abc") == sha256(b"\x00abc")
    assert node_hash(sha256, b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert leaf_hash(sha256, b"") != empty_root(sha256)


def test_the_empty_tree_root_is_the_hash_of_the_empty_string() -> None:
    assert empty_root(sha256) == sha256(b"")
    assert root_from_leaf_hashes(sha256, []) == sha256(b"")
    assert MerkleAccumulator(sha256).root() == sha256(b"")
    assert fold_right(sha256, []) == sha256(b"")


def test_accumulator_root_equals_the_reference_at_every_prefix_size_up_to_2048() -> None:
    data = leaves(2048)
    acc = MerkleAccumulator(sha256)
    assert acc.root() == root_from_leaf_hashes(sha256, [])
    for n, leaf in enumerate(data, start=1):
        acc.append(leaf)
        assert acc.size == n
        assert acc.root() == root_from_leaf_hashes(sha256, data[:n]), n


@FAST
@given(size=st.integers(0, 2000), seed=st.integers(0, 2**32), data=st.data())
def test_accumulator_reports_every_completed_subtree_and_matches_the_reference(
    size: int, seed: int, data: st.DataObject
) -> None:
    hashes = leaves(size, seed)
    checkpoints = set(data.draw(st.lists(st.integers(0, size), max_size=8))) | {size}
    acc = MerkleAccumulator(sha256)
    if 0 in checkpoints:
        assert acc.root() == empty_root(sha256)
    for n, leaf in enumerate(hashes, start=1):
        completed = acc.append(leaf)
        assert completed[0].level == 0
        assert completed[0].index == n - 1
        assert completed[0].digest == leaf
        for node in completed:
            first = node.index << node.level
            assert first + (1 << node.level) == n, "a subtree completes exactly when its last leaf arrives"
            assert node.digest == root_from_leaf_hashes(sha256, hashes[first:n])
        assert len(completed) == 1 + ((n - 1) ^ n).bit_length() - 1
        if n in checkpoints:
            assert acc.root() == root_from_leaf_hashes(sha256, hashes[:n])
            resumed = MerkleAccumulator(sha256, size=acc.size, edge=acc.edge)
            assert resumed.root() == acc.root()


def test_accumulator_resumes_from_its_edge_and_refuses_a_wrong_one() -> None:
    data = leaves(77)
    acc = MerkleAccumulator(sha256)
    for leaf in data[:45]:
        acc.append(leaf)
    resumed = MerkleAccumulator(sha256, size=45, edge=acc.edge)
    copy = acc.copy()
    for leaf in data[45:]:
        resumed.append(leaf)
        copy.append(leaf)
    assert resumed.root() == copy.root() == root_from_leaf_hashes(sha256, data)
    assert acc.size == 45, "a copy is independent of its original"
    with pytest.raises(InputError, match="45 leaves has 4 right-edge subtree roots, not 2"):
        MerkleAccumulator(sha256, size=45, edge=acc.edge[:2])


@FAST
@given(size=sizes, seed=st.integers(0, 2**32), data=st.data())
def test_inclusion_proofs_verify_and_every_tampered_one_is_rejected(size: int, seed: int, data: st.DataObject) -> None:
    hashes = leaves(size, seed)
    index = data.draw(st.integers(0, size - 1))
    root = root_from_leaf_hashes(sha256, hashes)
    proof = inclusion_proof_naive(sha256, hashes, index)
    leaf = hashes[index]
    assert verify_inclusion(sha256, leaf, index, size, proof, root)

    bit = data.draw(st.integers(0, 255))
    assert_every_changed_proof_is_rejected(
        lambda p: verify_inclusion(sha256, leaf, index, size, p, root), proof, [root, leaf], bit
    )

    other_indexes = {index - 1, index + 1, index ^ 2, size, -1, data.draw(st.integers(0, size - 1))} - {index}
    for other in other_indexes:
        assert not verify_inclusion(sha256, leaf, other, size, proof, root), ("index", other)

    shape = inclusion_shape(index, size)
    for other in {size - 1, size + 1, size * 2, size // 2, 0, index, index + 1, data.draw(st.integers(1, 4096))}:
        expected = 0 <= index < other and inclusion_shape(index, other) == shape
        assert verify_inclusion(sha256, leaf, index, other, proof, root) == expected, ("size", other)

    wrong_roots = {flip(root, bit), empty_root(sha256), leaf, root[:-1], root + b"\x00"} - {root}
    for bad_root in wrong_roots:
        assert not verify_inclusion(sha256, leaf, index, size, proof, bad_root), "wrong root"
    for bad_leaf in {flip(leaf, bit), root, sha256(b"not a leaf"), leaf[:-1]} - {leaf}:
        assert not verify_inclusion(sha256, bad_leaf, index, size, proof, root), "wrong leaf"


@FAST
@given(size2=sizes, seed=st.integers(0, 2**32), data=st.data())
def test_consistency_proofs_verify_and_every_tampered_one_is_rejected(
    size2: int, seed: int, data: st.DataObject
) -> None:
    hashes = leaves(size2, seed)
    size1 = data.draw(st.integers(1, size2))
    root1 = root_from_leaf_hashes(sha256, hashes[:size1])
    root2 = root_from_leaf_hashes(sha256, hashes)
    proof = consistency_proof_naive(sha256, hashes, size1)
    assert verify_consistency(sha256, size1, size2, proof, root1, root2)

    bit = data.draw(st.integers(0, 255))
    assert_every_changed_proof_is_rejected(
        lambda p: verify_consistency(sha256, size1, size2, p, root1, root2), proof, [root1, root2], bit
    )

    shape = consistency_shape(size1, size2)
    others = {0, 1, size1 - 1, size1 + 1, size1 * 2, size1 // 2, size2, size2 + 1, size2 - 1, size2 * 2}
    others.add(data.draw(st.integers(0, 4096)))
    for other1 in others:
        for other2 in others:
            if (other1, other2) == (size1, size2):
                continue
            expected = 0 < other1 <= other2 and consistency_shape(other1, other2) == shape
            got = verify_consistency(sha256, other1, other2, proof, root1, root2)
            assert got == expected, ("sizes", other1, other2)

    if size1 != size2:
        assert not verify_consistency(sha256, size1, size2, proof, root2, root1), "swapped roots"
    for wrong in (flip(root1, bit), empty_root(sha256), root1[:-1], root1 + b"\x00"):
        assert not verify_consistency(sha256, size1, size2, proof, wrong, root2), "wrong old root"
    for wrong in (flip(root2, bit), empty_root(sha256), root2[:-1], root2 + b"\x00"):
        assert not verify_consistency(sha256, size1, size2, proof, root1, wrong), "wrong new root"


def test_every_proof_of_every_small_tree_verifies_and_rejects_any_changed_element() -> None:
    for size in range(1, 65):
        hashes = leaves(size, seed=size)
        root = root_from_leaf_hashes(sha256, hashes)
        for index in range(size):
            proof = inclusion_proof_naive(sha256, hashes, index)
            assert verify_inclusion(sha256, hashes[index], index, size, proof, root)
            for position in range(len(proof)):
                bad = list(proof)
                bad[position] = flip(bad[position], index + position)
                assert not verify_inclusion(sha256, hashes[index], index, size, bad, root)
        for old in range(1, size + 1):
            old_root = root_from_leaf_hashes(sha256, hashes[:old])
            proof = consistency_proof_naive(sha256, hashes, old)
            assert verify_consistency(sha256, old, size, proof, old_root, root)
            for position in range(len(proof)):
                bad = list(proof)
                bad[position] = flip(bad[position], old + position)
                assert not verify_consistency(sha256, old, size, bad, old_root, root)


def test_a_proof_does_not_bind_the_tree_size_by_itself() -> None:
    """Leaf 0's path in a 3-leaf tree has the same shape as in a 4-leaf tree.

    So the (size 3) proof and root also verify when the size is claimed to be 4. This is inherent in
    RFC 9162, not a bug here: a verifier must take the size and the root from the same signed block
    header, never the size from one place and the root from another.
    """
    hashes = leaves(3)
    root3 = root_from_leaf_hashes(sha256, hashes)
    proof = inclusion_proof_naive(sha256, hashes, 0)
    assert verify_inclusion(sha256, hashes[0], 0, 3, proof, root3)
    assert verify_inclusion(sha256, hashes[0], 0, 4, proof, root3)
    assert not verify_inclusion(sha256, hashes[0], 0, 4, proof, root_from_leaf_hashes(sha256, leaves(4)))


junk_ints = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1, 2**64 - 1, 2**64]))
junk_hashes = st.one_of(st.binary(max_size=40), st.binary(min_size=32, max_size=32))


@settings(max_examples=300, deadline=None)
@given(
    index=junk_ints,
    size=junk_ints,
    proof=st.lists(junk_hashes, max_size=70),
    a=junk_hashes,
    b=junk_hashes,
)
def test_verifiers_answer_false_on_garbage_and_never_raise(
    index: int, size: int, proof: list[bytes], a: bytes, b: bytes
) -> None:
    assert verify_inclusion(sha256, a, index, size, proof, b) in {True, False}
    assert verify_consistency(sha256, index, size, proof, a, b) in {True, False}


@pytest.mark.parametrize(
    "junk",
    [None, "not bytes", 7, [b"x" * 32], bytearray(32)],
)
def test_verifiers_answer_false_for_values_of_the_wrong_type(junk: object) -> None:
    hashes = leaves(4)
    root = root_from_leaf_hashes(sha256, hashes)
    proof = inclusion_proof_naive(sha256, hashes, 1)
    anything = cast("Any", junk)
    assert not verify_inclusion(sha256, anything, 1, 4, proof, root)
    assert not verify_inclusion(sha256, hashes[1], 1, 4, [proof[0], anything, proof[1]], root)
    assert not verify_inclusion(sha256, hashes[1], anything, 4, proof, root)
    assert not verify_inclusion(sha256, hashes[1], 1, anything, proof, root)
    assert not verify_consistency(sha256, 2, 4, [anything], root, root)
    assert not verify_consistency(sha256, anything, 4, [], root, root)
    assert not verify_inclusion(sha256, hashes[1], 1, 4, anything, root)
    assert not verify_consistency(sha256, 2, 4, anything, root, root)


def test_consistency_edges_follow_rfc_9162_and_transparency_dev() -> None:
    hashes = leaves(5)
    root5 = root_from_leaf_hashes(sha256, hashes)
    empty = empty_root(sha256)
    assert verify_consistency(sha256, 5, 5, [], root5, root5)
    assert not verify_consistency(sha256, 5, 5, [], root5, flip(root5, 3))
    assert not verify_consistency(sha256, 5, 5, [root5], root5, root5)
    assert not verify_consistency(sha256, 0, 5, [], empty, root5), "a proof from the empty tree proves nothing"
    assert not verify_consistency(sha256, 0, 0, [], empty, empty)
    assert not verify_consistency(sha256, 5, 4, [], root5, root5)
    assert not verify_inclusion(sha256, hashes[0], 0, 0, [], empty)


@pytest.mark.parametrize(("count", "index"), [(0, 0), (3, 3), (3, -1)])
def test_naive_inclusion_proof_refuses_an_index_outside_the_tree(count: int, index: int) -> None:
    with pytest.raises(InputError, match="leaf index"):
        inclusion_proof_naive(sha256, leaves(count), index)


@pytest.mark.parametrize(("count", "old_size"), [(3, 0), (3, 4), (0, 0)])
def test_naive_consistency_proof_refuses_an_old_size_outside_1_to_n(count: int, old_size: int) -> None:
    with pytest.raises(InputError, match="old tree size"):
        consistency_proof_naive(sha256, leaves(count), old_size)


def test_fold_right_combines_perfect_subtrees_largest_first() -> None:
    hashes = leaves(13)  # 13 = 8 + 4 + 1
    parts = [
        root_from_leaf_hashes(sha256, hashes[:8]),
        root_from_leaf_hashes(sha256, hashes[8:12]),
        hashes[12],
    ]
    assert fold_right(sha256, parts) == root_from_leaf_hashes(sha256, hashes)
