"""The synthetic Guangzhou register as registry-signed ``register.import`` transactions (design §3.15, §3.18).

``RegisterImporter.transactions`` turns the plain records of ``testing.synthetic.generate`` into
envelopes signed by ``gz-registry/admin1``, each carrying as many whole units (a unit with its
ownership right, mortgages and seizures) as fit under the genesis ``max_tx_bytes``. Record shapes
are those the contract's ``records/*.from_json`` read.

No personal data stands on the ledger in clear. A person or company appears only as a ``PartyRef``:
its party id (HMAC under the identity authority's key, ``identity.parties``) and the salted
commitment of its sealed personal record (``crypto.sealing``). The sealed records go to an
off-ledger store beside the node, ``<node>/sealed/``: per import tx, ``<tx_id>.records.jsonl`` holds
the ciphertexts (no keys) and ``<tx_id>.keys.jsonl`` the wrapped data keys, so a record can be
shredded by rewriting the small keys file. Records are sealed to the registry, the identity
authority and, for mortgagors and member banks, the member bank that holds the mortgage.

Development keys live in the consortium folder next to the dev CAs (0600, development only):
``orgs/gz-identity/party-id.key`` (32 random bytes) and ``orgs/<org>/sealing-x25519.key.pem``.

Pre-sale purchase notices and pre-sale mortgage notices (预抵押) go in the ``notices`` section, on the
tx of their predicted unit: a purchase notice with the buyers as holders and the developer as obligor,
a 预抵押 with its bank as holder, the buyers as obligors and a link to the purchase notice. Their
legacy priority keys follow the import's ``rank`` (``L`` + rank): a purchase notice is rank 1, a
预抵押 keeps its rank among the unit's 预抵押, so the two kinds may share a key and then sort by
notice id, the purchase notice (``IMP-PN-…``) first [A].
District courts that are not consortium members deliver through ``gz-court`` [A: dev only].
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.clock import Clock
from estatechain.contract.civil_date import day_start_ms, days_from_civil
from estatechain.crypto.sealing import SealedRecord, WrappedKey, seal
from estatechain.durable import write_durably
from estatechain.errors import InputError
from estatechain.identity.genesis import Genesis
from estatechain.identity.parties import party_id
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.storage.store import LedgerStore
from estatechain.testing import synthetic
from estatechain.testing.builders import TxFactory

REGISTRY_ORG: Final = "gz-registry"
IDENTITY_ORG: Final = "gz-identity"
COURT_ORG: Final = "gz-court"
IMPORTER: Final = "gz-registry/admin1"
OFFICER: Final = "gz-identity/officer1"
PARTY_ID_KEY: Final = "party-id.key"
SEALING_KEY: Final = "sealing-x25519.key.pem"
SEALED_DIR: Final = "sealed"
DEV_OWNERS: Final = "dev-owners.json"
DEV_CO_OWNERS: Final = ("person5", "person6")
"""Dev persons of the identity authority bound to the two holders of one co-owned unit (after ``person1..4``)."""
PARTY_RECORD_TYPE: Final = "estatechain.party-record.v1"
DEV_AUTH_TYPE: Final = "estatechain.dev-real-name-auth.v1"
DEV_BANK_ORGS: Final = {
    "中国工商银行股份有限公司广州分行": "icbc-gz",
    "中国建设银行股份有限公司广州分行": "ccb-gz",
}
"""Synthetic banks that are members of the dev consortium: their party ids are bound to these orgs."""

_MARGIN: Final = 256
_USES: Final = {"住宅": "residential"}


# --------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterKeys:
    """The identity authority's party-id key and each org's X25519 sealing key (dev consortium)."""

    party_key: bytes
    sealing: Mapping[str, X25519PrivateKey]

    def recipients(self, orgs: Iterable[str]) -> dict[str, X25519PublicKey]:
        """Public sealing keys of ``orgs``."""
        return {org: self.sealing[org].public_key() for org in orgs}


def create_register_keys(directory: Path, genesis: Genesis) -> RegisterKeys:
    """Create the party-id key and one sealing key per org in a dev consortium folder (files 0600)."""
    party_key = os.urandom(32)
    _write_private(directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY, party_key)
    sealing: dict[str, X25519PrivateKey] = {}
    for org in genesis.orgs:
        key = X25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        _write_private(directory / "orgs" / org.id / SEALING_KEY, pem)
        sealing[org.id] = key
    return RegisterKeys(party_key=party_key, sealing=sealing)


def load_register_keys(directory: Path, genesis: Genesis) -> RegisterKeys:
    """Read the keys ``create_register_keys`` wrote.

    Raises:
        InputError: a key file is missing or is not what it should be.

    """
    path = directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY
    party_key = _read(path)
    if len(party_key) != 32:
        raise InputError(f"{path}: expected 32 bytes")
    sealing: dict[str, X25519PrivateKey] = {}
    for org in genesis.orgs:
        key_path = directory / "orgs" / org.id / SEALING_KEY
        key = serialization.load_pem_private_key(_read(key_path), password=None)
        if not isinstance(key, X25519PrivateKey):
            raise InputError(f"{key_path}: not an X25519 private key")
        sealing[org.id] = key
    return RegisterKeys(party_key=party_key, sealing=sealing)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: missing; create the consortium with `estatechain init`") from None


# ------------------------------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyMortgage:
    """An imported mortgage of an owner candidate, as a test or the demo needs to name it."""

    rank: int
    certificate_number: str
    mortgagee_party: str
    mortgagee_org: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerCandidate:
    """A surveyed, unseized unit with one natural person as sole owner: who a dev person can act for."""

    unit_number: str
    title_number: str
    party_id: str
    record_ref: str
    mortgages: tuple[LegacyMortgage, ...]
    form: str = synthetic.Tenure.SOLE.value
    """The ownership's form: ``sole``, or ``joint`` (共同共有) / ``shares`` (按份共有) for a co-owner."""


