from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from estatechain.canonical import JSONValue
from estatechain.crypto import x509
from estatechain.errors import InputError, NotFound
from estatechain.identity.devca import create_dev_consortium
from estatechain.identity.genesis import STANDARD_ORG_TYPES, Genesis, Org, OrgType, Policies

NOW = 1_760_000_000_000
YEAR = 365 * 24 * 3_600_000


def _ca(org_id: str, key: x509.PrivateKey | None = None) -> bytes:
    cert = x509.create_ca(org_id=org_id, key=key or x509.generate_key(), not_before_ms=NOW, not_after_ms=NOW + YEAR)
    return x509.certificate_der(cert)


def _genesis(**changes: object) -> Genesis:
    fields: dict[str, object] = {
        "consortium": "test consortium",
        "suite": "ed25519-sha256",
        "created_at_ms": NOW,
        "org_types": STANDARD_ORG_TYPES,
        "orgs": (
            Org(id="gz-registry", name="登记中心 / Registry", type="registry", ca_cert_der=_ca("gz-registry")),
            Org(id="icbc-gz", name="工商银行 / ICBC", type="bank", ca_cert_der=_ca("icbc-gz")),
            Org(id="ccb-gz", name="建设银行 / CCB", type="bank", ca_cert_der=_ca("ccb-gz")),
        ),
        "policies": Policies(),
    }
    fields.update(changes)
    return Genesis(**fields)  # type: ignore[arg-type]


def _json() -> dict[str, JSONValue]:
    return copy.deepcopy(_genesis().to_json())


def _orgs(doc: dict[str, JSONValue]) -> list[dict[str, JSONValue]]:
    orgs = doc["orgs"]
    assert isinstance(orgs, list)
    return [o for o in orgs if isinstance(o, dict)]


def _policies(doc: dict[str, JSONValue]) -> dict[str, JSONValue]:
    policies = doc["policies"]
    assert isinstance(policies, dict)
    return policies


def _pem(der: bytes) -> str:
    return x509.certificate_pem(x509.load_certificate(der))


# ---------------------------------------------------------------------------------------------- round trip


def test_round_trip_through_json_keeps_the_chain_id() -> None:
    genesis = _genesis()
    value = genesis.to_json()
    again = Genesis.from_json(value)
    assert again == genesis
    assert again.chain_id == genesis.chain_id
    assert again.to_json() == value
    assert Genesis.from_bytes(genesis.canonical_bytes()).chain_id == genesis.chain_id


