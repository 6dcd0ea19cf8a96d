"""A mortgage registration driven through three different org nodes of a running cluster (issue 7).

Real node processes over three real NATS servers on loopback: the bank files at its own node, the
owner confirms through the identity authority's node, the bank's approver confirms at the bank, and
the registry accepts, reviews, records and issues at its node. Each step is signed on the caller's
side with the caller's own key and commits only through the shared stream, so it ends CERTIFIED and
every node holds the same chain, state and consortium-final head.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from estatechain.cli.main import app
from estatechain.contract import keys
from estatechain.evidence.attestations import ATTESTATIONS_FILE
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import mortgage_first_body, with_uploaded_materials
from estatechain.testing.clusterload import ledger_facts
from estatechain.testing.devcluster import DevCluster

from .cluster_processes import dev_cluster, run

BANK = "icbc-gz"
OWNER = "gz-identity/person1"
CERTIFICATE = "粤(2026)广州市不动产证明第00000001号"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    with dev_cluster(tmp_path_factory.mktemp("flow")) as started:
        yield started


def mortgage_filing(owner: dict[str, Any], bank_party: str, contract: str) -> dict[str, Any]:
    today = dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    return mortgage_first_body(unit_number=owner["unit_number"], party_id=owner["party_id"],
                               record_ref=owner["record_ref"], bank_party=bank_party,
                               title_number=owner["title_number"], contract=contract, today=today)


async def step(cluster: DevCluster, org: str, handle: str, name: str, **fields: Any) -> str:
    """Workflow step ``name`` prepared by ``org``'s node, signed by ``handle``, committed valid there."""
    async with cluster.client(org, handle) as client:
        if name == "file":  # the filer's node must hold what the filing cites
            fields = await with_uploaded_materials(fields, client.upload_material)
        signed, status = await client.step(name, timeout_s=30, **fields)
        assert status.valid, (org, name, status.code, status.message, status.detail)
        return signed.tx_id


def bank_party(cluster: DevCluster) -> str:
    """The party id the identity authority bound to the bank (read from the bank node's own ledger)."""
    store = LedgerStore.open(cluster.ledger_dir(BANK), readonly=True)
    try:
        parties = [str(row["party_id"]) for _, row in store.scan(keys.org_of_party("")) if row.get("org") == BANK]
    finally:
        store.close()
    assert len(parties) == 1, parties
    return parties[0]


def final_orgs(cluster: DevCluster, org: str, height: int, block_hash: str) -> set[str]:
    """Orgs whose attestation of ``height`` with ``block_hash`` ``org``'s node has stored."""
    path = cluster.ledger_dir(org) / ATTESTATIONS_FILE
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT org FROM attestations WHERE height = ? AND block_hash = ?",
                            (height, block_hash)).fetchall()
    return {str(r[0]) for r in rows}


def test_a_registration_filed_at_a_bank_node_and_recorded_at_the_registry_node_is_certified_on_every_node(
    cluster: DevCluster,
) -> None:
    owner = cluster.dev_owners()[OWNER]
    assert owner["mortgages"] == [], "person1 is bound to an owner without mortgages (choose_dev_owners)"

    async def scenario() -> dict[str, Any]:
        party = bank_party(cluster)
        app = await step(cluster, BANK, f"{BANK}/operator1", "file", **mortgage_filing(owner, party, "LOAN-C-0001"))
        await step(cluster, "gz-identity", OWNER, "confirm", application_id=app, party_id=owner["party_id"])
        await step(cluster, BANK, f"{BANK}/approver1", "confirm", application_id=app, party_id=party)
        await step(cluster, "gz-registry", "gz-registry/intake1", "accept", application_id=app)
        await step(cluster, "gz-registry", "gz-registry/reviewer1", "review", application_id=app)
        await step(cluster, "gz-registry", "gz-registry/recorder2", "record", application_id=app)
        await step(cluster, "gz-registry", "gz-registry/issuer1", "issue", application_id=app,
                   document_sha256=h(f"pdf:{app}"))
        cluster.wait_tx(app)  # the filing, read back from the stream by every node
        async with cluster.client(BANK, f"{BANK}/operator1") as client:
            seen: dict[str, Any] = await client._send("GET", f"/v1/applications/{app}")
        return seen

    seen = run(scenario())
    assert seen["state"] == "CERTIFIED"
    assert seen["certificate_number"] == CERTIFICATE
    assert seen["unit_number"] == owner["unit_number"]

    head = cluster.wait_converged(timeout_s=30)
    chains = {org: ledger_facts(cluster.ledger_dir(org)) for org in cluster.orgs}
    reference = chains["gz-registry"]
    assert reference.contiguous
    assert reference.blocks[-1] == (head.height, head.block_hash)
    for org, facts in chains.items():
        assert facts == reference, f"{org}'s chain differs from the registry's"

    quorum = cluster.genesis.policies.finality_quorum
    deadline = time.monotonic() + 20
    while not all(len(final_orgs(cluster, org, head.height, head.block_hash)) >= quorum for org in cluster.orgs):
        assert time.monotonic() < deadline, {o: final_orgs(cluster, o, head.height, head.block_hash)
                                             for o in cluster.orgs}
        time.sleep(0.1)


def test_verify_on_the_cluster_folder_checks_every_nodes_ledger(cluster: DevCluster) -> None:
    """The operator names the folder ``up --cluster`` was given; every node's ledger under it is re-checked."""
    cluster.wait_converged(timeout_s=30)
    result = CliRunner().invoke(app, ["verify", str(cluster.directory)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    verified = {line.split()[1].rstrip(":") for line in result.output.splitlines() if line.startswith("OK ")}
    assert verified == {str(cluster.ledger_dir(org)) for org in cluster.orgs}
