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
keeps the nodes of each ``PAGE_LEVELS``-level slice of the tree as one page at a ``Position`` (the
version that wrote it and the path of its top node), and a page names the versions of the pages
below it, so the pages one block writes lie side by side (see ``Position``, ``Page`` and ``NodeStore``).

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
"""Where a stored page sits: ``version (8 bytes, big-endian) ‖ depth (2 bytes) ‖ path prefix`` of its top node.

The prefix is the first ``depth`` bits of every key below the node, packed into ``ceil(depth / 8)``
bytes with the unused low bits zero. ``version`` is the update that wrote the page (the block height in
a ledger). Keys lead with the version so that one block's new pages sort together at the end of the
store: a B-tree then appends them into a few fresh pages instead of dirtying one random page per row,
which is what a store keyed by node hash does once it outgrows memory.
"""

_VERSION_SIZE: Final = 8

PAGE_LEVELS: Final = 3
"""How many levels of the tree one stored page holds: the subtree below a node whose depth is a multiple of this.

One row per 3-level slice (up to 7 internal nodes, and the 8 nodes below them inline: leaves whole,
deeper subtrees as references to their own page) instead of one row per node: a key about 16 levels
deep costs 6 row reads and writes instead of 16. Why 3: a page must fit in one SQLite B-tree cell,
about 1,000 bytes on the ledger's 4 KiB pages, or SQLite spills it onto an overflow page of its own.
A full 3-level page is at most 527 bytes of internal nodes (975 in the rare page of 8 leaves); a full
4-level page is 1,119, so every dense 4-level page overflowed: at 300,000 rows and 500-key blocks,
4 levels dirtied 931 database pages a block against 245 for 3 levels (178 one node a row) and made
the file 135 MiB against 84 (112). Reads below the cache were 812 a block for 4 levels, 1,089 for 3,
3,638 one node a row (``estatechain bench state-commitment --sizes 300000``, 2026-11-27).
"""
_BOUNDARY: Final = 1 << PAGE_LEVELS
"""First slot of a page's bottom row: slots ``1 … 2**PAGE_LEVELS - 1`` are its top node and the internal
levels below it (slot ``s`` has children ``2s`` and ``2s + 1``), slots ``_BOUNDARY … 2 * _BOUNDARY - 1``
the nodes at the next page's depth."""
_SLOT_BITS: Final = 6
_KIND_TOP: Final = 0
"""Entry kind: the internal node at a page's top (slot 1): no fields (its parent page or ``smt_roots`` has its hash)."""
_KIND_NODE: Final = 1
"""Entry kind: an internal node inside the page (slot below ``_BOUNDARY``): its hash."""
_KIND_LEAF: Final = 2
"""Entry kind: a shortcut leaf at any slot: its hash, key_hash and value_hash."""
_KIND_PAGE: Final = 3
"""Entry kind: an internal node on the page's bottom row, the top of another page: its hash and that page's version."""
_ENTRY_SIZES: Final = (1, 1 + DIGEST_SIZE, 1 + 3 * DIGEST_SIZE, 1 + DIGEST_SIZE + _VERSION_SIZE)
_HEADS: Final = tuple(tuple(bytes([kind << _SLOT_BITS | slot]) for slot in range(2 * _BOUNDARY)) for kind in range(4))

