"""Inquiries over real HTTP: the answer is released only for a committed GRANTED inquiry, signed by the registry."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from register_node import OWNER_A, OWNER_B, RegisterNode, register_node

from estatechain import canonical
from estatechain.crypto import x509
from estatechain.sdk import Client, ServerError

BANK = "icbc-gz/operator1"


@pytest.fixture(name="reg", scope="module")
def reg_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterNode]:
    with register_node(tmp_path_factory.mktemp("inquiries")) as started:
        yield started


def run(work: Any) -> Any:
    return asyncio.run(work)


async def inquire(reg: RegisterNode, handle: str, **fields: Any) -> dict[str, Any]:
    async with Client(reg.url, reg.identity(handle), chain_id=reg.chain_id) as c:
        signed = c.sign_prepared(await c.prepare("inquiry", **fields))
        status: dict[str, Any] = await c._send("POST", "/v1/inquiries", content=signed.envelope,
                                               params={"wait": "10"})
        assert status["status"] == "committed"
        return status


async def answer(reg: RegisterNode, handle: str, tx_id: str) -> dict[str, Any]:
    async with Client(reg.url, reg.identity(handle), chain_id=reg.chain_id) as c:
        data: dict[str, Any] = await c._send("GET", f"/v1/inquiries/{tx_id}/answer")
        return data


def refused(reg: RegisterNode, handle: str, path: str) -> ServerError:
    async def go() -> ServerError:
        async with Client(reg.url, reg.identity(handle), chain_id=reg.chain_id) as c:
            with pytest.raises(ServerError) as caught:
                await c._send("GET", path)
            return caught.value

    result: ServerError = run(go())
    return result


def verified(reg: RegisterNode, data: dict[str, Any]) -> dict[str, Any]:
    """Check the registry's signature and context the way any integrator would."""
    cert = x509.load_certificate(base64.b64decode(data["certificate"]))
    key = ed25519.Ed25519PublicKey.from_public_bytes(x509.public_key_bytes(cert))
    signed = data["canonical"].encode()
    key.verify(base64.b64decode(data["signature"]), signed)
    assert signed == canonical.encode(data["answer"])
    document: dict[str, Any] = data["answer"]
    assert document["type"] == "estatechain.inquiry-answer.v1"
    assert document["chain_id"] == reg.chain_id
    assert document["signer"] == x509.fingerprint(base64.b64decode(data["certificate"]))
    assert document["registry"] == "gz-registry"
    return document


def test_owner_gets_a_full_answer_signed_by_the_registry_for_the_height_it_committed_at(reg: RegisterNode) -> None:
    owner = reg.owners[OWNER_A]
    status = run(inquire(reg, OWNER_A, unit_number=owner.unit_number, basis="own_right"))
    document = verified(reg, run(answer(reg, OWNER_A, status["tx_id"])))
    assert (document["answer"], document["height"], document["inquiry_id"]) == ("FULL", status["height"],
                                                                                  status["tx_id"])
    assert [o["party_id"] for o in document["result"]["owners"]] == [owner.party_id]
    assert document["result"]["mortgages"] == []
    assert run(answer(reg, OWNER_A, status["tx_id"]))["canonical"] == run(answer(reg, OWNER_A,
                                                                                   status["tx_id"]))["canonical"]


def test_a_bank_that_only_intends_to_lend_gets_the_limited_flags(reg: RegisterNode) -> None:
    unit = reg.owners[OWNER_A].unit_number
    status = run(inquire(reg, BANK, unit_number=unit, basis="intent", purpose="PRE_LOAN"))
    document = verified(reg, run(answer(reg, BANK, status["tx_id"])))
    assert document["answer"] == "LIMITED"
    assert set(document["result"]) == {"unit", "co_ownership", "mortgage_flag", "notice_flag", "objection_flag",
                                       "seizure_flag", "residence_right_flag"}
    assert "owners" not in document["result"]
    unit_facts = document["result"]["unit"]  # what the unit is (its floor area and location code), not whose
    assert set(unit_facts) == {"unit_number", "use", "kind", "area_centi_m2", "location_code"}
    assert unit_facts["unit_number"] == unit
    assert unit_facts["area_centi_m2"] > 0
    other_bank = refused(reg, "ccb-gz/operator1", f"/v1/inquiries/{status['tx_id']}/answer")
    assert (other_bank.status, other_bank.code) == (403, "FORBIDDEN")


def test_a_refused_inquiry_is_recorded_and_gets_no_answer(reg: RegisterNode) -> None:
    unit = reg.owners[OWNER_A].unit_number
    status = run(inquire(reg, OWNER_B, unit_number=unit, basis="own_right", purpose="OTHER"))
    assert status["result"] == "valid"
    error = refused(reg, OWNER_B, f"/v1/inquiries/{status['tx_id']}/answer")
    assert (error.status, error.code, error.detail["code"]) == (403, "INQUIRY_REFUSED", "V26_INQUIRY_NOT_ENTITLED")


def test_no_answer_for_an_invalid_or_unknown_inquiry(reg: RegisterNode) -> None:
    async def by_name() -> dict[str, Any]:
        async with Client(reg.url, reg.identity(BANK), chain_id=reg.chain_id) as c:
            signed = await c.sign("inquiry.request", {"name": "张三", "basis": "intent", "purpose": "PRE_LOAN"})
            data: dict[str, Any] = await c._send("POST", "/v1/inquiries", content=signed.envelope,
                                                 params={"wait": "10"})
            return data

    status = run(by_name())
    assert (status["result"], status["code"]) == ("invalid", "V26_SEARCH_NOT_BY_PROPERTY")
    invalid = refused(reg, BANK, f"/v1/inquiries/{status['tx_id']}/answer")
    assert (invalid.status, invalid.code) == (409, "INQUIRY_NOT_COMMITTED")
    unknown = refused(reg, BANK, f"/v1/inquiries/{'0' * 64}/answer")
    assert (unknown.status, unknown.code) == (404, "NOT_FOUND")


def test_only_the_owner_lists_who_looked_at_the_unit(reg: RegisterNode) -> None:
    unit = reg.owners[OWNER_A].unit_number
    run(inquire(reg, BANK, unit_number=unit, basis="intent", purpose="PRE_LOAN"))

    async def listing() -> dict[str, Any]:
        async with Client(reg.url, reg.identity(OWNER_A), chain_id=reg.chain_id) as c:
            data: dict[str, Any] = await c._send("GET", f"/v1/units/{unit}/inquiries")
            return data

    entries = run(listing())["inquiries"]
    assert ("icbc-gz", "GRANTED", "LIMITED") in {(e["requester_org"], e["outcome"], e["answer"]) for e in entries}
    bank = refused(reg, BANK, f"/v1/units/{unit}/inquiries")
    assert (bank.status, bank.code) == (403, "FORBIDDEN")
