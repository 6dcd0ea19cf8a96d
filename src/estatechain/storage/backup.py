"""Backup and restore of one node: ledger, outbox, sealed records, materials and the org's keys (design §3.22).

``backup`` copies every SQLite file of the node with SQLite's online backup API, which reads a
consistent snapshot in one read transaction while the node keeps committing (WAL-safe: committed
frames still in the ``-wal`` file are included, uncommitted ones are not). Other files are copied
byte for byte with their permission bits (private keys stay 0600). A manifest in canonical JSON
names every file with its size, mode and SHA-256 and records the ledger's height and head hash as
the snapshot holds them. Everything is fsynced before ``backup`` returns.

``restore`` checks the whole archive against its manifest before it writes anything, copies the
files back and re-audits the restored ledger from its bytes.

Archive layout::

    ARCHIVE/manifest.json
    ARCHIVE/node/...          the node directory (ledger.sqlite, outbox.sqlite, sealed/, materials/, ...)
    ARCHIVE/keys/...          the org's key folder orgs/<org>/ when the node sits in a consortium folder
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

import orjson

from estatechain import canonical
from estatechain.errors import Conflict, InputError, IntegrityFault
from estatechain.storage.audit import AuditReport, audit_ledger
from estatechain.storage.store import LEDGER_FILE, LedgerStore

MANIFEST_FILE: Final = "manifest.json"
FORMAT: Final = "estatechain-backup/1"
NODE_PART: Final = "node"
KEYS_PART: Final = "keys"

_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_SKIPPED_SUFFIXES: Final = ("-wal", "-shm", "-journal", ".lock")
"""SQLite side files and writer locks: the backup API already folds committed WAL frames in."""
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One archived file as the manifest lists it."""

    path: str
    size: int
    mode: int
    sha256: str


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What ``backup`` wrote."""

    archive: Path
    files: tuple[FileEntry, ...]
    org: str | None
    height: int
    head_hash: str


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What ``restore`` wrote and what the audit of the restored ledger found."""

    node_dir: Path
    keys_dir: Path | None
    files: int
    report: AuditReport


def _consortium_roots(node_dir: Path) -> tuple[Path, ...]:
    """Where a node folder's consortium may be: ``<dir>`` of ``<dir>/nodes/<org>`` or ``<dir>/cluster/nodes/<org>``.

    A development cluster keeps its nodes under ``cluster/`` and its orgs' keys beside, in ``<dir>/orgs``
    (as ``node/keys.py`` finds them); looking only one level up missed them, and the backup left them out.
    """
    resolved = node_dir.resolve()
    if resolved.parent.name != "nodes":
        return ()
    root = resolved.parent.parent
    return (root, root.parent) if root.name == "cluster" else (root,)


def consortium_org(node_dir: Path) -> tuple[str, Path] | None:
    """``(org, key folder)`` if ``node_dir`` is a consortium's node folder whose org has ``orgs/<org>/``."""
    org = node_dir.resolve().name
    return next(((org, root / "orgs" / org) for root in _consortium_roots(node_dir)
                 if (root / "orgs" / org).is_dir()), None)


def default_keys_dir(node_dir: Path, org: str) -> Path | None:
    """Where ``restore`` puts the org's keys unless told: the consortium's ``orgs/<org>`` for a consortium node dir.

    ``None`` when ``node_dir`` is not ``DIR/nodes/<org>`` (or ``DIR/cluster/nodes/<org>``): nothing would
    look for the keys anywhere else (``node/keys.py`` finds them only in that layout), so the operator
    names their place with ``--keys-dir`` rather than finding them later inside the node folder.
    """
    roots = _consortium_roots(node_dir)
    return roots[-1] / "orgs" / org if roots else None


