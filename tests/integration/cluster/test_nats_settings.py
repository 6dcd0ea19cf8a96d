"""The cluster's durability settings, and the start-up check that refuses a cluster without them."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from nats.js.api import DiscardPolicy, StorageType

from estatechain.ordering import subjects
from estatechain.ordering.streams import ClusterMisconfigured, check_cluster, stream_config
from estatechain.testing.natscluster import NatsCluster

from .nats_support import TAG, connect, run, start_cluster


def test_cluster_fsyncs_every_write_and_streams_are_r3_file_discard_new_undeletable(nats_cluster: NatsCluster) -> None:
    for url in nats_cluster.monitoring_urls:
        config = httpx.get(f"{url}/varz", timeout=5).json()["jetstream"]["config"]
        assert config["sync_always"] is True  # sync_interval still prints the 2-minute default

    async def scenario() -> None:
        async with connect(nats_cluster, "icbc-gz") as bank:
            js = bank.nc.jetstream(timeout=5)
            await check_cluster(js, nats_cluster.monitoring_urls, TAG)  # a bank's node may run here
            for name in (subjects.tx_stream(TAG), subjects.att_stream(TAG)):
                config = (await js.stream_info(name)).config
                assert config.num_replicas == 3
                assert config.storage == StorageType.FILE
                assert config.discard == DiscardPolicy.NEW
                assert config.deny_delete
                assert config.deny_purge
                assert not config.allow_rollup_hdrs
                assert config.duplicate_window == 120.0

    run(scenario())


def test_credentials_files_are_private(nats_cluster: NatsCluster) -> None:
    for path in [*nats_cluster.files.credentials.values(), *nats_cluster.files.configs]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_node_refuses_a_cluster_without_fsync_and_streams_without_safety_settings(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path, sync_always=False)
    try:

        async def scenario() -> None:
            async with connect(cluster, "operator") as operator:
                js = operator.nc.jetstream(timeout=5)
                tx_subjects = [subjects.tx_subjects(TAG)]
                loose = stream_config(subjects.tx_stream(TAG), tx_subjects, replicas=1, duplicate_window=1)
                loose.storage, loose.discard = StorageType.MEMORY, DiscardPolicy.OLD
                loose.deny_delete = loose.deny_purge = False
                await js.add_stream(loose)
                with pytest.raises(ClusterMisconfigured) as refused:
                    await check_cluster(js, cluster.monitoring_urls, TAG)
            problems = refused.value.problems
            message = str(refused.value)
            for url in cluster.monitoring_urls:
                assert f"{url}: JetStream does not fsync every write" in message
            tx = subjects.tx_stream(TAG)
            for expected in (f"stream {tx}: replicas 1", f"stream {tx}: storage memory", f"stream {tx}: discard old",
                             f"stream {tx}: deny_delete is off", f"stream {tx}: deny_purge is off",
                             f"stream {tx}: duplicate window 1.0s", f"stream {subjects.att_stream(TAG)}: missing"):
                assert any(p.startswith(expected) for p in problems), (expected, problems)
            assert "sync_interval: always" in message

        run(scenario())
    finally:
        cluster.close()
