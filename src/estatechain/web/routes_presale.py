"""The developer desk and the pre-sale contract page: file a pre-sale contract, and each buyer reads and signs it.

A developer's sales office (role ``developer``) sees its projects' predicted units with whether each
can be pre-sold now (``presale.py``), its contracts with their state as the ledger records it
(awaiting which buyers' signatures, signed, terminated), and a form to file a contract
(``presale.contract``): the unit, each buyer by their ID document, the price in 元, the contract
number, the housing authority's filing number (备案号) and the contract document itself, kept as a
material of the developer's org. Buyers are named on the ledger only by party id: the portal runs on
the registry's node, which holds the party-id key for imports, and computes each buyer's party id the
way the identity authority's lookup does (``api/routes/parties.py``), through the same rate limit and
audit log, which records the party id and never the ID number.

A buyer (a person) finds the contracts awaiting their signature on the owner desk and opens the
contract's page: its unit, developer, price, numbers, every buyer's signature so far and the
document to read, served only to the contract's parties and the registry. Signing
(``presale.sign`` over the document's exact hash) and filing go through the confirmation page like
every signed step; a rule failure (a seized unit, a unit already pre-sold) shows there before
anything is signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile

from estatechain.canonical import JSONValue
from estatechain.certificates.lookups import LookupGate
from estatechain.contract import keys
from estatechain.contract.money import MAX_FEN
from estatechain.contract.records.fields import IDENT
from estatechain.contract.records.presale import PresaleContract, PresaleState
from estatechain.contract.records.unit import Unit, UnitKind
from estatechain.contract.unit_number import UNIT_NUMBER_LENGTH
from estatechain.errors import InputError
from estatechain.identity.documents import DocumentError, IdType
from estatechain.identity.parties import party_id
from estatechain.storage.follower import FirstBuild
from estatechain.storage.store import LEDGER_FILE
from estatechain.web import cases as queries
from estatechain.web import presale, presaleindex
from estatechain.web.accounts import Account, Session
from estatechain.web.filing import fen
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import (
    CheckedForm,
    Member,
    Portal,
    PortalDep,
    PortalProblem,
    PortalRoute,
    material_store,
    not_found,
    viewer_of,
)
from estatechain.web.presaleindex import PresaleIndex
from estatechain.web.routes_owner import org_names

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

BUYER_ROWS: Final = 4
"""Buyers the form takes (joint buyers of one flat; the contract allows up to ten) [A]."""
ID_TYPES: Final = {
    IdType.RESIDENT_ID.value: N_("Resident identity card (居民身份证)"),
    IdType.HK_MACAU_PERMIT.value: N_("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT.value: N_("Mainland travel permit for Taiwan residents"),
    IdType.HMT_RESIDENCE_PERMIT.value: N_("Residence permit for Hong Kong, Macao and Taiwan residents"),
    IdType.PASSPORT.value: N_("Passport"),
    IdType.HOUSEHOLD_REGISTER.value: N_("Household register (户口簿)"),
    IdType.MILITARY_OFFICER_CARD.value: N_("Military officer card"),
    IdType.USCC.value: N_("Unified social credit code (company)"),
    IdType.ORGANISATION_CODE.value: N_("Organisation code (company)"),
}
"""The identity documents a buyer may be named by (``identity/documents.py``), in words."""
assert set(ID_TYPES) == {t.value for t in IdType}
STATES: Final = {PresaleState.AWAITING_BUYERS.value: N_("Awaiting the buyers' signatures"),
                 PresaleState.SIGNED.value: N_("Signed by every buyer"),
                 PresaleState.TERMINATED.value: N_("Terminated")}
UNIT_STATES: Final = {
    "available": N_("Available"), "awaiting": N_("Contract awaiting signatures"), "signed": N_("Contract signed"),
    "sold_elsewhere": N_("Pre-sold under another developer's contract"), "seized": N_("Seized"),
    "not_housing": N_("Not housing: cannot be pre-sold here"), "first_registered": N_("First-registered"),
}
LOOKUPS_PER_MINUTE: Final = 30
"""As ``api/routes/parties.py`` PER_MINUTE: one gate for the API and the portal on this node."""
MAX_TEXT: Final = 100


@dataclass(slots=True)
class Draft:
    """The contract form as typed, and what is wrong with it, by field."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


