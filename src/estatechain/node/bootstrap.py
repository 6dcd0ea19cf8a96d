"""The composition root: every object of a running node built from ``Settings`` (style §6.7).

Nothing is built at import time and nothing reads globals: the CLI (or a test) makes a ``Settings``,
calls ``build_node`` and hands the result to ``estatechain.api.create_app``. The API layer sits above
this one, so the HTTP app itself is composed by the caller from the service built here.
"""

from __future__ import annotations

from estatechain.clock import Clock, SystemClock
from estatechain.node.pipeline import Pipeline
from estatechain.node.service import NodeService
from estatechain.node.settings import Settings
from estatechain.storage.store import LedgerStore


def build_node(settings: Settings, *, clock: Clock | None = None) -> NodeService:
    """Open the node's ledger (taking its writer lock) and wire the pipeline and queries to it.

    Raises:
        NotFound: there is no ledger in ``settings.ledger_dir``.
        Conflict: another process already writes to that ledger.

    """
    used_clock = SystemClock() if clock is None else clock
    store = LedgerStore.open(settings.ledger_dir)
    return NodeService(settings=settings, store=store, pipeline=Pipeline(store, used_clock), clock=used_clock)
