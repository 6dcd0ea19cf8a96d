"""One router module per resource; ``ROUTERS`` is what ``create_app`` mounts."""

from estatechain.api.routes import blocks, health, members, metrics, proofs, transactions

ROUTERS = (health.router, transactions.router, blocks.router, proofs.router, members.router, metrics.router)

__all__ = ["ROUTERS"]