@dataclass(slots=True)
class ImportCounts:
    """What the import put on the ledger (records) and into the sealed store."""

    txs: int = 0
    units: int = 0
    ownerships: int = 0
    mortgages: int = 0
    seizures: int = 0
    persons: int = 0
    companies: int = 0
    notices: int = 0
    sealed_bytes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportTx:
    """One signed import envelope and how many units it carries."""

    envelope: bytes
    tx_id: str
    units: int


@dataclass(slots=True)
class _Group:
    """One unit with its records, and the party records first sealed for it."""

    units: list[JSONValue] = field(default_factory=list)
    ownerships: list[JSONValue] = field(default_factory=list)
    mortgages: list[JSONValue] = field(default_factory=list)
    notices: list[JSONValue] = field(default_factory=list)
    seizures: list[JSONValue] = field(default_factory=list)
    sealed: list[SealedRecord] = field(default_factory=list)
    size: int = 0
    unit_count: int = 1


def _ms(day: date) -> int:
    return day_start_ms(days_from_civil(day.year, day.month, day.day))


def _size(record: JSONValue) -> int:
    return len(canonical.encode(record)) + 1


class RegisterImporter:
    """Builds import envelopes from synthetic batches and writes the sealed personal records.

    ``owners`` collects up to ``keep_owners`` ``OwnerCandidate`` values in generation order;
    ``co_owned`` up to ``keep_owners`` surveyed, unseized units held by exactly two natural persons,
    one candidate per holder in the register's holder order; ``bank_parties`` maps each member bank
    org to its party id (for ``identity.bind_party``).
    """

    def __init__(
        self, factory: TxFactory, keys: RegisterKeys, sealed_dir: Path, *, keep_owners: int = 100,
    ) -> None:
        self.factory = factory
        self.keys = keys
        self.sealed_dir = sealed_dir
        self.keep_owners = keep_owners
        self.chain_id = factory.consortium.genesis.chain_id
        self.max_tx_bytes = factory.consortium.genesis.policies.max_tx_bytes
        self.signer = factory.identity(IMPORTER)
        self.counts = ImportCounts()
        self.owners: list[OwnerCandidate] = []
        self.co_owned: list[tuple[OwnerCandidate, OwnerCandidate]] = []
        self.bank_parties: dict[str, str] = {}
        self._companies: dict[str, synthetic.Company] = {}
        self._company_ids: dict[str, str] = {}
        self._persons: dict[str, synthetic.Person] = {}
        self._refs: dict[str, dict[str, JSONValue]] = {}
        self._banks_of: dict[str, set[str]] = {}
        members = {org.id for org in factory.consortium.genesis.orgs}
        self._base_recipients = tuple(org for org in (REGISTRY_ORG, IDENTITY_ORG) if org in members)
        self._members = members
        self._overhead = len(self._sign({"mortgages": [], "notices": [], "ownerships": [], "seizures": [],
                                         "units": []}))
        sealed_dir.mkdir(parents=True, exist_ok=True)

    # --- public ---

    def transactions(self, batches: Iterable[synthetic.Batch]) -> Iterator[ImportTx]:
        """Signed import envelopes, in order; sealed records are on disk before each is yielded."""
        budget = self.max_tx_bytes - self._overhead - _MARGIN
        pending: list[_Group] = []
        used = 0
        for batch in batches:
            for group in self._groups(batch):
                if pending and used + group.size > budget:
                    yield self._finish(pending)
                    pending, used = [], 0
                pending.append(group)
                used += group.size
        if pending:
            yield self._finish(pending)

    # --- parties ---

    def _start_batch(self, batch: synthetic.Batch) -> None:
        self._persons = {person.ref: person for person in batch.persons}
        self._refs = {ref: value for ref, value in self._refs.items() if ref in self._companies}
        self._banks_of = {}
        for company in batch.companies:
            self._companies[company.ref] = company
            self._company_ids[company.ref] = party_id(self.keys.party_key, company.id_type.value, company.id_number)
            org = DEV_BANK_ORGS.get(company.name)
            if org is not None and org in self._members:
                self.bank_parties[org] = self._company_ids[company.ref]
        for mortgage in batch.mortgages:
            org = self._bank_org(mortgage.mortgagee_ref)
            if org is not None:
                for ref in mortgage.mortgagor_refs:
                    self._banks_of.setdefault(ref, set()).add(org)
        for notice in batch.presale_mortgage_notices:
            org = self._bank_org(notice.bank_ref)
            if org is not None:
                for ref in notice.obligor_refs:
                    self._banks_of.setdefault(ref, set()).add(org)

    def _bank_org(self, ref: str) -> str | None:
        company = self._companies.get(ref)
        org = None if company is None else DEV_BANK_ORGS.get(company.name)
        return org if org in self._members else None

    def _party(self, ref: str, group: _Group) -> dict[str, JSONValue]:
        """The ``PartyRef`` JSON of ``ref``, sealing its personal record the first time it is used."""
        known = self._refs.get(ref)
        if known is not None:
            return known
        record: dict[str, JSONValue]
        recipients: set[str] = set(self._base_recipients)
        if ref in self._companies:
            company = self._companies[ref]
            pid = self._company_ids[ref]
            record = {"type": PARTY_RECORD_TYPE, "kind": "company", "name": company.name,
                      "id_type": company.id_type.value, "id_number": company.id_number, "address": company.address}
            own = self._bank_org(ref)
            if own is not None:
                recipients.add(own)
            self.counts.companies += 1
        else:
            person = self._persons[ref]
            pid = party_id(self.keys.party_key, person.id_type.value, person.id_number)
            record = {"type": PARTY_RECORD_TYPE, "kind": "person", "name": person.name, "gender": person.gender,
                      "id_type": person.id_type.value, "id_number": person.id_number, "phone": person.phone,
                      "address": person.address}
            recipients |= self._banks_of.get(ref, set())
            self.counts.persons += 1
        sealed = seal(record, record_id=pid, chain_id=self.chain_id, recipients=self.keys.recipients(recipients))
        group.sealed.append(sealed)
        value: dict[str, JSONValue] = {"party_id": pid, "record_ref": sealed.commitment.hex()}
        self._refs[ref] = value
        return value

    # --- records ---

    def _groups(self, batch: synthetic.Batch) -> Iterator[_Group]:
        self._start_batch(batch)
        ownerships = {o.unit_number: o for o in batch.ownerships}
        mortgages: dict[str, list[synthetic.Mortgage]] = {}
        for mortgage in batch.mortgages:
            mortgages.setdefault(mortgage.unit_number, []).append(mortgage)
        seizures: dict[str, list[synthetic.Seizure]] = {}
        for seizure in batch.seizures:
            seizures.setdefault(seizure.unit_number, []).append(seizure)
        purchases = {n.unit_number: n for n in batch.purchase_notices}
        yudiya: dict[str, list[synthetic.PresaleMortgageNotice]] = {}
        for notice in batch.presale_mortgage_notices:
            yudiya.setdefault(notice.unit_number, []).append(notice)
        for unit in batch.units:
            group = _Group()
            group.units.append(self._unit(unit))
            ownership = ownerships.get(unit.unit_number)
            if ownership is not None:
                group.ownerships.append(self._ownership(ownership, group))
            unit_mortgages = mortgages.get(unit.unit_number, [])
            group.mortgages.extend(self._mortgage(m, group) for m in unit_mortgages)
            purchase = purchases.get(unit.unit_number)
            if purchase is not None:
                group.notices.append(self._purchase_notice(purchase, group))
            group.notices.extend(self._mortgage_notice(n, group) for n in yudiya.get(unit.unit_number, []))
            unit_seizures = seizures.get(unit.unit_number, [])
            group.seizures.extend(self._seizures(unit_seizures))
            group.size = sum(_size(r) for r in (*group.units, *group.ownerships, *group.mortgages, *group.notices,
                                                     *group.seizures))
            if ownership is not None and not unit_seizures:
                self._keep_owner(ownership, unit_mortgages)
            yield group

    def _unit(self, unit: synthetic.Unit) -> JSONValue:
        return {"unit_number": unit.unit_number, "kind": "predicted" if unit.predicted else "surveyed",
                "use": _USES.get(unit.use, "other"), "area_centi_m2": unit.building_area_dm2,
                "location_code": f"{unit.building_ref}-F{unit.floor:02d}", "predecessor": None, "successor": None}

    def _ownership(self, ownership: synthetic.Ownership, group: _Group) -> JSONValue:
        holders: list[JSONValue] = [
            {**self._party(h.party_ref, group), "share_numerator": h.share_numerator or 1,
             "share_denominator": h.share_denominator or 1}
            for h in ownership.holders
        ]
        return {"right_id": f"OWN-{ownership.unit_number}", "unit_number": ownership.unit_number,
                "title_number": ownership.title_number, "form": ownership.tenure.value, "holders": holders,
                "agreed_threshold": None, "successor": None}

    def _mortgage(self, mortgage: synthetic.Mortgage, group: _Group) -> JSONValue:
        mortgage_id = f"IMP-{mortgage.unit_number}-{mortgage.rank}"
        amount = mortgage.secured_principal_fen or mortgage.max_claim_fen
        money: JSONValue = {"fen": amount, "currency": "CNY"}
        maximum = mortgage.method is synthetic.MortgageMethod.MAXIMUM
        period: JSONValue = None
        if maximum and mortgage.determination_start is not None and mortgage.determination_end is not None:
            period = {"start": mortgage.determination_start.isoformat(), "end": mortgage.determination_end.isoformat()}
        return {
            "mortgage_id": mortgage_id, "unit_number": mortgage.unit_number, "business_no": mortgage_id,
            "mortgagors": [self._party(ref, group) for ref in mortgage.mortgagor_refs],
            "mortgagees": [self._party(mortgage.mortgagee_ref, group)], "debtor": None,
            "method": int(mortgage.method), "property_type": 2, "registration_type": "100", "cause": "LOAN",
            "scope": mortgage.scope, "contract_numbers": [], "transfer_restricted": mortgage.transfer_restricted,
            "transfer_restriction_text": mortgage.restriction_terms,
            "secured_principal": None if maximum else money, "max_claim": money if maximum else None,
            "max_claim_basis": None,
            "debt_term": {"start": mortgage.term_start.isoformat(), "end": mortgage.term_end.isoformat()},
            "determination_period": period, "rank": mortgage.rank, "county_code": mortgage.unit_number[:6],
            "registry": self.signer.org_id, "registered_ms": _ms(mortgage.registered_on),
            "certificate_number": mortgage.certificate_number, "recorder": None, "notes": None,
            "cancellation": None, "derived_from": None,
        }

    def _purchase_notice(self, notice: synthetic.PurchaseNotice, group: _Group) -> JSONValue:
        """Kind 1: the buyers hold it against the developer; QDJG is the contract price."""
        notice_id = f"IMP-PN-{notice.unit_number}"
        return {
            "notice_id": notice_id, "unit_number": notice.unit_number, "business_no": notice_id, "kind": 1,
            "rank": 1, "holders": [self._party(h.party_ref, group) for h in notice.holders],
            "obligors": [self._party(notice.developer_ref, group)],
            "amount": {"fen": notice.price_fen, "currency": "CNY"}, "registry": self.signer.org_id,
            "registered_ms": _ms(notice.registered_on), "registration_type": "700", "cause": "PRESALE",
            "contract_numbers": [], "transfer_restricted": False,
            "certificate_number": notice.certificate_number,
        }

    def _mortgage_notice(self, notice: synthetic.PresaleMortgageNotice, group: _Group) -> JSONValue:
        """Kind 3: the bank holds it against the buyers; QDJG is the secured principal."""
        notice_id = f"IMP-YD-{notice.unit_number}-{notice.rank}"
        return {
            "notice_id": notice_id, "unit_number": notice.unit_number, "business_no": notice_id, "kind": 3,
            "rank": notice.rank, "holders": [self._party(notice.bank_ref, group)],
            "obligors": [self._party(ref, group) for ref in notice.obligor_refs],
            "amount": {"fen": notice.principal_fen, "currency": "CNY"}, "registry": self.signer.org_id,
            "registered_ms": _ms(notice.registered_on), "registration_type": "700", "cause": "LOAN", "method": 1,
            "debt_term": {"start": notice.term_start.isoformat(), "end": notice.term_end.isoformat()},
            "scope": "详见抵押合同", "contract_numbers": [], "transfer_restricted": notice.transfer_restricted,
            "transfer_restriction_text": notice.restriction_terms,
            "linked_purchase_notice": f"IMP-PN-{notice.unit_number}",
            "certificate_number": notice.certificate_number,
        }

    def _seizures(self, seizures: Sequence[synthetic.Seizure]) -> Iterator[JSONValue]:
        first_kind = "3" if seizures and seizures[0].kind is synthetic.SeizureKind.PRE_SEIZURE else "1"
        for seizure in seizures:
            seizure_id = f"IMP-S-{seizure.unit_number}-{seizure.queue_position}"
            yield {"seizure_id": seizure_id, "unit_number": seizure.unit_number, "authority_org": COURT_ORG,
                   "order_no": seizure.order_number, "kind": first_kind, "start_date": seizure.start.isoformat(),
                   "end_date": seizure.end.isoformat(), "queue_order": seizure.queue_position,
                   "queued": seizure.queue_position > 1, "delivered_ms": _ms(seizure.start), "released_ms": None,
                   "release_order_no": None, "renewals": 0}

    def _keep_owner(self, ownership: synthetic.Ownership, mortgages: Sequence[synthetic.Mortgage]) -> None:
        persons = all(h.party_ref in self._persons for h in ownership.holders)
        if ownership.tenure is synthetic.Tenure.SOLE:
            if len(self.owners) < self.keep_owners and persons:
                self.owners.append(self._candidate(ownership, ownership.holders[0], mortgages))
        elif len(ownership.holders) == 2 and persons and len(self.co_owned) < self.keep_owners:
            first, second = (self._candidate(ownership, h, mortgages) for h in ownership.holders)
            self.co_owned.append((first, second))

    def _candidate(self, ownership: synthetic.Ownership, holder: synthetic.Holding,
                   mortgages: Sequence[synthetic.Mortgage]) -> OwnerCandidate:
        party = self._refs[holder.party_ref]
        return OwnerCandidate(
            unit_number=ownership.unit_number, title_number=ownership.title_number,
            party_id=str(party["party_id"]), record_ref=str(party["record_ref"]),
            mortgages=tuple(
                LegacyMortgage(rank=m.rank, certificate_number=m.certificate_number,
                               mortgagee_party=str(self._refs[m.mortgagee_ref]["party_id"]),
                               mortgagee_org=self._bank_org(m.mortgagee_ref))
                for m in mortgages
            ),
            form=ownership.tenure.value,
        )

    # --- envelopes and the sealed store ---

    def _sign(self, body: Mapping[str, JSONValue]) -> bytes:
        return self.factory.sign(self.signer, "register.import", body)

    def _finish(self, groups: list[_Group]) -> ImportTx:
        body: dict[str, JSONValue] = {
            "units": [r for g in groups for r in g.units],
            "ownerships": [r for g in groups for r in g.ownerships],
            "mortgages": [r for g in groups for r in g.mortgages],
            "notices": [r for g in groups for r in g.notices],
            "seizures": [r for g in groups for r in g.seizures],
        }
        envelope = self._sign(body)
        if len(envelope) > self.max_tx_bytes:  # the estimate is exact up to _MARGIN; a bug if reached
            msg = f"import envelope of {len(envelope)} bytes exceeds max_tx_bytes={self.max_tx_bytes}"
            raise AssertionError(msg)
        payload = json.loads(envelope)["payload"]
        tx_id = hashlib.sha256(canonical.encode(payload)).hexdigest()
        self._store_sealed(tx_id, [s for g in groups for s in g.sealed])
        counts = self.counts
        counts.txs += 1
        counts.units += len(body["units"])  # type: ignore[arg-type]
        counts.ownerships += len(body["ownerships"])  # type: ignore[arg-type]
        counts.mortgages += len(body["mortgages"])  # type: ignore[arg-type]
        counts.notices += len(body["notices"])  # type: ignore[arg-type]
        counts.seizures += len(body["seizures"])  # type: ignore[arg-type]
        return ImportTx(envelope=envelope, tx_id=tx_id, units=len(groups))

    def _store_sealed(self, tx_id: str, records: Sequence[SealedRecord]) -> None:
        if not records:
            return
        lines = b"".join(r.without_keys().to_bytes() + b"\n" for r in records)
        keys = b"".join(canonical.encode({
            "record_id": r.record_id,
            "wrapped_keys": [{"org_id": k.org_id, "sealed_key": k.sealed_key.hex()} for k in r.wrapped_keys],
        }) + b"\n" for r in records)
        # each file whole or absent (temp file, then rename): a reader that sees the keys file sees all of it
        for suffix, data in ((".records.jsonl", lines), (".keys.jsonl", keys)):
            write_durably(self.sealed_dir / f"{tx_id}{suffix}", data)
            self.counts.sealed_bytes += len(data)


