"""Fixtures for tests against a real nats-server cluster on loopback.

A cluster starts in about two seconds, so each test module shares one (``nats_cluster``) unless it
breaks it; the servers stop when the module ends, also after a failure, and die with the pytest
process if it is killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.ordering.streams import ensure_streams
from estatechain.testing.natscluster import NatsCluster

from .inprocess import World, start_world
from .nats_support import TAG, connect, run, start_cluster


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """A 3-server cluster with both ledger streams created by the operator, shared by one module."""
    cluster = start_cluster(tmp_path_factory.mktemp("nats"))
    try:

        async def create() -> None:
            async with connect(cluster, "operator") as operator:
                await ensure_streams(operator.nc, TAG)

        run(create())
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A consortium and a NATS cluster of its own, for in-process nodes that bend ledgers or streams."""
    made = start_world(tmp_path)
    try:
        yield made
    finally:
        made.cluster.close()


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One consortium and NATS cluster for a module whose tests leave the stream usable for the next."""
    made = start_world(tmp_path_factory.mktemp("world"))
    try:
        yield made
    finally:
        made.cluster.close()
