"""Offline verification of a certificate file (JSON) or PDF against the consortium's trust roots (genesis).

Checks, in order; the first that fails ends the verification and is named in the report:

1. ``pdf signature`` (PDF only): one PAdES signature, intact, covering the whole file, by a certificate
   that chains to a registry org's CA in genesis; then the attached ``certificate.json`` is verified.
2. ``format``: a certificate file whose record has exactly the documented fields and type tag.
3. ``chain``: the record names this consortium's chain id.
4. ``issuer``: the record's signer certificate chains to a genesis CA and holds ``registry.issuer``
   of a registry org, the one the record names.
5. ``record signature``: the issuer's signature over the record's canonical bytes.
6. ``record hash``: ``document_sha256`` is the SHA-256 of those bytes.
7. ``issue transaction``: the attached ``application.issue`` envelope of this chain carries that hash,
   the application id and the e-licence id.
8. ``ledger inclusion``: the tx-log leaf recomputed from the envelope (committed valid) is in the tree
   of the attached block header by its RFC 9162 audit path.
9. ``attestation``: a registry ``node`` certificate of genesis signed that header's hash and state root.
10. ``status``: VALID as of the issuing block offline; with a node, the ledger's current status and
    document hash (a cancelled, superseded or corrected certificate fails here, saying which).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.certificates.document import FILE_TYPE, ISSUE_COMMAND
from estatechain.certificates.record import FIELDS, RECORD_TYPE
from estatechain.crypto.merkle import leaf_hash, verify_inclusion
from estatechain.crypto.suites import get_suite
from estatechain.errors import EstatechainError
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import resolve_signer
from estatechain.ledger.attestation import verify_attestation
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.envelope import parse_envelope
from estatechain.ledger.results import VALID, leaf_bytes

StatusLookup = Callable[[str], Mapping[str, JSONValue]]
"""Asks a node for ``{"status", "document_sha256", ...}`` of a certificate number."""

ISSUER_ROLE: Final = "registry.issuer"
_FILE_KEYS: Final = ("certificate", "document_sha256", "ledger", "record", "signature", "type")
_LEDGER_KEYS: Final = ("attestation", "envelope", "header", "height", "position", "proof", "seq")
REGISTRY_TYPE: Final = "registry"


class CheckFailed(EstatechainError):
    """One verification step failed; ``check`` names it."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One step and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Every step run, the verified record (when it got that far) and the status found."""

    kind: str
    checks: tuple[Check, ...]
    record: Mapping[str, JSONValue] | None
    status: str | None

    @property
    def ok(self) -> bool:
        """True when every step passed."""
        return all(check.ok for check in self.checks)

    @property
    def failure(self) -> Check | None:
        """The first step that failed."""
        return next((check for check in self.checks if not check.ok), None)


def verify_bytes(data: bytes, genesis: Genesis, *, lookup: StatusLookup | None = None) -> Report:
    """Verify a certificate PDF (``%PDF`` magic) or JSON file; never raises on bad input."""
    kind = "pdf" if data.lstrip()[:5] == b"%PDF-" else "json"
    checks: list[Check] = []
    record: Mapping[str, JSONValue] | None = None
    try:
        if kind == "pdf":
            from estatechain.certificates.pdf_check import check_pdf  # noqa: PLC0415  (pyhanko loads slowly)

            org, data = check_pdf(data, genesis)
            checks.append(Check(name="pdf signature", ok=True, detail=f"PAdES signature of {org}, whole file"))
        document = _document(data)
        record = _steps(document, genesis, checks)
        status = _status(record, document, lookup, checks)
    except CheckFailed as failed:
        checks.append(Check(name=failed.check, ok=False, detail=failed.message))
        return Report(kind=kind, checks=tuple(checks), record=None, status=None)
    return Report(kind=kind, checks=tuple(checks), record=record, status=status)


# ---------------------------------------------------------------------------------------------- steps


