"""Materials across a cluster's nodes: the registry's node fetches what a bank uploaded at its own node.

A material stays with the org that uploaded it (design §3.11): it is never put on a shared medium,
so no org that is not entitled ever holds its bytes, encrypted or not. When an entitled reader —
the registry, which examines every application — asks its own node for a material that was
uploaded elsewhere, that node asks the peers, signing each request with its *node* certificate; a
peer answers only because that certificate belongs to a registry-type org (the same rule as for any
caller), over TLS between sites in production. The bytes are checked against the requested SHA-256
before they are kept, so a peer cannot substitute a document.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path

from estatechain.errors import EstatechainError
from estatechain.node.outbox import WebhookKey
from estatechain.sdk import SdkError
from estatechain.sdk.client import Client

log = logging.getLogger(__name__)


async def fetch_material(  # noqa: PLR0913  (keywords only)
    sha256: str, *, peers: Mapping[str, str], own_org: str, key: WebhookKey, chain_id: str, max_bytes: int
) -> bytes | None:
    """The material's bytes from the first peer that holds them (checked against ``sha256``); None if none does."""
    identity = key.client_identity()
    with tempfile.TemporaryDirectory(prefix="estatechain-material-") as folder:
        target = Path(folder) / sha256
        for org, url in sorted(peers.items()):
            if org == own_org:
                continue
            try:
                async with Client(url, identity, chain_id=chain_id, node_org=org, timeout_s=10.0) as peer:
                    size = await peer.download(f"/v1/materials/{sha256}", target)
            except (EstatechainError, SdkError) as exc:
                log.info("material %s not fetched from %s: %s", sha256, org, exc)
                continue
            data = target.read_bytes()
            if size > max_bytes or hashlib.sha256(data).hexdigest() != sha256:
                log.warning("peer %s answered material %s with other bytes; ignored", org, sha256)
                continue
            return data
    return None