def read_sealed(sealed_dir: Path, *, skip: Collection[str] = ()) -> Iterator[SealedRecord]:
    """Every sealed record of the store with its wrapped keys joined back (development reader).

    ``skip``: names of ``*.records.jsonl`` files already read (one per import transaction, never
    rewritten), so a reader keeping what it read can take in only what was sealed since.
    """
    for records_path in sorted(sealed_dir.glob("*.records.jsonl")):
        keys_path = records_path.with_name(records_path.name.replace(".records.", ".keys."))
        if records_path.name in skip or not keys_path.exists():  # no keys file yet: still being written
            continue
        wrapped: dict[str, tuple[WrappedKey, ...]] = {}
        for line in keys_path.read_bytes().splitlines():
            item = json.loads(line)
            wrapped[item["record_id"]] = tuple(
                WrappedKey(org_id=k["org_id"], sealed_key=bytes.fromhex(k["sealed_key"])) for k in item["wrapped_keys"]
            )
        for line in records_path.read_bytes().splitlines():
            record = SealedRecord.from_bytes(line)
            yield SealedRecord(record_id=record.record_id, chain_id=record.chain_id, nonce=record.nonce,
                               ciphertext=record.ciphertext, commitment=record.commitment,
                               wrapped_keys=wrapped.get(record.record_id, ()))


