"""``create_app(service)``: the FastAPI application of one org node, built from prebuilt services.

Nothing here runs at import time. The composition root (``node/bootstrap.py``) builds the node
service from ``Settings``; this function adds what belongs to the HTTP edge — the request
authenticator with its replay cache, metrics, the body limit and the error handlers — and mounts
one router per resource. OpenAPI is at ``/openapi.json`` and interactive docs at ``/docs``.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI

from estatechain.api import problems
from estatechain.api.auth import NONCE_FILE, NonceCache, RequestAuthenticator
from estatechain.api.limits import BodyLimit
from estatechain.api.metrics import ApiMetrics, MetricsMiddleware
from estatechain.api.routes import ROUTERS, certificates, inquiries, materials, workflow
from estatechain.api.routes import cluster as cluster_routes
from estatechain.api.routes import events as event_routes
from estatechain.api.routes import parties as party_routes
from estatechain.node.service import NodeService
from estatechain.node.settings import Settings
from estatechain.sdk.signing import RequestTarget
from estatechain.web import router as portal_router

API_VERSION = "1.0.0"

_DESCRIPTION = """\
The HTTP API of an estatechain org node. Every `/v1` call except `/v1/health`, `/v1/ready` and the public
certificate checks (`GET` and `POST /v1/certificates/verify`, rate-limited) is signed
with RFC 9421 HTTP Message Signatures by the caller's certificate key (Ed25519), covering `@method`,
`@path`, `@query` and, with a body, `content-digest` (RFC 9530); `keyid` is the certificate's SHA-256
fingerprint; `tag` names the node the request is sent to, `<chain id>/<org id>` as `GET /v1/health` gives
them (a node refuses a request signed for another node or network). Send the certificate as
`Estatechain-Certificate` (base64 DER) unless it is already on the ledger. Every error is
`{"error": code, "message": ..., "detail": {...}}`. See docs/api.md for byte-exact examples.
"""

VERIFY_BODY_BYTES: Final = certificates.MAX_FILE_BYTES + 64 * 1024
"""A certificate file to verify (2 MiB at most) and, in the portal, the form around it."""


def upload_limits(settings: Settings) -> dict[str, int]:
    """Body limits of the routes that take files, by path: larger than a transaction's, each as large as it needs.

    A material is up to 50 MiB (V24), the portal's filing form carries several, and a certificate to
    verify up to 2 MiB; the rest of the API keeps ``max_body_bytes``.
    """
    verify = max(settings.max_body_bytes, VERIFY_BODY_BYTES)
    return {"/v1/materials": settings.max_upload_bytes, "/portal/bank/new": settings.max_upload_bytes,
            "/v1/certificates/verify": verify, "/portal/public/verify": verify, "/portal/public/verify-qr": verify}

def create_app(service: NodeService) -> FastAPI:
    """The node's HTTP app over ``service``; the caller starts the service's pipeline."""
    settings = service.settings
    app = FastAPI(title="estatechain org node", version=API_VERSION, description=_DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.service = service
    app.state.authenticator = RequestAuthenticator(
        callers=service, clock=service.clock,
        target=RequestTarget(chain_id=service.genesis.chain_id, node_org=service.keys.org_id),
        max_age_s=settings.signature_max_age_s, skew_s=settings.clock_skew_s,
        nonces=NonceCache(settings.nonce_cache_entries, path=settings.ledger_dir / NONCE_FILE,
                          now_s=service.clock.now_ms() // 1000),
    )
    metrics = ApiMetrics(service)
    app.state.metrics = metrics
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(workflow.router)
    app.include_router(inquiries.router)
    app.include_router(materials.router)
    app.include_router(event_routes.router)
    app.include_router(certificates.router)
    app.include_router(portal_router)  # the web portal under /portal (issue 9)
    app.include_router(cluster_routes.router)
    app.include_router(party_routes.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, limits=upload_limits(settings))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
