"""``POST /v1/payloads/<step>``: the unsigned canonical payload of one workflow step (design §3.17).

The node never signs for a caller. Each endpoint validates a typed request (422 naming the field),
builds the payload the authenticated caller would sign — its body in the contract command's shape,
the consortium's chain id, the caller's certificate fingerprint as signer, a nonce and a creation
time — and returns it with its exact RFC 8785 bytes and the tx id those bytes hash to. The caller
signs the bytes with its own key and submits the envelope to ``POST /v1/transactions``; a caller
whose role the command does not admit gets 403 here rather than an invalid transaction later.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request

from estatechain import canonical
from estatechain.api.deps import Caller, Service, may_read_own
from estatechain.api.problems import ApiError
from estatechain.api.routes.materials import material_store
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.schemas.workflow import (
    ApplicationIn,
    ApplicationOut,
    ConfirmIn,
    ConsentIn,
    FileIn,
    HoldIn,
    InquiryIn,
    IssueIn,
    NotAcceptIn,
    PreparedOut,
    PresaleContractIn,
    PresaleSignIn,
    RefuseIn,
    SeizureIn,
    SeizureReleaseIn,
    SeizureRenewIn,
    StepIn,
    WithdrawIn,
)
from estatechain.canonical import JSONValue
from estatechain.certificates.record import awaits_issuer
from estatechain.contract import keys
from estatechain.contract.checks.parties import acts_for
from estatechain.contract.context import BlockContext
from estatechain.contract.records import Application, effective_state
from estatechain.contract.records.application import OPEN_STATES
from estatechain.contract.rules.business_types import BUSINESS_TYPES
from estatechain.contract.rules.transfer_mortgage import mortgage_certificate
from estatechain.contract.versions import rules_at
from estatechain.identity.membership import Signer
from estatechain.ledger.envelope import TX_TYPE, signed_size
from estatechain.node.service import NodeService
from estatechain.storage.materials import MaterialStore

router = APIRouter(tags=["workflow"])


@dataclass(frozen=True, slots=True)
class Step:
    """A workflow step: its URL segment, the contract command and its request model."""

    path: str
    command: str
    model: type[StepIn]
    summary: str


STEPS: Final = (
    Step("file", "application.file", FileIn, "File an application with its materials (filer: bank operator, "
         "developer or buyer)"),
    Step("confirm", "application.confirm", ConfirmIn, "An applicant confirms the exact filed content"),
    Step("decline", "application.decline", ConfirmIn, "An applicant declines the application"),
    Step("withdraw", "application.withdraw", WithdrawIn, "One applicant's signature on a withdrawal"),
    Step("accept", "application.accept", ApplicationIn, "Intake accepts a confirmed application (受理)"),
    Step("not-accept", "application.not_accept", NotAcceptIn, "Intake does not accept, listing every missing item"),
    Step("hold", "application.hold", HoldIn, "Put an application on hold (site visit, investigation)"),
    Step("resume", "application.resume", ApplicationIn, "Resume an application on hold"),
    Step("review", "application.review", ApplicationIn, "The reviewer approves (审核)"),
    Step("refuse", "application.refuse", RefuseIn, "The reviewer refuses registration (不予登记)"),
    Step("record", "application.record", ApplicationIn, "A different recorder records it in the register (登簿)"),
    Step("issue", "application.issue", IssueIn, "The issuer puts the signed certificate's hash on the ledger"),
    Step("seizure", "seizure.register", SeizureIn, "A court or state organ records a seizure order"),
    Step("seizure-release", "seizure.release", SeizureReleaseIn, "The delivering authority lifts its seizure"),
    Step("seizure-renew", "seizure.renew", SeizureRenewIn, "The delivering authority renews its seizure"),
    Step("inquiry", "inquiry.request", InquiryIn, "An inquiry of one unit's registration result"),
    Step("inquiry-consent", "inquiry.consent", ConsentIn, "An owner consents to one bank's inquiry"),
    Step("presale-contract", "presale.contract", PresaleContractIn, "The developer files a pre-sale contract "
         "(商品房预售合同) on one predicted unit"),
    Step("presale-sign", "presale.sign", PresaleSignIn, "A buyer signs the filed pre-sale contract's document"),
)
"""Every step with a typed endpoint; ``STEPS_BY_PATH`` finds one by its URL segment."""

STEPS_BY_PATH: Final = {step.path: step for step in STEPS}


def prepare(service: NodeService, caller: Signer, command: str, request: StepIn) -> PreparedOut:
    """The unsigned payload of ``command`` for ``caller`` with ``request``'s body.

    Raises:
        ApiError: 403 when the caller's role may not issue ``command``; 422 when the body cannot be signed;
            413 when the signed envelope would exceed ``max_tx_bytes`` (``ledger.envelope.signed_size``).

    """
    rule = rules_at(service.store.height + 1).get(command)
    if rule is not None and caller.role not in rule.roles:
        raise ApiError(403, "FORBIDDEN", f"role {caller.role!r} may not sign {command}; it needs one of "
                       f"{', '.join(sorted(rule.roles))}",
                       {"role": caller.role, "command": command, "allowed": ", ".join(sorted(rule.roles))})
    payload: dict[str, JSONValue] = {
        "body": request.body(),
        "chain_id": service.genesis.chain_id,
        "command": command,
        "created_at": service.clock.now_ms() if request.created_at is None else request.created_at,
        "nonce": request.nonce or secrets.token_urlsafe(18),
        "signer": caller.fingerprint,
        "type": TX_TYPE,
    }
    try:
        data = canonical.encode(payload)
    except canonical.NonCanonicalError as exc:
        raise ApiError(422, "VALIDATION_FAILED", "the body cannot be signed as canonical JSON",
                       {"body": str(exc)}) from None
    size = signed_size(suite=service.suite, payload=payload, certificate=caller.cert_der)
    limit = service.genesis.policies.max_tx_bytes
    if size > limit:
        raise ApiError(413, "PAYLOAD_TOO_LARGE",
                       f"signed, this {command} payload of {len(data)} bytes makes an envelope of {size} bytes "
                       f"({size - len(data)} bytes of signature, certificate and framing), over the consortium's "
                       f"max_tx_bytes of {limit}: shorten the body by at least {size - limit} "
                       f"byte{'' if size - limit == 1 else 's'}",
                       {"size": str(size), "payload_size": str(len(data)), "limit": str(limit)})
    return PreparedOut(command=command, payload=payload, canonical=data.decode("utf-8"),
                       tx_id=service.suite.hash(data).hex())


def check_filer_role(caller: Signer, filing: FileIn) -> None:
    """The caller's role must be one the filing's business type admits as filer, as the contract checks it.

    ``application.file`` admits every filing role, but each business type names its own filers
    (``BusinessType.filers``: the bank alone for a mortgage, the developer or a buyer for a purchase
    notice …); a filing by another role would be signed and kept on the ledger for good as an invalid
    ``FILER_ROLE_NOT_PERMITTED``. Reading the contract's own table keeps this check and the contract alike.

    Raises:
        ApiError: 403 naming the roles that may file this business type.

    """
    filers = BUSINESS_TYPES[filing.business_type].filers  # the model admits only known business types
    if caller.role not in filers:
        allowed = ", ".join(sorted(filers))
        raise ApiError(403, "FORBIDDEN", f"role {caller.role!r} may not file a {filing.business_type} application; "
                       f"it is filed by {allowed}",
                       {"role": caller.role, "command": "application.file", "business_type": filing.business_type,
                        "allowed": allowed})


def check_materials(store: MaterialStore, filing: FileIn) -> None:
    """Every material a filing cites must be on this node, as uploaded: else nothing is prepared.

    The contract sees only hashes and sizes; a filing citing a file never uploaded (or a size that
    does not match) would be confirmed by the owner and fail only when the registry opens the case
    at intake. The filer's node is where the registry fetches the materials from, so it is checked
    here, before anything is signed.

    Raises:
        ApiError: 422 naming the first material that is not stored as cited, and how to fix it.

    """
    for index, cited in enumerate(filing.materials):
        stored = store.describe(cited.sha256)
        where = f"materials[{index}]"
        if stored is None:
            raise ApiError(422, "MATERIAL_NOT_UPLOADED",
                           f"{where} ({cited.type}) cites {cited.sha256}, which this node does not hold: upload "
                           "the file with POST /v1/materials first and cite the sha256 and size it answers",
                           {"field": where, "sha256": cited.sha256})
        if (stored.size, stored.media_type) != (cited.size, cited.media_type):
            raise ApiError(422, "MATERIAL_MISMATCH",
                           f"{where} ({cited.type}) cites size {cited.size} and {cited.media_type}, but the file "
                           f"uploaded with that hash is {stored.size} bytes of {stored.media_type}: cite what "
                           "POST /v1/materials answered",
                           {"field": where, "sha256": cited.sha256, "size": str(stored.size),
                            "media_type": stored.media_type})


def _register(step: Step) -> None:
    model = step.model

    async def endpoint(request: StepIn, http: Request, service: Service, caller: Caller) -> PreparedOut:
        if isinstance(request, FileIn):
            check_filer_role(caller, request)
            check_materials(material_store(http, service), request)
        return prepare(service, caller, step.command, request)

    endpoint.__annotations__["request"] = model  # FastAPI reads the step's own model from here

    endpoint.__name__ = "prepare_" + step.path.replace("-", "_")
    endpoint.__doc__ = (f"{step.summary}: the unsigned `{step.command}` payload for the caller to sign and "
                        "submit to POST /v1/transactions.")
    router.add_api_route(f"/v1/payloads/{step.path}", endpoint, methods=["POST"], response_model=PreparedOut,
                         summary=step.summary, responses=errors(403, 422, *SIGNED), name=endpoint.__name__)


for _step in STEPS:
    _register(_step)


def caller_context(service: NodeService, caller: Signer) -> BlockContext:
    """A read-only context for the caller at the head, so contract helpers can say whom it acts for."""
    head = service.store.head
    return BlockContext(chain_id=service.genesis.chain_id, height=service.store.height,
                        block_time_ms=head.time_ms if head is not None else service.clock.now_ms(), tx_id="",
                        tx_seq=0, signer=caller.fingerprint, signer_org=caller.org_id,
                        signer_org_type=caller.org_type, signer_role=caller.role)


def may_read_application(service: NodeService, caller: Signer, application: Application) -> bool:
    """The registry, the filing org, and whoever acts for an applicant (a bound person, a bound org)."""
    filed_by_person = service.genesis.org(application.filer_org).type == "identity_authority"
    if caller.org_type == "registry" or may_read_own(
        caller, signer=application.filer, org_id=application.filer_org, individual=filed_by_person
    ):
        return True
    ctx = caller_context(service, caller)
    return any(acts_for(service.store, ctx, party) for party in application.applicant_ids())


@router.get("/v1/applications/{application_id}", response_model=ApplicationOut, responses=errors(403, 404, *SIGNED))
async def application_status(
    application_id: Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The filing tx id.")],
    service: Service, caller: Caller,
) -> ApplicationOut:
    """An application's state, certificate number and steps: for the registry, the filer and the applicants."""
    record = service.store.get(keys.application(application_id))
    if record is None:
        raise ApiError(404, "NOT_FOUND", "no application with that id", {"application_id": application_id})
    application = Application.from_json(record)
    if not may_read_application(service, caller, application):
        raise ApiError(403, "FORBIDDEN", "only the registry, the filing org and the applicants may read an "
                       "application", {"application_id": application_id, "org": caller.org_id})
    head = service.store.head
    now_ms = head.time_ms if head is not None else service.clock.now_ms()
    state = effective_state(application, now_ms)
    return ApplicationOut(
        application_id=application.application_id, business_type=application.business_type,
        unit_number=application.unit_number, state=state.value,
        confirm_deadline_ms=application.confirm_deadline_ms,
        complete=state not in OPEN_STATES and not awaits_issuer(
            state.value, application.certificate_number, business_type=application.business_type,
            steps=application.steps),
        filer_org=application.filer_org, confirmed=sorted(application.confirmed_ids()),
        applicants=sorted(application.applicant_ids()), materials=[m.to_json() for m in application.materials],
        result=application.result, certificate_number=application.certificate_number,
        mortgage_certificate_number=mortgage_certificate(service.store, application),
        steps=dict(application.steps),
    )
