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
10. ``pdf page`` (PDF only): the page's text shows every value the record displays (number, unit,
    right or matter, names, 其他 lines with amounts and terms, 附记, registry, dates, e-licence id)
    and no text the record does not account for (``pdf_check.check_page``): the signature proves who
    made the file, not that its page shows the signed record.
11. ``status``: VALID as of the issuing block offline; with a node, the ledger's current status and
    document hash (a cancelled, superseded or corrected certificate fails here, saying which).

Each step reports what it found as a code (``check_codes.CheckCode``) and its values, not as a sentence:
the public portal page renders it in the reader's language from the shared message catalogue (design
§3.21); ``Check.detail`` is the English text the command line and the API show.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.certificates.check_codes import CheckCode
from estatechain.certificates.document import FILE_TYPE, ISSUE_COMMAND
from estatechain.certificates.record import FIELDS, RECORD_TYPE
from estatechain.crypto.merkle import leaf_hash, verify_inclusion
from estatechain.crypto.suites import get_suite
from estatechain.errors import EstatechainError
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import resolve_signer
from estatechain.ledger.attestation import verify_attestation
from estatechain.ledger.block import BLOCK_TYPE, BlockHeader
from estatechain.ledger.envelope import parse_envelope
from estatechain.ledger.results import VALID, leaf_bytes
from estatechain.messages import message

StatusLookup = Callable[[str], Mapping[str, JSONValue]]
"""Asks a node for ``{"status", "document_sha256", ...}`` of a certificate number."""

ISSUER_ROLE: Final = "registry.issuer"
_FILE_KEYS: Final = ("certificate", "document_sha256", "ledger", "record", "signature", "type")
_LEDGER_KEYS: Final = ("attestation", "envelope", "header", "height", "position", "proof", "seq")
REGISTRY_TYPE: Final = "registry"
_NO_PARAMS: Final[Mapping[str, str]] = MappingProxyType({})


