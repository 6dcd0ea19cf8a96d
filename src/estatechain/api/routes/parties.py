"""Party-id lookups at the identity authority's node (design §3.18).

A person or company stands on the ledger only as a party id, an HMAC of the document under a key
that only the identity authority (and the registry, for imports) holds; so nobody can hash ID
numbers offline to find whose property is whose. A member who needs a party id — a bank filing a
mortgage, a court recording a seizure — asks this node: the call is signed (RFC 9421), allowed only
to org staff that file or decide (never persons or auditors), rate-limited per caller, checked
against the document's format rule (V5) before any hashing, and recorded in
``<node>/parties/lookups.jsonl`` with who asked, the document type and the party id returned — never
the ID number itself.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from estatechain.api.deps import Caller, Service, principal
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.certificates.lookups import LookupGate
from estatechain.identity.documents import DocumentError, IdType
from estatechain.identity.parties import party_id

router = APIRouter(prefix="/v1/parties", tags=["parties"])

LOOKUP_ROLES: Final = frozenset({
    "bank.operator", "bank.approver", "registry.intake", "registry.reviewer", "registry.recorder",
    "registry.issuer", "court", "state_organ", "identity.officer", "developer",
})
"""Who files or decides on parties; persons, auditors and nodes get 403."""
PER_MINUTE: Final = 30


class LookupIn(BaseModel):
    """One identity document."""

    model_config = ConfigDict(extra="forbid")
    id_type: IdType = Field(description="Kind of document (resident_id, passport, uscc …).")
    id_number: str = Field(min_length=1, max_length=64, description="The document number as written.")


class LookupOut(BaseModel):
    """The party id that stands for the document on the ledger."""

    party_id: str = Field(description="HMAC-SHA256 party id, 64 hex characters.")
    id_type: IdType


def _gate(request: Request, service: Service) -> LookupGate:
    gate: LookupGate | None = getattr(request.app.state, "party_lookups", None)
    if gate is None:
        gate = LookupGate(clock=service.clock, log_path=service.settings.ledger_dir / "parties" / "lookups.jsonl",
                          per_minute=PER_MINUTE, burst=PER_MINUTE)
        request.app.state.party_lookups = gate
    return gate


@router.post("/lookup", response_model=LookupOut, responses=errors(400, 403, 404, 429, *SIGNED))
async def lookup_party(body: LookupIn, request: Request, service: Service, caller: Caller) -> LookupOut:
    """The party id of an ID document (identity authority's node only; signed, rate-limited, recorded)."""
    if service.party_key is None:
        raise ApiError(404, "NOT_THE_IDENTITY_AUTHORITY", "party ids are looked up at the identity authority's node")
    if caller.role not in LOOKUP_ROLES:
        raise ApiError(403, "FORBIDDEN", f"role {caller.role!r} may not look up party ids",
                       {"role": caller.role})
    gate = _gate(request, service)
    who = principal(caller)
    if not gate.admit(who):
        await gate.rate_limited(client=who, kind=body.id_type.value, number=None, outcome="rate-limited")
        raise ApiError(429, "RATE_LIMITED", f"at most {PER_MINUTE} party-id lookups a minute per caller; "
                       "wait and try again", {"per_minute": str(PER_MINUTE)}, retry_after_s=60)
    try:
        found = party_id(service.party_key, body.id_type.value, body.id_number, field="id_number")
    except DocumentError as exc:
        await gate.record(client=who, kind=body.id_type.value, number=None, outcome=f"refused:{exc.reason}")
        raise ApiError(400, "V5_ID_NUMBER_INVALID", str(exc), {"field": "id_number", "reason": exc.reason}) from None
    await gate.record(client=who, kind=body.id_type.value, number=found, outcome="answered")
    return LookupOut(party_id=found, id_type=body.id_type)