def test_chain_id_is_the_sha256_of_the_genesis_file(tmp_path: Path) -> None:
    dev = create_dev_consortium(tmp_path, now_ms=NOW)
    data = (tmp_path / "genesis.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == dev.genesis.chain_id
    assert Genesis.from_bytes(data) == dev.genesis


def test_json_shape_carries_type_tag_and_pem_certificates() -> None:
    value = _genesis().to_json()
    assert value["type"] == "estatechain.genesis.v1"
    assert sorted(value) == sorted(["type", "consortium", "suite", "created_at_ms", "org_types", "orgs", "policies"])
    org = _orgs(value)[0]
    assert isinstance(org["ca_cert"], str)
    assert org["ca_cert"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert _policies(value) == {
        "tx_window_past_ms": 600_000,
        "tx_window_future_ms": 120_000,
        "max_tx_bytes": 65_536,
        "block_max_tx": 500,
        "block_max_bytes": 4_194_304,
        "batch_timeout_ms": 200,
        "revocation": "governance-tx",
        "finality_quorum": 3,
    }


def test_org_lookup_names_known_members() -> None:
    genesis = _genesis()
    assert genesis.org("icbc-gz").type == "bank"
    with pytest.raises(NotFound, match="'bnak-gz' is not a member; members: gz-registry, icbc-gz, ccb-gz"):
        genesis.org("bnak-gz")


def test_standard_org_types_grant_governance_and_node_roles_everywhere() -> None:
    types = {t.name: t.roles for t in STANDARD_ORG_TYPES}
    assert set(types) == {
        "registry",
        "bank",
        "court",
        "regulator",
        "identity_authority",
        "developer",
        "state_organ",
    }
    for roles in types.values():
        assert {"org.admin", "node"} <= set(roles)
    assert "registry.recorder" not in types["bank"]
    assert "person" in types["identity_authority"]


# ---------------------------------------------------------------------------------------------- validation

Mutation = Callable[[dict[str, JSONValue]], None]


def _set(*path: str | int, value: JSONValue) -> Mutation:
    def mutate(doc: dict[str, JSONValue]) -> None:
        target: JSONValue = doc
        for step in path[:-1]:
            target = target[step]  # type: ignore[index]
        target[path[-1]] = value  # type: ignore[index]

    return mutate


def _delete(*path: str | int) -> Mutation:
    def mutate(doc: dict[str, JSONValue]) -> None:
        target: JSONValue = doc
        for step in path[:-1]:
            target = target[step]  # type: ignore[index]
        del target[path[-1]]  # type: ignore[arg-type, union-attr]

    return mutate


def _copy_ca(source: int, target: int) -> Mutation:
    def mutate(doc: dict[str, JSONValue]) -> None:
        _orgs(doc)[target]["ca_cert"] = _orgs(doc)[source]["ca_cert"]

    return mutate


def _ecdsa_ca() -> str:
    return _pem(_ca("icbc-gz", x509.generate_key(x509.ECDSA_P256)))


def _end_entity() -> str:
    key = x509.generate_key()
    ca = x509.create_ca(org_id="icbc-gz", key=key, not_before_ms=NOW, not_after_ms=NOW + YEAR)
    cert = x509.issue_certificate(
        ca_cert=ca,
        ca_key=key,
        subject_key=x509.generate_key().public_key(),
        org_id="icbc-gz",
        role="bank.operator",
        common_name="op",
        not_before_ms=NOW,
        not_after_ms=NOW + YEAR,
    )
    return x509.certificate_pem(cert)


def _not_self_signed_ca() -> str:
    """A CA certificate that names itself as issuer but was signed by a different key."""
    name = cx509.Name([cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "icbc-gz")])
    start = dt.datetime.fromtimestamp(NOW // 1000, tz=dt.UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ed25519.Ed25519PrivateKey.generate().public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .add_extension(cx509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ed25519.Ed25519PrivateKey.generate(), None)
    )
    return x509.certificate_pem(cert)


def _same_subject_ca(doc: dict[str, JSONValue]) -> None:
    _orgs(doc)[2]["ca_cert"] = _pem(_ca("icbc-gz"))  # a different CA named like icbc-gz's


def _crlf_pem(doc: dict[str, JSONValue]) -> None:
    pem = _orgs(doc)[0]["ca_cert"]
    assert isinstance(pem, str)
    _orgs(doc)[0]["ca_cert"] = pem.replace("\n", "\r\n")


BAD_GENESIS: list[tuple[str, Mutation, str]] = [
    ("wrong type tag", _set("type", value="estatechain.genesis.v0"), "genesis.type: 'estatechain.genesis.v0' is not"),
    ("extra field", _set("extra", value=1), "genesis: unknown field 'extra'"),
    ("missing field", _delete("consortium"), "genesis.consortium: missing"),
    ("not an object", lambda doc: doc.clear(), "genesis.type: missing"),
    ("empty consortium", _set("consortium", value=" "), "genesis.consortium: must be a non-empty name"),
    ("unknown suite", _set("suite", value="rot13"), "genesis.suite: unknown signature suite 'rot13'"),
    ("string time", _set("created_at_ms", value="now"), "genesis.created_at_ms: expected an integer"),
    ("boolean time", _set("created_at_ms", value=True), "genesis.created_at_ms: expected an integer"),
    ("negative time", _set("created_at_ms", value=-1), "genesis.created_at_ms: must be milliseconds"),
    ("no org types", _set("org_types", value=[]), "genesis.org_types: must list at least one org type"),
    ("org types not a list", _set("org_types", value={}), "genesis.org_types: expected an array"),
    (
        "duplicate org type",
        _set("org_types", 1, "name", value="registry"),
        "genesis.org_types[1].name: org type 'registry' is defined twice",
    ),
    ("bad org type name", _set("org_types", 0, "name", value="Registry"), "genesis.org_types[0].name: 'Registry'"),
    ("no roles", _set("org_types", 0, "roles", value=[]), "genesis.org_types[0].roles: must grant at least one"),
    (
        "role not a string",
        _set("org_types", 0, "roles", 2, value=7),
        "genesis.org_types[0].roles[2]: expected a string",
    ),
    ("bad role", _set("org_types", 0, "roles", 1, value="Registry Reviewer"), "genesis.org_types[0].roles[1]: "),
    (
        "duplicate role",
        _set("org_types", 1, "roles", 1, value="bank.operator"),
        "genesis.org_types[1].roles[1]: role 'bank.operator' is listed twice",
    ),
    ("unknown field in org type", _set("org_types", 0, "x", value=1), "genesis.org_types[0]: unknown field 'x'"),
    ("no orgs", _set("orgs", value=[]), "genesis.orgs: must list at least one member org"),
    ("org not an object", _set("orgs", 1, value="icbc-gz"), "genesis.orgs[1]: expected an object"),
    (
        "unknown org type",
        _set("orgs", 2, "type", value="bnak"),
        "genesis.orgs[2].type: unknown org type 'bnak'; known: registry, bank, court",
    ),
    ("bad org id", _set("orgs", 0, "id", value="GZ_Registry"), "genesis.orgs[0].id: 'GZ_Registry' must match"),
    ("one-character org id", _set("orgs", 0, "id", value="g"), "genesis.orgs[0].id: 'g' must match"),
    ("duplicate org id", _set("orgs", 2, "id", value="icbc-gz"), "genesis.orgs[2].id: org id 'icbc-gz' is used twice"),
    ("empty org name", _set("orgs", 1, "name", value=""), "genesis.orgs[1].name: must be a non-empty display name"),
    ("missing ca", _delete("orgs", 1, "ca_cert"), "genesis.orgs[1].ca_cert: missing"),
    (
        "ca not pem",
        _set("orgs", 0, "ca_cert", value="MIIB..."),
        "genesis.orgs[0].ca_cert: expected one PEM certificate",
    ),
    (
        "ca garbage pem",
        _set("orgs", 0, "ca_cert", value="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "genesis.orgs[0].ca_cert: not a parseable PEM certificate",
    ),
    ("ca pem with CRLF", _crlf_pem, "genesis.orgs[0].ca_cert: PEM is not in standard form"),
    (
        "ca is an end entity",
        _set("orgs", 1, "ca_cert", value=_end_entity()),
        "genesis.orgs[1].ca_cert: not a CA certificate",
    ),
    (
        "ca not self-signed",
        _set("orgs", 1, "ca_cert", value=_not_self_signed_ca()),
        "genesis.orgs[1].ca_cert: not self-signed",
    ),
    (
        "ca key does not fit suite",
        _set("orgs", 1, "ca_cert", value=_ecdsa_ca()),
        "genesis.orgs[1].ca_cert: CA key is ecdsa-p256, but suite 'ed25519-sha256' needs ed25519",
    ),
    ("same ca twice", _copy_ca(1, 2), "genesis.orgs[2].ca_cert: same CA certificate as org 'icbc-gz'"),
    (
        "same ca subject twice",
        _same_subject_ca,
        "genesis.orgs[2].ca_cert: CA subject 'CN=icbc-gz CA,O=icbc-gz' is also",
    ),
    ("policies not an object", _set("policies", value=[]), "genesis.policies: expected an object"),
    ("policy missing", _delete("policies", "batch_timeout_ms"), "genesis.policies.batch_timeout_ms: missing"),
    (
        "policy not integer",
        _set("policies", "block_max_tx", value="500"),
        "genesis.policies.block_max_tx: expected an integer",
    ),
    (
        "policy zero",
        _set("policies", "max_tx_bytes", value=0),
        "genesis.policies.max_tx_bytes: must be a positive integer",
    ),
    (
        "negative window",
        _set("policies", "tx_window_past_ms", value=-5),
        "genesis.policies.tx_window_past_ms: must be zero",
    ),
    (
        "tx larger than block",
        _set("policies", "max_tx_bytes", value=5_000_000),
        "genesis.policies.max_tx_bytes: 5000000 exceeds block_max_bytes=4194304",
    ),
    (
        "unknown revocation",
        _set("policies", "revocation", value="crl"),
        "genesis.policies.revocation: unknown mode 'crl'; known: governance-tx",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "message"), [(m, msg) for _, m, msg in BAD_GENESIS], ids=[name for name, _, _ in BAD_GENESIS]
)
def test_every_validation_error_names_its_field(mutation: Mutation, message: str) -> None:
    doc = _json()
    mutation(doc)
    with pytest.raises(InputError) as caught:
        Genesis.from_json(doc)
    assert message in str(caught.value)


@pytest.mark.parametrize("value", [None, [], "genesis", 3])
def test_a_genesis_that_is_not_an_object_is_refused(value: JSONValue) -> None:
    with pytest.raises(InputError, match=r"^genesis: expected an object"):
        Genesis.from_json(value)


def test_non_canonical_genesis_bytes_are_refused() -> None:
    data = _genesis().canonical_bytes()
    with pytest.raises(InputError, match="genesis: not in RFC 8785 canonical form"):
        Genesis.from_bytes(data.replace(b'","', b'", "', 1))


def test_constructing_directly_validates_too() -> None:
    genesis = _genesis()
    with pytest.raises(InputError, match=r"genesis.orgs\[1\].type: unknown org type 'bnak'"):
        dataclasses.replace(genesis, orgs=(genesis.orgs[0], dataclasses.replace(genesis.orgs[1], type="bnak")))


# ---------------------------------------------------------------------------------------------- chain id


def _variants(base: Genesis) -> dict[str, Genesis]:
    registry, icbc, ccb = base.orgs
    variants = {
        "consortium": dataclasses.replace(base, consortium="another consortium"),
        "created_at_ms": dataclasses.replace(base, created_at_ms=NOW + 1),
        "org name": dataclasses.replace(base, orgs=(registry, dataclasses.replace(icbc, name="ICBC"), ccb)),
        "org id": dataclasses.replace(base, orgs=(registry, dataclasses.replace(icbc, id="icbc-sz"), ccb)),
        "org type": dataclasses.replace(base, orgs=(registry, icbc, dataclasses.replace(ccb, type="court"))),
        "org ca": dataclasses.replace(
            base, orgs=(registry, dataclasses.replace(icbc, ca_cert_der=_ca("icbc-gz")), ccb)
        ),
        "org order": dataclasses.replace(base, orgs=(registry, ccb, icbc)),
        "org removed": dataclasses.replace(base, orgs=(registry, icbc),
                                           policies=dataclasses.replace(base.policies, finality_quorum=2)),
        "org type roles": dataclasses.replace(
            base, org_types=(*base.org_types, OrgType(name="notary", roles=("notary",)))
        ),
    }
    for policy in dataclasses.fields(Policies):
        if policy.name == "revocation":
            continue
        delta = -1 if policy.name == "finality_quorum" else 1  # three orgs here: a quorum of four is refused
        changed = dataclasses.replace(base.policies, **{policy.name: getattr(base.policies, policy.name) + delta})
        variants[f"policy {policy.name}"] = dataclasses.replace(base, policies=changed)
    return variants


def test_chain_id_changes_when_any_org_or_policy_changes() -> None:
    base = _genesis()
    variants = _variants(base)
    ids = {name: g.chain_id for name, g in variants.items()}
    for name, chain_id in ids.items():
        assert chain_id != base.chain_id, name
    assert len(set(ids.values())) == len(ids)
    assert all(len(chain_id) == 64 and chain_id == chain_id.lower() for chain_id in ids.values())


def test_a_finality_quorum_larger_than_the_consortium_is_refused() -> None:
    with pytest.raises(InputError, match="finality_quorum"):
        _genesis(policies=Policies(finality_quorum=4))


def test_chain_id_is_stable_for_equal_content() -> None:
    base = _genesis()
    assert dataclasses.replace(base).chain_id == base.chain_id
