"""What the operator sees when NATS is unreachable: a node that cannot start says so and exits; a running
node whose NATS servers died logs the loss once, not a traceback per reconnect attempt, and is not ready
until they are back; a node whose stream has no quorum is not ready while ``/v1/health`` still answers.

The start-up test runs the real ``estatechain node`` command in a subprocess against closed ports, with
the 60 s start-up wait shortened to 3 s (the constant the runbook quotes); the others run nodes in the
test's event loop over a real NATS cluster of their own, since they kill or pause its servers. The
same unreachable start is the cheapest way to make a real node process log, so the log format is
checked there too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from estatechain.api.server import NodeServer
from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.cluster import ClusterPipeline
from estatechain.node.finality import Alarm
from estatechain.ordering.natsconfig import free_ports

from .inprocess import World, until
from .nats_support import run

ORG = "poly-developer"
START_WAIT_S = 3
"""The node's start-up wait for NATS in the subprocess test (60 s in production)."""
EXIT_WITHIN_S = 40.0
"""The node must have exited by then; before the fix it retried forever."""

_NODE = f"""
import sys
import estatechain.node.cluster as cluster
cluster.CONNECT_S = {START_WAIT_S}.0
from estatechain.cli.main import main
sys.argv = ["estatechain", *sys.argv[1:]]
main()
"""


def _closed_cluster(directory: Path) -> Path:
    """A consortium whose cluster.json names NATS servers and monitoring ports where nothing listens."""
    create_dev_consortium(directory, now_ms=SystemClock().now_ms())
    ports = free_ports(6)  # free now, nothing is started on them
    credentials = directory / "cluster" / f"{ORG}.json"
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(json.dumps({"user": ORG, "password": "x", "inbox_prefix": f"_INBOX_{ORG}"}))
    (directory / "cluster" / "cluster.json").write_text(json.dumps({
        "servers": [f"nats://127.0.0.1:{p}" for p in ports[:3]],
        "monitoring": [f"http://127.0.0.1:{p}" for p in ports[3:]],
        "credentials": {ORG: str(credentials)},
        "nodes": {},
    }))
    return directory


