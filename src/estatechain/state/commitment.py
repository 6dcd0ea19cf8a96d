"""The state commitment: a sparse Merkle tree over 256-bit key hashes (design §3.15).

Each block header commits to the root of this tree. Rehashing all state per block cannot hold at
millions of rows, so a block's changes are applied in one walk that rehashes only the paths to the
changed keys: O(changed keys · log n) hashes. A key that is alone in its subtree is stored as a
*shortcut leaf* at that subtree's top, so paths are about log2(n) deep rather than 256. Nodes are
immutable and content-addressed, and are never deleted, so every past root stays readable and provable:
"the register of unit U as of height H" is a proof against header H's root.

The ledger never removes a key (a deletion is a tombstone value chained into ``value_hash``), so the
tree supports insert and overwrite only.

Specification (normative: evidence verifiers re-implement it from this text)
-------------------------------------------------------------------------------
``H`` is the consortium suite's hash (SHA-256, or SM3 in the national suite); digests are 32 bytes.
``‖`` is byte concatenation. A key ``k`` is a 32-byte ``key_hash`` read as 256 bits, most significant
bit of byte 0 first: ``bit(k, i) = (k[i // 8] >> (7 - i % 8)) & 1``. Bit ``i`` picks the child at
depth ``i`` (the root is at depth 0): 0 = left, 1 = right.

* empty subtree: ``EMPTY`` = 32 zero bytes. A constant, not a hash; it is never stored.
* leaf: preimage ``LEAF(k, v) = 0x10 ‖ k ‖ v`` (65 bytes), hash ``H(LEAF(k, v))``.
* internal: preimage ``NODE(l, r) = 0x11 ‖ l ‖ r`` (65 bytes), hash ``H(NODE(l, r))``.

The tags 0x10/0x11 differ from RFC 9162's 0x00/0x01, so no tx-log node is also a state-tree node.
For a map ``M`` (key_hash -> value_hash) and a set ``S`` of its keys that share their first ``d`` bits::

    T(S, d) = EMPTY                                if S is empty
            = H(LEAF(k, M[k]))                     if S = {k}
            = H(NODE(T(S0, d + 1), T(S1, d + 1)))  otherwise, with Sb = {k in S : bit(k, d) = b}

and the state root is ``T(all keys of M, 0)``. The root depends on ``M`` only (not on insertion
order or on how changes were batched); the empty state's root is ``EMPTY``. An internal node
always covers at least two keys.

Stored node rows map a node's hash to its 65-byte preimage, so a row checks out when
``H(preimage) == hash`` (see ``node_fault``).

A proof for key ``k`` against root ``R`` (``StateProof``) is ``siblings = (s_0, …, s_{m-1})``,
``m ≤ 256``, 32 bytes each, where ``s_i`` is the hash of the depth-``i + 1`` subtree on the side
*not* taken by ``bit(k, i)``, listed from the root down; and ``other_leaf``, absent or a pair
``(k', v')``. To check that ``k`` maps to ``v``, or (``v`` = none) that ``k`` is absent:

1. ``x = H(LEAF(k, v))`` when proving a value (``other_leaf`` must be absent). When proving absence,
   ``x = EMPTY`` if ``other_leaf`` is absent, else ``x = H(LEAF(k', v'))`` where ``k' ≠ k`` and
   ``bit(k', i) = bit(k, i)`` for every ``i < m`` (the path ends at another key's shortcut leaf).
2. For ``i = m - 1`` down to ``0``: ``x = H(NODE(s_i, x))`` if ``bit(k, i) = 1``, else
   ``x = H(NODE(x, s_i))``.
3. Accept if and only if ``x == R``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Final, Protocol, TypeAlias, TypeGuard

from estatechain.errors import InputError, IntegrityFault, NotFound

HashFn: TypeAlias = Callable[[bytes], bytes]
"""The suite's hash function; it must return 32-byte digests."""

