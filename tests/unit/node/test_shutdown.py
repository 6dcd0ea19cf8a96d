"""A node's stop runs every step, logs each failure once, and ends with what the caller must know."""

from __future__ import annotations

import asyncio
import logging

import pytest

from estatechain.node.shutdown import mark_logged, run_every_step

log = logging.getLogger("test.shutdown")


def test_every_step_runs_in_order_and_the_first_failure_is_raised_after_the_last(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def fails(name: str) -> None:
        ran.append(name)
        raise OSError(f"{name} failed")

    async def closes() -> None:
        await asyncio.sleep(0)
        ran.append("ledger")

    with caplog.at_level(logging.ERROR), pytest.raises(OSError, match="outbox failed"):
        asyncio.run(run_every_step([("close the outbox", lambda: fails("outbox")),
                                    ("write the log", lambda: fails("log")),
                                    ("close the ledger", closes)], log))
    assert ran == ["outbox", "log", "ledger"]  # the ledger is closed although two steps before it failed
    lines = [(r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert lines == [("while stopping, the step 'close the outbox' failed", True),
                     ("while stopping, the step 'write the log' failed", True)]


def test_a_fault_already_logged_where_it_happened_gets_one_line_without_a_second_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fault = OSError(28, "No space left on device")
    mark_logged(fault)  # as the pipeline does when a commit fails

    def pipeline() -> None:
        raise fault

    with caplog.at_level(logging.ERROR), pytest.raises(OSError) as raised:
        asyncio.run(run_every_step([("stop the pipeline", pipeline)], log))
    assert raised.value is fault
    [record] = caplog.records
    assert record.exc_info is None
    assert record.getMessage() == ("while stopping, the step 'stop the pipeline' ended with "
                                   "OSError(28, 'No space left on device'), logged above")


def test_a_stop_cancelled_midway_still_runs_the_rest_and_ends_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def scenario() -> None:
        started = asyncio.Event()

        async def slow_pipeline() -> None:
            started.set()
            await asyncio.sleep(3600)

        def broken_outbox() -> None:
            raise RuntimeError("outbox")

        stop = asyncio.create_task(run_every_step([
            ("close the outbox", broken_outbox),
            ("stop the pipeline", slow_pipeline),
            ("close the ledger", lambda: ran.append("ledger")),
        ], log))
        await started.wait()
        stop.cancel()
        with pytest.raises(asyncio.CancelledError):  # not the outbox's error: a timeout or task group must see it
            await stop

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert ran == ["ledger"]
    assert any("'stop the pipeline' was interrupted" in r.getMessage() for r in caplog.records)
