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

How nodes are stored is not part of the specification (roots and proofs are): this implementation
keeps each node at a ``Position`` (the version that wrote it and its path), and an internal node's
record names its children's versions, so the nodes one block writes lie side by side (see
``Position`` and ``NodeStore``).

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


Position: TypeAlias = bytes
"""Where a stored node sits: ``version (8 bytes, big-endian) ‖ depth (2 bytes) ‖ path prefix``.

The prefix is the first ``depth`` bits of every key below the node, packed into ``ceil(depth / 8)``
bytes with the unused low bits zero. ``version`` is the update that wrote the node (the block height in
a ledger). Keys lead with the version so that one block's new nodes sort together at the end of the
store: a B-tree then appends them into a few fresh pages instead of dirtying one random page per node,
which is what a store keyed by node hash does once it outgrows memory.
"""

_VERSION_SIZE: Final = 8
INTERNAL_RECORD_SIZE: Final = NODE_SIZE + 2 * _VERSION_SIZE


def position(version: int, depth: int, key_hash: bytes) -> Position:
    """The stored position of the node at ``depth`` on ``key_hash``'s path, written by ``version``."""
    return version.to_bytes(_VERSION_SIZE, "big") + _path(depth, key_hash)


def describe_position(pos: bytes) -> str:
    """``pos=HEX (version=V depth=D prefix=HEX)`` for messages: the row's key, then what it means."""
    if len(pos) < _VERSION_SIZE + 2:
        return f"pos={pos.hex()}"
    prefix_at = _VERSION_SIZE + 2
    version, depth = int.from_bytes(pos[:_VERSION_SIZE], "big"), int.from_bytes(pos[_VERSION_SIZE:prefix_at], "big")
    return f"pos={pos.hex()} (version={version} depth={depth} prefix={pos[prefix_at:].hex() or '-'})"


class NodeStore(Protocol):
    """**Protocol:** where tree nodes live, by position, and which version holds each root.

    A node's record is its 65-byte preimage; an internal node's record adds its children's versions
    (8 bytes each, left then right; 0 for ``EMPTY``), which is how a reader finds the children's
    positions. Records are written once and never changed or deleted.
    """

    def get(self, pos: Position) -> bytes | None:
        """The record stored at ``pos``, or None."""
        ...

    def put_many(self, nodes: Iterable[tuple[Position, bytes]]) -> None:
        """Store (position, record) pairs; every position is new (one version is written once)."""
        ...

    def root_version(self, root: bytes) -> int | None:
        """The version whose update wrote root node ``root``, or None if no update did."""
        ...

    def put_root(self, root: bytes, version: int) -> None:
        """Remember that ``version`` wrote root node ``root`` (a root already known keeps its version)."""
        ...

    def max_version(self) -> int:
        """The highest version that wrote a root, 0 for an empty store."""
        ...


class MemoryNodeStore:
    """A dict-backed ``NodeStore``: the in-process twin used by unit tests and by the audit's replay."""

    def __init__(self) -> None:
        self.nodes: dict[Position, bytes] = {}
        self.roots: dict[bytes, int] = {}

    def get(self, pos: Position) -> bytes | None:
        """The stored record, or None."""
        return self.nodes.get(pos)

    def put_many(self, nodes: Iterable[tuple[Position, bytes]]) -> None:
        """Store pairs; a position written again keeps its first record (the SQLite store refuses it)."""
        for pos, record in nodes:
            self.nodes.setdefault(pos, record)

    def root_version(self, root: bytes) -> int | None:
        """The version that wrote ``root``, or None."""
        return self.roots.get(root)

    def put_root(self, root: bytes, version: int) -> None:
        """Record the root's version unless it is known already."""
        self.roots.setdefault(root, version)

    def max_version(self) -> int:
        """The highest root version stored, 0 when none is."""
        return max(self.roots.values(), default=0)

    def __len__(self) -> int:
        return len(self.nodes)


