"""Materials: the files (PDF, OFD, JPEG, PNG) transactions cite by their SHA-256.

Apart from the other reads because a material is content-addressed: what comes back is checked
against the hash that names it, and a file that does not match is not kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from estatechain.sdk.errors import ProofInvalid
from estatechain.sdk.transport import Transport, path_segment


class MaterialMethods(Transport):
    """Upload a material and download one, checked against its hash (a part of ``Client``)."""

    async def upload_material(self, data: bytes) -> dict[str, Any]:
        """Store a material (PDF, OFD, JPEG, PNG) at the node; ``sha256``, ``size`` and ``media_type`` to cite it.

        The hash is returned once the file is durable at the node; transactions cite materials by it.
        The bytes go as ``application/octet-stream``, as the API documents (the node judges the type by
        the content, never by this header).
        """
        return dict(await self._send("POST", "/v1/materials", content=data, content_type="application/octet-stream"))

    async def download_material(self, sha256: str, target: Path) -> int:
        """Stream a material's bytes into ``target``; their size. The uploading org and the registry only.

        A material is named by its hash, so the bytes are checked against it here: a node that sends
        other bytes gets ``ProofInvalid`` and ``target`` is removed.

        Raises:
            ServerError: 403 ``FORBIDDEN`` for another org (whether or not the node holds it), 404.
            ProofInvalid: the bytes received do not hash to ``sha256``.

        """
        digest = hashlib.sha256()
        size, _ = await self._download(f"/v1/materials/{path_segment(sha256)}", target, digest)
        if digest.hexdigest() != sha256:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise ProofInvalid(f"the node sent {size} bytes for material {sha256} that hash to "
                               f"{digest.hexdigest()}: not that material (the file was not kept)")
        return size
