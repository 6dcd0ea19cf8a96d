"""A node served by uvicorn in a thread of the test process, on a free loopback port.

Every test layer that talks to a node over HTTP (API, SDK, portal, certificates) needs the same few
steps: build the node from its settings, serve it in a daemon thread with its own event loop, wait
until it listens (failing clearly if the thread dies), and stop it cleanly. One place does them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from estatechain.api.server import NodeServer
from estatechain.clock import Clock
from estatechain.node.bootstrap import build_node
from estatechain.node.outbox import WebhookKey
from estatechain.node.settings import Settings


@contextmanager
def served(settings: Settings, *, webhook_key: WebhookKey | None = None, clock: Clock | None = None,
           start_s: float = 20.0) -> Iterator[str]:
    """The node of ``settings`` listening on 127.0.0.1 (``port=0``: a free one); its base URL.

    ``clock`` is the node's (the system's by default): a test that counts on time standing still
    (rate limits, windows) gives a ``FixedClock``, and a wide ``clock_skew_s`` for the signatures.
    """
    server = NodeServer(build_node(settings, clock=clock, webhook_key=webhook_key), log_level="error")
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not server.started:
        assert time.monotonic() < deadline, "the node did not start"
        assert thread.is_alive(), "the node thread died"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the node did not stop"
