"""RFC 9162 Merkle tree hashing and proofs, as pure functions over bytes (design §3.5).

Every transaction, with its validation result, is a leaf of one append-only tree. Anyone holding
a block header (tree size and root) can check an inclusion or consistency proof with nothing but
RFC 9162 §2.1 and a hash function, so this module follows the RFC's definitions and algorithms
step by step rather than inventing a cleverer equivalent:

* ``leaf_hash`` = H(0x00 ‖ data) and ``node_hash`` = H(0x01 ‖ left ‖ right); the prefixes keep a
  leaf from being passed off as an inner node (second-preimage resistance).
* The ``*_naive`` functions are the recursive definitions of §2.1.1, §2.1.3.1 and §2.1.4.1. They
  cost O(n) per call and exist as the reference that faster code is tested against.
* ``verify_inclusion`` and ``verify_consistency`` are the algorithms of §2.1.3.2 and §2.1.4.2.
  They take untrusted input, so they answer ``False`` for anything malformed and never raise.
* ``MerkleAccumulator`` keeps only the roots of the perfect subtrees on the right edge (a
  "compact range"), which is enough to append in O(log n) and to produce the root.

The hash function is injected (``HashFn``) because the genesis chooses the suite (SHA-256 or SM3).
Known limit of RFC 9162 proofs: node hashes do not encode their level, so a proof binds the
leaf and root, but the tree size is bound only by the signed (size, root) pair it is checked
against. Always take size and root from the same block header.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from estatechain.errors import InputError

HashFn: TypeAlias = Callable[[bytes], bytes]
"""A hash function over bytes, for example ``lambda d: hashlib.sha256(d).digest()``."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(h: HashFn, data: bytes) -> bytes:
    """The hash of a leaf: H(0x00 ‖ data) (RFC 9162 §2.1.1)."""
    return h(_LEAF_PREFIX + data)


def node_hash(h: HashFn, left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: H(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1)."""
    return h(_NODE_PREFIX + left + right)


def empty_root(h: HashFn) -> bytes:
    """The root of the tree with no leaves: the hash of the empty string (RFC 9162 §2.1.1)."""
    return h(b"")


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(h: HashFn, leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) computed by the recursive definition of RFC 9162 §2.1.1 (reference, O(n))."""
    n = len(leaf_hashes)
    if n == 0:
        return empty_root(h)
    if n == 1:
        return leaf_hashes[0]
    k = split_point(n)
    return node_hash(h, root_from_leaf_hashes(h, leaf_hashes[:k]), root_from_leaf_hashes(h, leaf_hashes[k:]))


def inclusion_proof_naive(h: HashFn, leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) by the recursive definition of RFC 9162 §2.1.3.1 (reference).

    Raises:
        InputError: ``index`` is not in ``[0, n)``.

    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise InputError(f"leaf index {index} is outside the tree: valid indexes are 0..{n - 1}")
    return _path(h, leaf_hashes, index)


def _path(h: HashFn, d: Sequence[bytes], m: int) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(h, d[:k], m), root_from_leaf_hashes(h, d[k:])]
    return [*_path(h, d[k:], m - k), root_from_leaf_hashes(h, d[:k])]


def consistency_proof_naive(h: HashFn, leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) by the recursive definition of RFC 9162 §2.1.4.1 (reference).

    The RFC defines the proof for 0 < old_size < n; for old_size == n the same recursion gives the
    empty proof, which ``verify_consistency`` accepts when both roots are equal.

    Raises:
        InputError: ``old_size`` is not in ``[1, n]``.

    """
    n = len(leaf_hashes)
    if not 0 < old_size <= n:
        raise InputError(f"old tree size {old_size} is invalid: it must be in 1..{n} for a tree of {n} leaves")
    return _subproof(h, leaf_hashes, old_size, complete=True)


def _subproof(h: HashFn, d: Sequence[bytes], m: int, *, complete: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if complete else [root_from_leaf_hashes(h, d)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(h, d[:k], m, complete=complete), root_from_leaf_hashes(h, d[k:])]
    return [*_subproof(h, d[k:], m - k, complete=False), root_from_leaf_hashes(h, d[:k])]


def _well_formed(size: int, *hashes: bytes) -> bool:
    """True when every value is bytes of the digest length; guards the verifiers' untrusted input."""
    return all(isinstance(x, bytes) and len(x) == size for x in hashes)


