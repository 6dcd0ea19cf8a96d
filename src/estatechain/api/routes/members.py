"""Consortium members as the genesis lists them, and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter

from estatechain.api.deps import Caller, Service
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.members import CallerOut, MembersOut, OrgOut
from estatechain.crypto import x509

router = APIRouter(prefix="/v1/members", tags=["members"])


@router.get("", response_model=MembersOut, responses=errors(*SIGNED))
async def members(service: Service, caller: Caller) -> MembersOut:
    """The member orgs, the roles each may grant, and the calling identity."""
    genesis = service.genesis
    orgs = [OrgOut(id=o.id, name=o.name, type=o.type, roles=list(genesis.org_type(o.type).roles),
                   ca_fingerprint=x509.fingerprint(o.ca_cert_der)) for o in genesis.orgs]
    return MembersOut(consortium=genesis.consortium, chain_id=genesis.chain_id, suite=genesis.suite, orgs=orgs,
                      caller=CallerOut(fingerprint=caller.fingerprint, org_id=caller.org_id, org_type=caller.org_type,
                                       role=caller.role))