def backup(node_dir: Path, archive: Path) -> BackupResult:
    """Copy the node in ``node_dir`` (and its org's keys) into the new or empty directory ``archive``.

    Raises:
        InputError: ``node_dir`` holds no ledger.
        Conflict: ``archive`` exists and is not empty.

    """
    if not (node_dir / LEDGER_FILE).is_file():
        raise InputError(f"no ledger at {node_dir / LEDGER_FILE}; pass a node directory such as DIR/nodes/<org>")
    _require_empty(archive, "archive directory")
    archive.mkdir(parents=True, exist_ok=True)
    entries: list[FileEntry] = []
    _copy_tree(node_dir, archive, NODE_PART, entries)
    located = consortium_org(node_dir)
    org = None
    if located is not None:
        org, keys = located
        _copy_tree(keys, archive, KEYS_PART, entries)
    height, head_hash, chain_id = _ledger_head(archive / NODE_PART)
    manifest = {
        "format": FORMAT,
        "org": org,
        "chain_id": chain_id,
        "ledger": {"height": height, "head_hash": head_hash},
        "files": [{"path": e.path, "size": e.size, "mode": e.mode, "sha256": e.sha256}
                  for e in sorted(entries, key=lambda e: e.path)],
    }
    _write_synced(archive / MANIFEST_FILE, canonical.encode(manifest), 0o644)
    for directory in sorted({(archive / e.path).parent for e in entries} | {archive}, reverse=True):
        _fsync_dir(directory)
    _fsync_dir(archive.parent)
    return BackupResult(archive=archive, files=tuple(entries), org=org, height=height, head_hash=head_hash)


def verify_archive(archive: Path) -> tuple[dict[str, object], list[FileEntry]]:
    """Check every file of ``archive`` against its manifest; return the manifest and its entries.

    Raises:
        IntegrityFault: naming the first file that is missing, extra, or differs in size or hash.

    """
    manifest, entries = read_manifest(archive)
    _check_files(archive, entries)
    return manifest, entries