# ------------------------------------------------------------------------------------------ bindings


def dev_auth_ref(party: str, fingerprint: str) -> str:
    """The hash standing for the identity authority's real-name authentication record (dev only)."""
    return hashlib.sha256(canonical.encode({"fingerprint": fingerprint, "party_id": party,
                                            "type": DEV_AUTH_TYPE})).hexdigest()


def choose_dev_owners(candidates: Sequence[OwnerCandidate], count: int) -> list[OwnerCandidate]:
    """Owners for the dev persons: one with no mortgage, one whose mortgage a member bank holds, then the rest."""
    picks: list[OwnerCandidate] = []
    wishes: tuple[Callable[[OwnerCandidate], bool], ...] = (
        lambda c: not c.mortgages, lambda c: any(m.mortgagee_org is not None for m in c.mortgages))
    for wanted in wishes:
        match = next((c for c in candidates if wanted(c) and c not in picks), None)
        if match is not None and len(picks) < count:
            picks.append(match)
    picks.extend(c for c in candidates if c not in picks)
    return picks[:count]


def binding_envelopes(
    factory: TxFactory, persons: Mapping[str, OwnerCandidate], org_parties: Mapping[str, str],
) -> list[bytes]:
    """``identity.bind_party`` by the identity officer: each person handle to its owner, each org's party to it."""
    officer = factory.identity(OFFICER)
    envelopes = []
    for handle, owner in persons.items():
        fingerprint = factory.identity(handle).fingerprint
        envelopes.append(factory.sign(officer, "identity.bind_party", {
            "fingerprint": fingerprint, "party_id": owner.party_id,
            "auth_ref": dev_auth_ref(owner.party_id, fingerprint),
        }))
    envelopes.extend(factory.sign(officer, "identity.bind_party", {"org": org, "party_id": party})
                     for org, party in sorted(org_parties.items()))
    return envelopes


