"""Typed workflow endpoints over real HTTP: the node prepares unsigned payloads, each party signs its own step."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from register_node import OWNER_A, OWNER_B, RegisterNode, register_node

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.cli.demo_world import new_flat
from estatechain.node.keys import DEV_PARTY_ID_KEY
from estatechain.sdk import Client, Forbidden, ServerError, TxStatus
from estatechain.sdk.client import PreparedPayload
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material
from estatechain.testing.builders import mortgage_first_body, with_uploaded_materials

BANK = "icbc-gz"
DEVELOPER = "poly-developer/developer1"
CERTIFICATE = "粤(2026)广州市不动产证明第00000001号"


@pytest.fixture(name="reg", scope="module")
def reg_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterNode]:
    with register_node(tmp_path_factory.mktemp("workflow")) as started:
        yield started


def mortgage_filing(reg: RegisterNode, owner_handle: str, contract: str) -> dict[str, Any]:
    owner = reg.owners[owner_handle]
    today = dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    return mortgage_first_body(unit_number=owner.unit_number, party_id=owner.party_id, record_ref=owner.record_ref,
                               bank_party=reg.bank_parties[BANK], title_number=owner.title_number,
                               contract=contract, today=today)


def run(work: Any) -> Any:
    return asyncio.run(work)


def client(reg: RegisterNode, handle: str) -> Client:
    return Client(reg.url, reg.identity(handle), chain_id=reg.chain_id)


async def ok(reg: RegisterNode, handle: str, step: str, **fields: Any) -> str:
    async with client(reg, handle) as c:
        if step == "file":  # the filer's node must hold what the filing cites
            fields = await with_uploaded_materials(fields, c.upload_material)
        signed, status = await c.step(step, **fields)
        assert status.valid, (step, status.code, status.message, status.detail)
        return signed.tx_id


def test_first_registration_through_the_sdk_ends_certified_with_the_certificate_number(reg: RegisterNode) -> None:
    owner = reg.owners[OWNER_A]
    bank_party = reg.bank_parties[BANK]

    async def scenario() -> dict[str, Any]:
        app = await ok(reg, f"{BANK}/operator1", "file", **mortgage_filing(reg, OWNER_A, "LOAN-E2E-0001"))
        await ok(reg, OWNER_A, "confirm", application_id=app, party_id=owner.party_id)
        await ok(reg, f"{BANK}/approver1", "confirm", application_id=app, party_id=bank_party)
        await ok(reg, "gz-registry/intake1", "accept", application_id=app)
        await ok(reg, "gz-registry/reviewer1", "review", application_id=app)
        await ok(reg, "gz-registry/recorder2", "record", application_id=app)
        async with client(reg, f"{BANK}/operator1") as bank:
            recorded: dict[str, Any] = await bank._send("GET", f"/v1/applications/{app}")
        assert (recorded["state"], recorded["complete"]) == ("RECORDED", False)  # its certificate is still to come
        issued = await ok(reg, "gz-registry/issuer1", "issue", application_id=app, document_sha256=h(f"pdf:{app}"))
        async with client(reg, f"{BANK}/operator1") as bank:
            seen: dict[str, Any] = await bank._send("GET", f"/v1/applications/{app}")
            status = await bank.status(issued)
            assert status.committed
            assert status.valid
        async with client(reg, "ccb-gz/operator1") as other:
            with pytest.raises(Forbidden):
                await other._send("GET", f"/v1/applications/{app}")
        return seen

    seen = run(scenario())
    assert seen["state"] == "CERTIFIED"
    assert seen["certificate_number"] == CERTIFICATE
    assert seen["unit_number"] == owner.unit_number
    assert set(seen["confirmed"]) == {owner.party_id, bank_party}
    assert seen["complete"] is True
    assert seen["confirm_deadline_ms"] > int(seen["steps"]["accepted"]["at_ms"]) - 86_400_000 * 30


def test_the_prepared_payload_is_the_exact_canonical_bytes_the_caller_signs(reg: RegisterNode) -> None:
    async def scenario() -> PreparedPayload:
        async with client(reg, "gz-registry/intake1") as c:
            return await c.prepare("accept", application_id=h("x"), nonce="fixed-nonce-1", created_at=1_767_484_800_000)

    prepared = run(scenario())
    identity = reg.identity("gz-registry/intake1")
    assert prepared.payload == {
        "body": {"application_id": h("x")}, "chain_id": reg.chain_id, "command": "application.accept",
        "created_at": 1_767_484_800_000, "nonce": "fixed-nonce-1", "signer": identity.fingerprint,
        "type": "estatechain.tx.v1"}
    assert prepared.canonical == canonical.encode(prepared.payload)
    assert prepared.tx_id == hashlib.sha256(prepared.canonical).hexdigest()


def test_an_optional_field_left_none_inside_an_applicant_is_no_proof_of_a_tampering_node(reg: RegisterNode) -> None:
    """The node drops unset (None) fields at every depth; the SDK must compare what it sent in that form."""
    filing = mortgage_filing(reg, OWNER_A, "LOAN-E2E-NONE")
    bank = next(a for a in filing["applicants"] if a["capacity"] == "mortgagee")
    bank["record_ref"] = None  # a bank has no personal record: an integrator may well send the key as null

    async def scenario() -> PreparedPayload:
        async with client(reg, f"{BANK}/operator1") as c:
            return await c.prepare("file", **await with_uploaded_materials(filing, c.upload_material))

    prepared = run(scenario())
    body = prepared.payload["body"]
    assert isinstance(body, dict)
    assert {"party_id": reg.bank_parties[BANK], "capacity": "mortgagee"} in body["applicants"]


def test_invalid_fields_get_422_naming_the_field(reg: RegisterNode) -> None:
    filing = mortgage_filing(reg, OWNER_A, "LOAN-E2E-BAD")

    async def refused(step: str, **fields: Any) -> ServerError:
        async with client(reg, f"{BANK}/operator1") as c:
            with pytest.raises(ServerError) as caught:
                await c.prepare(step, **fields)
            return caught.value

    bad_unit = run(refused("file", **{**filing, "unit_number": "440106" + "0" * 22}))
    assert (bad_unit.status, bad_unit.code) == (422, "VALIDATION_FAILED")
    assert "body.unit_number" in bad_unit.detail
    bad_material = run(refused("file", **{**filing, "materials": [{**material("LOAN_CONTRACT"), "sha256": "abc"}]}))
    assert "body.materials.0.sha256" in bad_material.detail
    bad_type = run(refused("file", **{**filing, "business_type": "mortgage.nonsense"}))
    assert "mortgage.first" in bad_type.detail["body.business_type"]
    floats = run(refused("file", **{**filing, "details": {"secured_principal_fen": 1.5}}))
    assert "body.details" in floats.detail
    extra = run(refused("withdraw", application_id=h("a"), party_id=h("p"), surprise=1))
    assert "body.surprise" in extra.detail
    missing = run(refused("withdraw", application_id=h("a")))
    assert "body.party_id" in missing.detail


def test_a_role_the_command_does_not_admit_gets_403_before_signing(reg: RegisterNode) -> None:
    async def scenario() -> None:
        async with client(reg, f"{BANK}/operator1") as c:
            with pytest.raises(Forbidden) as caught:
                await c.prepare("record", application_id=h("a"))
            assert caught.value.detail["command"] == "application.record"

    run(scenario())


def test_seizure_and_its_release_by_the_court(reg: RegisterNode, tmp_path: Path) -> None:
    unit = reg.owners["gz-identity/person2"].unit_number

    async def scenario() -> None:
        seizure = await ok(reg, "gz-court/court1", "seizure", unit_number=unit, kind="1", order_no="(2026)粤0106执1号",
                           start_date="2026-01-01", end_date="2028-12-31")
        await ok(reg, "gz-court/court1", "seizure-release", seizure_id=seizure, order_no="(2026)粤0106执1号之一")

    run(scenario())
    assert tmp_path.exists()


def test_a_filing_citing_a_material_this_node_does_not_hold_is_not_prepared(reg: RegisterNode) -> None:
    """A filing names its materials by hash and size only: one never uploaded, or cited with another size,
    would be confirmed by the owner and fail only at intake. The filer's node refuses to prepare it."""
    filing = mortgage_filing(reg, OWNER_A, "LOAN-E2E-MISSING")

    async def scenario() -> tuple[ServerError, ServerError, PreparedPayload]:
        async with client(reg, f"{BANK}/operator1") as c:
            uploaded = await with_uploaded_materials(filing, c.upload_material)
            with pytest.raises(ServerError) as never:
                await c.prepare("file", **filing)  # material_ref's hashes: described, never uploaded
            resized: list[dict[str, Any]] = [dict(m) for m in uploaded["materials"]]  # type: ignore[arg-type,union-attr]
            resized[2]["size"] = int(resized[2]["size"]) + 1
            with pytest.raises(ServerError) as other_size:
                await c.prepare("file", **{**uploaded, "materials": resized})
            return never.value, other_size.value, await c.prepare("file", **uploaded)

    never, other_size, prepared = run(scenario())
    assert (never.status, never.code, never.detail["field"]) == (422, "MATERIAL_NOT_UPLOADED", "materials[0]")
    assert "POST /v1/materials" in never.message
    assert (other_size.status, other_size.code, other_size.detail["field"]) == (422, "MATERIAL_MISMATCH",
                                                                              "materials[2]")
    assert prepared.command == "application.file"