DIGEST_SIZE: Final = 32
KEY_SIZE: Final = 32
MAX_DEPTH: Final = 256
EMPTY: Final = bytes(DIGEST_SIZE)
LEAF_TAG: Final = 0x10
NODE_TAG: Final = 0x11
NODE_SIZE: Final = 1 + 2 * DIGEST_SIZE
_LEAF_PREFIX: Final = bytes([LEAF_TAG])
_NODE_PREFIX: Final = bytes([NODE_TAG])


class NodeStore(Protocol):
    """**Protocol:** where tree nodes live, as node hash -> 65-byte preimage."""

    def get(self, node_hash: bytes) -> bytes | None:
        """The preimage stored under ``node_hash``, or None."""
        ...

    def put_many(self, nodes: Iterable[tuple[bytes, bytes]]) -> None:
        """Store (hash, preimage) pairs; a hash already stored is left as it is (content addressing)."""
        ...


class MemoryNodeStore:
    """A dict-backed ``NodeStore``: the in-process twin used by unit tests."""

    def __init__(self) -> None:
        self._nodes: dict[bytes, bytes] = {}

    def get(self, node_hash: bytes) -> bytes | None:
        """The stored preimage, or None."""
        return self._nodes.get(node_hash)

    def put_many(self, nodes: Iterable[tuple[bytes, bytes]]) -> None:
        """Store pairs, keeping the first preimage seen for a hash like ``INSERT OR IGNORE`` does."""
        for node_hash, node in nodes:
            self._nodes.setdefault(node_hash, node)

    def __len__(self) -> int:
        return len(self._nodes)


