"""Checks of the package's transactions and personal-record openings (``docs/evidence.md`` §5–§6).

Each transaction is checked on its own bytes — envelope shape, chain, signer certificate, signature,
the certificate's validity at its block's time — and then proven to be leaf ``seq`` of the RFC 9162
tree whose size and root the header of its block commits to. Revocations in the package are checked
against the transactions they could affect: a certificate revoked at (height, position) cannot have
signed a *valid* transaction after that point. Party bindings are checked against the genesis: a
*valid* ``identity.bind_party`` must be signed by an ``identity.officer`` of the identity authority.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract.versions import rules_at
from estatechain.crypto.merkle import leaf_hash, verify_inclusion
from estatechain.crypto.sealing import SALT_BYTES, verify_opening
from estatechain.crypto.suites import SignatureSuite
from estatechain.errors import InputError
from estatechain.evidence.facts import Binding
from estatechain.evidence.package import (
    OPENING_FIELDS,
    TX_FIELDS,
    EvidenceInvalid,
    array,
    b64,
    fail,
    hex64,
    integer,
    obj,
    record_refs,
    text,
)
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import Signer
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.envelope import SignedTx, parse_envelope
from estatechain.ledger.results import TxResult, leaf_bytes

BIND_PARTY: Final = "identity.bind_party"
IDENTITY_AUTHORITY: Final = "identity_authority"
"""The genesis org type whose officers bind certificates and organisations to party ids (design §3.18).

Party ids are keyed hashes under a key only the identity authority holds, so only its word says
whom a key acts for; ``identity.genesis.STANDARD_ORG_TYPES`` names the type and lets it alone grant
``identity.officer``, the role the contract requires of ``identity.bind_party``.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedTx:
    """A transaction that passed every check of its own."""

    seq: int
    tx: SignedTx
    header: BlockHeader
    position: int
    signer: Signer
    result: TxResult


def check_transactions(
    value: JSONValue, *, genesis: Genesis, suite: SignatureSuite, signers: Mapping[str, Signer],
    headers: Mapping[int, tuple[int, BlockHeader]],
) -> list[CheckedTx]:
    """Every transaction entry, in strictly increasing ``seq`` order."""
    checked: list[CheckedTx] = []
    for i, item in enumerate(array(value, "transactions")):
        entry = _check_one(item, f"transactions[{i}]", genesis=genesis, suite=suite, signers=signers,
                           headers=headers)
        if checked and entry.seq <= checked[-1].seq:
            raise fail(f"transactions[{i}]", "transactions must be in strictly increasing seq order")
        checked.append(entry)
    if not checked:
        raise fail("transactions", "a package holds at least one transaction")
    _check_revocations(checked)
    _check_binders(checked, genesis)
    return checked


def _check_one(  # noqa: PLR0913  (the context of one entry)
    item: JSONValue, where: str, *, genesis: Genesis, suite: SignatureSuite, signers: Mapping[str, Signer],
    headers: Mapping[int, tuple[int, BlockHeader]],
) -> CheckedTx:
    entry = obj(item, where, TX_FIELDS)
    tx, signer = _authentic(entry["envelope"], f"{where}.envelope", genesis=genesis, suite=suite, signers=signers)
    height = integer(entry["height"], f"{where}.height", low=1)
    if height not in headers:
        raise fail(f"{where}.height", f"block {height} is not among the package's headers")
    index, header = headers[height]
    position = integer(entry["position"], f"{where}.position")
    seq = integer(entry["seq"], f"{where}.seq")
    if position >= header.tx_count or seq != header.txlog_size - header.tx_count + position:
        raise fail(f"{where}.seq", f"position {position} / seq {seq} is not a leaf of block {height} "
                   f"(headers[{index}]: {header.tx_count} txs ending at tx-log size {header.txlog_size})")
    result = _result(entry["result"], f"{where}.result")
    proof = [bytes.fromhex(hex64(p, f"{where}.proof[{k}]"))
             for k, p in enumerate(array(entry["proof"], f"{where}.proof"))]
    leaf = leaf_bytes(tx_id=tx.tx_id, envelope_hash=suite.hash(tx.raw).hex(), height=height, position=position,
                      result=result)
    if not verify_inclusion(suite.hash, leaf_hash(suite.hash, leaf), seq, header.txlog_size, proof,
                            bytes.fromhex(header.txlog_root)):
        raise fail(f"{where}.proof", f"the leaf (envelope, height, position, result) is not leaf {seq} of the tx log "
                   f"whose root headers[{index}] (height {height}) commits to")
    if result.valid and not signer.not_before_ms <= header.time_ms <= signer.not_after_ms:
        raise fail(where, f"marked valid, but its signer's certificate was not valid at block time {header.time_ms}")
    return CheckedTx(seq=seq, tx=tx, header=header, position=position, signer=signer, result=result)


