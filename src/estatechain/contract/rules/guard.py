"""Turn a body that fails to decode into a ``MALFORMED_COMMAND`` rejection, never an exception."""

from __future__ import annotations

from functools import wraps

from estatechain.contract.command import Command, Outcome
from estatechain.contract.context import BlockContext
from estatechain.contract.records import FieldError
from estatechain.contract.rule import Decide, malformed
from estatechain.contract.view import StateView


def guarded(decide: Decide) -> Decide:
    """``decide`` with body decoding errors (``FieldError``) reported as malformed-field rejections."""

    @wraps(decide)
    def run(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
        try:
            return decide(view, ctx, command)
        except FieldError as error:
            return malformed(error.field, error.problem)

    return run