def _require_developer(account: Account) -> None:
    if account.role != "developer":
        raise PortalProblem(403, N_("This desk is not for your role."))


async def presale_index(request: Request, parts: PortalDep) -> PresaleIndex:
    """The index of contracts by party beside the ledger (``presaleindex.py``), its first build off the loop."""
    state = request.app.state
    found: FirstBuild[PresaleIndex] | None = getattr(state, "presale_index", None)
    if found is None:
        ledger_dir = parts.service.settings.ledger_dir
        found = state.presale_index = FirstBuild(
            PresaleIndex(ledger_dir / presaleindex.FILE, parts.service.store.connection), ledger_dir / LEDGER_FILE)
    return await found.ready()


IndexDep = Annotated[PresaleIndex, Depends(presale_index)]


def buyer_contracts(parts: Portal, index: PresaleIndex, account: Account) -> list[presale.ContractLine]:
    """The contracts naming the signed-in person as a buyer, newest first (none for staff)."""
    viewer = viewer_of(parts, account)
    if viewer.role != "person" or viewer.party is None:
        return []
    return presale.named(parts.service.store, index, viewer.party, presaleindex.BUYER)


# ------------------------------------------------------------------------------------------ developer desk


def _page(  # noqa: PLR0913  (keywords only: what the page shows besides the form)
    session: Session, parts: Portal, index: PresaleIndex, draft: Draft, *, status: int = 200,
    done: str | None = None, looked_up: str = "",
) -> Response:
    """The desk: projects with their units, the developer's contracts, the form with ``draft``."""
    assert session.account is not None
    store = parts.service.store
    developer = queries.org_party(store, session.account.org)
    lines = [] if developer is None else presale.named(store, index, developer, presaleindex.DEVELOPER)
    parcels = [] if developer is None else presale.projects(lines)
    parcel = presale.parcel_of(looked_up) if looked_up else None
    if looked_up and parcel is None:
        draft.problems.setdefault("parcel", N_("Enter a parcel code (宗地代码, 19 characters) or a unit number "
                                               "(28 characters)."))
    if parcel is not None and parcel not in parcels:
        parcels.insert(0, parcel)
    at_ms = queries.now_ms(store, parts.service.clock.now_ms())
    units = {p: presale.project_units(store, p, developer, at_ms) for p in parcels} if developer else {}
    if parcel is not None and not units.get(parcel):
        draft.problems.setdefault("parcel", N_("The register has no predicted unit on this parcel."))
    return render("developer.html", session, status=status, developer=developer, contracts=lines,
                  total=0 if developer is None else index.count(developer, presaleindex.DEVELOPER),
                  projects=units, looked_up=looked_up, draft=draft, done=done, id_types=ID_TYPES,
                  buyer_rows=BUYER_ROWS, states=STATES, unit_states=UNIT_STATES)


@router.get("/developer")
async def developer_desk(  # noqa: PLR0913, PLR0917  (FastAPI injects each by name)
    session: Member, parts: PortalDep, index: IndexDep, parcel: str = "", unit: str = "", done: str | None = None,
) -> Response:
    """The developer's projects and contracts, and the form to file a contract (``unit`` fills its unit)."""
    assert session.account is not None
    _require_developer(session.account)
    unit = unit.strip()[:UNIT_NUMBER_LENGTH]
    shown = parcel.strip()[:MAX_TEXT] or (unit if presale.parcel_of(unit) else "")
    return _page(session, parts, index, Draft(values={"unit_number": unit}), done=done, looked_up=shown)


def read_draft(form: FormData) -> Draft:
    """The form's text fields, each checked the way the contract checks it (buyers' documents come later)."""
    names = ["unit_number", "price_yuan", "contract_no", "filing_no"]
    for row in range(1, BUYER_ROWS + 1):
        names += [f"buyer_id_type_{row}", f"buyer_id_number_{row}"]
    draft = Draft(values={name: str(form.get(name, "")).strip()[:MAX_TEXT] for name in names})
    values, problems = draft.values, draft.problems
    price = fen(values["price_yuan"])
    if price is None or not 0 < price <= MAX_FEN:
        problems["price_yuan"] = N_("Enter the price in yuan, e.g. 2500000 or 2500000.50.")
    for name, empty in (("contract_no", N_("Enter the contract number.")),
                        ("filing_no", N_("Enter the filing number (备案号) the housing authority gave the contract."))):
        if not values[name]:
            problems[name] = empty
        elif not IDENT.fullmatch(values[name]):
            problems[name] = N_("Use 1 to 96 of the characters A-Z a-z 0-9 . _ : - (no spaces).")
    if not any(values[f"buyer_id_number_{row}"] for row in range(1, BUYER_ROWS + 1)):
        problems["buyer_id_number_1"] = N_("Name at least one buyer by their identity document.")
    return draft


