"""``identity.bind_party``: the identity authority binds a certificate or a member org to a party id.

Person certificates are pseudonymous (design §3.18), so the contract learns which party a person's
key acts for only from this binding, written by an ``identity.officer`` after real-name
authentication (细则 9); ``auth_ref`` is the hash of that authentication record, copied into every
confirmation the person signs (V7). Organisation parties (a bank branch's USCC hash) are bound to the
member org whose keys act for them.
"""

from __future__ import annotations

from typing import Final

from estatechain.contract import keys
from estatechain.contract.command import Accepted, Command, Outcome
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Put
from estatechain.contract.records import fields
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate


def bind_party(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Bind ``fingerprint`` (a person certificate) or ``org`` (a member org) to ``party_id``.

    Re-binding to the same party (for a fresh authentication record) is allowed; binding a subject to
    a different party is refused: a person's key never changes whom it speaks for.
    """
    body = command.body
    party_id = fields.hex64(body, "party_id")
    if body.get("fingerprint") is not None:
        fingerprint = fields.hex64(body, "fingerprint")
        key = keys.party_of_certificate(fingerprint)
        value: dict[str, JSON] = {"party_id": party_id, "auth_ref": fields.hex64(body, "auth_ref"),
                                  "fingerprint": fingerprint}
        existing = view.get(key)
        if existing is not None and existing.get("party_id") != party_id:
            return violate(RejectionCode.PARTY_BINDING_CONFLICT, subject=f"Certificate {fingerprint}")
    else:
        org = fields.text(body, "org", max_len=64)
        key = keys.org_of_party(party_id)
        value = {"party_id": party_id, "org": org}
        existing = view.get(key)
        if existing is not None and existing.get("org") != org:
            return violate(RejectionCode.PARTY_BINDING_CONFLICT, subject=f"Party {party_id}")
    value.update({"bound_by": ctx.signer, "bound_ms": ctx.block_time_ms, "tx_id": ctx.tx_id})
    return Accepted(effects=(Put(key=key, value=value),))


RULES: Final = {"identity.bind_party": Rule(roles=frozenset({"identity.officer"}), decide=guarded(bind_party))}
