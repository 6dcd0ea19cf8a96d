"""Who is who: the consortium's members, and the party id of an ID document.

Plain signed reads with nothing to verify locally, apart from the proofs and the materials.
"""

from __future__ import annotations

from typing import Any

import orjson

from estatechain.sdk.transport import Transport


class DirectoryMethods(Transport):
    """The consortium's members and a party look-up (a part of ``Client``)."""

    async def lookup_party(self, id_type: str, id_number: str) -> str:
        """The party id of an ID document, asked of the identity authority's node (design §3.18).

        Raises:
            SdkError: refused (V5 format, role, rate limit) or not the identity authority's node.

        """
        body = orjson.dumps({"id_number": id_number, "id_type": id_type})
        return str((await self._send("POST", "/v1/parties/lookup", content=body))["party_id"])

    async def members(self) -> dict[str, Any]:
        """Consortium members and the caller as the node sees it."""
        data: dict[str, Any] = await self._send("GET", "/v1/members")
        return data
