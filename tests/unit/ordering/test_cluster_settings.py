"""A development cluster node knows its peers' API URLs from cluster.json.

The registry's node fetches a material uploaded at a bank's node from that bank's node (design §3.22);
without peers in its settings it never could, under ``estatechain up --cluster``.
"""

from __future__ import annotations

import json
from pathlib import Path

from estatechain.cli.cluster import cluster_settings
from estatechain.ordering.natsconfig import Credentials


def test_every_other_member_node_is_a_peer_on_loopback(tmp_path: Path) -> None:
    (tmp_path / "cluster").mkdir()
    credentials = {}
    for org in ("gz-registry", "icbc-gz"):
        path = tmp_path / f"{org}.json"
        Credentials(user=org, password="s3cret-enough", inbox_prefix=f"_INBOX_{org}").save(path)
        credentials[org] = str(path)
    (tmp_path / "cluster" / "cluster.json").write_text(json.dumps({
        "servers": ["nats://127.0.0.1:4222"], "monitoring": ["http://127.0.0.1:8222"],
        "credentials": credentials, "nodes": {"gz-registry": 8700, "icbc-gz": 8701}}), encoding="utf-8")
    settings = cluster_settings(tmp_path, "gz-registry", 8700, create=False)
    assert settings["peers"] == {"icbc-gz": "http://127.0.0.1:8701"}
