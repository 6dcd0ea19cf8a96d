"""Stopping a node: every step of the stop runs, whatever an earlier one raised.

A node is stopped by its operator, but also after a fault: a full disk failed a block's commit, and
the same disk may then fail the audit logs' last lines. If the first step that raised ended the stop,
the ledger would stay open with its writer lock held, the replay cache's file unwritten and the signal
handlers still installed, and the operator could not start the node again without killing its
process. So the steps run in order, each failure is logged with the step it broke, and once every step
has run the stop raises: a cancellation (or an interrupt) first, so that ``asyncio.timeout`` and task
groups see it, else the first failure, so that the caller learns the node stopped on a fault.

A fault is logged once, with its traceback, where it happened: the pipeline marks the commit fault it
logged (``mark_logged``), and a stop step that ends with an exception already logged says so in one line.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Final

_LOGGED: Final = "_estatechain_logged"


def mark_logged(exc: BaseException) -> None:
    """Note that ``exc`` has been logged with its traceback, so a stop step ending with it logs one line."""
    setattr(exc, _LOGGED, True)


async def close_audit_log(close: Callable[[], Awaitable[None]], path: Path, log: logging.Logger) -> None:
    """Write an audit log's open refusal counts at stop (``close``); a failure (a full disk) is logged, not raised.

    ``audit_log`` has already logged the counts it could not write, so none is lost; a stop ending in an
    error would tell of a fault in the node, and there is none. The rest of the stop matters more.
    """
    try:
        await close()
    except Exception:
        log.exception("could not write the open refusal counts of %s while stopping", path)


def _was_logged(exc: BaseException) -> bool:
    return bool(getattr(exc, _LOGGED, False))


async def run_every_step(steps: Sequence[tuple[str, Callable[[], object]]], log: logging.Logger) -> None:
    """Run each ``(what, step)`` in order (a step may return an awaitable); raise once every step has run.

    ``what`` names the step in the log line of one that failed.

    Raises:
        BaseException: a cancellation or interrupt a step ended with, else the first step's failure.

    """
    first: Exception | None = None
    interrupted: BaseException | None = None
    for what, step in steps:
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            if _was_logged(exc):
                log.error("while stopping, the step '%s' ended with %r, logged above", what, exc)  # noqa: TRY400  (no second traceback)
            else:
                log.exception("while stopping, the step '%s' failed", what)
                mark_logged(exc)
            first = first or exc
        except BaseException as exc:  # noqa: BLE001  (a cancellation or interrupt: raised once the rest have run)
            log.warning("while stopping, the step '%s' was interrupted (%r); the remaining steps run", what, exc)
            interrupted = interrupted or exc
    if interrupted is not None:
        raise interrupted
    if first is not None:
        raise first