def verify_inclusion(  # noqa: PLR0913, PLR0917  (the RFC's inputs, one parameter each)
    h: HashFn, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows ``leaf_hash`` at ``index`` in the tree of ``size`` leaves with ``root``.

    RFC 9162 §2.1.3.2 step by step. Any malformed input (negative or out-of-range numbers, hashes
    of the wrong length, non-bytes elements) gives ``False``: a verifier that raised could be
    turned into a crash by whoever supplies the proof.
    """
    try:
        digest_size = len(h(b""))
        if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
            return False
        if not _well_formed(digest_size, leaf_hash, root, *proof):
            return False
        fn, sn = index, size - 1
        r = leaf_hash
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = node_hash(h, p, r)
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
            else:
                r = node_hash(h, r, p)
            fn >>= 1
            sn >>= 1
    except Exception:  # noqa: BLE001  (documented contract: untrusted input never raises)
        return False
    else:
        return sn == 0 and r == root


def verify_consistency(  # noqa: PLR0913, PLR0917  (the RFC's inputs, one parameter each)
    h: HashFn, size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """True when ``proof`` shows the tree (``size1``, ``root1``) is a prefix of (``size2``, ``root2``).

    RFC 9162 §2.1.4.2 step by step for 0 < size1 < size2. The RFC leaves the edges open; here:
    size1 == size2 holds exactly when the proof is empty and the roots are equal, and size1 == 0
    is refused, since a proof from the empty tree proves nothing (transparency-dev/merkle agrees).
    Malformed input gives ``False``, never an exception.
    """
    try:
        digest_size = len(h(b""))
        if not (isinstance(size1, int) and isinstance(size2, int)) or not 0 < size1 <= size2:
            return False
        if not _well_formed(digest_size, root1, root2, *proof):
            return False
        if size1 == size2:
            return len(proof) == 0 and root1 == root2
        return _consistency_steps(h, size1, size2, proof, root1, root2)
    except Exception:  # noqa: BLE001  (documented contract: untrusted input never raises)
        return False


def _consistency_steps(  # noqa: PLR0913, PLR0917  (the RFC's inputs, one parameter each)
    h: HashFn, first: int, second: int, proof: Sequence[bytes], first_hash: bytes, second_hash: bytes
) -> bool:
    """Steps 1-7 of RFC 9162 §2.1.4.2 for 0 < first < second and well-formed hashes."""
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(h, c, fr)
            sr = node_hash(h, c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(h, sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SubtreeRoot:
    """The root of the perfect subtree over leaves [index·2^level, (index+1)·2^level).

    A leaf hash is the subtree root at level 0. These are exactly the nodes that never change
    once written, which is why the SQLite tx-log stores them and nothing else.
    """

    level: int
    index: int
    digest: bytes


class MerkleAccumulator:
    """An append-only tree kept as its right edge: O(log n) memory, O(log n) per append.

    ``edge`` holds the roots of the perfect subtrees that make up leaves [0, size), largest
    first; there is one per set bit of ``size``. Appending is a binary increment: the new leaf
    merges with every equal-sized subtree before it. Used by the audit, which recomputes a chain
    from stored bytes without holding every leaf, and by the SQLite tx-log as its cache.
    """

    __slots__ = ("_edge", "_h", "_size")

    def __init__(self, h: HashFn, *, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        """Start empty, or resume from a known ``size`` and its ``edge`` (largest subtree first).

        Raises:
            InputError: ``edge`` does not hold one root per set bit of ``size``.

        """
        if size < 0 or len(edge) != size.bit_count():
            raise InputError(
                f"a tree of {size} leaves has {max(size, 0).bit_count()} right-edge subtree roots, not {len(edge)}"
            )
        self._h = h
        self._size = size
        self._edge = list(edge)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def edge(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees covering [0, size), largest first."""
        return tuple(self._edge)

    def copy(self) -> MerkleAccumulator:
        """An independent accumulator in the same state (to stage appends that may be abandoned)."""
        return MerkleAccumulator(self._h, size=self._size, edge=self._edge)

    def append(self, leaf_hash: bytes) -> tuple[SubtreeRoot, ...]:
        """Append one leaf hash; return the perfect subtrees it completes, the leaf itself first."""
        index = self._size
        level = 0
        node = leaf_hash
        completed = [SubtreeRoot(level=0, index=index, digest=leaf_hash)]
        while index & 1:
            node = node_hash(self._h, self._edge.pop(), node)
            index >>= 1
            level += 1
            completed.append(SubtreeRoot(level=level, index=index, digest=node))
        self._edge.append(node)
        self._size += 1
        return tuple(completed)

    def root(self) -> bytes:
        """MTH of the leaves appended so far: the edge folded from the right (RFC 9162 §2.1.1)."""
        return fold_right(self._h, self._edge)


def fold_right(h: HashFn, subtree_roots: Sequence[bytes]) -> bytes:
    """Combine the perfect subtrees of a range, largest first, into the range's MTH.

    MTH splits at the largest power of two, so a range of 2^a + 2^b + ... leaves (a > b > ...)
    hashes as node(R_a, node(R_b, ...)). An empty list is the empty tree.
    """
    if not subtree_roots:
        return empty_root(h)
    acc = subtree_roots[-1]
    for left in reversed(subtree_roots[:-1]):
        acc = node_hash(h, left, acc)
    return acc