def test_a_record_ref_that_is_no_record_id_is_refused_before_signing(reg: RegisterNode) -> None:
    """The contract takes only 64 lower-case hex as ``record_ref``: anything else is an invalid tx kept forever."""
    filing = mortgage_filing(reg, OWNER_A, "LOAN-E2E-REF")
    owner = next(a for a in filing["applicants"] if a["capacity"] == "mortgagor")
    owner["record_ref"] = "李婷的档案"

    async def refused() -> ServerError:
        async with client(reg, f"{BANK}/operator1") as c:
            with pytest.raises(ServerError) as caught:
                await c.prepare("file", **await with_uploaded_materials(filing, c.upload_material))
            return caught.value

    error = run(refused())
    assert (error.status, error.code) == (422, "VALIDATION_FAILED")
    assert "body.applicants.0.record_ref" in error.detail


def test_a_presale_contract_filed_and_signed_through_the_api_lets_its_purchase_notice_be_filed(
    reg: RegisterNode,
) -> None:
    """The developer files the pre-sale contract and the buyer signs it, each preparing the step at the node and
    signing it with their own key; only the buyer's signature makes the contract one a purchase notice rests on."""
    buyer = reg.owners[OWNER_B]
    flat = new_flat((reg.consortium_dir / DEV_PARTY_ID_KEY).read_bytes(), run=1_767_484_800)
    document = h(f"presale contract of {flat.predicted}")
    notice: dict[str, JSONValue] = {"business_type": "purchase_notice.first", "unit_number": flat.predicted,
                                    "applicants": [{"party_id": buyer.party_id, "record_ref": buyer.record_ref,
                                                    "capacity": "buyer"},
                                                   {"party_id": flat.developer, "capacity": "developer"}],
                                    "materials": [material("APPLICATION_FORM"), material("NOTICE_AGREEMENT")]}

    async def file_notice(contract: str) -> TxStatus:
        async with client(reg, DEVELOPER) as c:
            body: dict[str, Any] = await with_uploaded_materials({**notice, "details": {"presale_contract": contract}},
                                                 c.upload_material)
            return (await c.step("file", **body))[1]

    async def scenario() -> tuple[TxStatus, TxStatus, str]:
        # setup the API offers no step for: the registry enters the flat, the identity authority binds the
        # developer's company party to its member org
        for handle, command, body in (("gz-registry/admin1", "register.import", flat.import_body()),
                                      ("gz-identity/officer1", "identity.bind_party",
                                       {"org": "poly-developer", "party_id": flat.developer})):
            async with client(reg, handle) as c:
                assert (await c.submit_and_wait(command, body))[1].valid, command
        contract = await ok(reg, DEVELOPER, "presale-contract", unit_number=flat.predicted,
                            developer=flat.developer, buyers=[buyer.party_id], price_fen=250_000_000,
                            contract_no="HC-E2E-0001", filing_no="GZYS-E2E-0001", document_sha256=document)
        unsigned = await file_notice(contract)
        await ok(reg, OWNER_B, "presale-sign", contract_id=contract, document_sha256=document)
        return unsigned, await file_notice(contract), contract

    unsigned, signed, contract = run(scenario())
    assert (unsigned.valid, unsigned.code) == (False, "PRESALE_STATE")
    assert (unsigned.detail or {})["contract_id"] == contract
    assert signed.valid, (signed.code, signed.message)