def choose_co_owned(candidates: Sequence[tuple[OwnerCandidate, OwnerCandidate]]
                    ) -> tuple[OwnerCandidate, OwnerCandidate] | None:
    """The co-owned unit for the dev co-owner persons: the first with no mortgage, else the first at all."""
    return next((pair for pair in candidates if not pair[0].mortgages), candidates[0] if candidates else None)


def assign_dev_persons(
    sole_handles: Sequence[str], co_owner_handles: Sequence[str], importer: RegisterImporter,
) -> dict[str, OwnerCandidate]:
    """Dev person handle → owner: sole owners (``choose_dev_owners``), then the co-owned unit's two holders.

    The sole owners come first and are chosen exactly as before, so ``person1..4`` keep their
    meaning; the two ``co_owner_handles`` get the holders of ``choose_co_owned`` in the register's
    holder order (nothing when the register holds no such unit or fewer than two handles are given).
    Deterministic for a seed, like the register.
    """
    persons = dict(zip(sole_handles, choose_dev_owners(importer.owners, len(sole_handles)), strict=False))
    pair = choose_co_owned(importer.co_owned)
    if pair is not None and len(co_owner_handles) == len(pair):
        persons.update(zip(co_owner_handles, pair, strict=True))
    return persons


def write_dev_owners(directory: Path, persons: Mapping[str, OwnerCandidate]) -> Path:
    """``orgs/gz-identity/dev-owners.json``: which dev person acts for which owner (ids only, no names).

    Each entry names its unit and, under ``co_owners``, the other dev persons holding the same unit
    (empty for a sole owner), with the ownership's ``form``: a test finds the co-owned unit and its
    two person handles there.
    """
    path = directory / "orgs" / IDENTITY_ORG / DEV_OWNERS
    document = {handle: {"party_id": o.party_id, "record_ref": o.record_ref, "unit_number": o.unit_number,
                         "title_number": o.title_number, "form": o.form,
                         "co_owners": [other for other, p in persons.items()
                                       if other != handle and p.unit_number == o.unit_number],
                         "mortgages": [{"rank": m.rank, "certificate_number": m.certificate_number,
                                        "mortgagee_org": m.mortgagee_org} for m in o.mortgages]}
                for handle, o in persons.items()}
    _write_private(path, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode())
    return path


