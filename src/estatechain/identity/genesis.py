"""The genesis config: who is in the consortium, what each kind of org may grant, and the policies.

Everything a node trusts starts here, and the chain id *is* the hash of its canonical bytes
(design §3.12), so every signed object names exactly one consortium. Validation is strict and every
problem names its field path (``genesis.orgs[2].type``): a genesis is written once, by hand or by
``estatechain init``, and a vague error there costs a consortium its launch day.

Roles belong to org types (design §3.16): a certificate carrying a role its org's type may not grant
is refused by membership, however validly it was signed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from cryptography import x509 as cx509

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto import x509
from estatechain.crypto.suites import get_suite
from estatechain.errors import InputError, NotFound

GENESIS_TYPE: Final = "estatechain.genesis.v1"
MAX_GENESIS_BYTES: Final = 1024 * 1024

ORG_ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
ORG_TYPE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ROLE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

REVOCATION_MODES: Final = ("governance-tx",)
"""``governance-tx``: a revocation is an ``org.admin``-signed transaction, effective from its block (design §3.3)."""

COMMON_ROLES: Final = ("org.admin", "node")
"""Every org has a governance key (revocations of its own certificates) and a peer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgType:
    """A kind of member org and the roles its CA may grant."""

    name: str
    roles: tuple[str, ...]


def _standard(name: str, *roles: str) -> OrgType:
    return OrgType(name=name, roles=(*roles, *COMMON_ROLES))