class CachingNodeStore:
    """An LRU cache of recently used nodes in front of another ``NodeStore``.

    A block's update rereads the top levels of the tree, which every path shares; keeping them in
    memory saves those reads from disk. Entries cannot go stale, since a hash names one preimage
    forever. Writes go through to the backing store at once, so durability never depends on the
    cache. If the caller's transaction rolls back, the cache may still hold the discarded nodes;
    that is harmless because an update writes every node it creates and only reads nodes under the
    root it starts from, so never start an update from a root whose transaction rolled back.
    """

    def __init__(self, store: NodeStore, capacity: int = 65_536) -> None:
        if capacity < 1:
            raise InputError(f"cache capacity must be at least 1 node, got {capacity}")
        self._store = store
        self._capacity = capacity
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, node_hash: bytes) -> bytes | None:
        """The preimage from the cache, else from the backing store (then cached)."""
        node = self._cache.get(node_hash)
        if node is not None:
            self._cache.move_to_end(node_hash)
            return node
        node = self._store.get(node_hash)
        if node is not None:
            self._remember(node_hash, node)
        return node

    def put_many(self, nodes: Iterable[tuple[bytes, bytes]]) -> None:
        """Write through to the backing store and cache the new nodes (the next block reads them)."""
        pairs = list(nodes)
        self._store.put_many(pairs)
        for node_hash, node in pairs[-self._capacity :]:
            self._remember(node_hash, node)

    def _remember(self, node_hash: bytes, node: bytes) -> None:
        cache = self._cache
        if node_hash in cache:  # same hash, same preimage: only its recency changes
            cache.move_to_end(node_hash)
            return
        cache[node_hash] = node  # a new entry is appended as the most recent one
        if len(cache) > self._capacity:
            cache.popitem(last=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StateProof:
    """A path from a root to where a key is (or would be); see the module docstring for checking it.

    ``siblings`` are listed from the root down. ``other_leaf`` is set only in an absence proof whose
    path ends at another key's shortcut leaf: that leaf's (key_hash, value_hash).
    """

    siblings: tuple[bytes, ...]
    other_leaf: tuple[bytes, bytes] | None = None


def hash_leaf(h: HashFn, key_hash: bytes, value_hash: bytes) -> bytes:
    """``H(0x10 ‖ key_hash ‖ value_hash)``."""
    return h(_LEAF_PREFIX + key_hash + value_hash)


def hash_internal(h: HashFn, left: bytes, right: bytes) -> bytes:
    """``H(0x11 ‖ left ‖ right)``."""
    return h(_NODE_PREFIX + left + right)


def _bit(key: bytes, depth: int) -> int:
    return (key[depth >> 3] >> (7 - (depth & 7))) & 1


def _split(keys: list[bytes], lo: int, hi: int, depth: int) -> int:
    """First index in ``keys[lo:hi]`` (sorted, sharing ``depth`` leading bits) whose bit ``depth`` is 1."""
    shift = MAX_DEPTH - 1 - depth
    boundary = ((int.from_bytes(keys[lo], "big") >> shift) | 1) << shift
    return bisect_left(keys, boundary.to_bytes(KEY_SIZE, "big"), lo, hi)


def _is_digest(value: object) -> TypeGuard[bytes]:
    return isinstance(value, bytes) and len(value) == DIGEST_SIZE


def node_fault(h: HashFn, node_hash: object, node: object) -> str | None:
    """What is wrong with a stored (hash, preimage) row, or None if it checks out.

    A row checks out when the preimage is 65 bytes with tag 0x10 or 0x11, its hash is ``node_hash``,
    and, for an internal node, not both children are ``EMPTY`` (no valid tree has such a node).
    Whether the children are stored is a question of reachability, checked by walking from roots.
    """
    if not _is_digest(node_hash):
        return f"hash is not {DIGEST_SIZE} bytes"
    if not isinstance(node, bytes) or len(node) != NODE_SIZE:
        return f"node is not a {NODE_SIZE}-byte preimage"
    if node[0] not in {LEAF_TAG, NODE_TAG}:
        return f"node tag is 0x{node[0]:02x}, expected 0x10 (leaf) or 0x11 (internal)"
    if h(node) != node_hash:
        return "hash of the stored node differs from its key: the row was changed"
    if node[0] == NODE_TAG and node[1:] == EMPTY + EMPTY:
        return "internal node with two empty children"
    return None


class SparseMerkleTree:
    """Reads, updates and proves state roots over a ``NodeStore``.

    The object holds no root: every call names the root it works on, so any past header's root can
    be read, and ``update`` returns a new root without disturbing the old one.

    Nodes read from the store are trusted, not rehashed (that would double the hashing of every
    update); ``estatechain.storage.smt.audit_nodes`` checks stored rows, and a corrupted node would
    also show as a state hash that differs from the other organisations' attestations.
    """

    EMPTY_ROOT: ClassVar[bytes] = EMPTY

    def __init__(self, store: NodeStore, h: HashFn) -> None:
        if len(h(b"")) != DIGEST_SIZE:
            raise InputError(f"the state tree needs a hash with {DIGEST_SIZE}-byte digests")
        self._store = store
        self._h = h

    def get(self, root: bytes, key_hash: bytes) -> bytes | None:
        """The value_hash of ``key_hash`` in the state ``root`` commits to, or None if absent.

        Raises:
            NotFound: ``root`` is not stored here.
            IntegrityFault: a node below ``root`` is missing or malformed.

        """
        _check_digest("key_hash", key_hash)
        _, leaf = self._descend(root, key_hash)
        if leaf is None or leaf[0] != key_hash:
            return None
        return leaf[1]

    def prove(self, root: bytes, key_hash: bytes) -> StateProof:
        """A proof of ``key_hash``'s value, or of its absence, against ``root``.

        Raises:
            NotFound: ``root`` is not stored here.
            IntegrityFault: a node below ``root`` is missing or malformed.

        """
        _check_digest("key_hash", key_hash)
        siblings, leaf = self._descend(root, key_hash)
        other = None if leaf is None or leaf[0] == key_hash else leaf
        return StateProof(siblings=tuple(siblings), other_leaf=other)

    def update(self, root: bytes, changes: Mapping[bytes, bytes]) -> bytes:
        """Apply one block's key_hash -> value_hash changes to ``root`` and return the new root.

        Keys are processed in sorted order in a single walk, so the result depends only on the
        resulting map. New nodes are written with one ``put_many`` (inside the caller's transaction).

        Raises:
            InputError: a key or value is not 32 bytes.
            NotFound: ``root`` is not stored here.
            IntegrityFault: a node below ``root`` is missing or malformed.

        """
        for key_hash, value_hash in changes.items():
            _check_digest("key_hash", key_hash)
            _check_digest("value_hash", value_hash)
        items = sorted(changes.items())
        if not items:
            return root
        _check_digest("root", root)
        if root != EMPTY:
            self._load(root, is_root=True)
        walk = _Walk(self._load, self._h, [k for k, _ in items], [v for _, v in items])
        new_root = walk.update(root, 0, 0, len(items))
        if walk.new_nodes:
            self._store.put_many(walk.new_nodes.items())
        return new_root

    def reachable(self, roots: Iterable[bytes]) -> set[bytes]:
        """Hashes of every stored node under ``roots`` (``EMPTY`` excluded): the input of an audit.

        Raises:
            NotFound: one of ``roots`` is not stored here.
            IntegrityFault: a node below a root is missing or malformed.

        """
        root_set = {r for r in roots if r != EMPTY}
        seen: set[bytes] = set()
        pending = list(root_set)
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            tag, left, right = self._load(current, is_root=current in root_set)
            if tag == NODE_TAG:
                pending.extend(c for c in (left, right) if c != EMPTY and c not in seen)
        return seen

    def _descend(self, root: bytes, key_hash: bytes) -> tuple[list[bytes], tuple[bytes, bytes] | None]:
        """Siblings along ``key_hash``'s path and the leaf that ends it (None when it ends empty)."""
        _check_digest("root", root)
        siblings: list[bytes] = []
        current = root
        for depth in range(MAX_DEPTH + 1):
            if current == EMPTY:
                return siblings, None
            tag, left, right = self._load(current, is_root=depth == 0)
            if tag == LEAF_TAG:
                return siblings, (left, right)
            if depth == MAX_DEPTH:
                break
            if _bit(key_hash, depth):
                siblings.append(left)
                current = right
            else:
                siblings.append(right)
                current = left
        raise IntegrityFault(f"smt_nodes hash={current.hex()}", "internal node below depth 256")

    def _load(self, node_hash: bytes, *, is_root: bool = False) -> tuple[int, bytes, bytes]:
        """Decode a stored node into (tag, first 32 bytes, last 32 bytes)."""
        node = self._store.get(node_hash)
        where = f"smt_nodes hash={node_hash.hex()}"
        if node is None:
            if is_root:
                raise NotFound(f"no state tree with root {node_hash.hex()} is stored here")
            raise IntegrityFault(where, "node missing: a stored parent refers to it; restore from a peer")
        if len(node) != NODE_SIZE or node[0] not in {LEAF_TAG, NODE_TAG}:
            raise IntegrityFault(where, "malformed node: expected 65 bytes tagged 0x10 or 0x11")
        return node[0], node[1:33], node[33:]


@dataclass(frozen=True, slots=True)
class _OldLeaf:
    """A shortcut leaf that an update pushes down because new keys join its subtree."""

    key_hash: bytes
    value_hash: bytes
    node_hash: bytes


class _Walk:
    """One batch update: sorted changes as parallel lists, addressed by [lo, hi) ranges (no copies)."""

    def __init__(
        self,
        load: Callable[[bytes], tuple[int, bytes, bytes]],
        h: HashFn,
        keys: list[bytes],
        values: list[bytes],
    ) -> None:
        self.load = load
        self.h = h
        self.keys = keys
        self.values = values
        self.new_nodes: dict[bytes, bytes] = {}

    def put(self, preimage: bytes) -> bytes:
        """Hash a new node and queue it for the batch's single ``put_many``."""
        node_hash = self.h(preimage)
        self.new_nodes[node_hash] = preimage
        return node_hash

    def update(self, current: bytes, depth: int, lo: int, hi: int) -> bytes:
        """New hash of the subtree ``current`` at ``depth`` after applying changes[lo:hi]."""
        if lo == hi:
            return current
        if current == EMPTY:
            return self.build(depth, lo, hi, None)
        tag, first, second = self.load(current)
        if tag == LEAF_TAG:
            return self.merge_leaf(_OldLeaf(first, second, current), depth, lo, hi)
        if depth == MAX_DEPTH:
            raise IntegrityFault(f"smt_nodes hash={current.hex()}", "internal node below depth 256")
        mid = _split(self.keys, lo, hi, depth)
        left = self.update(first, depth + 1, lo, mid)
        right = self.update(second, depth + 1, mid, hi)
        if left == first and right == second:
            return current
        return self.put(_NODE_PREFIX + left + right)

    def merge_leaf(self, old: _OldLeaf, depth: int, lo: int, hi: int) -> bytes:
        """The subtree that a shortcut leaf becomes once changes[lo:hi] land in it."""
        at = bisect_left(self.keys, old.key_hash, lo, hi)
        if at < hi and self.keys[at] == old.key_hash:
            if hi - lo == 1 and self.values[at] == old.value_hash:
                return old.node_hash
            return self.build(depth, lo, hi, None)
        return self.build(depth, lo, hi, old)

    def build(self, depth: int, lo: int, hi: int, old: _OldLeaf | None) -> bytes:
        """Hash of the subtree holding changes[lo:hi] plus ``old`` (kept as is), at ``depth``."""
        count = hi - lo + (old is not None)
        if count == 0:
            return EMPTY
        if count == 1:
            if old is not None:
                return old.node_hash
            return self.put(_LEAF_PREFIX + self.keys[lo] + self.values[lo])
        mid = _split(self.keys, lo, hi, depth) if lo < hi else lo
        old_right = old is not None and _bit(old.key_hash, depth) == 1
        left = self.build(depth + 1, lo, mid, None if old_right else old)
        right = self.build(depth + 1, mid, hi, old if old_right else None)
        return self.put(_NODE_PREFIX + left + right)


def _check_digest(name: str, value: object) -> None:
    if not _is_digest(value):
        raise InputError(f"{name} must be {DIGEST_SIZE} bytes (a digest), got {value!r:.80}")


def verify_proof(h: HashFn, root: bytes, key_hash: bytes, value_hash: bytes | None, proof: StateProof) -> bool:
    """True when ``proof`` shows ``key_hash`` -> ``value_hash`` under ``root`` (None: shows absence).

    Follows the module docstring's procedure exactly. Malformed input of any shape is simply a
    failed proof: this function never raises (unless ``h`` itself does).
    """
    if not (_is_digest(root) and _is_digest(key_hash) and isinstance(proof, StateProof)):
        return False
    siblings = proof.siblings
    if not (isinstance(siblings, tuple) and len(siblings) <= MAX_DEPTH and all(_is_digest(s) for s in siblings)):
        return False
    current = _path_end(h, key_hash, value_hash, proof.other_leaf, len(siblings))
    if current is None:
        return False
    for depth in range(len(siblings) - 1, -1, -1):
        sibling = siblings[depth]
        current = hash_internal(h, sibling, current) if _bit(key_hash, depth) else hash_internal(h, current, sibling)
    return current == root


def _path_end(h: HashFn, key_hash: bytes, value_hash: object, other: object, depth: int) -> bytes | None:
    """Step 1 of verification: the hash where the path ends, or None if the claim is malformed."""
    if value_hash is not None:
        if other is not None or not _is_digest(value_hash):
            return None
        return hash_leaf(h, key_hash, value_hash)
    if other is None:
        return EMPTY
    if not (isinstance(other, tuple) and len(other) == 2 and _is_digest(other[0]) and _is_digest(other[1])):
        return None
    other_key, other_value = other
    if other_key == key_hash or any(_bit(other_key, i) != _bit(key_hash, i) for i in range(depth)):
        return None
    return hash_leaf(h, other_key, other_value)
