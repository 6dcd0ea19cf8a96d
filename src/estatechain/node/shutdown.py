"""Stopping a node: every step of the stop runs, whatever an earlier one raised.

A node is stopped by its operator, but also after a fault: a full disk failed a block's commit, and
the same disk may then fail the audit logs' last lines. If the first step that raised ended the stop,
the ledger would stay open with its writer lock held, the replay cache's file unwritten and the signal
handlers still installed, and the operator could not start the node again without killing its
process. So the steps run in order, each failure is logged with the step it broke, and the first
failure is raised once every step has run: the caller still learns that the node stopped on a fault.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence


async def run_every_step(steps: Sequence[tuple[str, Callable[[], object]]], log: logging.Logger) -> None:
    """Run each ``(what, step)`` in order (a step may return an awaitable); raise the first failure at the end.

    ``what`` completes "while stopping, could not …" in the log line of a step that raised.

    Raises:
        BaseException: the first step's failure (a cancellation included), after every step has run.

    """
    first: BaseException | None = None
    for what, step in steps:
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except BaseException as exc:  # kept, and raised once the later steps have run
            log.exception("while stopping, could not %s", what)
            if first is None:
                first = exc
    if first is not None:
        raise first