def _document(data: bytes) -> dict[str, JSONValue]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CheckFailed("format", f"not JSON ({exc}); pass the certificate's .json or .pdf file") from None
    if not isinstance(document, dict) or document.get("type") != FILE_TYPE:
        raise CheckFailed("format", f"not an {FILE_TYPE} document")
    if sorted(document) != sorted(_FILE_KEYS):
        raise CheckFailed("format", f"a certificate file has exactly the fields {', '.join(_FILE_KEYS)}")
    return document


def _steps(document: dict[str, JSONValue], genesis: Genesis, checks: list[Check]) -> Mapping[str, JSONValue]:
    record = document.get("record")
    if not isinstance(record, dict) or tuple(sorted(record)) != FIELDS or record.get("type") != RECORD_TYPE:
        raise CheckFailed("format", f"record: must be an {RECORD_TYPE} object with exactly the fields "
                          f"{', '.join(FIELDS)}")
    checks.append(Check(name="format", ok=True, detail=FILE_TYPE))
    if record["chain_id"] != genesis.chain_id:
        raise CheckFailed("chain", f"record.chain_id {record['chain_id']} is not this consortium's {genesis.chain_id}")
    checks.append(Check(name="chain", ok=True, detail=genesis.chain_id))
    suite = get_suite(genesis.suite)
    cert_der = _b64(document.get("certificate"), "issuer", "certificate")
    try:
        signer = resolve_signer(genesis, cert_der)
    except EstatechainError as exc:
        raise CheckFailed("issuer", f"the certificate does not chain to the consortium's CAs ({exc})") from None
    registry = record["registry"]
    org = registry.get("org") if isinstance(registry, dict) else None
    if (signer.role, signer.org_type, signer.org_id, signer.fingerprint) != (
            ISSUER_ROLE, REGISTRY_TYPE, org, record["issuer"]):
        raise CheckFailed("issuer", f"signed by {signer.role} of {signer.org_id} ({signer.fingerprint[:16]}…), "
                          f"not by the registry.issuer the record names ({org}, {str(record['issuer'])[:16]}…)")
    checks.append(Check(name="issuer", ok=True, detail=f"{ISSUER_ROLE} of {signer.org_id}"))
    data = canonical.encode(record)
    if not suite.verify(signer.public_key, data, _b64(document.get("signature"), "record signature", "signature")):
        raise CheckFailed("record signature", "the issuer's signature does not match the record: a field was changed")
    checks.append(Check(name="record signature", ok=True, detail=suite.name))
    sha256 = hashlib.sha256(data).hexdigest()
    if document.get("document_sha256") != sha256:
        raise CheckFailed("record hash", f"document_sha256 is {document.get('document_sha256')}, the record hashes "
                          f"to {sha256}")
    checks.append(Check(name="record hash", ok=True, detail=sha256))
    _ledger(document.get("ledger"), record, sha256, genesis, checks)
    return record


