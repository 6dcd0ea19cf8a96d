"""A bank's uploaded material reaches the registry's node, and no other bank's node can have it."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from estatechain.api.server import NodeServer
from estatechain.ordering.natsconfig import free_ports
from estatechain.sdk import SdkError
from estatechain.sdk.client import Client
from estatechain.sdk.identity import ClientIdentity

from .inprocess import World, until
from .nats_support import run

ORGS = ("gz-registry", "icbc-gz", "ccb-gz")
PDF = b"%PDF-1.7\n% mortgage contract of unit 440104-001-0001\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"



def test_the_registry_reads_a_material_uploaded_at_the_bank_s_node_and_another_bank_cannot(world: World) -> None:
    ports = dict(zip(ORGS, free_ports(len(ORGS)), strict=True))
    peers = {org: f"http://127.0.0.1:{port}" for org, port in ports.items()}

    def who(handle: str) -> ClientIdentity:
        return ClientIdentity.from_dev(world.dev.directory, handle)

    async def scenario() -> None:
        servers = [NodeServer(world.service(org, port=ports[org], peers=peers), log_level="warning") for org in ORGS]
        serving = [asyncio.create_task(s.serve()) for s in servers]
        try:
            await until(lambda: all(s.started and s.service.ready for s in servers), what="nodes serving")
            async with Client(peers["icbc-gz"], who("icbc-gz/operator1")) as bank:
                stored = await bank.upload_material(PDF)
            sha = stored["sha256"]
            assert sha == hashlib.sha256(PDF).hexdigest()
            registry_copy = world.node_dir("gz-registry") / "materials" / "objects" / sha[:2] / sha
            assert not registry_copy.exists()

            async with Client(peers["gz-registry"], who("gz-registry/reviewer1")) as registry:
                fetched = await registry.download(f"/v1/materials/{sha}", world.dev.directory / "read.pdf")
            assert fetched == len(PDF)
            assert (world.dev.directory / "read.pdf").read_bytes() == PDF
            assert registry_copy.read_bytes() == PDF  # kept at the registry once fetched

            for node in ("ccb-gz", "icbc-gz"):
                async with Client(peers[node], who("ccb-gz/operator1")) as other_bank:
                    with pytest.raises(SdkError, match="only the org that uploaded"):
                        await other_bank.download(f"/v1/materials/{sha}", world.dev.directory / "x.pdf")
            assert not (world.node_dir("ccb-gz") / "materials" / "objects" / sha[:2] / sha).exists()
        finally:
            for server in servers:
                server.stop()
            await asyncio.gather(*serving, return_exceptions=True)

    run(scenario(), timeout=90)
