"""Serve a node: start its pipeline, run uvicorn on its settings' address, stop both cleanly.

X-Forwarded-For and X-Forwarded-Proto are believed only from the proxies the operator lists
(``Settings.trusted_proxies``). uvicorn's default believes them from loopback, which let any local
caller name its own address and step round the per-address limits of sign-in and certificate lookups.

SIGINT and SIGTERM (when running in the main thread) end the server gracefully; then the pipeline
commits the block it was gathering and the ledger file is closed, so a stop never loses an
acknowledged transaction. uvicorn's own signal capture is turned off because it re-raises the
signal after shutdown, which would end the process before the ledger is closed.

uvicorn's own logging configuration is not applied (``log_config=None``): its records go to the root
logger like the node's, with the time, level and logger name the process configured
(``estatechain.node.process.configure_logging``), instead of a format without a time of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Final

import uvicorn

from estatechain.api.app import create_app
from estatechain.api.routes import certificates
from estatechain.certificates.lookups import LookupGate
from estatechain.node.service import NodeService
from estatechain.node.shutdown import close_audit_log, run_every_step
from estatechain.web.pages import listening_base_url

_log = logging.getLogger(__name__)

LOOKUP_GATES: Final = ("certificate_gate", "party_lookups")
"""Where ``app.state`` keeps the public certificate lookups' gate and the party-id lookups' gate."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class NodeServer:
    """A node service served over HTTP; ``serve`` runs until ``stop`` or a signal."""

    def __init__(self, service: NodeService, *, log_level: str = "info") -> None:
        self.service = service
        settings = service.settings
        self._app = create_app(service)
        config = uvicorn.Config(self._app, host=settings.host, port=settings.port, log_level=log_level,
                                log_config=None, access_log=False, lifespan="off", timeout_keep_alive=5,
                                timeout_graceful_shutdown=10, proxy_headers=bool(settings.trusted_proxies),
                                forwarded_allow_ips=list(settings.trusted_proxies))
        self._server = _Server(config)

    @property
    def port(self) -> int:
        """The bound port (after start-up; useful when the settings asked for port 0)."""
        servers = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.service.settings.port

    @property
    def started(self) -> bool:
        """True once the socket listens."""
        return bool(self._server.started)

    def stop(self) -> None:
        """Ask the server to finish; ``serve`` then stops the pipeline and closes the ledger."""
        self._server.should_exit = True

    async def serve(self, *, on_started: Callable[[NodeServer], None] | None = None) -> None:
        """Run the pipeline and the HTTP server; return after a clean shutdown."""
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        self.service.start()
        watcher = asyncio.create_task(self._announce(on_started)) if on_started else None
        printing = asyncio.create_task(self._print_certificates())
        try:
            await self._server.serve()
        finally:
            if watcher is not None:
                watcher.cancel()
            await run_every_step([  # each step runs even if one before it raised (a node stopping on a fault)
                ("stop rendering certificate PDFs", lambda: self._stop_printing(printing)),
                ("write the lookup logs' open refusal counts", self._close_lookup_gates),
                ("stop the node service", self.service.stop),
                ("write the replay cache's file", self._app.state.authenticator.close),  # kept for the next start
                ("remove the signal handlers", self._remove_signal_handlers),
            ], _log)

    @staticmethod
    def _remove_signal_handlers() -> None:
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def _print_certificates(self) -> None:
        """Once listening, a registry node renders each certificate's PDF as its issue commits.

        The QR code names the address the node is reached at (``Settings.public_url``, else the
        listening socket's); a node bound to every interface without ``public_url`` cannot name it
        before a request comes, so its PDFs are rendered at their first download instead, and only
        while in force (``certificates/printing.py``).
        """
        while not self._server.started:
            if self._server.should_exit:
                return
            await asyncio.sleep(0.01)
        settings = self.service.settings
        base_url = listening_base_url(settings.public_url, settings.host, self.port)
        task = None if base_url is None else certificates.printer(self._app, self.service, base_url)
        if task is None:
            org = next((o for o in self.service.genesis.orgs if o.id == self.service.keys.org_id), None)
            if base_url is None and org is not None and org.type == "registry":
                _log.warning("certificate PDFs are rendered at their first download only: set public_url, the "
                             "address certificate QR codes name, so that they are signed as they are issued")
            return
        await task

    async def _close_lookup_gates(self) -> None:
        """Write the lookup logs' open refusal counts (``audit_log``): a stop loses none of them.

        The API and the portal build the gates at their first lookup, in ``app.state``. A gate whose
        log cannot be written (a full disk, just when a stop is likely) is logged and passed over:
        the rest of the stop (the pipeline committing what it gathered, the ledger closed and its
        writer lock released) matters more than the counts, which ``audit_log`` has logged too.
        """
        for name in LOOKUP_GATES:
            gate = getattr(self._app.state, name, None)
            if isinstance(gate, LookupGate):
                await close_audit_log(gate.close, gate.log_path, _log)

    @staticmethod
    async def _stop_printing(task: asyncio.Task[None]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _announce(self, on_started: Callable[[NodeServer], None]) -> None:
        while not self._server.started:
            if self._server.should_exit:
                return
            await asyncio.sleep(0.01)
        on_started(self)