def _authentic(
    envelope: JSONValue, where: str, *, genesis: Genesis, suite: SignatureSuite, signers: Mapping[str, Signer],
) -> tuple[SignedTx, Signer]:
    """The envelope, well formed for this chain and signed by a certificate of the package."""
    if not isinstance(envelope, dict):
        raise fail(f"{where}", "must be the envelope as a JSON object")
    for name in ("signature", "certificate"):
        if name in envelope:
            b64(envelope[name], f"{where}.{name}")
    try:
        tx = parse_envelope(canonical.encode(envelope), suite=suite, max_bytes=genesis.policies.max_tx_bytes)
    except InputError as exc:
        raise fail(f"{where}", str(exc)) from None
    if tx.chain_id != genesis.chain_id:
        raise fail(f"{where}.payload.chain_id", "names another chain than this package's")
    signer = signers.get(tx.signer)
    if signer is None:
        raise fail(f"{where}.payload.signer", f"no certificate with fingerprint {tx.signer} in certificates")
    if tx.certificate is not None and hashlib.sha256(tx.certificate).hexdigest() != tx.signer:
        raise fail(f"{where}.certificate", "is not the certificate payload.signer names")
    if not suite.verify(signer.public_key, tx.payload_bytes, tx.signature):
        raise fail(f"{where}.signature", "does not verify over the canonical payload with the signer's key")
    return tx, signer


def _result(value: JSONValue, where: str) -> TxResult:
    if isinstance(value, dict) and value.get("status") == "valid":
        obj(value, where, frozenset({"status"}))
        return TxResult(valid=True)
    checked = obj(value, where, frozenset({"code", "status"}))
    if checked["status"] != "invalid":
        raise fail(f"{where}.status", "must be valid or invalid")
    return TxResult(valid=False, code=text(checked["code"], f"{where}.code"))


def revocation_target(tx: SignedTx) -> str | None:
    """The fingerprint an ``identity.revoke`` transaction revokes (None for other commands)."""
    encoded = tx.body.get("certificate")
    if tx.command != "identity.revoke" or not isinstance(encoded, str):
        return None
    try:
        return hashlib.sha256(b64(encoded, "body.certificate")).hexdigest()
    except EvidenceInvalid:
        return None


def _check_revocations(checked: list[CheckedTx]) -> None:
    """No valid transaction by a certificate after its valid revocation (both in the package)."""
    revoked: dict[str, tuple[int, int]] = {}
    for entry in checked:
        target = revocation_target(entry.tx)
        if entry.result.valid and target is not None:
            revoked.setdefault(target, (entry.header.height, entry.position))
    for i, entry in enumerate(checked):
        at = revoked.get(entry.tx.signer)
        if entry.result.valid and at is not None and (entry.header.height, entry.position) > at:
            raise fail(f"transactions[{i}]", f"marked valid, but its signer was revoked earlier at {at}")


def _binder_roles(height: int) -> frozenset[str]:
    """The roles the contract in force at ``height`` lets sign ``identity.bind_party`` (none if it has no such rule)."""
    rule = rules_at(height).get(BIND_PARTY)
    return rule.roles if rule is not None else frozenset()


def _by_identity_authority(entry: CheckedTx) -> bool:
    """Whether ``entry`` was signed by an org of the identity authority's type, in a role that may bind."""
    return (entry.signer.org_type == IDENTITY_AUTHORITY
            and entry.signer.role in _binder_roles(entry.header.height))


def _check_binders(checked: list[CheckedTx], genesis: Genesis) -> None:
    """Every *valid* ``identity.bind_party`` was signed by an identity officer of the identity authority.

    The report names people and banks from these bindings, so the verifier checks the binder itself
    against the genesis instead of relying on the result the nodes recorded. A binding from anyone
    else fails the package rather than being dropped with a warning: the contract refuses it
    (design §3.18 — only the identity authority holds the key that makes party ids), so a *valid* one
    means the nodes that computed and attested the results did not apply the consortium's rules, and
    then no result in the package can be relied on, the names least of all. A judge's expert needs to
    hear that first and plainly, not in a footnote under a table that still reads as sound; it is the
    same stance as a valid transaction after its signer's revocation. A refused (invalid) binding by
    anyone is an attempt on the record: it names nobody and is no fault.
    """
    for i, entry in enumerate(checked):
        if entry.tx.command != BIND_PARTY or not entry.result.valid or _by_identity_authority(entry):
            continue
        authorities = sorted(org.id for org in genesis.orgs if org.type == IDENTITY_AUTHORITY)
        signer, roles = entry.signer, sorted(_binder_roles(entry.header.height))
        raise fail(f"transactions[{i}]", f"{BIND_PARTY} is marked valid, but it was signed by {signer.org_id} "
                   f"(org type {signer.org_type}) as {signer.role}; only {' or '.join(roles) or 'no role'} of the "
                   f"identity authority ({', '.join(authorities) or 'no org of type ' + IDENTITY_AUTHORITY} in the "
                   "genesis) may bind a party, so the results recorded in this package break the consortium's rules")


