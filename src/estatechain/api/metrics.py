"""Prometheus metrics of one node: HTTP traffic by route and status, and the ledger's progress.

Each app gets its own ``CollectorRegistry`` (no process-global state), so tests can run several
nodes in one process. Ledger figures are read at scrape time from the node service.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from estatechain.node.service import NodeService


class _LedgerCollector(Collector):
    def __init__(self, service: NodeService) -> None:
        self._service = service

    def collect(self) -> Iterator[GaugeMetricFamily]:
        store = self._service.store
        yield GaugeMetricFamily("estatechain_block_height", "Height of the last committed block.", store.height)
        yield GaugeMetricFamily("estatechain_txlog_size", "Transactions in the tx log.", store.next_seq())
        yield GaugeMetricFamily("estatechain_pending_transactions", "Admitted, not yet committed.",
                                self._service.pending_count)
        yield GaugeMetricFamily("estatechain_ready", "1 while the node would take a write (as /v1/ready).",
                                int(self._service.ready))
        expiry = GaugeMetricFamily("estatechain_certificate_expiry_seconds", "Seconds until each certificate the "
                                   "node uses ends (negative once ended); use: node, issuer, document-signer, org-ca.",
                                   labels=("use", "subject"))
        now_ms = self._service.clock.now_ms()
        for cert in self._service.certificates:
            expiry.add_metric((cert.use, cert.subject), cert.seconds_left(now_ms))
        yield expiry
        cluster = self._service.cluster_status()
        if cluster is not None:
            yield GaugeMetricFamily("estatechain_final_height", "Highest height the quorum of orgs attested alike.",
                                    cluster.final_height)
            yield GaugeMetricFamily("estatechain_divergence", "1 once a peer attested a different block or state.",
                                    int(cluster.alarm is not None))
            yield GaugeMetricFamily("estatechain_nats_connected", "1 while the node's NATS connection is up.",
                                    int(cluster.nats_connected))
            attested = GaugeMetricFamily("estatechain_org_attested_height", "Highest height each org's node "
                                         "attested (orgs none was read from are absent).", labels=("org",))
            behind = GaugeMetricFamily("estatechain_org_attestation_lag_blocks", "Blocks this node committed above "
                                       "each org's last attestation: growing means that org's node stopped.",
                                       labels=("org",))
            for org in cluster.orgs:
                if org.height is not None:
                    attested.add_metric((org.org,), org.height)
                    behind.add_metric((org.org,), org.behind)
            yield attested
            yield behind


class ApiMetrics:
    """Counters and latency histogram of the API, plus the ledger collector, in one registry."""

    def __init__(self, service: NodeService) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("estatechain_http_requests", "HTTP requests by route and status.",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("estatechain_http_request_seconds", "HTTP request latency by route.",
                                 ("method", "route"), registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.registry.register(_LedgerCollector(service))


class MetricsMiddleware:
    """Counts every HTTP request by route template (not raw path, to bound label cardinality)."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, recording)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = str(scope.get("method", ""))
            self._metrics.requests.labels(method, template, str(status)).inc()
            self._metrics.latency.labels(method, template).observe(time.perf_counter() - started)