def _check_unit(parts: Portal, draft: Draft) -> None:
    """The unit must be a predicted unit on the register (the confirmation page checks the rest)."""
    number = draft.values["unit_number"]
    row = parts.service.store.get(keys.unit(number)) if len(number) == UNIT_NUMBER_LENGTH else None
    if row is None:
        draft.problems["unit_number"] = N_("The register has no unit with this number.")
    elif Unit.from_json(row).kind is not UnitKind.PREDICTED:
        draft.problems["unit_number"] = N_("Only a predicted unit (预测户) can be pre-sold.")


def _gate(request: Request, parts: Portal) -> LookupGate:
    """The party-id lookups' gate, shared with the API through ``app.state.party_lookups``."""
    gate: LookupGate | None = getattr(request.app.state, "party_lookups", None)
    if gate is None:
        gate = LookupGate(clock=parts.service.clock,
                          log_path=parts.service.settings.ledger_dir / "parties" / "lookups.jsonl",
                          per_minute=LOOKUPS_PER_MINUTE, burst=LOOKUPS_PER_MINUTE)
        request.app.state.party_lookups = gate
    return gate


async def resolve_buyers(request: Request, parts: Portal, draft: Draft, *, org: str, developer: str) -> list[str]:
    """Each buyer's party id from their ID document, in form order; a problem on each field that does not resolve.

    Every answer is rate-limited and recorded like the identity authority's lookups (who asked, the
    document type, the party id: never the number).
    """
    key = parts.service.party_key
    if key is None:
        raise PortalProblem(503, N_("This node cannot compute party ids from identity documents, so buyers cannot "
                                    "be named here."))
    gate, buyers, who = _gate(request, parts), [], f"portal:{org}"
    for row in range(1, BUYER_ROWS + 1):
        kind, number = draft.values[f"buyer_id_type_{row}"], draft.values[f"buyer_id_number_{row}"]
        if not number:
            continue
        if kind not in ID_TYPES:
            draft.problems[f"buyer_id_type_{row}"] = N_("Choose the kind of identity document.")
            continue
        if not gate.admit(who):
            await gate.rate_limited(client=who, kind=kind, number=None, outcome="rate-limited")
            draft.problems[f"buyer_id_number_{row}"] = N_("Too many identity documents looked up in a minute. Wait a "
                                                          "minute and try again.")
            continue
        try:
            found = party_id(key, kind, number, field=f"buyer_id_number_{row}")
        except DocumentError as exc:
            await gate.record(client=who, kind=kind, number=None, outcome=f"refused:{exc.reason}")
            draft.problems[f"buyer_id_number_{row}"] = N_("This number is not valid for the chosen kind of document.")
            continue
        await gate.record(client=who, kind=kind, number=found, outcome="answered")
        if found == developer:
            draft.problems[f"buyer_id_number_{row}"] = N_("The developer cannot be a buyer of its own flat.")
        elif found in buyers:
            draft.problems[f"buyer_id_number_{row}"] = N_("This buyer is named twice.")
        else:
            buyers.append(found)
    return buyers


async def store_document(form: FormData, parts: Portal, request: Request, draft: Draft, org: str) -> str | None:
    """Keep the uploaded contract document as a material of ``org``; its SHA-256, or None with a problem."""
    upload = form.get("document")
    if not isinstance(upload, UploadFile) or not upload.filename:
        draft.problems["document"] = N_("Attach the contract document (PDF, OFD, JPEG or PNG).")
        return None
    try:
        return (await material_store(request, parts).put_in_thread(await upload.read(), org=org)).sha256
    except InputError:
        draft.problems["document"] = N_("This file is not a PDF, OFD, JPEG or PNG, or it is too large.")
        return None


