"""A cluster node's standing (head, stream position, finality, divergence alarm) and its join snapshot.

An operator on call reads ``GET /v1/cluster`` (any member) to see whether this node agrees with its
peers; a new org node joins from ``GET /v1/cluster/snapshot``, which only member *node* identities
may fetch: the file holds every block and state row (personal data only as sealed references), and
the joiner re-checks all of it against the consortium's attestations before trusting it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from estatechain.api.deps import Caller, Service, require_roles
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.storage.backup import snapshot_ledger

router = APIRouter(prefix="/v1/cluster", tags=["cluster"])


class OrgAttestationOut(BaseModel):
    """How far one member org's node has attested."""

    org: str = Field(description="A member org (every genesis org is listed).")
    last_attested_height: int | None = Field(description="The highest height this org's node attested; null when "
                                             "none of its attestations was read (it runs no node, or never started).")
    behind: int = Field(description="Blocks this node committed above that height (0: level or ahead). A growing "
                        "value means that org's node stopped or cannot reach NATS.")


class ClusterOut(BaseModel):
    """The node's place in the cluster."""

    org: str = Field(description="The member org running this node.")
    height: int = Field(description="Height of the last committed block.")
    head_hash: str = Field(description="Hash of the last committed block.")
    stream_position: int = Field(description="Ordering-stream sequence the committed blocks consumed up to.")
    final_height: int = Field(description="Highest height attested alike by the genesis quorum of orgs.")
    alarm: str | None = Field(description="Set when a peer attested a different block or state: writes are refused.")
    orgs: list[OrgAttestationOut] = Field(description="Each member org's last attested height, in genesis order.")


def _cluster_node(service: Service) -> None:
    if service.cluster_status() is None:
        raise ApiError(404, "NOT_A_CLUSTER_NODE", "this node runs alone (estatechain up without --cluster)")


@router.get("", response_model=ClusterOut, responses=errors(404, *SIGNED))
async def cluster_status(service: Service, _caller: Caller) -> ClusterOut:
    """Head, stream position, final height, divergence alarm and each org's last attested height."""
    _cluster_node(service)
    status = service.cluster_status()
    assert status is not None
    return ClusterOut(org=status.org, height=status.height, head_hash=status.head_hash,
                      stream_position=status.stream_position, final_height=status.final_height, alarm=status.alarm,
                      orgs=[OrgAttestationOut(org=o.org, last_attested_height=o.height, behind=o.behind)
                            for o in status.orgs])


@router.get("/snapshot", response_class=FileResponse, responses=errors(403, 404, *SIGNED),
            dependencies=[Depends(require_roles("node"))])
async def snapshot(service: Service) -> FileResponse:
    """A consistent copy of this node's ledger file (SQLite), for a new org node to join from."""
    _cluster_node(service)
    folder = Path(tempfile.mkdtemp(prefix="estatechain-snapshot-"))
    target = folder / "ledger.sqlite"
    snapshot_ledger(service.settings.ledger_dir, target)

    def clean() -> None:
        target.unlink(missing_ok=True)
        folder.rmdir()

    return FileResponse(target, media_type="application/vnd.sqlite3", filename="ledger.sqlite",
                        background=BackgroundTask(clean))