STANDARD_ORG_TYPES: Final = (
    _standard(
        "registry", "registry.intake", "registry.reviewer", "registry.recorder", "registry.issuer", "registry.admin"
    ),
    _standard("bank", "bank.operator", "bank.approver"),
    _standard("court", "court"),
    _standard("regulator", "auditor"),
    _standard("identity_authority", "person", "identity.officer"),
    _standard("developer", "developer"),
    _standard("state_organ", "state_organ"),
)
"""The org types and roles of domain.md §2."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Org:
    """A member org: its id (as written in certificate subjects ``O=``), display name, type and CA."""

    id: str
    name: str
    type: str
    ca_cert_der: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    """Consortium-wide limits every node applies identically (they decide what enters a block)."""

    tx_window_past_ms: int = 10 * 60 * 1000
    tx_window_future_ms: int = 2 * 60 * 1000
    max_tx_bytes: int = 64 * 1024
    block_max_tx: int = 500
    block_max_bytes: int = 4 * 1024 * 1024
    batch_timeout_ms: int = 200
    revocation: str = "governance-tx"
    finality_quorum: int = 3
    """Orgs whose nodes must attest the same (block hash, state root) before a block is consortium-final."""

    def __post_init__(self) -> None:
        path = "genesis.policies"
        for name in ("tx_window_past_ms", "tx_window_future_ms"):
            if getattr(self, name) < 0:
                raise InputError(f"{path}.{name}: must be zero or more milliseconds")
        for name in ("max_tx_bytes", "block_max_tx", "block_max_bytes", "batch_timeout_ms", "finality_quorum"):
            if getattr(self, name) <= 0:
                raise InputError(f"{path}.{name}: must be a positive integer")
        if self.max_tx_bytes > self.block_max_bytes:
            raise InputError(
                f"{path}.max_tx_bytes: {self.max_tx_bytes} exceeds block_max_bytes={self.block_max_bytes}; "
                "a transaction that size could never enter a block"
            )
        if self.revocation not in REVOCATION_MODES:
            raise InputError(
                f"{path}.revocation: unknown mode {self.revocation!r}; known: {', '.join(REVOCATION_MODES)}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Genesis:
    """The consortium's founding config; construct it with ``from_json`` or directly (both validate)."""

    consortium: str
    suite: str
    created_at_ms: int
    org_types: tuple[OrgType, ...]
    orgs: tuple[Org, ...]
    policies: Policies
    _canonical: bytes = field(init=False, repr=False, compare=False)
    _chain_id: str = field(init=False, repr=False, compare=False)
    _orgs_by_id: dict[str, Org] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self)
        encoded = canonical.encode(self.to_json())
        object.__setattr__(self, "_canonical", encoded)
        object.__setattr__(self, "_chain_id", get_suite(self.suite).hash(encoded).hex())
        object.__setattr__(self, "_orgs_by_id", {org.id: org for org in self.orgs})

    @property
    def chain_id(self) -> str:
        """Lowercase hex of the suite hash of ``canonical_bytes()``: the genesis hash names the chain."""
        return self._chain_id

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 bytes of ``to_json()``; exactly what ``genesis.json`` holds."""
        return self._canonical

    def org(self, org_id: str) -> Org:
        """The member org with this id.

        Raises:
            NotFound: no such member.

        """
        try:
            return self._orgs_by_id[org_id]
        except KeyError:
            raise NotFound(f"org {org_id!r} is not a member; members: {', '.join(self._orgs_by_id)}") from None

    def org_type(self, name: str) -> OrgType:
        """The org type with this name.

        Raises:
            NotFound: no such type.

        """
        for org_type in self.org_types:
            if org_type.name == name:
                return org_type
        raise NotFound(f"org type {name!r} is not defined in genesis")

    def to_json(self) -> dict[str, JSONValue]:
        """The JSON value that is hashed; certificates as PEM so people can read them with openssl."""
        org_types: list[JSONValue] = [{"name": t.name, "roles": list[JSONValue](t.roles)} for t in self.org_types]
        orgs: list[JSONValue] = [
            {
                "id": org.id,
                "name": org.name,
                "type": org.type,
                "ca_cert": x509.certificate_pem(x509.load_certificate(org.ca_cert_der)),
            }
            for org in self.orgs
        ]
        p = self.policies
        policies: dict[str, JSONValue] = {
            "tx_window_past_ms": p.tx_window_past_ms,
            "tx_window_future_ms": p.tx_window_future_ms,
            "max_tx_bytes": p.max_tx_bytes,
            "block_max_tx": p.block_max_tx,
            "block_max_bytes": p.block_max_bytes,
            "batch_timeout_ms": p.batch_timeout_ms,
            "revocation": p.revocation,
            "finality_quorum": p.finality_quorum,
        }
        return {
            "type": GENESIS_TYPE,
            "consortium": self.consortium,
            "suite": self.suite,
            "created_at_ms": self.created_at_ms,
            "org_types": org_types,
            "orgs": orgs,
            "policies": policies,
        }

    @classmethod
    def from_json(cls, value: JSONValue) -> Genesis:
        """Parse and validate a genesis JSON value.

        Raises:
            InputError: the first problem found, naming its field path.

        """
        return _parse_genesis(value)

    @classmethod
    def from_bytes(cls, data: bytes) -> Genesis:
        """Parse canonical genesis bytes (as written to ``genesis.json``).

        Raises:
            InputError: not canonical JSON, or not a valid genesis.

        """
        return cls.from_json(canonical.decode(data, max_bytes=MAX_GENESIS_BYTES, what="genesis"))


# ---------------------------------------------------------------------------------------------- checks


def _validate(genesis: Genesis) -> None:
    if not genesis.consortium.strip():
        raise InputError("genesis.consortium: must be a non-empty name")
    try:
        get_suite(genesis.suite)
    except InputError as exc:
        raise InputError(f"genesis.suite: {exc}") from None
    if genesis.created_at_ms < 0:
        raise InputError("genesis.created_at_ms: must be milliseconds since the epoch (zero or more)")
    _validate_org_types(genesis.org_types)
    _validate_orgs(genesis)
    if genesis.policies.finality_quorum > len(genesis.orgs):
        raise InputError(f"genesis.policies.finality_quorum: {genesis.policies.finality_quorum} exceeds the "
                         f"{len(genesis.orgs)} member orgs; no block could ever become final")


def _validate_org_types(org_types: tuple[OrgType, ...]) -> None:
    if not org_types:
        raise InputError("genesis.org_types: must list at least one org type")
    seen: set[str] = set()
    for i, org_type in enumerate(org_types):
        path = f"genesis.org_types[{i}]"
        if not ORG_TYPE_PATTERN.fullmatch(org_type.name):
            raise InputError(f"{path}.name: {org_type.name!r} must match {ORG_TYPE_PATTERN.pattern}")
        if org_type.name in seen:
            raise InputError(f"{path}.name: org type {org_type.name!r} is defined twice")
        seen.add(org_type.name)
        if not org_type.roles:
            raise InputError(f"{path}.roles: must grant at least one role")
        roles: set[str] = set()
        for j, role in enumerate(org_type.roles):
            if not ROLE_PATTERN.fullmatch(role):
                raise InputError(f"{path}.roles[{j}]: {role!r} must match {ROLE_PATTERN.pattern}")
            if role in roles:
                raise InputError(f"{path}.roles[{j}]: role {role!r} is listed twice")
            roles.add(role)


def _validate_orgs(genesis: Genesis) -> None:
    if not genesis.orgs:
        raise InputError("genesis.orgs: must list at least one member org")
    known_types = [t.name for t in genesis.org_types]
    key_algorithm = x509.SUITE_KEY_ALGORITHMS.get(genesis.suite)
    ids: set[str] = set()
    fingerprints: dict[str, str] = {}
    subjects: dict[cx509.Name, str] = {}
    for i, org in enumerate(genesis.orgs):
        path = f"genesis.orgs[{i}]"
        if not ORG_ID_PATTERN.fullmatch(org.id):
            raise InputError(f"{path}.id: {org.id!r} must match {ORG_ID_PATTERN.pattern}")
        if org.id in ids:
            raise InputError(f"{path}.id: org id {org.id!r} is used twice")
        ids.add(org.id)
        if not org.name.strip():
            raise InputError(f"{path}.name: must be a non-empty display name")
        if org.type not in known_types:
            raise InputError(f"{path}.type: unknown org type {org.type!r}; known: {', '.join(known_types)}")
        ca = _check_ca(org, f"{path}.ca_cert", key_algorithm, genesis.suite)
        digest = x509.fingerprint(org.ca_cert_der)
        if digest in fingerprints:
            raise InputError(f"{path}.ca_cert: same CA certificate as org {fingerprints[digest]!r}")
        fingerprints[digest] = org.id
        if ca.subject in subjects:
            raise InputError(
                f"{path}.ca_cert: CA subject {ca.subject.rfc4514_string()!r} is also org "
                f"{subjects[ca.subject]!r}'s; issuers are found by name, so CA subjects must differ"
            )
        subjects[ca.subject] = org.id


def _check_ca(org: Org, path: str, key_algorithm: str | None, suite: str) -> cx509.Certificate:
    try:
        ca = cx509.load_der_x509_certificate(org.ca_cert_der)
        ca_flag = x509.is_ca(ca)
        hash(ca.subject)  # names decode lazily; a bad one must fail here, not at signer lookup
        hash(ca.issuer)
    except ValueError as exc:
        raise InputError(f"{path}: not a parseable X.509 certificate ({exc})") from None
    if not ca_flag:
        raise InputError(f"{path}: not a CA certificate (basicConstraints CA:TRUE is required)")
    if x509.key_algorithm(ca) != key_algorithm:
        raise InputError(
            f"{path}: CA key is {x509.key_algorithm(ca) or 'unsupported'}, but suite {suite!r} needs "
            f"{key_algorithm or 'a key type this build does not know'}"
        )
    if not x509.issued_by(ca, ca):
        raise InputError(f"{path}: not self-signed (issuer must equal subject and the signature must verify)")
    return ca


# ---------------------------------------------------------------------------------------------- parsing


def _object(value: JSONValue, path: str, fields: tuple[str, ...]) -> dict[str, JSONValue]:
    if not isinstance(value, dict):
        raise InputError(f"{path}: expected an object with fields {', '.join(fields)}")
    for name in value:
        if name not in fields:
            raise InputError(f"{path}: unknown field {name!r}; allowed: {', '.join(fields)}")
    for name in fields:
        if name not in value:
            raise InputError(f"{path}.{name}: missing")
    return value


def _string(value: JSONValue, path: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{path}: expected a string")
    return value


def _integer(value: JSONValue, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{path}: expected an integer")
    return value


def _array(value: JSONValue, path: str) -> list[JSONValue]:
    if not isinstance(value, list):
        raise InputError(f"{path}: expected an array")
    return value


def _ca_der(value: JSONValue, path: str) -> bytes:
    """DER of a PEM certificate that must already be in standard form, so ``sha256(genesis.json)`` is the chain id."""
    pem = _string(value, path)
    if not pem.startswith("-----BEGIN CERTIFICATE-----"):
        raise InputError(f"{path}: expected one PEM certificate ('-----BEGIN CERTIFICATE-----' ...)")
    try:
        cert = cx509.load_pem_x509_certificate(pem.encode("ascii"))
    except (*x509.UNPARSEABLE, UnicodeEncodeError) as exc:
        raise InputError(f"{path}: not a parseable PEM certificate ({exc})") from None
    if x509.certificate_pem(cert) != pem:
        raise InputError(
            f"{path}: PEM is not in standard form (one certificate, 64-character lines, LF, one trailing "
            "newline); re-encode it with `openssl x509 -outform PEM`"
        )
    return x509.certificate_der(cert)


_GENESIS_FIELDS: Final = ("type", "consortium", "suite", "created_at_ms", "org_types", "orgs", "policies")
_POLICY_FIELDS: Final = (
    "tx_window_past_ms",
    "tx_window_future_ms",
    "max_tx_bytes",
    "block_max_tx",
    "block_max_bytes",
    "batch_timeout_ms",
    "finality_quorum",
    "revocation",
)


def _parse_genesis(value: JSONValue) -> Genesis:
    top = _object(value, "genesis", _GENESIS_FIELDS)
    tag = _string(top["type"], "genesis.type")
    if tag != GENESIS_TYPE:
        raise InputError(f"genesis.type: {tag!r} is not {GENESIS_TYPE!r}")
    org_types = []
    for i, item in enumerate(_array(top["org_types"], "genesis.org_types")):
        path = f"genesis.org_types[{i}]"
        obj = _object(item, path, ("name", "roles"))
        roles = tuple(_string(r, f"{path}.roles[{j}]") for j, r in enumerate(_array(obj["roles"], f"{path}.roles")))
        org_types.append(OrgType(name=_string(obj["name"], f"{path}.name"), roles=roles))
    orgs = []
    for i, item in enumerate(_array(top["orgs"], "genesis.orgs")):
        path = f"genesis.orgs[{i}]"
        obj = _object(item, path, ("id", "name", "type", "ca_cert"))
        orgs.append(
            Org(
                id=_string(obj["id"], f"{path}.id"),
                name=_string(obj["name"], f"{path}.name"),
                type=_string(obj["type"], f"{path}.type"),
                ca_cert_der=_ca_der(obj["ca_cert"], f"{path}.ca_cert"),
            )
        )
    pol = _object(top["policies"], "genesis.policies", _POLICY_FIELDS)
    policies = Policies(
        tx_window_past_ms=_integer(pol["tx_window_past_ms"], "genesis.policies.tx_window_past_ms"),
        tx_window_future_ms=_integer(pol["tx_window_future_ms"], "genesis.policies.tx_window_future_ms"),
        max_tx_bytes=_integer(pol["max_tx_bytes"], "genesis.policies.max_tx_bytes"),
        block_max_tx=_integer(pol["block_max_tx"], "genesis.policies.block_max_tx"),
        block_max_bytes=_integer(pol["block_max_bytes"], "genesis.policies.block_max_bytes"),
        batch_timeout_ms=_integer(pol["batch_timeout_ms"], "genesis.policies.batch_timeout_ms"),
        revocation=_string(pol["revocation"], "genesis.policies.revocation"),
        finality_quorum=_integer(pol["finality_quorum"], "genesis.policies.finality_quorum"),
    )
    return Genesis(
        consortium=_string(top["consortium"], "genesis.consortium"),
        suite=_string(top["suite"], "genesis.suite"),
        created_at_ms=_integer(top["created_at_ms"], "genesis.created_at_ms"),
        org_types=tuple(org_types),
        orgs=tuple(orgs),
        policies=policies,
    )