def test_a_node_that_cannot_reach_nats_exits_at_start_with_one_clear_line(tmp_path: Path) -> None:
    directory = _closed_cluster(tmp_path / "consortium")
    (port,) = free_ports(1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    started = time.monotonic()
    with subprocess.Popen([sys.executable, "-c", _NODE, "node", str(directory), "--org", ORG, "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as node:
        try:
            _, err = node.communicate(timeout=EXIT_WITHIN_S)
        except subprocess.TimeoutExpired:
            node.kill()
            _, err = node.communicate()
            pytest.fail(f"the node still ran after {EXIT_WITHIN_S:.0f} s (waiting {START_WAIT_S} s for NATS); "
                        f"{len(err):,} bytes on stderr, {err.count(b'Traceback'):,} tracebacks")
    took = time.monotonic() - started
    text = err.decode()
    assert node.returncode != 0, text
    assert f"the NATS cluster did not answer within {START_WAIT_S} s" in " ".join(text.split())
    assert "Traceback" not in text
    assert "encountered error" not in text
    assert len(text.splitlines()) <= 10, text
    assert took < START_WAIT_S + 20, f"took {took:.0f} s"


TEXT_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (WARNING|ERROR) estatechain\.[a-z_.]+: \S")
"""``2026-01-04T08:30:00.125Z WARNING estatechain.ordering.connection: no NATS server …``"""


def _node_stderr(directory: Path, *options: str, env: dict[str, str] | None = None) -> list[str]:
    """The lines a node that cannot reach NATS writes to standard error before it exits (bounded)."""
    (port,) = free_ports(1)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), **(env or {})}
    result = subprocess.run([sys.executable, "-c", _NODE, *options, "node", str(directory), "--org", ORG,
                             "--port", str(port)], capture_output=True, text=True, env=environment,
                            timeout=EXIT_WITHIN_S, check=False)
    assert result.returncode != 0, result.stderr
    return result.stderr.splitlines()


def test_a_node_s_log_lines_carry_a_utc_time_a_level_and_the_logger_as_text_or_json(tmp_path: Path) -> None:
    """An operator lines up a node's log with its peers' by time and filters it by level.

    Before, nothing configured logging: the lines were bare messages ("no NATS server of … answers
    yet"), with no time and no level.
    """
    directory = _closed_cluster(tmp_path / "consortium")
    lines = _node_stderr(directory, "--log-level", "warning")
    logged = [line for line in lines if "no NATS server of" in line and "answers yet" in line]
    assert len(logged) == 1, lines
    assert TEXT_LOG_LINE.match(logged[0]), logged[0]
    assert " WARNING estatechain.ordering.connection: no NATS server of " in logged[0]

    records = [json.loads(line) for line in _node_stderr(directory, env={"ESTATECHAIN_LOG_FORMAT": "json"})
               if line.startswith("{")]
    answers = [r for r in records if "answers yet" in r["message"]]
    assert len(answers) == 1, records
    assert answers[0]["level"] == "WARNING"
    assert answers[0]["logger"] == "estatechain.ordering.connection"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", answers[0]["time"])

    quiet = _node_stderr(directory, env={"ESTATECHAIN_LOG_LEVEL": "error"})
    assert not [line for line in quiet if "answers yet" in line], quiet  # a warning, below the level asked for


def test_a_running_node_that_loses_every_nats_server_logs_it_once_and_is_unready_until_back(
    world: World, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)

    async def scenario() -> list[logging.LogRecord]:
        node = world.pipeline("icbc-gz")
        task = asyncio.create_task(node.run())
        try:
            await until(lambda: node.ordering_ready, what="node connected", why=lambda: node.fault)
            caplog.clear()
            for index in range(world.cluster.size):
                world.cluster.kill(index)
            await asyncio.sleep(8.0)  # before the fix: about 400 lines (20 KB) a second, with tracebacks
            outage = list(caplog.records)
            caplog.clear()
            lines = [r.getMessage() for r in outage]
            tracebacks = [r for r in outage if r.exc_info]
            assert tracebacks == [], f"{len(tracebacks)} tracebacks (expected connection errors), {len(lines)} lines"
            assert sum("lost the connection to the NATS cluster" in line for line in lines) == 1, lines
            assert len(lines) <= 8, lines  # lost; each reader's consumer; no line repeats within a minute
            assert not node.ordering_ready
            assert not node.nats_connected
            assert "no connection to the NATS cluster" in str(node.ordering_trouble)
            world.cluster.restart_stopped()  # in this thread: the servers die with the thread that starts them
            await until(lambda: node.ordering_ready, within_s=30, what="ready again", why=lambda: node.ordering_trouble)
            await until(lambda: any("is back" in r.getMessage() for r in caplog.records), within_s=10,
                        what="the 'back' line")
            assert node.nats_connected
            return list(caplog.records)
        finally:
            node.stop()
            await asyncio.wait_for(task, 20)
            node.store.close()

    back = run(scenario(), timeout=120)
    assert [r for r in back if r.exc_info] == []
    assert any("the connection to the NATS cluster is back after" in r.getMessage() for r in back)


PAUSED_DETECTED_S = 30.0
"""A paused server is given up after 15 s of unanswered pings (5 s, 2 outstanding); before: 4 to 6 minutes."""


def test_a_node_on_a_paused_server_moves_to_another_within_seconds_and_one_closed_for_good_says_restart(
    world: World, caplog: pytest.LogCaptureFixture,
) -> None:
    """A paused server keeps its TCP connections open and answers nothing: only pings find it out.

    Then nats-py closing the connection itself (as it does on a server error it cannot recover from)
    leaves the node unready, saying to restart it, with one error line, not "reconnecting" forever.
    """
    caplog.set_level(logging.WARNING)

    async def scenario() -> None:
        node = world.pipeline("icbc-gz")
        task = asyncio.create_task(node.run())
        paused: int | None = None
        try:
            await until(lambda: node.ordering_ready, what="node connected", why=lambda: node.fault)
            client = node.transport.client

            def server_index() -> int:
                url = client.connected_url
                assert url is not None
                return next(i for i, u in enumerate(world.cluster.client_urls) if u.endswith(f":{url.port}"))

            paused = server_index()
            world.cluster.pause(paused)
            await until(lambda: node.nats_connected and server_index() != paused, within_s=PAUSED_DETECTED_S,
                        what="the node connected to another server", why=lambda: client.connected_url)
            world.cluster.resume(paused)
            paused = None
            await until(lambda: node.ordering_ready, within_s=30, what="ready on the other servers",
                        why=lambda: node.ordering_trouble)

            caplog.clear()
            await client.close()  # not through the node: as nats-py does after an unrecoverable server error
            await until(lambda: not node.ordering_ready, within_s=5, what="unready once closed")
            assert "will not be reopened" in str(node.ordering_trouble)
            assert "restart the node" in str(node.ordering_trouble)
            closed = [r for r in caplog.records if "will not be reopened" in r.getMessage()]
            assert [r.levelno for r in closed] == [logging.ERROR], [r.getMessage() for r in caplog.records]
        finally:
            if paused is not None:
                world.cluster.resume(paused)
            node.stop()
            await asyncio.wait_for(task, 20)
            node.store.close()

    run(scenario(), timeout=120)


def test_ready_and_its_metric_say_not_ready_without_quorum_or_with_the_divergence_alarm_and_health_stays_ok(
    world: World,
) -> None:
    (port,) = free_ports(1)
    base = f"http://127.0.0.1:{port}"

    async def scenario() -> None:
        server = NodeServer(world.service("icbc-gz", port=port), log_level="warning")
        serving = asyncio.create_task(server.serve())
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                await until(lambda: server.started and server.service.ready, what="node serving")
                assert (await http.get("/v1/ready")).status_code == 200
                world.cluster.pause(1)
                world.cluster.pause(2)
                try:
                    # the stream's leader may count a silent replica as current for some seconds: bound generously
                    await until(lambda: not server.service.ready, within_s=30, what="not ready without quorum")
                    ready = await http.get("/v1/ready")
                    assert ready.status_code == 503
                    body = ready.json()
                    assert body["error"] == "NOT_READY"
                    assert "ordering stream" in body["message"] or "NATS" in body["message"], body
                    assert "estatechain_ready 0.0" in (await http.get("/metrics")).text
                    assert (await http.get("/v1/health")).status_code == 200
                finally:
                    world.cluster.resume(1)
                    world.cluster.resume(2)
                await until(lambda: server.service.ready, within_s=60, what="ready again after the quorum is back",
                            why=lambda: server.service.unready_reason)
                assert (await http.get("/v1/ready")).status_code == 200
                metrics = (await http.get("/metrics")).text
                assert "estatechain_ready 1.0" in metrics
                assert "estatechain_nats_connected 1.0" in metrics

                pipeline = server.service.pipeline
                assert isinstance(pipeline, ClusterPipeline)
                pipeline.finality.alarm = Alarm(height=7, org="gz-court", ours=("a" * 64, "b" * 64),
                                                theirs=("c" * 64, "d" * 64))  # as a differing attestation sets it
                ready = await http.get("/v1/ready")
                assert ready.status_code == 503
                assert ready.json()["error"] == "NOT_READY"
                assert ready.json()["message"].startswith("DIVERGENCE at height 7: gz-court attests block")
                metrics = (await http.get("/metrics")).text
                assert "estatechain_ready 0.0" in metrics
                assert "estatechain_divergence 1.0" in metrics
                assert (await http.get("/v1/health")).status_code == 200
        finally:
            server.stop()
            await asyncio.wait_for(serving, 30)

    run(scenario(), timeout=150)