@router.post("/developer/contracts")
async def file_contract(request: Request, session: Member, form: CheckedForm, parts: PortalDep,
                        index: IndexDep) -> Response:
    """Check the form, resolve the buyers, keep the document and prepare ``presale.contract`` for confirmation."""
    assert session.account is not None
    account = session.account
    _require_developer(account)
    store = parts.service.store
    developer = queries.org_party(store, account.org)
    if developer is None:
        raise PortalProblem(409, N_("The identity authority has not bound your organisation to its company's party "
                                    "id yet, so it cannot file contracts."))
    draft = read_draft(form)
    _check_unit(parts, draft)
    buyers = await resolve_buyers(request, parts, draft, org=account.org, developer=developer)
    document = None if draft.problems else await store_document(form, parts, request, draft, account.org)
    if draft.problems or document is None:  # the form again, as typed, with the unit's project beside it
        unit = draft.values["unit_number"]
        return _page(session, parts, index, draft, status=422, looked_up=unit if presale.parcel_of(unit) else "")
    values = draft.values
    price = fen(values["price_yuan"])
    assert price is not None
    body: dict[str, JSONValue] = {"unit_number": values["unit_number"], "developer": developer,
                                  "buyers": list(buyers), "price_fen": price, "contract_no": values["contract_no"],
                                  "filing_no": values["filing_no"], "document_sha256": document}
    summary = [[N_("Action"), N_("File a pre-sale contract (商品房预售合同)"), "t"],
               [N_("Unit number"), values["unit_number"]], [N_("Contract number"), values["contract_no"]],
               [N_("Filing number (备案号)"), values["filing_no"]], [N_("Price (yuan)"), values["price_yuan"]],
               *[[N_("Buyer (party id)"), buyer] for buyer in buyers], [N_("Contract document (SHA-256)"), document]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="presale.contract", body=body, now_ms=parts.service.clock.now_ms(),
                                    summary=summary, back="/developer")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


# ------------------------------------------------------------------------------------------ the contract


def _readable(parts: Portal, account: Account, contract_id: str) -> PresaleContract:
    """The contract if this account may read it (its parties and the registry); else "not found"."""
    store = parts.service.store
    contract = presale.load(store, contract_id)
    if contract is None or not presale.may_read(store, viewer_of(parts, account), contract):
        raise not_found()
    return contract


@router.get("/presale/{contract_id}")
async def contract_page(contract_id: str, session: Member, parts: PortalDep, done: str | None = None) -> Response:
    """The contract as its parties see it, its signatures, its document; the sign button for an awaited buyer."""
    assert session.account is not None
    contract = _readable(parts, session.account, contract_id)
    viewer = viewer_of(parts, session.account)
    item = presale.line(contract)
    developer_org = presale.org_of(parts.service.store, contract.developer.party_id)
    return render("presale_contract.html", session, item=item, done=done, states=STATES,
                  may_sign=viewer.role == "person" and viewer.party in item.awaiting, party=viewer.party,
                  developer_org=developer_org, org_labels=org_names(parts.service.genesis))


@router.get("/presale/{contract_id}/document")
async def contract_document(contract_id: str, request: Request, session: Member, parts: PortalDep) -> Response:
    """The contract document's bytes: for the contract's developer, its buyers and the registry only."""
    assert session.account is not None
    contract = _readable(parts, session.account, contract_id)
    data, media = await material_store(request, parts).get_in_thread(contract.document_sha256)
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'inline; filename="contract-{contract.contract_no}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'" + ("" if media == "application/pdf" else "; sandbox")})


@router.post("/presale/{contract_id}/sign")
async def sign_contract(contract_id: str, session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Prepare the buyer's ``presale.sign`` over the document's exact hash for the confirmation page."""
    assert session.account is not None
    assert form is not None
    account = session.account
    contract = _readable(parts, account, contract_id)
    viewer = viewer_of(parts, account)
    if viewer.role != "person" or viewer.party not in presale.line(contract).awaiting:
        raise PortalProblem(409, N_("This contract does not await your signature."))
    summary = [[N_("Action"), N_("Sign the pre-sale contract (商品房预售合同)"), "t"],
               [N_("Unit number"), contract.unit_number], [N_("Contract number"), contract.contract_no],
               [N_("Filing number (备案号)"), contract.filing_no], [N_("You act for party"), str(viewer.party)],
               [N_("Contract document (SHA-256)"), contract.document_sha256]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="presale.sign",
                                    body={"contract_id": contract_id, "document_sha256": contract.document_sha256},
                                    now_ms=parts.service.clock.now_ms(), summary=summary,
                                    back=f"/presale/{contract_id}")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action
