"""Verify an evidence package offline, from its bytes alone (``docs/evidence.md``).

The order of the checks is the order of trust: the genesis (whose hash is the chain id) gives the
member CAs; the CAs make the certificates; the header chain links every block to the head; member
nodes' attestations vouch for the head (and possibly other blocks); each transaction is signed by a
certificate valid at its block's time and is a leaf of its block's tx log; every valid party binding
was made by the identity authority's ``identity.officer`` (the genesis says which org that is, and the
report names people and banks from nothing else); each opening hashes to a commitment that a
proven transaction names; and the exporting node's signed statement says the selection is complete.
The first failure raises ``EvidenceInvalid`` naming the JSON path at fault.
"""

from __future__ import annotations

from collections.abc import Mapping

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.suites import SignatureSuite, get_suite
from estatechain.errors import InputError, IntegrityFault
from estatechain.evidence.facts import Verified, VerifiedTx
from estatechain.evidence.package import (
    EVIDENCE_TYPE,
    EXPORT_FIELDS,
    EXPORT_PAYLOAD_FIELDS,
    EXPORT_TYPE,
    MAX_PACKAGE_BYTES,
    SECTIONS,
    array,
    b64,
    created_on_unit,
    fail,
    hex64,
    integer,
    mentions,
    names_created,
    obj,
    subject_of,
    text,
)
from estatechain.evidence.verify_txs import CheckedTx, check_openings, check_transactions, pairs, revocation_target
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import Signer, SignerCache
from estatechain.ledger.attestation import NODE_ROLE, verify_attestation
from estatechain.ledger.block import BlockHeader


def verify_package(data: bytes, *, require_final: bool = False) -> Verified:
    """Check every signature, proof, link and opening in ``data``; return what it proves.

    With ``require_final`` the head must also be attested by at least the genesis's finality quorum
    of member orgs: without it one member's nodes (the exporter's own, say) may have attested the
    head alone, and the package then rests on that member's word (the report says so). A court that
    wants the consortium's word asks for it here rather than reading the warning.

    Raises:
        EvidenceInvalid: the first check that failed, with the JSON path of the bad value.

    """
    try:
        value = canonical.decode(data, max_bytes=MAX_PACKAGE_BYTES, what="package")
    except InputError as exc:
        raise fail("package", str(exc)) from None
    doc = obj(value, "package", SECTIONS)
    if doc["type"] != EVIDENCE_TYPE:
        raise fail("type", f"must be {EVIDENCE_TYPE!r}")
    try:
        genesis = Genesis.from_json(doc["genesis"])
    except InputError as exc:
        raise fail("genesis", str(exc)) from None
    if genesis.chain_id != doc["chain_id"]:
        raise fail("genesis", f"hashes to {genesis.chain_id}, but chain_id says {doc['chain_id']!r}")
    suite = get_suite(genesis.suite)
    cache = SignerCache(genesis)
    signers = _certificates(doc["certificates"], cache)
    headers = _headers(doc["headers"], genesis, suite)
    by_height = {h.height: (i, h) for i, h in enumerate(headers)}
    attested = _attestations(doc["attestations"], genesis=genesis, suite=suite, cache=cache, by_height=by_height)
    head = headers[-1]
    if not attested.get(head.height):
        raise fail("attestations", f"no member node attests the head block {head.height} (headers[{len(headers) - 1}])")
    quorum = genesis.policies.finality_quorum
    if require_final and len(attested[head.height]) < quorum:
        raise fail("attestations", f"the head block {head.height} is attested by {len(attested[head.height])} member "
                   f"org(s) ({', '.join(attested[head.height])}), fewer than the {quorum} a final block needs: "
                   "export again from a node once the head is final, or verify without requiring finality")
    checked = check_transactions(doc["transactions"], genesis=genesis, suite=suite, signers=signers,
                                 headers=by_height)
    if headers[0].height != checked[0].header.height:
        raise fail("headers[0]", "the header chain must start at the block of the first transaction")
    unused = signers.keys() - {c.tx.signer for c in checked}
    if unused:
        raise fail("certificates", f"holds certificates that none of the transactions was signed with "
                   f"(a transaction is missing, or a certificate is extra): {sorted(unused)}")
    openings = check_openings(doc["openings"], checked)
    if array(doc["timestamps"], "timestamps"):
        raise fail("timestamps", "RFC 3161 timestamp tokens are not supported by this verifier (v1); expected []")
    statement = _statement(doc, genesis=genesis, suite=suite, cache=cache, head=head, checked=checked)
    return _facts(genesis=genesis, statement=statement, head=head, headers=headers, attested=attested,
                  checked=checked, openings=openings)


