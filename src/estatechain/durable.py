"""Files that must survive a crash once written: one way to write them, for every part that keeps files.

A node keeps more than its SQLite ledger: uploaded materials, sealed certificate copies, wrapped keys
of personal records, keystore entries. Each is acknowledged to someone (a hash returned to a bank, a
certificate handed out) and must then be there after ``kill -9`` or a power cut, whole or not at all.
``write_durably`` does the sequence that guarantees it on POSIX file systems: a temporary file in the
same folder, every byte written and fsynced, an atomic rename over the target, then an fsync of the
folder (and of any folder it had to create) so the rename itself is on disk.

A node's audit logs (the certificate and party-id lookups, the materials fetched from and given to
peer nodes) are appended instead, one JSON object a line, by ``append_records``: each line is written
and fsynced before the request it records is answered, so a log is evidence of what the node did.
Request handlers write them through ``audit_log.AuditLog``, off the event loop.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from estatechain.canonical import JSONValue


def fsync_dir(directory: Path) -> None:
    """Make the entries of ``directory`` (a rename, a new or removed file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, flags: int, mode: int, data: bytes) -> None:
    """Open ``path`` with ``flags`` (created with ``mode``), write all of ``data`` and fsync it before closing."""
    fd = os.open(path, flags, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``path`` atomically and durably (see the module); a crash leaves the old file or the new one.

    The file is created with ``mode`` (private by default). A temporary file that a crash left behind
    is named ``.<name>.<random>.tmp`` beside the target and is never read.
    """
    created = [p for p in (path.parent.parent, path.parent) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    _write_synced(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode, data)
    try:
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    for directory in created:
        fsync_dir(directory.parent)


def append_records(path: Path, records: Sequence[Mapping[str, JSONValue]], *, mode: int = 0o600) -> None:
    """Append ``records`` to the JSON-lines log ``path``, a line each, in one ``write`` and one fsync.

    The file is opened for each call and never rewritten, so an operator may move a log aside while
    the node runs (the next line starts a new file) and a crash loses at most the lines being written.
    A new file is created with ``mode``, private by default as ``write_durably``'s: these logs name
    residents' certificates and identity lookups, and must not become readable by every local user
    through the process's umask. The folder is synced when the file is new, and folders it had to
    make are synced into their parents as well.

    The file is opened with ``O_APPEND`` and all the lines go in a single ``write(2)``: on Linux a write
    to a local regular file holds the file's lock for its whole length, so another appender (another
    thread or process) cannot put bytes inside these lines. POSIX promises only that each write starts
    at the end; in one process each log is written by one thread (``audit_log.AuditLog``). Only a short write
    (a full disk, a signal) is continued by a second ``write``, and may then be cut as a crash would.
    """
    data = b"".join(orjson.dumps(record) + b"\n" for record in records)
    created = [p for p in (path.parent.parent, path.parent) if not p.exists()]
    made = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_synced(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode, data)
    if made:
        fsync_dir(path.parent)
    for directory in created:
        fsync_dir(directory.parent)