class CachingNodeStore:
    """A cache of recently used nodes in front of another ``NodeStore``, in two generations.

    A block's update rereads the top levels of the tree, which every path shares; keeping them in
    memory saves those reads from disk. New entries and hits go to the young generation; when it
    holds half the capacity it becomes the old one and the previous old one is dropped, so what was
    used since the last turn stays and the rest goes — an LRU approximation with no per-entry
    bookkeeping on the hot path (an exact LRU's reordering cost more than a tenth of the tree update).

    Writes go through to the backing store at once, so durability never depends on the cache, and a
    write replaces whatever the cache held at that position: if the caller's transaction rolled back,
    the next attempt at the same version rewrites the positions it uses. A stale entry it does not
    rewrite is never read, because reads only follow references from committed nodes, which all name
    older versions.
    """

    def __init__(self, store: NodeStore, capacity: int = 65_536) -> None:
        if capacity < 2:
            raise InputError(f"cache capacity must be at least 2 nodes, got {capacity}")
        self._store = store
        self._half = capacity // 2
        self._young: dict[Position, bytes] = {}
        self._old: dict[Position, bytes] = {}
        self._roots: dict[bytes, int] = {}

    def get(self, pos: Position) -> bytes | None:
        """The record from the cache, else from the backing store (then cached)."""
        record = self._young.get(pos)
        if record is not None:
            return record
        record = self._old.get(pos)
        if record is None:
            record = self._store.get(pos)
            if record is None:
                return None
        self._young[pos] = record
        if len(self._young) >= self._half:
            self._old, self._young = self._young, {}
        return record

    def put_many(self, nodes: Iterable[tuple[Position, bytes]]) -> None:
        """Write through to the backing store and cache the new nodes (the next block reads them).

        When the block wrote more than half the cache holds, the shallowest nodes are kept: an update
        passes its nodes sorted by position, so by depth.
        """
        pairs = list(nodes)
        self._store.put_many(pairs)
        self._young.update(pairs[: self._half])
        if len(self._young) >= self._half:
            self._old, self._young = self._young, {}

    def root_version(self, root: bytes) -> int | None:
        """The root's version, from a small map of the roots this cache has seen or the backing store."""
        version = self._roots.get(root)
        if version is None:
            version = self._store.root_version(root)
            if version is not None:
                self._remember_root(root, version)
        return version

    def put_root(self, root: bytes, version: int) -> None:
        """Write through, and keep the root's version for the next block's update."""
        self._store.put_root(root, version)
        self._remember_root(root, version)

    def max_version(self) -> int:
        """The backing store's highest root version."""
        return self._store.max_version()

    def _remember_root(self, root: bytes, version: int) -> None:
        if len(self._roots) >= 1024:
            self._roots.clear()
        self._roots[root] = version


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


def record_fault(record: object) -> str | None:
    """What is wrong with the shape of a stored node record, or None if it is well formed.

    A leaf's record is its 65-byte preimage (tag 0x10); an internal node's is its 65-byte preimage
    (tag 0x11, not both children ``EMPTY``) followed by its children's two 8-byte versions, where a
    version is 0 exactly when that child is ``EMPTY``. Whether the record is the *right* one is a
    question for the audit, which compares it with the record a replay of every block writes.
    """
    if not isinstance(record, bytes) or len(record) not in {NODE_SIZE, INTERNAL_RECORD_SIZE}:
        return f"record is not {NODE_SIZE} (leaf) or {INTERNAL_RECORD_SIZE} (internal node) bytes"
    tag = record[0]
    if tag not in {LEAF_TAG, NODE_TAG}:
        return f"node tag is 0x{tag:02x}, expected 0x10 (leaf) or 0x11 (internal)"
    if (tag == LEAF_TAG) != (len(record) == NODE_SIZE):
        return "record length does not match its tag (a leaf is 65 bytes, an internal node 81)"
    if tag == NODE_TAG:
        left, right = record[1:33], record[33:65]
        if left == right == EMPTY:
            return "internal node with two empty children"
        versions = _child_versions(record)
        if (left == EMPTY) != (versions[0] == 0) or (right == EMPTY) != (versions[1] == 0):
            return "a child's version is 0 but the child is not empty, or the reverse"
    return None


