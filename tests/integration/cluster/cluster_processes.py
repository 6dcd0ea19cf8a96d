"""Shared set-up of the process-level cluster tests: a small dev consortium and its running ``DevCluster``.

Imported by module name (like ``nats_support``), not a conftest, so each test module decides
whether it shares a cluster or breaks its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from estatechain.testing.devcluster import NODE_ORGS, DevCluster, prepare_consortium

SEED: Final = 20260104
UNITS: Final = 50

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
    """Run ``coro`` on a fresh event loop, bounded by ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@contextmanager
def dev_cluster(directory: Path, orgs: Sequence[str] = NODE_ORGS) -> Iterator[DevCluster]:
    """A fresh consortium of ``UNITS`` units in ``directory`` and its cluster, register committed everywhere."""
    prepare_consortium(directory, units=UNITS, seed=SEED)
    with DevCluster(directory, orgs=orgs, stop_timeout_s=5.0) as cluster:
        yield cluster
