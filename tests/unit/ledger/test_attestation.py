"""Attestations verify only as a member org's node speaking for itself, about this chain."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from estatechain import canonical
from estatechain.crypto.suites import get_suite
from estatechain.errors import InputError, Refused
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.ledger.attestation import sign_attestation, verify_attestation

NOW = 1_767_225_600_000
SUITE = get_suite("ed25519-sha256")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> DevConsortium:
    return create_dev_consortium(Path(tmp_path_factory.mktemp("att")), now_ms=NOW)


def _attest(dev: DevConsortium, handle: str, org: str, **overrides: object) -> bytes:
    who = dev.identities[handle]
    fields: dict[str, object] = {"height": 7, "block_hash": "ab" * 32, "state_root": "cd" * 32}
    fields.update(overrides)
    return sign_attestation(suite=SUITE, private_key=who.private_key, cert_der=who.cert_der,
                            chain_id=dev.genesis.chain_id, org=org, **fields)  # type: ignore[arg-type]


def test_a_node_attestation_verifies_and_states_its_claim(dev: DevConsortium) -> None:
    att = verify_attestation(_attest(dev, "icbc-gz/node", "icbc-gz"), genesis=dev.genesis, suite=SUITE)
    assert (att.org, att.height, att.claim) == ("icbc-gz", 7, ("ab" * 32, "cd" * 32))


def test_a_node_cannot_speak_for_another_org(dev: DevConsortium) -> None:
    with pytest.raises(Refused, match="node"):
        verify_attestation(_attest(dev, "icbc-gz/node", "ccb-gz"), genesis=dev.genesis, suite=SUITE)


def test_a_user_who_is_not_a_node_cannot_attest(dev: DevConsortium) -> None:
    with pytest.raises(Refused, match="node"):
        verify_attestation(_attest(dev, "icbc-gz/operator1", "icbc-gz"), genesis=dev.genesis, suite=SUITE)


@pytest.mark.parametrize("field", ["block_hash", "state_root", "height", "org", "chain_id", "signer", "type"])
def test_changing_any_payload_field_breaks_the_attestation(dev: DevConsortium, field: str) -> None:
    value = orjson.loads(_attest(dev, "gz-court/node", "gz-court"))
    payload = value["payload"]
    original = payload[field]
    payload[field] = original + 1 if isinstance(original, int) else ("ef" * 32 if original != "ef" * 32 else "00")
    if field == "org":
        payload[field] = "gz-registry"
    with pytest.raises((InputError, Refused)):
        verify_attestation(canonical.encode(value), genesis=dev.genesis, suite=SUITE)


def test_non_canonical_bytes_are_refused(dev: DevConsortium) -> None:
    data = _attest(dev, "gz-court/node", "gz-court")
    with pytest.raises(InputError, match="canonical"):
        verify_attestation(b" " + data, genesis=dev.genesis, suite=SUITE)
