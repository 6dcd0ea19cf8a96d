"""Membership governance: revocation of a certificate, effective from the block it lands in.

The ledger resolves the revoked certificate from the bytes in the body before execution and passes
its org and role as ``facts`` (the contract cannot parse X.509); every node derives the same facts.
An org's admin may revoke only certificates its own CA issued.
"""

from __future__ import annotations

from typing import Final

from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Put
from estatechain.contract.rejections import Rejection, RejectionCode
from estatechain.contract.rule import Rule, malformed
from estatechain.contract.view import StateView


def revoked_key(fingerprint: str) -> str:
    """The state key that marks a certificate revoked."""
    return f"identity/revoked/{fingerprint}"


def revoke(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Mark the certificate in ``facts`` revoked from this block on."""
    fingerprint = command.facts.get("target_fingerprint")
    target_org = command.facts.get("target_org")
    reason = command.body.get("reason")
    if not isinstance(fingerprint, str) or not isinstance(target_org, str):
        return malformed("certificate", "must be the base64 DER of the certificate to revoke")
    if not isinstance(reason, str) or not 1 <= len(reason) <= 500:
        return malformed("reason", "must be a text of 1-500 characters")
    if target_org != ctx.signer_org:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.REVOKE_OTHER_ORG,
                message="An org admin may revoke only certificates issued by its own org's CA.",
                detail={"target_org": target_org, "signer_org": ctx.signer_org},
            )
        )
    if view.get(revoked_key(fingerprint)) is not None:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.ALREADY_REVOKED,
                message="This certificate is already revoked; nothing to do.",
                detail={"fingerprint": fingerprint},
            )
        )
    value = {
        "fingerprint": fingerprint,
        "org": target_org,
        "role": command.facts.get("target_role"),
        "reason": reason,
        "height": ctx.height,
        "tx_id": ctx.tx_id,
    }
    return Accepted(effects=(Put(key=revoked_key(fingerprint), value=value),))


RULES: Final = {"identity.revoke": Rule(roles=frozenset({"org.admin"}), decide=revoke)}
