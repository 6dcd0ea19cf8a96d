"""What a rule is: the roles that may invoke a command and the pure function that decides it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from estatechain.contract.command import Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.rejections import Rejection, RejectionCode
from estatechain.contract.view import StateView

Decide = Callable[[StateView, BlockContext, Command], Outcome]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A command's permitted signer roles and its decision function."""

    roles: frozenset[str]
    decide: Decide


def malformed(field: str, problem: str) -> Rejected:
    """A rejection for a body field that does not have the required shape."""
    return Rejected(
        rejection=Rejection(
            code=RejectionCode.MALFORMED_COMMAND,
            message=f"Field '{field}' {problem}.",
            detail={"field": field},
        )
    )
