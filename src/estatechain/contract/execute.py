"""The contract's single entry point."""

from __future__ import annotations

from estatechain.contract.command import Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.rejections import Rejection, RejectionCode
from estatechain.contract.versions import rules_at
from estatechain.contract.view import StateView


def execute(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Decide ``command`` against ``view`` under the rules in force at ``ctx.height``.

    Pure: the same inputs give the same outcome on every node, today and in thirty years.
    """
    rule = rules_at(ctx.height).get(command.name)
    if rule is None:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.UNKNOWN_COMMAND,
                message=f"No rule for command '{command.name}' at height {ctx.height}.",
                detail={"command": command.name},
            )
        )
    if ctx.signer_role not in rule.roles:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.ROLE_NOT_PERMITTED,
                message=f"Role '{ctx.signer_role}' may not perform '{command.name}'.",
                detail={"role": ctx.signer_role, "command": command.name},
            )
        )
    return rule.decide(view, ctx, command)