# ------------------------------------------------------------------------------------------ committing


async def submit_all(
    pipeline: Pipeline, envelopes: Iterable[bytes], *, window: int = 64,
    on_receipt: Callable[[int, Receipt], None] | None = None,
) -> list[Receipt]:
    """Submit ``envelopes`` in order, at most ``window`` waiting at once; their receipts in order.

    Envelopes are drawn lazily, so each is signed shortly before it is submitted and stays inside
    the ledger's time window however long the stream is.
    """
    receipts: list[Receipt] = []
    waiting: list[asyncio.Future[Receipt]] = []

    async def drain(keep: int) -> None:
        while len(waiting) > keep:
            receipt = await waiting.pop(0)
            if on_receipt is not None:
                on_receipt(len(receipts), receipt)
            receipts.append(receipt)

    for envelope in envelopes:
        waiting.append(pipeline.submit_nowait(envelope))
        await drain(window - 1)
    await drain(0)
    return receipts


def commit_all(
    store: LedgerStore, clock: Clock, envelopes: Iterable[bytes], *, window: int = 64,
    on_receipt: Callable[[int, Receipt], None] | None = None,
) -> list[Receipt]:
    """Run a pipeline on ``store`` until every envelope is committed; the receipts in order."""

    async def run() -> list[Receipt]:
        pipeline = Pipeline(store, clock)
        runner = asyncio.create_task(pipeline.run())
        try:
            return await submit_all(pipeline, envelopes, window=window, on_receipt=on_receipt)
        finally:
            pipeline.stop()
            await runner

    return asyncio.run(run())
