"""An independent verifier of estatechain evidence packages, written from docs/evidence.md alone.

It imports nothing from estatechain: only the standard library and ``cryptography`` (X.509 parsing,
Ed25519). Usage: ``python evidence_verifier.py PACKAGE.json`` prints one line per transaction, ending
with whom its signer acted for as §7 derives it (``acting for: …``), and exits 0, or prints
``FAILED <where>: <why>`` and exits 1.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

Json = Any
Place = tuple[int, int]
"""(height, position): the ledger order that says which of two transactions came first (§6 check 4, §7)."""

BIND_PARTY = "identity.bind_party"
IDENTITY_AUTHORITY = "identity_authority"
BINDER_ROLE = "identity.officer"
"""§6 check 5: the genesis org type and the role that alone may make a valid ``identity.bind_party``."""


class Invalid(Exception):
    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")


def jcs(value: Json) -> bytes:
    """RFC 8785 for the subset the format allows (integers only, ASCII keys) — docs/evidence.md §1."""
    def check(v: Json) -> None:
        if isinstance(v, float):
            raise Invalid("json", "floats are not allowed")
        if isinstance(v, dict):
            for k, item in v.items():
                if not k.isascii():
                    raise Invalid("json", "object keys must be ASCII")
                check(item)
        if isinstance(v, list):
            for item in v:
                check(item)
    check(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64(text: Json, where: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise Invalid(where, "not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise Invalid(where, "not canonical base64")
    return raw


def keys(value: Json, where: str, names: set[str]) -> dict[str, Json]:
    if not isinstance(value, dict) or set(value) != names:
        raise Invalid(where, f"must be an object with exactly {sorted(names)}")
    return value


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def inclusion_ok(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


class Member:
    """A certificate resolved against the genesis: org, role, key, validity (ms)."""

    def __init__(self, der: bytes, genesis: Json, where: str) -> None:
        cert = x509.load_der_x509_certificate(der)
        self.fingerprint = hashlib.sha256(der).hexdigest()
        orgs = [o for o in genesis["orgs"] if x509.load_pem_x509_certificate(o["ca_cert"].encode()).subject
                == cert.issuer]
        if len(orgs) != 1:
            raise Invalid(where, "not issued by a member org's CA")
        ca = x509.load_pem_x509_certificate(orgs[0]["ca_cert"].encode())
        ca_key = ca.public_key()
        try:
            assert isinstance(ca_key, Ed25519PublicKey)
            ca_key.verify(cert.signature, cert.tbs_certificate_bytes)
        except (AssertionError, InvalidSignature):
            raise Invalid(where, "the CA's signature does not verify") from None
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        roles = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
        grantable = next(t["roles"] for t in genesis["org_types"] if t["name"] == orgs[0]["type"])
        if basic.ca or names != [orgs[0]["id"]] or len(roles) != 1 or roles[0] not in grantable:
            raise Invalid(where, "not an end-entity certificate of its org with a role the org may grant")
        self.org, self.org_type, self.role = orgs[0]["id"], orgs[0]["type"], str(roles[0])
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        self.name = str(cns[0].value) if cns else "?"
        key = cert.public_key()
        assert isinstance(key, Ed25519PublicKey)
        self.key = key
        self.not_before = int(cert.not_valid_before_utc.timestamp()) * 1000
        self.not_after = int(cert.not_valid_after_utc.timestamp()) * 1000

    def signed(self, message: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def signed_object(value: Json, where: str, genesis: Json, tag: str) -> tuple[dict[str, Json], Member]:
    """An attestation or export statement: {certificate, payload, signature}, node-signed (§3, §7)."""
    value = keys(value, where, {"certificate", "payload", "signature"})
    payload = value["payload"]
    member = Member(b64(value["certificate"], f"{where}.certificate"), genesis, f"{where}.certificate")
    if payload.get("type") != tag or payload.get("chain_id") != sha256(jcs(genesis)).hex():
        raise Invalid(f"{where}.payload", f"must be {tag} of this chain")
    if member.role != "node" or member.org != payload.get("org") or member.fingerprint != payload.get("signer"):
        raise Invalid(f"{where}.payload.signer", "must be a node certificate of the named org")
    if not member.signed(jcs(payload), b64(value["signature"], f"{where}.signature")):
        raise Invalid(f"{where}.signature", "does not verify")
    return payload, member


def mentions_ref(value: Json, ref: str) -> bool:
    if isinstance(value, dict):
        return value.get("record_ref") == ref or any(mentions_ref(v, ref) for v in value.values())
    return isinstance(value, list) and any(mentions_ref(v, ref) for v in value)


@dataclass(frozen=True)
class Tx:
    """A proven transaction: what §6 check 5 and §7's "who acted for whom" read from it."""

    index: int
    tx_id: str
    place: Place
    time_ms: int
    valid: bool
    command: str
    body: Json
    signer: Member
    columns: str
    """The report line up to its "acting for" column, which needs the whole package's bindings."""