class CheckFailed(EstatechainError):
    """One verification step failed; ``check`` names it, ``code`` and ``params`` say why."""

    def __init__(self, check: str, code: CheckCode, **params: object) -> None:
        self.check = check
        self.code = code
        self.params = MappingProxyType({name: str(value) for name, value in params.items()})
        self.message = message(code, "en", **self.params)
        super().__init__(f"{check}: {self.message}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One step and what it found: a code of the message catalogue with its values."""

    name: str
    ok: bool
    code: CheckCode
    params: Mapping[str, str] = field(default_factory=lambda: _NO_PARAMS)

    @property
    def detail(self) -> str:
        """What the step found, in English (the command line, the API)."""
        return self.text("en")

    def text(self, locale: str) -> str:
        """What the step found, in ``locale`` (the portal page's language)."""
        return message(self.code, locale, **self.params)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Every step run, the verified record (when it got that far) and the status found."""

    kind: str
    checks: tuple[Check, ...]
    record: Mapping[str, JSONValue] | None
    status: str | None
    block: BlockHeader | None = None
    """The issuing block's header, once the ledger evidence checked out (its height and time)."""
    attested_by: str | None = None
    """The org whose node attested that block: the one signature the offline check rests on."""

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
        pdf = data if kind == "pdf" else None
        if pdf is not None:
            from estatechain.certificates.pdf_check import check_pdf  # noqa: PLC0415  (pyhanko loads slowly)

            org, data = check_pdf(pdf, genesis)
            checks.append(Check(name="pdf signature", ok=True, code=CheckCode.PDF_SIGNED, params={"org": org}))
        document = _document(data)
        record, header, attested_by = _steps(document, genesis, checks)
        if pdf is not None:
            from estatechain.certificates.pdf_check import PAGE_CHECK, check_page  # noqa: PLC0415

            count = check_page(pdf, record, header.time_ms)
            checks.append(Check(name=PAGE_CHECK, ok=True, code=CheckCode.PDF_PAGE_SHOWS_RECORD,
                                params={"count": str(count)}))
        status = _status(record, document, lookup, checks, issued_at=header.height)
    except CheckFailed as failed:
        checks.append(Check(name=failed.check, ok=False, code=failed.code, params=failed.params))
        return Report(kind=kind, checks=tuple(checks), record=None, status=None)
    return Report(kind=kind, checks=tuple(checks), record=record, status=status, block=header,
                  attested_by=attested_by)


# ---------------------------------------------------------------------------------------------- steps


def _document(data: bytes) -> dict[str, JSONValue]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CheckFailed("format", CheckCode.NOT_JSON, error=exc) from None
    if not isinstance(document, dict) or document.get("type") != FILE_TYPE:
        raise CheckFailed("format", CheckCode.NOT_CERTIFICATE, type=FILE_TYPE)
    if sorted(document) != sorted(_FILE_KEYS):
        raise CheckFailed("format", CheckCode.FILE_FIELDS, fields=", ".join(_FILE_KEYS))
    return document


def _steps(document: dict[str, JSONValue], genesis: Genesis,
           checks: list[Check]) -> tuple[Mapping[str, JSONValue], BlockHeader, str]:
    record = document.get("record")
    if not isinstance(record, dict) or tuple(sorted(record)) != FIELDS or record.get("type") != RECORD_TYPE:
        raise CheckFailed("format", CheckCode.RECORD_FIELDS, type=RECORD_TYPE, fields=", ".join(FIELDS))
    checks.append(Check(name="format", ok=True, code=CheckCode.FORMAT_OK, params={"type": FILE_TYPE}))
    if record["chain_id"] != genesis.chain_id:
        raise CheckFailed("chain", CheckCode.OTHER_CHAIN, named=record["chain_id"], ours=genesis.chain_id)
    checks.append(Check(name="chain", ok=True, code=CheckCode.CHAIN_OK, params={"chain_id": genesis.chain_id}))
    suite = get_suite(genesis.suite)
    cert_der = _b64(document.get("certificate"), "issuer", "certificate")
    try:
        signer = resolve_signer(genesis, cert_der)
    except EstatechainError as exc:
        raise CheckFailed("issuer", CheckCode.ISSUER_UNTRUSTED, error=exc) from None
    registry = record["registry"]
    org = registry.get("org") if isinstance(registry, dict) else None
    if (signer.role, signer.org_type, signer.org_id, signer.fingerprint) != (
            ISSUER_ROLE, REGISTRY_TYPE, org, record["issuer"]):
        raise CheckFailed("issuer", CheckCode.ISSUER_MISMATCH, role=signer.role, org=signer.org_id,
                          fingerprint=signer.fingerprint[:16], named_org=org, named_issuer=str(record["issuer"])[:16])
    checks.append(Check(name="issuer", ok=True, code=CheckCode.ISSUER_OK,
                        params={"role": ISSUER_ROLE, "org": signer.org_id}))
    data = canonical.encode(record)
    if not suite.verify(signer.public_key, data, _b64(document.get("signature"), "record signature", "signature")):
        raise CheckFailed("record signature", CheckCode.RECORD_SIGNATURE_BAD)
    checks.append(Check(name="record signature", ok=True, code=CheckCode.RECORD_SIGNATURE_OK,
                        params={"suite": suite.name}))
    sha256 = hashlib.sha256(data).hexdigest()
    if document.get("document_sha256") != sha256:
        raise CheckFailed("record hash", CheckCode.RECORD_HASH_MISMATCH, stated=document.get("document_sha256"),
                          sha256=sha256)
    checks.append(Check(name="record hash", ok=True, code=CheckCode.RECORD_HASH_OK, params={"sha256": sha256}))
    header, attested_by = _ledger(document.get("ledger"), record, sha256, genesis, checks)
    return record, header, attested_by


def _ledger(ledger: JSONValue, record: Mapping[str, JSONValue], sha256: str, genesis: Genesis,
            checks: list[Check]) -> tuple[BlockHeader, str]:
    suite = get_suite(genesis.suite)
    if not isinstance(ledger, dict):
        raise CheckFailed("issue transaction", CheckCode.NO_LEDGER_EVIDENCE)
    if sorted(ledger) != sorted(_LEDGER_KEYS):
        raise CheckFailed("issue transaction", CheckCode.LEDGER_FIELDS, fields=", ".join(_LEDGER_KEYS))
    envelope = _b64(ledger.get("envelope"), "issue transaction", "ledger.envelope")
    try:
        tx = parse_envelope(envelope, suite=suite, max_bytes=genesis.policies.max_tx_bytes)
    except EstatechainError as exc:
        raise CheckFailed("issue transaction", CheckCode.BAD_ENVELOPE, error=exc) from None
    expected = {"document_sha256": sha256, "application_id": record["application_id"],
                "elicence_id": record["elicence_id"]}
    found = {name: tx.body.get(name) for name in expected}
    if tx.command != ISSUE_COMMAND or tx.chain_id != genesis.chain_id or found != expected:
        raise CheckFailed("issue transaction", CheckCode.ISSUE_MISMATCH, command=tx.command, found=found,
                          issue_command=ISSUE_COMMAND, wanted=expected)
    checks.append(Check(name="issue transaction", ok=True, code=CheckCode.ISSUE_OK, params={"tx_id": tx.tx_id}))
    header = _header(ledger.get("header"))
    seq, height, position = ledger.get("seq"), ledger.get("height"), ledger.get("position")
    proof = ledger.get("proof")
    if not (isinstance(seq, int) and isinstance(position, int) and height == header.height
            and header.chain_id == genesis.chain_id and isinstance(proof, list)):
        raise CheckFailed("ledger inclusion", CheckCode.EVIDENCE_MISFIT)
    try:
        path = [bytes.fromhex(str(p)) for p in proof]
        root = bytes.fromhex(header.txlog_root)
    except ValueError:
        raise CheckFailed("ledger inclusion", CheckCode.PROOF_NOT_HEX) from None
    leaf = leaf_bytes(tx_id=tx.tx_id, envelope_hash=suite.hash(envelope).hex(), height=header.height,
                      position=position, result=VALID)
    if not verify_inclusion(suite.hash, leaf_hash(suite.hash, leaf), seq, header.txlog_size, path, root):
        raise CheckFailed("ledger inclusion", CheckCode.NOT_INCLUDED, seq=seq, size=header.txlog_size,
                          root=header.txlog_root[:16])
    checks.append(Check(name="ledger inclusion", ok=True, code=CheckCode.INCLUDED,
                        params={"height": str(header.height), "seq": str(seq)}))
    wire = _b64(ledger.get("attestation"), "attestation", "ledger.attestation")
    try:
        attestation = verify_attestation(wire, genesis=genesis, suite=suite)
    except EstatechainError as exc:
        raise CheckFailed("attestation", CheckCode.ATTESTATION_INVALID, error=exc) from None
    if (attestation.height, attestation.block_hash, attestation.state_root) != (
            header.height, header.hash(suite), header.state_root) or genesis.org(attestation.org).type != REGISTRY_TYPE:
        raise CheckFailed("attestation", CheckCode.ATTESTATION_OTHER_BLOCK, org=attestation.org)
    checks.append(Check(name="attestation", ok=True, code=CheckCode.ATTESTED,
                        params={"height": str(header.height), "org": attestation.org}))
    return header, attestation.org


def _status(record: Mapping[str, JSONValue], document: Mapping[str, JSONValue], lookup: StatusLookup | None,
            checks: list[Check], *, issued_at: int) -> str:
    if lookup is None:
        checks.append(Check(name="status", ok=True, code=CheckCode.VALID_OFFLINE))
        return "VALID"
    try:
        answer = lookup(str(record["number"]))
    except EstatechainError as exc:
        raise CheckFailed("status", CheckCode.STATUS_UNAVAILABLE, error=exc) from None
    status, on_ledger = str(answer.get("status")), answer.get("document_sha256")
    if on_ledger != document.get("document_sha256"):
        raise CheckFailed("status", CheckCode.STATUS_OTHER_DOCUMENT, document=on_ledger, number=record["number"])
    revoked = answer.get("issuer_revoked")
    if isinstance(revoked, dict):  # a fact for the reader, not a failure: the issue came first (design §3.3)
        checks.append(Check(name="issuer revocation", ok=True, code=CheckCode.ISSUER_REVOKED_LATER,
                            params={"height": str(revoked.get("height")), "tx": str(revoked.get("tx_id"))[:16],
                                    "issued_at": str(issued_at)}))
    if status != "VALID":
        checks.append(Check(name="status", ok=False, code=_NOT_IN_FORCE.get(status, CheckCode.NOT_IN_FORCE),
                            params={"status": status}))
        return status
    checks.append(Check(name="status", ok=True, code=CheckCode.VALID_NOW))
    return status


_NOT_IN_FORCE: Final = {
    "CANCELLED": CheckCode.CANCELLED,
    "CORRECTED": CheckCode.CORRECTED,
    "SUPERSEDED": CheckCode.SUPERSEDED,
    "CONVERTED": CheckCode.CONVERTED,
    "REVOKED": CheckCode.REVOKED,
}
"""Why a status other than VALID means the certificate is no longer in force, each in words."""


def _header(value: JSONValue) -> BlockHeader:
    """The header object exactly as its hash covers it: the block type tag and every field."""
    names = [f.name for f in dataclasses.fields(BlockHeader)]
    if not isinstance(value, dict) or sorted(value) != sorted(["type", *names]) or value["type"] != BLOCK_TYPE:
        raise CheckFailed("ledger inclusion", CheckCode.HEADER_FIELDS, fields=", ".join(["type", *names]))
    header = BlockHeader(**{name: value[name] for name in names})  # type: ignore[arg-type]
    for name in names:
        if not isinstance(getattr(header, name), str if name.endswith(("hash", "root", "id")) else int):
            raise CheckFailed("ledger inclusion", CheckCode.HEADER_FIELD_TYPE, field=f"ledger.header.{name}")
    return header


def _b64(value: JSONValue, check: str, field: str) -> bytes:
    if not isinstance(value, str):
        raise CheckFailed(check, CheckCode.NOT_BASE64_TEXT, field=field)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CheckFailed(check, CheckCode.BAD_BASE64, field=field) from None
