"""Helpers for tests against a real nats-server cluster: connections that record server errors, bounded runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats
from nats.aio.client import Client

from estatechain.testing.natscluster import NatsCluster

TAG = "5eedc0ffee000001"
"""Chain tag of the test consortium (any 16 hex characters)."""

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run ``coro`` on a fresh event loop, bounded by ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@dataclass
class Connection:
    """A client connection and the asynchronous errors (permission violations) the server sent it."""

    nc: Client
    errors: list[str] = field(default_factory=list)

    async def violation(self, fragment: str) -> str:
        """The first permissions-violation error mentioning ``fragment``, waiting up to 3 s for it."""
        for _ in range(60):
            for error in self.errors:
                if "permissions violation" in error.lower() and fragment.lower() in error.lower():
                    return error
            await asyncio.sleep(0.05)
        raise AssertionError(f"no permissions violation for {fragment!r} within 3 s; errors: {self.errors}")


@asynccontextmanager
async def connect(cluster: NatsCluster, user: str) -> AsyncIterator[Connection]:
    """Connect as ``user`` (an org id or ``operator``) with its own credentials and inbox prefix."""
    connection: Connection | None = None

    async def on_error(error: Exception) -> None:
        if connection is not None:
            connection.errors.append(str(error))

    nc = await nats.connect(
        servers=cluster.client_urls,
        connect_timeout=5,
        max_reconnect_attempts=2,
        error_cb=on_error,
        **cluster.credentials(user).connect_options(),
    )
    connection = Connection(nc)
    try:
        yield connection
    finally:
        await nc.close()


def start_cluster(directory: Path, *, tag: str = TAG, sync_always: bool = True) -> NatsCluster:
    """A started cluster; the caller stops it."""
    cluster = NatsCluster(directory, tag=tag, sync_always=sync_always)
    try:
        cluster.start()
    except BaseException:
        cluster.close()
        raise
    return cluster