def bound_once(stated: list[tuple[str, str, Place]]) -> dict[str, tuple[str, Place]]:
    """Each subject's one bound value and the first place binding it (§7).

    Stated in ledger order. A subject bound to two different values is left out: the document says
    nobody is named for it, before or after either binding, rather than perhaps the wrong one.
    """
    values: dict[str, set[str]] = {}
    first: dict[str, tuple[str, Place]] = {}
    for subject, value, place in stated:
        values.setdefault(subject, set()).add(value)
        first.setdefault(subject, (value, place))
    return {subject: found for subject, found in first.items() if len(values[subject]) == 1}


def walk(value: Json) -> list[dict[str, Json]]:
    """Every object in ``value`` depth first, an object before those nested in it, members in key order (§7)."""
    if isinstance(value, dict):
        return [value, *(o for k in sorted(value) for o in walk(value[k]))]
    return [o for item in value for o in walk(item)] if isinstance(value, list) else []


NAMING_KEYS = ("bank_party", "developer", "requester_party")  # §7 case 2: the member's name is the capacity


def named_parties(body: Json) -> dict[str, str | None]:
    """The parties a body names at any depth (§7 case 2), each once with the capacity where first named."""
    found: dict[str, str | None] = {}
    for o in walk(body):
        for key in sorted(o):
            party = o[key]
            if not isinstance(party, str) or party in found:
                continue
            if key == "party_id":
                found[party] = o["capacity"] if isinstance(o.get("capacity"), str) else None
            elif key in NAMING_KEYS:
                found[party] = key
    return found


def names(value: Json, needle: str) -> bool:
    """§8 check 4: ``needle`` is a string value anywhere in ``value`` (member values, array items; not keys)."""
    if isinstance(value, dict):
        return any(names(v, needle) for v in value.values())
    return any(names(v, needle) for v in value) if isinstance(value, list) else value == needle


CREATES_RECORD = {"seizure.register": "seizure_id", "presale.contract": "contract_id", "inquiry.consent": "consent_id"}
"""§8 check 4 rule 3: a command whose tx id is the id of the record it creates on its top-level ``unit_number``,
and the member by which later steps name that record."""


def created_on(unit: str, txs: list[Tx]) -> set[tuple[str, str]]:
    """§8 check 4 rule 3: R, the (field, id) of each record a valid transaction naming ``unit`` created on it."""
    found: set[tuple[str, str]] = set()
    for t in txs:
        if not t.valid or not names(t.body, unit) or not isinstance(t.body, dict):
            continue
        if t.command in CREATES_RECORD and t.body.get("unit_number") == unit:
            found.add((CREATES_RECORD[t.command], t.tx_id))
        seizures = t.body.get("seizures")
        if t.command == "register.import" and isinstance(seizures, list):
            found |= {("seizure_id", o["seizure_id"]) for o in seizures if isinstance(o, dict)
                      and o.get("unit_number") == unit and isinstance(o.get("seizure_id"), str)}
    return found


def names_record(body: Json, records: set[tuple[str, str]]) -> bool:
    """Rule 3: a top-level member F of ``body`` is a string that R pairs with F."""
    return isinstance(body, dict) and any(isinstance(value, str) and (field, value) in records
                                          for field, value in body.items())


SUBJECT_FIELDS = {"tx": {"kind", "tx_id"}, "application": {"kind", "application_id"},
                  "unit": {"kind", "unit_number", "from_ms", "to_ms"}}