def _child_versions(record: bytes) -> tuple[int, int]:
    return int.from_bytes(record[65:73], "big"), int.from_bytes(record[73:81], "big")


class SparseMerkleTree:
    """Reads, updates and proves state roots over a ``NodeStore``.

    The object holds no root: every call names the root it works on, so any past header's root can
    be read, and ``update`` returns a new root without disturbing the old one. The store keeps each
    root's version, which leads to the root's record; each internal record names its children's
    versions, which lead to theirs.

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
        self._last_version = -1

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

    def update(self, root: bytes, changes: Mapping[bytes, bytes], *, version: int | None = None) -> bytes:
        """Apply one block's key_hash -> value_hash changes to ``root`` and return the new root.

        Keys are processed in sorted order in a single walk, so the result depends only on the
        resulting map. New nodes are written with one ``put_many`` (inside the caller's transaction)
        at ``version``, which must be higher than every version written before; a ledger passes the
        block height. Without it, the next version after the store's highest is used.

        Raises:
            InputError: a key or value is not 32 bytes, or ``version`` is below 1.
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
        root_version = 0 if root == EMPTY else self._root_version(root)
        if version is None:
            version = max(self._store.max_version(), self._last_version) + 1
        if version < 1:
            raise InputError(f"a state-tree version must be at least 1, got {version}")
        walk = _Walk(self._load, self._h, [k for k, _ in items], [v for _, v in items], version)
        new_root, new_version = walk.update(root, root_version.to_bytes(_VERSION_SIZE, "big"), 0, 0, len(items))
        if walk.new_nodes:
            nodes = walk.new_nodes
            self._store.put_many([(pos, nodes[pos]) for pos in sorted(nodes)])  # sorting keys alone is faster
        if new_root not in {root, EMPTY}:
            self._store.put_root(new_root, int.from_bytes(new_version, "big"))
        self._last_version = version
        return new_root

    def reachable(self, roots: Iterable[bytes]) -> set[Position]:
        """Positions of every stored node under ``roots`` (``EMPTY`` has none).

        Raises:
            NotFound: one of ``roots`` is not stored here.
            IntegrityFault: a node below a root is missing or malformed.

        """
        seen: set[Position] = set()
        pending = [(self._root_version(root), 0, bytes(KEY_SIZE)) for root in roots if root != EMPTY]
        while pending:
            version, depth, prefix = pending.pop()
            pos = position(version, depth, prefix)
            if pos in seen:
                continue
            seen.add(pos)
            record = self._load(pos)
            if record[0] == NODE_TAG:
                left_version, right_version = _child_versions(record)
                if left_version:
                    pending.append((left_version, depth + 1, prefix))
                if right_version:
                    pending.append((right_version, depth + 1, _with_bit(prefix, depth)))
        return seen

    def _root_version(self, root: bytes) -> int:
        version = self._store.root_version(root)
        if version is None:
            raise NotFound(f"no state tree with root {root.hex()} is stored here")
        return version

    def _descend(self, root: bytes, key_hash: bytes) -> tuple[list[bytes], tuple[bytes, bytes] | None]:
        """Siblings along ``key_hash``'s path and the leaf that ends it (None when it ends empty)."""
        _check_digest("root", root)
        siblings: list[bytes] = []
        if root == EMPTY:
            return siblings, None
        current, version = root, self._root_version(root)
        for depth in range(MAX_DEPTH + 1):
            if current == EMPTY:
                return siblings, None
            record = self._load(position(version, depth, key_hash))
            if record[0] == LEAF_TAG:
                return siblings, (record[1:33], record[33:65])
            if depth == MAX_DEPTH:
                break
            left_version, right_version = _child_versions(record)
            if _bit(key_hash, depth):
                siblings.append(record[1:33])
                current, version = record[33:65], right_version
            else:
                siblings.append(record[33:65])
                current, version = record[1:33], left_version
        raise IntegrityFault(f"smt_nodes {describe_position(position(version, MAX_DEPTH, key_hash))}",
                             "internal node below depth 256")

    def _load(self, pos: Position) -> bytes:
        """The well-formed record at ``pos``.

        Raises:
            IntegrityFault: no record is there, or it is malformed.

        """
        record = self._store.get(pos)
        if record is None:
            raise IntegrityFault(f"smt_nodes {describe_position(pos)}",
                                 "node missing: a stored parent or root refers to it; restore from a peer")
        size = len(record)
        if record[0] != (LEAF_TAG if size == NODE_SIZE else NODE_TAG if size == INTERNAL_RECORD_SIZE else -1):
            raise IntegrityFault(f"smt_nodes {describe_position(pos)}",
                                 "malformed node: expected a 65-byte leaf (0x10) or an 81-byte internal node (0x11)")
        return record


def _with_bit(prefix: bytes, depth: int) -> bytes:
    """``prefix`` with bit ``depth`` set (the right child's path)."""
    index = depth >> 3
    return prefix[:index] + bytes([prefix[index] | (0x80 >> (depth & 7))]) + prefix[index + 1 :]


_Ref = tuple[bytes, bytes]
"""A child as its parent names it: (hash, version as its 8 stored bytes); ``EMPTY`` has ``_NO_VERSION``."""

_NO_VERSION: Final = bytes(_VERSION_SIZE)
_DEPTH_BYTES: Final = tuple(depth.to_bytes(2, "big") for depth in range(MAX_DEPTH + 1))
_MASKED_BYTE: Final = tuple(tuple(bytes([byte >> spare << spare]) for byte in range(256)) for spare in range(8))


def _path(depth: int, key_hash: bytes) -> bytes:
    """The part of a position after the version: depth and masked prefix (``position`` without the call cost)."""
    spare = -depth & 7
    if spare:
        end = (depth + 7) >> 3
        return _DEPTH_BYTES[depth] + key_hash[: end - 1] + _MASKED_BYTE[spare][key_hash[end - 1]]
    return _DEPTH_BYTES[depth] + key_hash[: depth >> 3]


@dataclass(frozen=True, slots=True)
class _OldLeaf:
    """A shortcut leaf that an update pushes down because new keys join its subtree."""

    key_hash: bytes
    value_hash: bytes
    node_hash: bytes
    version: bytes


class _Walk:
    """One batch update: sorted changes as parallel lists, addressed by [lo, hi) ranges (no copies).

    This is the hot loop of every block commit, so versions stay in their stored 8-byte form and
    positions are assembled from precomputed pieces.
    """

    def __init__(
        self, load: Callable[[Position], bytes], h: HashFn, keys: list[bytes], values: list[bytes], version: int
    ) -> None:
        self.load = load
        self.h = h
        self.keys = keys
        self.values = values
        self.version = version.to_bytes(_VERSION_SIZE, "big")
        self.new_nodes: dict[Position, bytes] = {}

    def put_leaf(self, depth: int, key_hash: bytes, value_hash: bytes, node_hash: bytes | None = None) -> _Ref:
        """Store a leaf at ``depth`` on its key's path (``node_hash`` given when it is known already)."""
        preimage = _LEAF_PREFIX + key_hash + value_hash
        if node_hash is None:
            node_hash = self.h(preimage)
        self.new_nodes[self.version + _path(depth, key_hash)] = preimage
        return node_hash, self.version

    def put_node(self, path: bytes, left: _Ref, right: _Ref) -> _Ref:
        """Store an internal node at ``path`` (``_path``: depth and prefix), naming its children's versions."""
        preimage = _NODE_PREFIX + left[0] + right[0]
        self.new_nodes[self.version + path] = preimage + left[1] + right[1]
        return self.h(preimage), self.version

    def update(self, current: bytes, version: bytes, depth: int, lo: int, hi: int) -> _Ref:
        """New (hash, version) of the subtree ``current`` at ``depth`` after applying changes[lo:hi]."""
        if current == EMPTY:
            return self.build(depth, lo, hi, None)
        if hi - lo == 1:
            return self.update_one(current, version, depth, lo)
        keys = self.keys
        path = _path(depth, keys[lo])
        record = self.load(version + path)
        if record[0] == LEAF_TAG:
            return self.merge_leaf(_OldLeaf(record[1:33], record[33:65], current, version), depth, lo, hi)
        if depth == MAX_DEPTH:
            raise IntegrityFault(f"smt_nodes {describe_position(version + path)}", "internal node below depth 256")
        first, second = record[1:33], record[33:65]
        mid = _split(keys, lo, hi, depth)
        left = (first, record[65:73]) if lo == mid else self.update(first, record[65:73], depth + 1, lo, mid)
        right = (second, record[73:81]) if mid == hi else self.update(second, record[73:81], depth + 1, mid, hi)
        if left[0] == first and right[0] == second:
            return current, version
        return self.put_node(path, left, right)

    def update_one(self, current: bytes, version: bytes, depth: int, index: int) -> _Ref:
        """``update`` for a single change (most of a block's paths below the top levels), without recursion."""
        key = self.keys[index]
        top = (current, version)
        above: list[tuple[bytes, bytes, int]] = []  # (path, record, bit taken) from the top down
        while True:
            if current == EMPTY:
                ref = self.put_leaf(depth, key, self.values[index])
                break
            path = _path(depth, key)
            record = self.load(version + path)
            if record[0] == LEAF_TAG:
                ref = self.merge_leaf(_OldLeaf(record[1:33], record[33:65], current, version), depth, index, index + 1)
                if ref[0] == current:
                    return top  # the value was rewritten unchanged: nothing above changes either
                break
            if depth == MAX_DEPTH:
                raise IntegrityFault(f"smt_nodes {describe_position(version + path)}", "internal node below depth 256")
            bit = _bit(key, depth)
            above.append((path, record, bit))
            if bit:
                current, version = record[33:65], record[73:81]
            else:
                current, version = record[1:33], record[65:73]
            depth += 1
        # Rehash upwards, storing each node at the position computed on the way down (put_node inlined:
        # this loop writes most of a block's nodes).
        new_nodes, new_version, h = self.new_nodes, self.version, self.h
        child, child_version = ref
        for path, record, bit in reversed(above):
            if bit:
                preimage = _NODE_PREFIX + record[1:33] + child
                new_nodes[new_version + path] = preimage + record[65:73] + child_version
            else:
                preimage = _NODE_PREFIX + child + record[33:65]
                new_nodes[new_version + path] = preimage + child_version + record[73:81]
            child, child_version = h(preimage), new_version
        return child, child_version

    def merge_leaf(self, old: _OldLeaf, depth: int, lo: int, hi: int) -> _Ref:
        """The subtree that a shortcut leaf becomes once changes[lo:hi] land in it."""
        at = bisect_left(self.keys, old.key_hash, lo, hi)
        if at < hi and self.keys[at] == old.key_hash:
            if hi - lo == 1 and self.values[at] == old.value_hash:
                return old.node_hash, old.version
            return self.build(depth, lo, hi, None)
        return self.build(depth, lo, hi, old)

    def build(self, depth: int, lo: int, hi: int, old: _OldLeaf | None) -> _Ref:
        """The subtree holding changes[lo:hi] plus ``old`` (moved down to its new depth), at ``depth``."""
        count = hi - lo + (old is not None)
        if count == 0:
            return EMPTY, _NO_VERSION
        if count == 1:
            if old is not None:  # same leaf, deeper position: stored again there
                return self.put_leaf(depth, old.key_hash, old.value_hash, old.node_hash)
            return self.put_leaf(depth, self.keys[lo], self.values[lo])
        mid = _split(self.keys, lo, hi, depth) if lo < hi else lo
        old_right = old is not None and _bit(old.key_hash, depth) == 1
        left = self.build(depth + 1, lo, mid, None if old_right else old)
        right = self.build(depth + 1, mid, hi, old if old_right else None)
        return self.put_node(_path(depth, self.keys[lo] if lo < hi else old.key_hash if old else EMPTY), left, right)


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