def check_openings(value: JSONValue, checked: list[CheckedTx]) -> dict[str, dict[str, JSONValue]]:
    """Every opening: SHA-256(salt ‖ canonical(record)) equals a commitment a proven transaction names."""
    named: set[str] = set()
    for entry in checked:
        named |= record_refs(dict(entry.tx.body))
    opened: dict[str, dict[str, JSONValue]] = {}
    previous = ""
    for i, item in enumerate(array(value, "openings")):
        where = f"openings[{i}]"
        opening = obj(item, where, OPENING_FIELDS)
        commitment = hex64(opening["commitment"], f"{where}.commitment")
        if commitment <= previous:
            raise fail(f"{where}.commitment", "openings must be sorted by commitment without duplicates")
        previous = commitment
        salt, record = b64(opening["salt"], f"{where}.salt"), opening["record"]
        if len(salt) != SALT_BYTES or not isinstance(record, dict):
            raise fail(where, f"salt must be {SALT_BYTES} bytes and record a JSON object")
        if not verify_opening(bytes.fromhex(commitment), salt, record):
            raise fail(where, "SHA-256(salt ‖ canonical(record)) is not the commitment: the opening is false")
        if commitment not in named:
            raise fail(f"{where}.commitment", "no transaction of this package names this record_ref")
        opened[commitment] = record
    return opened


def _walk_refs(value: JSONValue, found: list[tuple[str, str]]) -> None:
    """Collect each object's (party_id, record_ref) pair, in body order."""
    if isinstance(value, dict):
        party, ref = value.get("party_id"), value.get("record_ref")
        if isinstance(party, str) and isinstance(ref, str):
            found.append((party, ref))
        for item in value.values():
            _walk_refs(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk_refs(item, found)


def _unambiguous(stated: list[tuple[str, str]]) -> dict[str, str]:
    """Each key with its one stated value; a key stated with two different values is left out.

    The report names a person from these pairs: where the package states two, it names nobody
    rather than perhaps the wrong one.
    """
    values: dict[str, set[str]] = {}
    for key, value in stated:
        values.setdefault(key, set()).add(value)
    return {key: next(iter(found)) for key, found in values.items() if len(found) == 1}


def _first_bindings(stated: list[tuple[str, str, int, int]]) -> dict[str, Binding]:
    """Each key's one bound value with the first (height, position) stating it; a key bound two ways is left out.

    ``stated`` is in ledger order. The contract refuses re-binding a subject to another value, so two
    values mean the package contradicts itself, and ``_unambiguous`` then names nobody — for any
    transaction, before or after the second binding — rather than perhaps the wrong one.
    """
    values = _unambiguous([(key, value) for key, value, _, _ in stated])
    first: dict[str, Binding] = {}
    for key, value, height, position in stated:
        if key not in first and values.get(key) == value:
            first[key] = Binding(value=value, height=height, position=position)
    return first


def pairs(checked: list[CheckedTx]) -> tuple[dict[str, str], dict[str, Binding], dict[str, Binding]]:
    """(party id -> record_ref, certificate -> its party, party id -> its org) as the valid transactions state them.

    Only valid transactions count: an invalid one was refused, so what it claims (a party paired with
    someone else's record, say) is no fact about anyone. Bindings count only when the identity
    authority made them (``check_transactions`` has already refused a package holding any other
    marked valid), and each keeps where it was first committed: whom a key acted for is proven for
    the transactions after that place only.
    """
    refs: list[tuple[str, str]] = []
    cert_parties: list[tuple[str, str, int, int]] = []
    org_parties: list[tuple[str, str, int, int]] = []
    for entry in checked:
        if not entry.result.valid:
            continue
        body = dict(entry.tx.body)
        _walk_refs(body, refs)
        if entry.tx.command != BIND_PARTY or not _by_identity_authority(entry):
            continue
        at = (entry.header.height, entry.position)
        party, fingerprint, org = body.get("party_id"), body.get("fingerprint"), body.get("org")
        if not isinstance(party, str):
            continue
        if fingerprint is not None:  # as the contract reads it: a certificate's binding, ``org`` ignored
            if isinstance(fingerprint, str):
                cert_parties.append((fingerprint, party, *at))
        elif isinstance(org, str):
            org_parties.append((party, org, *at))
    return _unambiguous(refs), _first_bindings(cert_parties), _first_bindings(org_parties)
