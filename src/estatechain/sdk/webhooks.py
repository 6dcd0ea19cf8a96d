"""Webhooks (docs/api.md, Events): where the node POSTs the caller org's events, and its delivery log.

The push side of events; the pull side (``GET /v1/events``) is in ``events``.
"""

from __future__ import annotations

import orjson

from estatechain.sdk.responses import Deliveries, RemovedWebhook, Webhook, picked
from estatechain.sdk.transport import Transport


class WebhookMethods(Transport):
    """Register, read and remove the org's webhook, and page its delivery log (a part of ``Client``)."""

    async def register_webhook(self, url: str) -> Webhook:
        """Register (or replace) where the node POSTs the caller org's events; the org's ``org.admin`` only.

        Raises:
            ServerError: 400 ``INVALID_INPUT`` for a URL the node will not post to (``https://`` only, or
                ``http://`` to a loopback host), 403 for another role or a person.

        """
        return picked(Webhook, await self._send("POST", "/v1/webhooks", content=orjson.dumps({"url": url})))

    async def webhook(self) -> Webhook:
        """The caller org's webhook registration (404 ``NOT_FOUND`` when it has none)."""
        return picked(Webhook, await self._send("GET", "/v1/webhooks"))

    async def remove_webhook(self) -> RemovedWebhook:
        """Remove the caller org's webhook (its ``org.admin`` only); ``dropped`` events were still waiting.

        They stay on the ledger: read them with ``events`` from a cursor. 404 when the org has none.
        """
        return picked(RemovedWebhook, await self._send("DELETE", "/v1/webhooks"))

    async def webhook_deliveries(self, *, limit: int = 100, event_id: str | None = None,
                                 after: int | None = None) -> Deliveries:
        """A page of the caller org's delivery log (optionally of one event) and how many events still wait.

        Newest first; with ``after`` (0: from the first) oldest first, ``next_after`` naming the next
        page, so a reader pages through the whole log: ``after=0``, then ``after=page.next_after`` until
        it is None.
        """
        params: dict[str, int | str] = {"limit": limit}
        if event_id is not None:
            params["event_id"] = event_id
        if after is not None:
            params["after"] = after
        return Deliveries.of(await self._send("GET", "/v1/webhooks/deliveries", params=params))