Page: TypeAlias = dict[int, bytes]
"""A decoded page: slot -> entry (its 1-byte head ``kind << 6 | slot``, then the kind's fields); no entry = ``EMPTY``.

A page's record is its entries in slot order, concatenated. Entry fields: ``_KIND_TOP`` none;
``_KIND_NODE`` hash (32 bytes);
``_KIND_LEAF`` hash ‖ key_hash ‖ value_hash; ``_KIND_PAGE`` hash ‖ version of the page below (8 bytes).
"""


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
    """**Protocol:** where tree pages live, by position, and which version holds each root.

    A page's record holds the nodes of one ``PAGE_LEVELS``-level slice of the tree (see ``Page``): the
    internal nodes by hash, shortcut leaves whole, and for a subtree that goes on below the slice its
    hash and the version of the page holding it, which is how a reader finds that page's position.
    Records are written once and never changed or deleted.
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
        """The highest version that wrote a root or a page, 0 for an empty store.

        Pages count too: an update that returns the map to an earlier state writes pages at its version but
        no root (the root keeps its first version), and the next version must not write over them.
        """
        ...


class MemoryNodeStore:
    """A dict-backed ``NodeStore``: the in-process twin used by unit tests and by the audit's replay."""

    def __init__(self) -> None:
        self.nodes: dict[Position, bytes] = {}
        self.roots: dict[bytes, int] = {}
        self._page_version = 0

    def get(self, pos: Position) -> bytes | None:
        """The stored record, or None."""
        return self.nodes.get(pos)

    def put_many(self, nodes: Iterable[tuple[Position, bytes]]) -> None:
        """Store pairs; a position written again keeps its first record (the SQLite store refuses it)."""
        for pos, record in nodes:
            self.nodes.setdefault(pos, record)
            self._page_version = max(self._page_version, int.from_bytes(pos[:_VERSION_SIZE], "big"))

    def root_version(self, root: bytes) -> int | None:
        """The version that wrote ``root``, or None."""
        return self.roots.get(root)

    def put_root(self, root: bytes, version: int) -> None:
        """Record the root's version unless it is known already."""
        self.roots.setdefault(root, version)

    def max_version(self) -> int:
        """The highest version that wrote a root or a page, 0 when none did."""
        return max(self._page_version, *self.roots.values(), 0)

    def __len__(self) -> int:
        return len(self.nodes)


class CachingNodeStore:
    """A cache of recently used pages (the store's rows) in front of another ``NodeStore``, in two generations.

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

    def __init__(self, store: NodeStore, capacity: int = 16_384) -> None:
        if capacity < 2:
            raise InputError(f"cache capacity must be at least 2 pages, got {capacity}")
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
        """Write through to the backing store and cache the new pages (the next block reads them).

        When the block wrote more than half the cache holds, the shallowest pages are kept: an update
        passes its pages sorted by position, so by depth.
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


def _decode(record: bytes) -> Page | None:
    """The page a record holds, or None if its entries do not parse (bad kind, slot, order or length)."""
    page: Page = {}
    at, end, previous = 0, len(record), 0
    while at < end:
        head = record[at]
        kind, slot = head >> _SLOT_BITS, head & ((1 << _SLOT_BITS) - 1)
        size = _ENTRY_SIZES[kind]
        if slot <= previous or slot >= 2 * _BOUNDARY or at + size > end or (kind == _KIND_TOP and slot != 1):
            return None
        page[slot] = record[at : at + size]
        at += size
        previous = slot
    return page


def _encode(page: Page) -> bytes:
    return b"".join([page[slot] for slot in sorted(page)])


def _hash_of(entry: bytes | None) -> bytes:
    return EMPTY if entry is None else entry[1:33]


def record_fault(record: object) -> str | None:
    """What is wrong with the shape of a stored page record, or None if it is well formed.

    A record is a page's entries in slot order (see ``Page``): its top node at slot 1, every other entry
    below an internal node of the page, internal nodes with at least one child, a page reference
    only on the bottom row and an internal node only above it, and a page reference's version above
    0. Whether the record is the *right* one is a question for the audit, which compares it with the
    record a replay of every block writes.
    """
    if not isinstance(record, bytes):
        return "record is not bytes"
    page = _decode(record)
    if page is None:
        return ("entries do not parse: each is a 1-byte head (kind 1 node, 2 leaf, 3 page; slot 1-"
                f"{2 * _BOUNDARY - 1}, ascending) and that kind's fields")
    if 1 not in page:
        return "no entry at slot 1 (the page's top node)"
    return next(filter(None, (_entry_fault(page, slot, entry) for slot, entry in page.items())), None)