def test_presale_steps_with_invalid_fields_get_422_naming_the_field_and_other_roles_403(reg: RegisterNode) -> None:
    buyer, other = reg.owners[OWNER_A].party_id, reg.owners[OWNER_B].party_id
    contract = {"unit_number": reg.owners[OWNER_A].unit_number, "developer": h("developer"), "buyers": [buyer],
                "price_fen": 250_000_000, "contract_no": "HC-E2E-0002", "filing_no": "GZYS-E2E-0002",
                "document_sha256": h("document")}

    async def refused(handle: str, step: str, **fields: Any) -> ServerError:
        async with client(reg, handle) as c:
            with pytest.raises(ServerError) as caught:
                await c.prepare(step, **fields)
            return caught.value

    def failed(step: str, **fields: Any) -> dict[str, Any]:
        error = run(refused(DEVELOPER if step == "presale-contract" else OWNER_A, step, **fields))
        assert (error.status, error.code) == (422, "VALIDATION_FAILED"), error
        return dict(error.detail)

    assert "body.buyers" in failed("presale-contract", **{**contract, "buyers": [buyer, other, buyer]})
    assert "developer" in failed("presale-contract", **{**contract, "buyers": [buyer, h("developer")]})["body.buyers"]
    assert "body.buyers" in failed("presale-contract", **{**contract, "buyers": []})
    assert "body.price_fen" in failed("presale-contract", **{**contract, "price_fen": 0})
    assert "body.price_fen" in failed("presale-contract", **{**contract, "price_fen": 2_500_000.5})
    assert "body.contract_no" in failed("presale-contract", **{**contract, "contract_no": "合同 1"})
    assert "body.unit_number" in failed("presale-contract", **{**contract, "unit_number": "440106" + "0" * 22})
    assert "body.contract_id" in failed("presale-sign", contract_id="HC-E2E-0002", document_sha256=h("document"))
    assert "body.document_sha256" in failed("presale-sign", contract_id=h("c"), document_sha256="ABC")
    bank = run(refused(f"{BANK}/operator1", "presale-contract", **contract))
    developer = run(refused(DEVELOPER, "presale-sign", contract_id=h("c"), document_sha256=h("document")))
    assert [(e.status, e.detail["command"]) for e in (bank, developer)] == [(403, "presale.contract"),
                                                                          (403, "presale.sign")]