def check_subject(value: Json, txs: list[Tx]) -> None:
    """§8 check 4: the statement's subject fits each of its subject transactions (``txs``, package order)."""
    where = "export.payload.subject"
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind not in SUBJECT_FIELDS:
        raise Invalid(where, "kind must be tx, application or unit")
    subject = keys(value, where, SUBJECT_FIELDS[kind])
    if not txs:
        raise Invalid("export.payload.tx_ids", "lists no subject transaction")
    if kind == "tx" and [t.tx_id for t in txs] != [subject["tx_id"]]:
        raise Invalid(where, "the package's subject transaction is not the one the statement names")
    app = subject.get("application_id")
    if kind == "application" and (txs[0].tx_id != app or any(
            not isinstance(t.body, dict) or t.body.get("application_id") != app for t in txs[1:])):
        raise Invalid(where, f"every subject transaction must be application {app}'s filing or name it")
    if kind != "unit":
        return
    unit, low, high = subject["unit_number"], subject["from_ms"], subject["to_ms"]
    if not isinstance(unit, str) or not unit or type(low) is not int or type(high) is not int \
            or not 0 <= low <= high:
        raise Invalid(where, "unit_number must be a string, 0 <= from_ms <= to_ms integers")
    naming = {t.tx_id for t in txs if names(t.body, unit)}
    filings = {t.tx_id for t in txs if t.tx_id in naming and t.command == "application.file"}
    records = created_on(unit, txs)
    for t in txs:
        if not low <= t.time_ms <= high:
            raise Invalid(where, f"transaction {t.tx_id} is outside the period [{low}, {high}]")
        if t.tx_id not in naming and not names_record(t.body, records) \
                and (not isinstance(t.body, dict) or t.body.get("application_id") not in filings):
            raise Invalid(where, f"transaction {t.tx_id} neither names unit {unit} nor an application or a record "
                                 "created on it")


class People:
    """Whom each transaction's signer acted for, from the package's valid transactions only (§7, §11)."""

    def __init__(self, txs: list[Tx], openings: dict[str, Json]) -> None:
        certs: list[tuple[str, str, Place]] = []
        orgs: list[tuple[str, str, Place]] = []
        refs: dict[str, set[str]] = {}
        for tx in (t for t in txs if t.valid):
            for o in walk(tx.body):
                if isinstance(o.get("party_id"), str) and isinstance(o.get("record_ref"), str):
                    refs.setdefault(o["party_id"], set()).add(o["record_ref"])
            party = tx.body.get("party_id") if isinstance(tx.body, dict) else None
            if tx.command != BIND_PARTY or not isinstance(party, str):
                continue  # a valid binding is the identity authority's: check 5 refused the package otherwise
            if tx.body.get("fingerprint") is not None:  # a certificate's binding; its "org", if any, is ignored
                if isinstance(tx.body["fingerprint"], str):
                    certs.append((tx.body["fingerprint"], party, tx.place))
            elif isinstance(tx.body.get("org"), str):
                orgs.append((party, tx.body["org"], tx.place))
        self.certs, self.orgs, self.openings = bound_once(certs), bound_once(orgs), openings
        self.refs = {party: next(iter(found)) for party, found in refs.items() if len(found) == 1}

    def acting_for(self, tx: Tx) -> str:
        """The "acting for" column, §7's two cases: a bound certificate, else the org parties its body names.

        Only a binding committed before ``tx`` proves whom it acted for; a later one is reported with its
        height so that nobody reads it as known at signing time.
        """
        if tx.signer.fingerprint in self.certs:
            party, place = self.certs[tx.signer.fingerprint]
            if place >= tx.place:
                return (f"not proven at signing: certificate bound to party {party[:12]}… only later, "
                        f"at height {place[0]}")
            record = self.openings.get(self.refs.get(party, ""))
            if record is None:
                return f"party {party[:12]}… (record not opened)"
            return f"{record.get('name')} ({record.get('id_type')} {record.get('id_number')}), party {party[:12]}…"
        named = []
        for party, capacity in named_parties(tx.body).items():
            if party not in self.orgs or self.orgs[party][0] != tx.signer.org:
                continue  # an org party acts through the org it is bound to, and only through it
            org, place = self.orgs[party]
            role = f" ({capacity})" if capacity is not None else ""
            named.append(f"party {party[:12]}… = org {org}{role}" if place < tx.place else
                         f"party {party[:12]}…{role}: not proven at signing, bound to org {org} only later, "
                         f"at height {place[0]}")
        return "; ".join(named) or "—"