def _entry_fault(page: Page, slot: int, entry: bytes) -> str | None:
    """What is wrong with where ``entry`` sits in ``page``, or None."""
    kind = entry[0] >> 6
    if slot > 1 and _kind(page.get(slot >> 1)) not in _INTERNAL:
        return f"slot {slot} hangs below slot {slot >> 1}, which is not an internal node of the page"
    if kind in _INTERNAL and (slot >= _BOUNDARY or (2 * slot not in page and 2 * slot + 1 not in page)):
        return f"slot {slot}: an internal node must lie above the bottom row and have a child in the page"
    if kind == _KIND_PAGE and (slot < _BOUNDARY or entry[33:41] == bytes(_VERSION_SIZE)):
        return f"slot {slot}: a page reference must lie on the bottom row and name a version above 0"
    return None


def _kind(entry: bytes | None) -> int:
    return -1 if entry is None else entry[0] >> 6


_INTERNAL: Final = (_KIND_TOP, _KIND_NODE)
_TOP_ENTRY: Final = bytes([_KIND_TOP << _SLOT_BITS | 1])


class SparseMerkleTree:
    """Reads, updates and proves state roots over a ``NodeStore``.

    The object holds no root: every call names the root it works on, so any past header's root can
    be read, and ``update`` returns a new root without disturbing the old one. The store keeps each
    root's version, which leads to the root's page (depth 0); each page names the versions of the
    pages below it, which lead to theirs.

    Nodes read from the store are trusted, not rehashed (that would double the hashing of every
    update); ``verify``'s replay (``estatechain.storage.smt.ReplayNodeStore``) checks stored rows, and a
    corrupted node would also show as a state hash that differs from the other organisations'
    attestations. Decoded pages are kept by record (``_DECODED``): behind a ``CachingNodeStore`` the
    same record object comes back for a cached row, so a page is decoded once while it stays cached.
    """

    EMPTY_ROOT: ClassVar[bytes] = EMPTY

    def __init__(self, store: NodeStore, h: HashFn) -> None:
        if len(h(b"")) != DIGEST_SIZE:
            raise InputError(f"the state tree needs a hash with {DIGEST_SIZE}-byte digests")
        self._store = store
        self._h = h
        self._last_version = -1
        self._decoded: dict[bytes, Page] = {}

    def get(self, root: bytes, key_hash: bytes) -> bytes | None:
        """The value_hash of ``key_hash`` in the state ``root`` commits to, or None if absent.

        Raises:
            NotFound: ``root`` is not stored here.
            IntegrityFault: a page below ``root`` is missing or malformed.

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
            IntegrityFault: a page below ``root`` is missing or malformed.

        """
        _check_digest("key_hash", key_hash)
        siblings, leaf = self._descend(root, key_hash)
        other = None if leaf is None or leaf[0] == key_hash else leaf
        return StateProof(siblings=tuple(siblings), other_leaf=other)

    def update(self, root: bytes, changes: Mapping[bytes, bytes], *, version: int | None = None) -> bytes:
        """Apply one block's key_hash -> value_hash changes to ``root`` and return the new root.

        Keys are processed in sorted order in a single walk, so the result depends only on the
        resulting map. New pages are written with one ``put_many`` (inside the caller's transaction)
        at ``version``, which must be higher than every version written before; a ledger passes the
        block height. Without it, the next version after the store's highest is used. A page is
        written once per update that changes a node in it. An update that brings the map back to a
        state stored before returns that state's root, which keeps the version it was first written at:
        the pages this update wrote are then duplicates that no root reaches. A ledger never does this
        (each version's value hash chains its predecessor's), and the pages are written all the same
        rather than skipped on a root look-up, which a cache that outlived a rolled-back block could answer.

        Raises:
            InputError: a key or value is not 32 bytes, or ``version`` is below 1.
            NotFound: ``root`` is not stored here.
            IntegrityFault: a page below ``root`` is missing or malformed.

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
        top_path = _path(0, EMPTY)
        if root == EMPTY:
            page: Page = {}
            new_root = walk.build(page, 1, 0, 0, len(items), None)
        else:
            page = dict(self._load(root_version.to_bytes(_VERSION_SIZE, "big") + top_path))
            new_root = walk.subtree(page, 1, 0, 0, len(items)) or root
        if new_root != root:
            walk.write(top_path, page)
            pages = walk.new_pages
            self._store.put_many([(pos, pages[pos][0]) for pos in sorted(pages)])
            decoded = self._decoded
            if len(decoded) + len(pages) > _DECODED:
                decoded.clear()
            decoded.update(pages.values())
            self._store.put_root(new_root, version)
        self._last_version = version
        return new_root

    def reachable(self, roots: Iterable[bytes]) -> set[Position]:
        """Positions of every stored page under ``roots`` (``EMPTY`` has none).

        Raises:
            NotFound: one of ``roots`` is not stored here.
            IntegrityFault: a page below a root is missing or malformed.

        """
        seen: set[Position] = set()
        pending = [(self._root_version(root).to_bytes(_VERSION_SIZE, "big"), 0, 0)
                   for root in roots if root != EMPTY]
        while pending:
            version, depth, prefix = pending.pop()
            pos = version + _path(depth, prefix.to_bytes(KEY_SIZE, "big"))
            if pos in seen:
                continue
            seen.add(pos)
            below = depth + PAGE_LEVELS
            for slot, entry in self._load(pos).items():
                if entry[0] >> 6 == _KIND_PAGE and below <= MAX_DEPTH:
                    pending.append((entry[33:41], below, prefix | (slot - _BOUNDARY) << (MAX_DEPTH - below)))
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
        pos = self._root_version(root).to_bytes(_VERSION_SIZE, "big") + _path(0, key_hash)
        page, slot = self._load(pos), 1
        for depth in range(MAX_DEPTH + 1):
            entry = page.get(slot)
            if entry is not None and entry[0] >> 6 == _KIND_PAGE:
                pos = entry[33:41] + _path(depth, key_hash)
                page, slot = self._load(pos), 1
                entry = page.get(slot)
            if entry is None:
                return siblings, None
            kind = entry[0] >> 6
            if kind == _KIND_LEAF:
                return siblings, (entry[33:65], entry[65:97])
            if kind not in _INTERNAL or depth == MAX_DEPTH:
                break
            child = 2 * slot + _bit(key_hash, depth)
            siblings.append(_hash_of(page.get(child ^ 1)))
            slot = child
        raise IntegrityFault(f"smt_nodes {describe_position(pos)}",
                             "internal node at depth 256, or a page reference at a page's top")

    def _load(self, pos: Position) -> Page:
        """The well-formed page at ``pos``.

        Raises:
            IntegrityFault: no record is there, or it is malformed.

        """
        record = self._store.get(pos)
        if record is None:
            raise IntegrityFault(f"smt_nodes {describe_position(pos)}",
                                 "page missing: a stored parent or root refers to it; restore from a peer")
        page = self._decoded.get(record)
        if page is None:
            page = _decode(record)
            if page is None or 1 not in page:
                raise IntegrityFault(f"smt_nodes {describe_position(pos)}",
                                     f"malformed page: {record_fault(record) or 'no top node'}")
            if len(self._decoded) >= _DECODED:
                self._decoded.clear()
            self._decoded[record] = page
        return page


_DECODED: Final = 16_384
"""Decoded pages the tree keeps (all dropped at once when full; the top pages return with the next block)."""


def _path(depth: int, key_hash: bytes) -> bytes:
    """The part of a position after the version: depth and masked prefix (``position`` without the call cost)."""
    spare = -depth & 7
    if spare:
        end = (depth + 7) >> 3
        return _DEPTH_BYTES[depth] + key_hash[: end - 1] + _MASKED_BYTE[spare][key_hash[end - 1]]
    return _DEPTH_BYTES[depth] + key_hash[: depth >> 3]


_DEPTH_BYTES: Final = tuple(depth.to_bytes(2, "big") for depth in range(MAX_DEPTH + 1))
_MASKED_BYTE: Final = tuple(tuple(bytes([byte >> spare << spare]) for byte in range(256)) for spare in range(8))
_NODE_HEADS: Final = _HEADS[_KIND_NODE]
_LEAF_HEADS: Final = _HEADS[_KIND_LEAF]
_PAGE_HEADS: Final = _HEADS[_KIND_PAGE]

_OldLeaf = tuple[bytes, bytes, bytes]
"""A shortcut leaf that an update pushes down because new keys join its subtree: (key_hash, value_hash, hash)."""


class _Walk:
    """One batch update: sorted changes as parallel lists, addressed by [lo, hi) ranges (no copies).

    This is the hot loop of every block commit. It works on copies of the pages it passes through
    (a decoded page is shared with the cache and never changed), rewrites the entries on the changed
    paths, and keeps every page whose top hash changed for one write at the end.
    """

    def __init__(self, load: Callable[[Position], Page], h: HashFn, keys: list[bytes], values: list[bytes],
                 version: int) -> None:
        self.load = load
        self.h = h
        self.keys = keys
        self.values = values
        self.version = version.to_bytes(_VERSION_SIZE, "big")
        self.new_pages: dict[Position, tuple[bytes, Page]] = {}

    def write(self, path: bytes, page: Page) -> None:
        """Keep ``page`` (whose top node sits at ``path``) for the store, encoded; a top internal node keeps no hash."""
        if page[1][0] >> 6 == _KIND_NODE:
            page[1] = _TOP_ENTRY
        self.new_pages[self.version + path] = (b"".join([page[slot] for slot in sorted(page)]), page)

    def subtree(self, page: Page, slot: int, depth: int, lo: int, hi: int) -> bytes | None:
        """Apply changes[lo:hi] to the subtree at ``slot`` of ``page`` (a copy being rewritten).

        Returns the subtree's new hash, or None if nothing in it changed (values rewritten unchanged):
        then neither ``page`` nor any page below it was touched.
        """
        if hi - lo == 1:
            return self.one(page, slot, depth, lo)
        entry = page.get(slot)
        if entry is None:
            return self.build(page, slot, depth, lo, hi, None)
        kind = entry[0] >> 6
        if kind == _KIND_LEAF:
            return self.merge_leaf(page, slot, depth, lo, hi, entry)
        if kind == _KIND_PAGE:
            path = _path(depth, self.keys[lo])
            below = dict(self.load(entry[33:41] + path))
            new = self.subtree(below, 1, depth, lo, hi)
            if new is not None:
                self.write(path, below)
                page[slot] = _PAGE_HEADS[slot] + new + self.version
            return new
        if depth == MAX_DEPTH:
            raise IntegrityFault(f"smt_nodes {describe_position(self.version + _path(depth, self.keys[lo]))}",
                                 "internal node below depth 256")
        mid = _split(self.keys, lo, hi, depth)
        left, right = 2 * slot, 2 * slot + 1
        new_left = None if lo == mid else self.subtree(page, left, depth + 1, lo, mid)
        new_right = None if mid == hi else self.subtree(page, right, depth + 1, mid, hi)
        if new_left is None and new_right is None:
            return None
        new = self.h(_NODE_PREFIX + (new_left or _hash_of(page.get(left))) + (new_right or _hash_of(page.get(right))))
        page[slot] = _NODE_HEADS[slot] + new
        return new

    def one(self, page: Page, slot: int, depth: int, index: int) -> bytes | None:
        """``subtree`` for a single change (most of a block's paths below the top levels), without recursion."""
        key = self.keys[index]
        above: list[tuple[Page, int, int, Page | None, bytes]] = []  # (page, slot, bit taken, page below, its path)
        while True:
            entry = page.get(slot)
            if entry is None:
                new = self.put_leaf(page, slot, key, self.values[index], None)
                break
            kind = entry[0] >> 6
            if kind == _KIND_LEAF:
                changed = self.merge_leaf(page, slot, depth, index, index + 1, entry)
                if changed is None:
                    return None  # the value was rewritten unchanged: nothing above changes either
                new = changed
                break
            if kind == _KIND_PAGE:
                path = _path(depth, key)
                below = dict(self.load(entry[33:41] + path))
                above.append((page, slot, -1, below, path))
                page, slot = below, 1
                continue
            if depth == MAX_DEPTH:
                raise IntegrityFault(f"smt_nodes {describe_position(self.version + _path(depth, key))}",
                                     "internal node below depth 256")
            bit = _bit(key, depth)
            above.append((page, slot, bit, None, b""))
            slot = 2 * slot + bit
            depth += 1
        # Rehash upwards; a page is complete once the walk climbs out of it.
        h, version = self.h, self.version
        for parent, slot, bit, child, path in reversed(above):
            if child is not None:
                self.write(path, child)
                parent[slot] = _PAGE_HEADS[slot] + new + version
            elif bit:
                sibling = parent.get(2 * slot)
                new = h(_NODE_PREFIX + (EMPTY if sibling is None else sibling[1:33]) + new)
                parent[slot] = _NODE_HEADS[slot] + new
            else:
                sibling = parent.get(2 * slot + 1)
                new = h(_NODE_PREFIX + new + (EMPTY if sibling is None else sibling[1:33]))
                parent[slot] = _NODE_HEADS[slot] + new
        return new

    def put_leaf(self, page: Page, slot: int, key_hash: bytes, value_hash: bytes, node_hash: bytes | None) -> bytes:
        """Store a shortcut leaf at ``slot`` (``node_hash`` given when it is known already); its hash."""
        if node_hash is None:
            node_hash = self.h(_LEAF_PREFIX + key_hash + value_hash)
        page[slot] = _LEAF_HEADS[slot] + node_hash + key_hash + value_hash
        return node_hash

    def merge_leaf(  # noqa: PLR0913, PLR0917  (the hot loop: bundling the arguments would cost a tuple a call)
        self, page: Page, slot: int, depth: int, lo: int, hi: int, entry: bytes
    ) -> bytes | None:
        """The subtree a shortcut leaf (``entry`` at ``slot``) becomes with changes[lo:hi] in it (None: unchanged)."""
        old_key, old_value = entry[33:65], entry[65:97]
        at = bisect_left(self.keys, old_key, lo, hi)
        if at < hi and self.keys[at] == old_key:
            if hi - lo == 1 and self.values[at] == old_value:
                return None
            return self.build(page, slot, depth, lo, hi, None)
        return self.build(page, slot, depth, lo, hi, (old_key, old_value, entry[1:33]))

    def build(  # noqa: PLR0913, PLR0917  (as merge_leaf)
        self, page: Page, slot: int, depth: int, lo: int, hi: int, old: _OldLeaf | None
    ) -> bytes:
        """The subtree holding changes[lo:hi] plus ``old`` (moved down to its new depth), at ``slot``; its hash."""
        count = hi - lo + (old is not None)
        if count == 0:
            return EMPTY
        if count == 1:
            if old is not None:  # same leaf, deeper: stored again there
                return self.put_leaf(page, slot, old[0], old[1], old[2])
            return self.put_leaf(page, slot, self.keys[lo], self.values[lo], None)
        if slot >= _BOUNDARY:  # a subtree of two keys or more below the page: it gets a page of its own
            below: Page = {}
            new = self.build(below, 1, depth, lo, hi, old)
            self.write(_path(depth, self.keys[lo] if lo < hi else old[0] if old else EMPTY), below)
            page[slot] = _PAGE_HEADS[slot] + new + self.version
            return new
        mid = _split(self.keys, lo, hi, depth) if lo < hi else lo
        old_right = old is not None and _bit(old[0], depth) == 1
        left = self.build(page, 2 * slot, depth + 1, lo, mid, None if old_right else old)
        right = self.build(page, 2 * slot + 1, depth + 1, mid, hi, old if old_right else None)
        new = self.h(_NODE_PREFIX + left + right)
        page[slot] = _NODE_HEADS[slot] + new
        return new


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
