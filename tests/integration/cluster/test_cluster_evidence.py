"""Evidence packages exported from every node of a cluster verify offline, and carry the quorum's attestations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from estatechain.cli.main import app
from estatechain.clock import SystemClock
from estatechain.evidence.verify import verify_package
from estatechain.testing.builders import TxFactory

from .inprocess import World, until
from .nats_support import run

ORGS = ("gz-registry", "icbc-gz", "ccb-gz", "gz-court")



def test_packages_exported_from_every_node_verify_with_the_quorum_attesting(world: World, tmp_path: Path) -> None:
    factory = TxFactory(world.dev, SystemClock())
    admin = world.dev.identities["ccb-gz/org-admin"]

    async def scenario() -> str:
        nodes = [world.pipeline(org) for org in ORGS]
        tasks = [asyncio.create_task(n.run()) for n in nodes]
        try:
            await until(lambda: all(n.ordering_ready for n in nodes), what="nodes connected",
                why=lambda: [n.fault for n in nodes])
            futures = [await nodes[n % 4].accept(factory.note(admin, f"deed/{n}", {"n": n})) for n in range(12)]
            receipts = await asyncio.wait_for(asyncio.gather(*futures), 30)
            head = max(r.height for r in receipts)
            await until(lambda: all(n.finality.final_height >= head for n in nodes), what="the head final")
            await until(lambda: all(len(n.finality.agreeing(head)) == len(ORGS) for n in nodes),
                        what="every org's attestation everywhere")
            return receipts[5].tx_id
        finally:
            for node in nodes:
                node.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            for node in nodes:
                node.store.close()

    tx_id = run(scenario(), timeout=90)
    runner = CliRunner()
    packages = []
    for org in ORGS:
        out = tmp_path / f"{org}.json"
        exported = runner.invoke(app, ["evidence", "export", str(world.node_dir(org)), "--tx", tx_id, "-o", str(out),
                                       "--consortium", str(world.dev.directory), "--org", org])
        assert exported.exit_code == 0, exported.output
        verified = verify_package(out.read_bytes())
        assert [t.tx_id for t in verified.txs if not t.context] == [tx_id]
        assert set(verified.head_attested_by) == set(ORGS)
        checked = runner.invoke(app, ["evidence", "verify", str(out), "--require-final"], env={"COLUMNS": "200"})
        assert checked.exit_code == 0, checked.output
        packages.append(verified)
    assert len({(p.txs[0].height, p.txs[0].seq) for p in packages}) == 1  # the same place in every copy