def test_a_filing_is_prepared_only_for_a_role_its_business_type_admits_as_filer(reg: RegisterNode) -> None:
    """The node reads the contract's filers of each business type: a 预抵押 correction is prepared for the buyer
    (细则 79: the holder or an interested party applies), a mortgage first registration only for the bank."""
    owner = reg.owners[OWNER_A]
    correction: dict[str, JSONValue] = {
        "business_type": "mortgage_notice.correct", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "capacity": "interested"}],
        "materials": [material("APPLICATION_FORM"), material("ERROR_PROOF"), material("INTEREST_PROOF")],
        "details": {"certificate_number": CERTIFICATE, "error_evidence_sha256": h("loan contract"),
                    "corrections": [{"field": "contract_numbers", "old": ["A-1"], "new": ["A-2"]}]}}

    async def scenario() -> tuple[PreparedPayload, Forbidden]:
        async with client(reg, OWNER_A) as buyer:
            prepared = await buyer.prepare("file", **await with_uploaded_materials(correction, buyer.upload_material))
        async with client(reg, DEVELOPER) as developer:
            filing = await with_uploaded_materials(mortgage_filing(reg, OWNER_A, "LOAN-E2E-DEV"),
                                                   developer.upload_material)
            with pytest.raises(Forbidden) as refused:
                await developer.prepare("file", **filing)
        return prepared, refused.value

    prepared, refused = run(scenario())
    assert prepared.command == "application.file"
    assert (refused.code, refused.detail["business_type"], refused.detail["allowed"]) == (
        "FORBIDDEN", "mortgage.first", "bank.operator")