def verify(data: bytes) -> list[str]:  # noqa: C901, PLR0912, PLR0915  (the document's steps, in order)
    doc = json.loads(data)
    if jcs(doc) != data:
        raise Invalid("package", "not RFC 8785 canonical JSON")
    doc = keys(doc, "package", {"attestations", "certificates", "chain_id", "export", "genesis", "headers",
                                "openings", "timestamps", "transactions", "type"})
    if doc["type"] != "estatechain.evidence.v1" or doc["timestamps"] != []:
        raise Invalid("type", "not an estatechain.evidence.v1 package without timestamps")
    genesis, chain = doc["genesis"], doc["chain_id"]
    if sha256(jcs(genesis)).hex() != chain or genesis.get("suite") != "ed25519-sha256":
        raise Invalid("genesis", "does not hash to chain_id (or is not the ed25519-sha256 suite)")
    members: dict[str, Member] = {}
    for i, text in enumerate(doc["certificates"]):
        member = Member(b64(text, f"certificates[{i}]"), genesis, f"certificates[{i}]")
        if members and member.fingerprint <= max(members):
            raise Invalid(f"certificates[{i}]", "not sorted by fingerprint")
        members[member.fingerprint] = member
    headers: dict[int, dict[str, Json]] = {}
    previous: dict[str, Json] | None = None
    for i, raw_header in enumerate(doc["headers"]):
        header = keys(raw_header, f"headers[{i}]", {"chain_id", "height", "prev_hash", "state_root", "time_ms",
                                                 "tx_count", "txlog_root", "txlog_size", "type"})
        if header["type"] != "estatechain.block.v1" or header["chain_id"] != chain:
            raise Invalid(f"headers[{i}]", "not a block header of this chain")
        if previous is not None and (header["height"] != previous["height"] + 1
                                     or header["prev_hash"] != sha256(jcs(previous)).hex()
                                     or header["txlog_size"] != previous["txlog_size"] + header["tx_count"]):
            raise Invalid(f"headers[{i}]", f"does not link to headers[{i - 1}]")
        if previous is None and header["height"] == 1 and header["prev_hash"] != chain:
            raise Invalid(f"headers[{i}]", "block 1 must link to the chain id")
        headers[header["height"]] = previous = header
    if previous is None:
        raise Invalid("headers", "empty")
    head = previous
    attested: dict[int, list[str]] = {}
    for i, item in enumerate(doc["attestations"]):
        payload, node = signed_object(item, f"attestations[{i}]", genesis, "estatechain.attestation.v1")
        attested_block = headers.get(payload["height"])
        if attested_block is None or payload["block_hash"] != sha256(jcs(attested_block)).hex() \
                or payload["state_root"] != attested_block["state_root"] \
                or not node.not_before <= attested_block["time_ms"] <= node.not_after:
            raise Invalid(f"attestations[{i}]", "does not attest a header of this package")
        attested.setdefault(payload["height"], []).append(payload["org"])
    if head["height"] not in attested:
        raise Invalid("attestations", "none attests the head")
    tx_ids: list[str] = []
    txs: list[Tx] = []
    last_seq = -1
    for i, raw_entry in enumerate(doc["transactions"]):
        where = f"transactions[{i}]"
        entry = keys(raw_entry, where, {"envelope", "height", "position", "proof", "result", "seq"})
        envelope, block = entry["envelope"], headers.get(entry["height"])
        tx_payload = envelope.get("payload") if isinstance(envelope, dict) else None
        if block is None or not isinstance(tx_payload, dict) or tx_payload.get("chain_id") != chain:
            raise Invalid(where, "envelope of another chain, or its block is not among the headers")
        signer = members.get(tx_payload.get("signer", ""))
        if signer is None or not signer.signed(jcs(tx_payload), b64(envelope.get("signature"), f"{where}.signature")):
            raise Invalid(f"{where}.envelope", "signature does not verify with the signer's certificate")
        if "certificate" in envelope and hashlib.sha256(b64(envelope["certificate"], where)).hexdigest() \
                != signer.fingerprint:
            raise Invalid(f"{where}.envelope.certificate", "not the signer's")
        seq, position, result = entry["seq"], entry["position"], entry["result"]
        if seq <= last_seq or position >= block["tx_count"] \
                or seq != block["txlog_size"] - block["tx_count"] + position:
            raise Invalid(f"{where}.seq", "not this block's leaf, or out of order")
        if result != {"status": "valid"} and (set(result) != {"code", "status"} or result["status"] != "invalid"):
            raise Invalid(f"{where}.result", "malformed")
        tx_id = sha256(jcs(tx_payload)).hex()
        leaf = jcs({"envelope_hash": sha256(jcs(envelope)).hex(), "height": block["height"], "position": position,
                    "result": result, "tx_id": tx_id, "type": "estatechain.leaf.v1"})
        proof = [bytes.fromhex(p) for p in entry["proof"]]
        if not inclusion_ok(leaf_hash(leaf), seq, block["txlog_size"], proof, bytes.fromhex(block["txlog_root"])):
            raise Invalid(f"{where}.proof", "inclusion proof does not reach the header's txlog_root")
        valid = result["status"] == "valid"
        if valid and not signer.not_before <= block["time_ms"] <= signer.not_after:
            raise Invalid(where, "valid, but its certificate was not valid at block time")
        last_seq = seq
        tx_ids.append(tx_id)
        when = datetime.fromtimestamp(block["time_ms"] / 1000, UTC).astimezone(timezone(timedelta(hours=8)))
        txs.append(Tx(index=i, tx_id=tx_id, place=(block["height"], position), time_ms=block["time_ms"],
                      valid=valid, command=tx_payload["command"], body=tx_payload["body"], signer=signer,
                      columns=f"{when:%Y-%m-%d %H:%M:%S} CST  {tx_payload['command']:<22} {signer.org}/"
                              f"{signer.role}/{signer.name}  {'valid' if valid else 'invalid ' + result['code']}  "
                              f"leaf {seq} block {block['height']}"))
    if headers and min(headers) != doc["transactions"][0]["height"]:
        raise Invalid("headers[0]", "must be the first transaction's block")
    if set(members) != {tx.signer.fingerprint for tx in txs}:  # §2 check 2
        raise Invalid("certificates", "must be exactly the certificates the transactions were signed with")
    revoked: dict[str, Place] = {}
    for tx in txs:  # §6 check 4: in (height, position) order, so ``revoked`` holds only earlier revocations
        if tx.valid and tx.signer.fingerprint in revoked:
            raise Invalid(f"transactions[{tx.index}]", f"marked valid, but its signer was revoked earlier, at "
                          f"(height, position) {revoked[tx.signer.fingerprint]}")
        revoke = tx.valid and tx.command == "identity.revoke" and isinstance(tx.body, dict)
        target = tx.body.get("certificate") if revoke else None
        try:
            revoked.setdefault(hashlib.sha256(b64(target, f"transactions[{tx.index}]")).hexdigest(), tx.place)
        except Invalid:
            continue  # not a valid revocation, or its certificate is not canonical base64: it revokes nothing
    for tx in txs:  # §6 check 5
        if tx.valid and tx.command == BIND_PARTY and (tx.signer.org_type, tx.signer.role) \
                != (IDENTITY_AUTHORITY, BINDER_ROLE):
            raise Invalid(f"transactions[{tx.index}]", f"{BIND_PARTY} marked valid, but signed by {tx.signer.org} "
                          f"(type {tx.signer.org_type}) as {tx.signer.role}, not by an {BINDER_ROLE} of the "
                          f"{IDENTITY_AUTHORITY}: the results in this package do not follow the consortium's rules")
    bodies = [tx.body for tx in txs]
    opened: dict[str, Json] = {}
    opening_lines: list[str] = []
    for i, raw_opening in enumerate(doc["openings"]):
        opening = keys(raw_opening, f"openings[{i}]", {"commitment", "record", "salt"})
        if sha256(b64(opening["salt"], f"openings[{i}].salt") + jcs(opening["record"])).hex() \
                != opening["commitment"] or not any(mentions_ref(b, opening["commitment"]) for b in bodies):
            raise Invalid(f"openings[{i}]", "does not open a record_ref of this package's transactions")
        opened[opening["commitment"]] = opening["record"]
        opening_lines.append(f"opened {opening['commitment'][:16]}…: {opening['record'].get('name')}")
    people = People(txs, opened)
    lines = [f"{tx.columns}  acting for: {people.acting_for(tx)}" for tx in txs] + opening_lines
    statement, _ = signed_object(doc["export"], "export", genesis, "estatechain.evidence-export.v1")
    listed = statement["tx_ids"] + statement["context_tx_ids"]
    if sorted(listed) != sorted(tx_ids) or len(set(listed)) != len(listed) \
            or [t for t in tx_ids if t in statement["tx_ids"]] != statement["tx_ids"]:
        raise Invalid("export.payload.tx_ids", "not exactly the package's transactions")
    if statement["head_height"] != head["height"] or statement["head_hash"] != sha256(jcs(head)).hex() \
            or statement["attestations"] != [sha256(jcs(a)).hex() for a in doc["attestations"]] \
            or statement["openings"] != [o["commitment"] for o in doc["openings"]]:
        raise Invalid("export.payload", "does not describe this package's head, attestations and openings")
    subject_ids = set(statement["tx_ids"])
    check_subject(statement["subject"], [tx for tx in txs if tx.tx_id in subject_ids])
    lines.append(f"head {head['height']} attested by {', '.join(attested[head['height']])}; "
                 f"exported by {statement['org']}")
    return lines


def main() -> int:
    with open(sys.argv[1], "rb") as package:  # noqa: PTH123  (stdlib only, the simplest call)
        data = package.read()
    try:
        lines = verify(data)
    except (Invalid, KeyError, TypeError, ValueError, AttributeError) as exc:
        print(f"FAILED {exc}")  # noqa: T201
        return 1
    print("\n".join(lines))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