def _certificates(value: JSONValue, cache: SignerCache) -> dict[str, Signer]:
    signers: dict[str, Signer] = {}
    previous = ""
    for i, item in enumerate(array(value, "certificates")):
        der = b64(item, f"certificates[{i}]")
        try:
            signer = cache.resolve(der)
        except InputError as exc:
            raise fail(f"certificates[{i}]", f"is not a member's certificate: {exc}") from None
        if signer.fingerprint <= previous:
            raise fail(f"certificates[{i}]", "certificates must be sorted by SHA-256 fingerprint without duplicates")
        previous = signer.fingerprint
        signers[signer.fingerprint] = signer
    return signers


def _headers(value: JSONValue, genesis: Genesis, suite: SignatureSuite) -> list[BlockHeader]:
    headers: list[BlockHeader] = []
    for i, item in enumerate(array(value, "headers")):
        where = f"headers[{i}]"
        try:
            header = BlockHeader.from_bytes(canonical.encode(item), where=where)
        except IntegrityFault as exc:
            raise fail(where, exc.message) from None
        except InputError as exc:
            raise fail(where, str(exc)) from None
        if header.chain_id != genesis.chain_id:
            raise fail(f"{where}.chain_id", "names another chain than this package's")
        if header.height < 1 or header.tx_count < 0 or header.txlog_size < header.tx_count:
            raise fail(where, "height must be >= 1 and txlog_size >= tx_count >= 0")
        for name in ("prev_hash", "state_root", "txlog_root"):
            hex64(getattr(header, name), f"{where}.{name}")
        if headers:
            _link(header, headers[-1], i, suite)
        elif header.height == 1 and header.prev_hash != genesis.chain_id:
            raise fail(f"{where}.prev_hash", "block 1 must link to the chain id")
        headers.append(header)
    if not headers:
        raise fail("headers", "a package holds at least the head block's header")
    return headers


def _link(header: BlockHeader, before: BlockHeader, i: int, suite: SignatureSuite) -> None:
    """``header`` (``headers[i]``) follows ``before``: next height, its hash, its tx-log size plus tx_count."""
    if header.height != before.height + 1 or header.prev_hash != before.hash(suite):
        raise fail(f"headers[{i}].prev_hash", f"does not link to headers[{i - 1}] (height {before.height}): "
                   "the chain is broken or a header was changed")
    if header.txlog_size != before.txlog_size + header.tx_count or header.time_ms < before.time_ms:
        raise fail(f"headers[{i}]", f"tx-log size or time does not follow from headers[{i - 1}]")