def _ledger(ledger: JSONValue, record: Mapping[str, JSONValue], sha256: str, genesis: Genesis,
            checks: list[Check]) -> None:
    suite = get_suite(genesis.suite)
    if not isinstance(ledger, dict):
        raise CheckFailed("issue transaction", "the file has no ledger evidence: it was copied before the issue "
                          "transaction committed; fetch the issued copy from the registry")
    if sorted(ledger) != sorted(_LEDGER_KEYS):
        raise CheckFailed("issue transaction", f"ledger evidence has exactly the fields {', '.join(_LEDGER_KEYS)}")
    envelope = _b64(ledger.get("envelope"), "issue transaction", "ledger.envelope")
    try:
        tx = parse_envelope(envelope, suite=suite, max_bytes=genesis.policies.max_tx_bytes)
    except EstatechainError as exc:
        raise CheckFailed("issue transaction", f"ledger.envelope is not a transaction envelope ({exc})") from None
    expected = {"document_sha256": sha256, "application_id": record["application_id"],
                "elicence_id": record["elicence_id"]}
    found = {name: tx.body.get(name) for name in expected}
    if tx.command != ISSUE_COMMAND or tx.chain_id != genesis.chain_id or found != expected:
        raise CheckFailed("issue transaction", f"the envelope is {tx.command} with {found}, not {ISSUE_COMMAND} "
                          f"of this chain with {expected}")
    checks.append(Check(name="issue transaction", ok=True, detail=tx.tx_id))
    header = _header(ledger.get("header"))
    seq, height, position = ledger.get("seq"), ledger.get("height"), ledger.get("position")
    proof = ledger.get("proof")
    if not (isinstance(seq, int) and isinstance(position, int) and height == header.height
            and header.chain_id == genesis.chain_id and isinstance(proof, list)):
        raise CheckFailed("ledger inclusion", "ledger.seq/height/position/proof do not fit the block header")
    try:
        path = [bytes.fromhex(str(p)) for p in proof]
        root = bytes.fromhex(header.txlog_root)
    except ValueError:
        raise CheckFailed("ledger inclusion", "ledger.proof and header.txlog_root must be hex digests") from None
    leaf = leaf_bytes(tx_id=tx.tx_id, envelope_hash=suite.hash(envelope).hex(), height=header.height,
                      position=position, result=VALID)
    if not verify_inclusion(suite.hash, leaf_hash(suite.hash, leaf), seq, header.txlog_size, path, root):
        raise CheckFailed("ledger inclusion", f"the issue transaction is not at tx-log index {seq} of the tree of "
                          f"{header.txlog_size} leaves with root {header.txlog_root[:16]}…")
    checks.append(Check(name="ledger inclusion", ok=True, detail=f"block {header.height}, tx-log index {seq}"))
    wire = _b64(ledger.get("attestation"), "attestation", "ledger.attestation")
    try:
        attestation = verify_attestation(wire, genesis=genesis, suite=suite)
    except EstatechainError as exc:
        raise CheckFailed("attestation", f"the header's attestation does not verify ({exc})") from None
    if (attestation.height, attestation.block_hash, attestation.state_root) != (
            header.height, header.hash(suite), header.state_root) or genesis.org(attestation.org).type != REGISTRY_TYPE:
        raise CheckFailed("attestation", f"{attestation.org} attested another block than the attached header")
    checks.append(Check(name="attestation", ok=True, detail=f"block {header.height} attested by {attestation.org}"))


def _status(record: Mapping[str, JSONValue], document: Mapping[str, JSONValue], lookup: StatusLookup | None,
            checks: list[Check]) -> str:
    if lookup is None:
        checks.append(Check(name="status", ok=True, detail="VALID as of the issuing block (no node asked for the "
                            "current status)"))
        return "VALID"
    try:
        answer = lookup(str(record["number"]))
    except EstatechainError as exc:
        raise CheckFailed("status", f"the node could not be asked ({exc})") from None
    status, on_ledger = str(answer.get("status")), answer.get("document_sha256")
    if on_ledger != document.get("document_sha256"):
        raise CheckFailed("status", f"the ledger holds document {on_ledger} for {record['number']}, not this one")
    if status != "VALID":
        checks.append(Check(name="status", ok=False, detail=f"{status}: the certificate is authentic but no longer "
                            f"in force ({_MEANING.get(status, 'see the register')})"))
        return status
    checks.append(Check(name="status", ok=True, detail="VALID on the ledger now"))
    return status


_MEANING: Final = {
    "CANCELLED": "the right was cancelled (注销)",
    "CORRECTED": "a correction registration replaced it (更正)",
    "SUPERSEDED": "a change or transfer replaced it",
    "CONVERTED": "the advance notice was converted",
    "REVOKED": "the registry revoked it",
}


def _header(value: JSONValue) -> BlockHeader:
    names = [f.name for f in dataclasses.fields(BlockHeader)]
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise CheckFailed("ledger inclusion", f"ledger.header must have exactly the fields {', '.join(names)}")
    header = BlockHeader(**{name: value[name] for name in names})  # type: ignore[arg-type]
    for name in names:
        if not isinstance(getattr(header, name), str if name.endswith(("hash", "root", "id")) else int):
            raise CheckFailed("ledger inclusion", f"ledger.header.{name} has the wrong type")
    return header


def _b64(value: JSONValue, check: str, field: str) -> bytes:
    if not isinstance(value, str):
        raise CheckFailed(check, f"{field} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CheckFailed(check, f"{field} is not valid base64") from None