def read_manifest(archive: Path) -> tuple[dict[str, object], list[FileEntry]]:
    """The manifest of ``archive`` and its file entries, checked for form only (no file is hashed).

    ``restore`` reads it first so that a destination it cannot use is refused at once, not after
    hashing a ledger of many gigabytes.

    Raises:
        IntegrityFault: the manifest is missing, not JSON, of another format, or lists a path outside the archive.

    """
    manifest_path = archive / MANIFEST_FILE
    try:
        manifest = orjson.loads(manifest_path.read_bytes())
    except FileNotFoundError:
        raise IntegrityFault(str(manifest_path), "the archive has no manifest") from None
    except orjson.JSONDecodeError as exc:
        raise IntegrityFault(str(manifest_path), f"the manifest is not JSON: {exc}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list) or manifest.get("format") != FORMAT:
        raise IntegrityFault(str(manifest_path), f"not an {FORMAT} manifest")
    return manifest, [_entry(raw, manifest_path) for raw in files]


def _check_files(archive: Path, entries: list[FileEntry]) -> None:
    """Every listed file is there with its size and hash, and no file is there that the manifest does not list."""
    listed = {e.path for e in entries}
    for entry in entries:
        path = archive / entry.path
        if not path.is_file():
            raise IntegrityFault(entry.path, "listed in the manifest but missing from the archive")
        size = path.stat().st_size
        if size != entry.size:
            raise IntegrityFault(entry.path, f"size {size} differs from the manifest's {entry.size}")
        if _sha256(path) != entry.sha256:
            raise IntegrityFault(entry.path, "SHA-256 differs from the manifest: the file was changed")
    for path in sorted(archive.rglob("*")):
        rel = path.relative_to(archive).as_posix()
        if path.is_file() and rel != MANIFEST_FILE and rel not in listed:
            raise IntegrityFault(rel, "in the archive but not in the manifest")


def restore(archive: Path, node_dir: Path, *, keys_dir: Path | None = None) -> RestoreResult:
    """Check ``archive``, copy it into the new or empty ``node_dir`` (keys to ``keys_dir``), audit the ledger.

    Every check that can refuse the restore runs before the first file is written: bad input (the
    archive folder, the destinations) first, since it is cheap to find, then the hash of every file.

    Raises:
        InputError: ``archive`` is not a folder; or the archive holds the org's keys, ``keys_dir`` is not
            given and their place cannot be derived (``node_dir`` is not ``DIR/nodes/<org>`` or
            ``DIR/cluster/nodes/<org>``, or the manifest names no org). Nothing is written.
        Conflict: ``node_dir`` or the keys' destination exists and is not empty (nothing is written).
        IntegrityFault: the archive does not match its manifest (nothing is written), or the restored
            ledger fails its audit or does not end at the manifest's head (the restored files stay).

    """
    if not archive.is_dir():
        raise InputError(f"no backup at {archive}: pass the folder `estatechain backup` wrote (it holds "
                         f"{MANIFEST_FILE}, node/ and, for a node in a consortium folder, keys/)")
    manifest, entries = read_manifest(archive)
    _require_own_org_folder(node_dir, manifest.get("org"))
    has_keys = any(e.path.startswith(KEYS_PART + "/") for e in entries)
    _require_empty(node_dir, "node directory",
                   f"restore never writes over a node: stop the node, move the folder aside "
                   f"(mv {node_dir} {node_dir}.old) and run restore again, or pass a new or empty directory")
    keys_target = _keys_destination(archive, manifest.get("org"), node_dir, keys_dir) if has_keys else None
    _check_files(archive, entries)
    written: set[Path] = set()
    for entry in entries:
        part, _, rel = entry.path.partition("/")
        root = node_dir if part == NODE_PART else keys_target
        assert root is not None
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_synced(archive / entry.path, target, entry.mode)
        written.add(target.parent)
    for directory in sorted(written | {node_dir}, reverse=True):
        _fsync_dir(directory)
    report = audit_ledger(node_dir)
    ledger = manifest.get("ledger")
    expected = ledger.get("head_hash") if isinstance(ledger, dict) else None
    if report.head_hash != expected:
        raise IntegrityFault(str(node_dir / LEDGER_FILE),
                             f"restored head {report.head_hash} differs from the manifest's {expected}")
    return RestoreResult(node_dir=node_dir, keys_dir=keys_target, files=len(entries), report=report)


def _require_own_org_folder(node_dir: Path, org: object) -> None:
    """Refuse restoring org A's node into a consortium's ``nodes/B``: the node takes its org from that name.

    It would start as B with A's ledger and look for B's keys, signing nothing or as the wrong member.

    Raises:
        InputError: ``node_dir`` is a consortium node folder (``DIR/nodes/<x>``) named after another org.

    """
    folder = node_dir.resolve()  # "." or a link: the name the node will take is the real folder's
    if isinstance(org, str) and org and _consortium_roots(node_dir) and folder.name != org:
        raise InputError(f"the archive is the node of {org}, but {folder} is the node folder of {folder.name}: "
                         f"a node takes its org from its folder's name, so it would run as {folder.name}; "
                         f"restore into {folder.parent / org} instead")


def _keys_destination(archive: Path, org: object, node_dir: Path, keys_dir: Path | None) -> Path:
    """Where the archive's ``keys/`` go: ``keys_dir`` if given, else the consortium's ``orgs/<org>``.

    Restoring a node in place (its folder moved aside, its org's keys still in ``orgs/<org>``) or
    into a folder outside a consortium both end here; the error names ``--keys-dir`` and what to
    pass, because that option is the way out and the operator would not otherwise know it exists.

    Raises:
        InputError: no ``keys_dir`` and the destination cannot be derived.
        Conflict: the destination exists and is not empty.

    """
    if keys_dir is not None:
        _require_empty(keys_dir, "key directory (--keys-dir)", "pass a new or empty directory for the archived keys")
        return keys_dir
    if not isinstance(org, str) or not org or PurePosixPath(org).name != org or org in {".", ".."}:
        raise InputError(f"{archive / MANIFEST_FILE} names no org for the keys the archive holds, so where they "
                         f"go cannot be derived; pass --keys-dir with a new or empty directory for them")
    target = default_keys_dir(node_dir, org)
    if target is None:
        suggestion = node_dir.resolve().parent / f"{org}-keys"
        raise InputError(f"the archive holds the keys of {org}, and {node_dir} is not a consortium's node folder "
                         f"(DIR/nodes/{org} or DIR/cluster/nodes/{org}), so where they go cannot be derived; "
                         f"pass --keys-dir with a new or empty directory for them, e.g. --keys-dir {suggestion}")
    _require_empty(target, "key directory",
                   f"the keys of {org} are already there (restoring a node in place?) and restore never writes "
                   f"over keys: if they are intact, pass --keys-dir with a new or empty directory "
                   f"(e.g. --keys-dir {target}.restored) for the archived copy; if they are damaged, "
                   f"move {target} aside and run restore again")
    return target


def _entry(raw: object, manifest_path: Path) -> FileEntry:
    if not isinstance(raw, dict):
        raise IntegrityFault(str(manifest_path), "a file entry is not an object")
    path, size, mode, digest = raw.get("path"), raw.get("size"), raw.get("mode"), raw.get("sha256")
    if not (isinstance(path, str) and isinstance(size, int) and isinstance(mode, int) and isinstance(digest, str)):
        raise IntegrityFault(str(manifest_path), f"malformed file entry {raw!r}")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or pure.parts[0] not in (NODE_PART, KEYS_PART) or len(pure.parts) < 2:
        raise IntegrityFault(path, "file path in the manifest escapes the archive")
    return FileEntry(path=path, size=size, mode=mode & 0o777, sha256=digest)


def _require_empty(directory: Path, what: str, fix: str = "pass a new or empty directory") -> None:
    """Refuse a destination that holds anything: backup and restore never write over a file."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise Conflict(f"{what} {directory} exists and is not empty; {fix}")


def _copy_tree(source: Path, archive: Path, part: str, entries: list[FileEntry]) -> None:
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.name.endswith(_SKIPPED_SUFFIXES):
            continue
        rel = f"{part}/{path.relative_to(source).as_posix()}"
        target = archive / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)
        if _is_sqlite(path):
            _sqlite_copy(path, target, mode)
        else:
            _copy_synced(path, target, mode)
        entries.append(FileEntry(path=rel, size=target.stat().st_size, mode=mode, sha256=_sha256(target)))


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def snapshot_ledger(node_dir: Path, target: Path) -> None:
    """A consistent, self-contained copy of ``node_dir``'s ledger file at ``target`` (a peer's join snapshot).

    Taken by SQLite's online backup inside one read transaction, so the writer keeps committing.
    """
    _sqlite_copy(node_dir / LEDGER_FILE, target, 0o600)


def _sqlite_copy(source: Path, target: Path, mode: int) -> None:
    """One consistent snapshot through the online backup API, stored as a self-contained file."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # pages=-1: the whole file in one step, inside one read transaction
            dst.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the archived copy
        finally:
            dst.close()
    finally:
        src.close()
    target.chmod(mode)
    _fsync_file(target)


def _copy_synced(source: Path, target: Path, mode: int) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        os.fchmod(out.fileno(), mode)
        shutil.copyfileobj(src, out, _CHUNK)
        out.flush()
        os.fsync(out.fileno())


def _write_synced(target: Path, data: bytes, mode: int) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _ledger_head(directory: Path) -> tuple[int, str, str]:
    store = LedgerStore.open(directory, readonly=True)
    try:
        return store.height, store.head_hash, store.genesis.chain_id
    finally:
        store.close()