def _attestations(
    value: JSONValue, *, genesis: Genesis, suite: SignatureSuite, cache: SignerCache,
    by_height: Mapping[int, tuple[int, BlockHeader]],
) -> dict[int, tuple[str, ...]]:
    """Orgs attesting each height; every attestation must match the package's header of its height."""
    orgs: dict[int, list[str]] = {}
    for i, item in enumerate(array(value, "attestations")):
        where = f"attestations[{i}]"
        envelope = obj(item, where, EXPORT_FIELDS)
        b64(envelope["signature"], f"{where}.signature")
        cert = b64(envelope["certificate"], f"{where}.certificate")
        try:
            attestation = verify_attestation(canonical.encode(item), genesis=genesis, suite=suite)
        except InputError as exc:
            raise fail(where, str(exc)) from None
        if attestation.height not in by_height:
            raise fail(f"{where}.payload.height", f"block {attestation.height} is not among the package's headers")
        index, header = by_height[attestation.height]
        if attestation.claim != (header.hash(suite), header.state_root):
            raise fail(where, f"attests another block hash or state root than headers[{index}] "
                       f"(height {header.height}) has")
        node = cache.resolve(cert)
        if not node.not_before_ms <= header.time_ms <= node.not_after_ms:
            raise fail(f"{where}.certificate", "the node certificate was not valid at the attested block's time")
        if attestation.org in orgs.get(attestation.height, []):
            raise fail(where, f"org {attestation.org} attests height {attestation.height} twice")
        orgs.setdefault(attestation.height, []).append(attestation.org)
    return {height: tuple(sorted(names)) for height, names in orgs.items()}


def _statement(  # noqa: PLR0913  (what the statement is checked against)
    doc: dict[str, JSONValue], *, genesis: Genesis, suite: SignatureSuite, cache: SignerCache, head: BlockHeader,
    checked: list[CheckedTx],
) -> dict[str, JSONValue]:
    """The export statement: signed by a member node; lists exactly this package's contents."""
    envelope = obj(doc["export"], "export", EXPORT_FIELDS)
    payload = obj(envelope["payload"], "export.payload", EXPORT_PAYLOAD_FIELDS)
    cert, signature = b64(envelope["certificate"], "export.certificate"), b64(envelope["signature"], "export.signature")
    if payload["type"] != EXPORT_TYPE or payload["chain_id"] != genesis.chain_id:
        raise fail("export.payload", f"must be of type {EXPORT_TYPE!r} for this package's chain")
    try:
        node = cache.resolve(cert)
    except InputError as exc:
        raise fail("export.certificate", str(exc)) from None
    if node.role != NODE_ROLE or node.org_id != payload["org"] or node.fingerprint != payload["signer"]:
        raise fail("export.payload.signer", "the statement must be signed by a node certificate of the org it names")
    if not node.not_before_ms <= head.time_ms <= node.not_after_ms:  # as for an attestation of that head
        raise fail("export.certificate", "the exporting node's certificate was not valid at the head block's time")
    if not suite.verify(node.public_key, canonical.encode(payload), signature):
        raise fail("export.signature", "does not verify over the canonical statement payload")
    if payload["head_height"] != head.height or payload["head_hash"] != head.hash(suite):
        raise fail("export.payload.head_hash", "is not the package's last header")
    ids = [c.tx.tx_id for c in checked]
    subject_ids = [hex64(t, "export.payload.tx_ids") for t in array(payload["tx_ids"], "export.payload.tx_ids")]
    context_ids = [hex64(t, "export.payload.context_tx_ids")
                   for t in array(payload["context_tx_ids"], "export.payload.context_tx_ids")]
    subjects = set(subject_ids)
    if ([t for t in ids if t in subjects] != subject_ids or [t for t in ids if t not in subjects] != context_ids
            or len(subjects) != len(subject_ids)):  # lists, not sets: no id twice, none in both
        raise fail("export.payload.tx_ids", "the statement's transactions are not exactly the package's, in order")
    expected = [suite.hash(canonical.encode(a)).hex() for a in array(doc["attestations"], "attestations")]
    if payload["attestations"] != expected:
        raise fail("export.payload.attestations", "do not list the digests of the package's attestations")
    if payload["openings"] != [o["commitment"] for o in array(doc["openings"], "openings") if isinstance(o, dict)]:
        raise fail("export.payload.openings", "do not list the package's opened commitments")
    subject = subject_of(payload["subject"], "export.payload.subject")
    _check_subject(subject, [c for c in checked if c.tx.tx_id in set(subject_ids)])
    return payload


