"""Application materials (design §3.11, §3.22): upload, content-addressed by SHA-256; read by entitled orgs only.

The media type is sniffed from the bytes (PDF, OFD, JPEG, PNG), never taken from ``Content-Type``; the
hash is returned only after the file and its directory are fsynced. Transactions reference a
material by ``sha256``, ``size`` and ``media_type`` as returned here. Reading is for the org that
uploaded the bytes, for the registry, and for whoever acts for a named applicant of a case citing
them (``?case=``, checked against this node's ledger: ``peers.may_fetch``), so a resident reads the
loan contract they are asked to confirm; anyone else gets 403 whether or not the hash exists, so the
store cannot be probed for other banks' documents. A registry or applicant reader whose node lacks
the bytes has them fetched from the uploader's node (``node/peers.py``); a node asking for an
applicant names the case and, for a resident whose key its org keeps, their certificate (``?for=``).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Query, Request, Response

from estatechain.api.deps import Caller, Service, principal
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.materials import MaterialOut
from estatechain.contract.checks.materials import MAX_SIZE
from estatechain.errors import InputError, NotFound
from estatechain.identity.membership import Signer
from estatechain.node.peers import may_fetch
from estatechain.node.service import NodeService
from estatechain.storage.materials import MaterialStore

router = APIRouter(tags=["materials"])

MAX_MATERIAL_BYTES: Final = MAX_SIZE
"""The contract's V24 limit; the node's upload body limit (``max_upload_bytes``) applies first."""
READERS: Final = frozenset({"registry"})
"""Org types that read every material (the registry examines the application)."""
Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The material's SHA-256 (hex).")]
CaseId = Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description=(
    "A case citing the material, for a reader acting for one of its named applicants (not needed by the "
    "registry or the uploading org)."))]
ForPerson = Annotated[str | None, Query(alias="for", pattern="^[0-9a-f]{64}$", description=(
    "From a node only: the certificate fingerprint of the resident it asks for, whose key its org keeps."))]


def material_store(request: Request, service: NodeService) -> MaterialStore:
    """The node's material store under ``<node>/materials`` (made on first use)."""
    store: MaterialStore | None = getattr(request.app.state, "materials", None)
    if store is None:
        store = MaterialStore(service.settings.ledger_dir / "materials",
                              max_bytes=min(MAX_MATERIAL_BYTES, service.settings.max_upload_bytes))
        request.app.state.materials = store
    return store


@router.post("/v1/materials", status_code=201, response_model=MaterialOut,
             openapi_extra={"requestBody": {"required": True,
                                            "description": "The file's bytes (PDF, OFD, JPEG or PNG).",
                                            "content": {"application/octet-stream": {"schema": {
                                                "type": "string", "format": "binary"}}}}},
             responses=errors(400, *SIGNED))
async def upload_material(request: Request, service: Service, caller: Caller) -> MaterialOut:
    """Store a material for the caller's org; the hash is returned once the file is durable."""
    data = await request.body()
    try:
        stored = await material_store(request, service).put_in_thread(data, org=principal(caller))
    except InputError as exc:
        raise ApiError(400, "MATERIAL_REFUSED", str(exc), {"size": str(len(data))}) from None
    return MaterialOut(sha256=stored.sha256, size=stored.size, media_type=stored.media_type)


@router.get("/v1/materials/{sha256}", response_class=Response,
            responses={200: {"content": {media: {} for media in ("application/pdf", "application/ofd", "image/jpeg",
                                                                 "image/png")},
                             "description": "The material's bytes"}, **errors(403, 404, 429, *SIGNED)})
async def read_material(  # noqa: PLR0913  (FastAPI dependencies and query parameters)
    sha256: Sha256, request: Request, service: Service, caller: Caller, *, case: CaseId = None,
    person: ForPerson = None,
) -> Response:
    """The material's bytes: for the org that uploaded them, the registry and a case's applicants."""
    store = material_store(request, service)
    registry = caller.org_type in READERS
    held = principal(caller) in store.holders(sha256)
    if registry:
        case = person = None  # the registry reads every material: it names no case (nor anyone)
    if not registry and not held and not _for_applicant(service, caller, case, sha256, person):
        await _refuse(service, caller, sha256, outcome="refused", case=case, person=person)
        raise ApiError(403, "FORBIDDEN", "only the org that uploaded a material, the registry and those acting for "
                       "a named applicant of a case citing it (?case=) may read it",
                       {"sha256": sha256, "org": caller.org_id})
    if caller.role != "node" and not store.holders(sha256):
        # Uploaded at a peer node: this node fetches it; a peer's own fetch never cascades.
        fetched = await service.fetch_material(sha256, store.max_bytes, reader=caller.fingerprint, case=case,
                                               person=caller.fingerprint if caller.role == "person" else None)
        if fetched is not None:
            await store.put_in_thread(fetched, org=principal(caller))
    try:
        data, media = await store.get_in_thread(sha256)
    except NotFound:
        if not held:
            await _refuse(service, caller, sha256, outcome="not_held", case=case, person=person)
        raise
    if not held and caller.role == "node":
        await service.material_log.answered(sha256, org=caller.org_id, node=caller.fingerprint, outcome="served",
                                            case=case, person=person)
    return Response(content=data, media_type=media, headers={"X-Content-Type-Options": "nosniff",
                                                             "Digest-SHA256": sha256})


async def _refuse(  # noqa: PLR0913  (keywords only: the record's fields)
    service: NodeService, caller: Signer, sha256: str, *, outcome: str, case: str | None, person: str | None,
) -> None:
    """Record a refusal to a peer node (``peers.MaterialLog``): 429 instead once its org's budget is spent.

    Staff and residents are not peers, so not recorded (nor limited here). Each refusal to a node
    costs a fsynced line, so a member's node that keeps asking for what it may not read gets 429 with
    ``Retry-After`` past its org's budget (``Settings.peer_refusal_burst``), and those refusals are
    counted rather than written one by one. What it may read is served regardless.
    """
    if caller.role != "node":
        return
    wait_s = await service.material_log.refused(sha256, org=caller.org_id, node=caller.fingerprint,
                                                outcome=outcome, case=case, person=person)
    if wait_s is not None:
        settings = service.settings
        raise ApiError(429, "RATE_LIMITED", f"this node has refused the node of {caller.org_id} more than "
                       f"{settings.peer_refusal_burst} times at once ({settings.peer_refusals_per_minute} a minute "
                       f"after that): it answers only what it may read until then; ask again in {wait_s} s",
                       {"org": caller.org_id, "retry_after_s": str(wait_s)}, retry_after_s=wait_s)


def _for_applicant(service: NodeService, caller: Signer, case: str | None, sha256: str, person: str | None) -> bool:
    """Whether ``caller`` acts for a named applicant of ``case``, which cites ``sha256`` (this node's ledger).

    A node acts for its org's parties and for the residents whose keys its org keeps (``person``, the
    one it asks for); a resident for themselves; any other member's staff for their org's parties.
    """
    if case is None:
        return False
    if caller.role == "node":
        return may_fetch(service.store, org=caller.org_id, case=case, sha256=sha256, person=person)
    if caller.role == "person":
        return may_fetch(service.store, org=None, case=case, sha256=sha256, person=caller.fingerprint)
    return may_fetch(service.store, org=caller.org_id, case=case, sha256=sha256, person=None)