def _check_subject(subject: dict[str, JSONValue], txs: list[CheckedTx]) -> None:
    """§8 check 4: each subject transaction fits the subject the statement names."""
    where = "export.payload.subject"
    kind = subject["kind"]
    if not txs:  # the exporter refuses to export nothing; a package of context alone proves nothing of its subject
        raise fail("export.payload.tx_ids", "lists no subject transaction: a package holds at least one")
    if kind == "tx" and [c.tx.tx_id for c in txs] != [subject["tx_id"]]:
        raise fail(where, "the package's subject transaction is not the one the statement names")
    if kind == "application":
        app = subject["application_id"]
        if not txs or txs[0].tx.tx_id != app or any(c.tx.body.get("application_id") != app for c in txs[1:]):
            raise fail(where, f"every subject transaction must be application {app}'s filing or name it")
    if kind == "unit":
        unit = text(subject["unit_number"], f"{where}.unit_number")
        low, high = integer(subject["from_ms"], where), integer(subject["to_ms"], where)
        # §8: the transactions naming the unit, plus the steps of applications *filed* for it (as the exporter
        # selects): an inquiry names the unit but files nothing, so what cites it as an application is not the unit's;
        # plus the steps of records created on it (a seizure's release names only the seizure)
        naming = {c.tx.tx_id for c in txs if mentions(dict(c.tx.body), unit)}
        filings = {c.tx.tx_id for c in txs if c.tx.tx_id in naming and c.tx.command == "application.file"}
        created = frozenset[tuple[str, str]]().union(*(
            created_on_unit(unit, tx_id=c.tx.tx_id, command=c.tx.command, valid=c.result.valid, body=c.tx.body)
            for c in txs if c.tx.tx_id in naming))
        for c in txs:
            if not low <= c.header.time_ms <= high:
                raise fail(where, f"transaction {c.tx.tx_id} is outside the period [{low}, {high}]")
            if (c.tx.tx_id not in naming and c.tx.body.get("application_id") not in filings
                    and not names_created(c.tx.body, created)):
                raise fail(where, f"transaction {c.tx.tx_id} neither names unit {unit} nor an application, a "
                                  "seizure, a pre-sale contract or a consent of it")


def _facts(  # noqa: PLR0913  (the verified parts)
    *, genesis: Genesis, statement: dict[str, JSONValue], head: BlockHeader, headers: list[BlockHeader],
    attested: dict[int, tuple[str, ...]], checked: list[CheckedTx], openings: dict[str, dict[str, JSONValue]],
) -> Verified:
    suite = get_suite(genesis.suite)
    context = set(map(str, array(statement["context_tx_ids"], "export.payload.context_tx_ids")))
    revocations: dict[str, tuple[int, int]] = {}
    for c in checked:
        target = revocation_target(c.tx)
        if target is not None and c.result.valid:
            revocations.setdefault(target, (c.header.height, c.position))
    refs, cert_parties, org_parties = pairs(checked)
    txs = tuple(VerifiedTx(
        seq=c.seq, tx_id=c.tx.tx_id, height=c.header.height, position=c.position, time_ms=c.header.time_ms,
        command=c.tx.command, body=dict(c.tx.body), signer=c.signer, valid=c.result.valid, code=c.result.code,
        context=c.tx.tx_id in context, attested_by=attested.get(c.header.height, ()),
        revoked_at=revocations.get(c.tx.signer),
    ) for c in checked)
    return Verified(
        chain_id=genesis.chain_id, consortium=genesis.consortium,
        subject=subject_of(statement["subject"], "export.payload.subject"), exporter_org=str(statement["org"]),
        head_height=head.height, head_hash=head.hash(suite),
        head_time_ms=head.time_ms, head_attested_by=attested[head.height], quorum=genesis.policies.finality_quorum,
        headers=len(headers), txs=txs, openings=openings, party_refs=refs, cert_parties=cert_parties,
        org_parties=org_parties,
    )

