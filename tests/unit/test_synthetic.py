from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from datetime import date
from fractions import Fraction

import pytest

from estatechain.identity.documents import (
    GUANGZHOU_COUNTY_CODES,
    GUANGZHOU_DISTRICTS,
    GUANGZHOU_LEGACY_COUNTIES,
    IdType,
    parse_unit_number,
    validate_id,
)
from estatechain.testing.synthetic import (
    AS_OF,
    Batch,
    Company,
    CompanyKind,
    Mortgage,
    MortgageMethod,
    Ownership,
    Person,
    PresaleMortgageNotice,
    PurchaseNotice,
    Seizure,
    SeizureKind,
    Tenure,
    Unit,
    encode_batch,
    generate,
)

SEED = 20260104
UNITS = 2_000
CERTIFICATE = re.compile(r"^粤\((20\d{2})\)广州市不动产(权|证明)第(\d{8})号$")


def _digest(batches: list[Batch]) -> str:
    sha = hashlib.sha256()
    for batch in batches:
        sha.update(encode_batch(batch))
    return sha.hexdigest()


@pytest.fixture(scope="module")
def batches() -> list[Batch]:
    return list(generate(SEED, UNITS, batch_size=500))


@dataclass(frozen=True)
class Register:
    persons: list[Person]
    companies: list[Company]
    units: list[Unit]
    ownerships: list[Ownership]
    mortgages: list[Mortgage]
    purchase_notices: list[PurchaseNotice]
    presale_mortgage_notices: list[PresaleMortgageNotice]
    seizures: list[Seizure]


@pytest.fixture(scope="module")
def register(batches: list[Batch]) -> Register:
    return Register(**{
        f.name: [item for batch in batches for item in getattr(batch, f.name)] for f in fields(Register)
    })


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(batches: list[Batch]) -> None:
    assert _digest(list(generate(SEED, UNITS, batch_size=500))) == _digest(batches)
    assert _digest(list(generate(SEED + 1, UNITS, batch_size=500))) != _digest(batches)


def test_output_bytes_do_not_depend_on_the_process_or_its_hash_seed() -> None:
    code = (
        "import hashlib\nfrom estatechain.testing.synthetic import generate, encode_batch\n"
        "h = hashlib.sha256()\n"
        f"for b in generate({SEED}, 300, batch_size=100): h.update(encode_batch(b))\n"
        "print(h.hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _digest(list(generate(SEED, 300, batch_size=100)))


def test_units_arrive_in_batches_of_the_requested_size() -> None:
    assert [len(b.units) for b in generate(1, 2_500, batch_size=1_000)] == [1_000, 1_000, 500]
    assert [b.index for b in generate(1, 2_500, batch_size=1_000)] == [0, 1, 2]
    (empty,) = generate(1, 0)
    assert empty.units == ()


def test_every_reference_points_to_the_same_or_an_earlier_batch(batches: list[Batch]) -> None:
    seen: set[str] = set()
    for batch in batches:
        seen |= {p.ref for p in batch.persons} | {c.ref for c in batch.companies}
        seen |= {p.ref for p in batch.projects} | {b.ref for b in batch.buildings}
        refs = [b.project_ref for b in batch.buildings] + [u.building_ref for u in batch.units]
        refs += [p.developer_ref for p in batch.projects]
        refs += [h.party_ref for o in batch.ownerships for h in o.holders]
        refs += [h.party_ref for n in batch.purchase_notices for h in n.holders]
        refs += [m.mortgagee_ref for m in batch.mortgages] + [r for m in batch.mortgages for r in m.mortgagor_refs]
        refs += [n.bank_ref for n in batch.presale_mortgage_notices]
        assert set(refs) <= seen


def test_every_id_number_is_valid_unique_and_already_normal(register: Register) -> None:
    numbers: Counter[tuple[str, str]] = Counter()
    parties: list[Person | Company] = [*register.persons, *register.companies]
    for party in parties:
        doc = validate_id(party.id_type, party.id_number)
        assert doc.number == party.id_number
        numbers[party.id_type, party.id_number] += 1
    assert max(numbers.values()) == 1
    assert {t for t, _ in numbers} == set(IdType)


def test_resident_ids_encode_the_gender_the_person_has(register: Register) -> None:
    for person in register.persons:
        if person.id_type in {IdType.RESIDENT_ID, IdType.HOUSEHOLD_REGISTER}:
            assert person.gender == ("M" if int(person.id_number[16]) % 2 else "F")


def test_most_owners_hold_resident_ids(register: Register) -> None:
    kinds = Counter(p.id_type for p in register.persons)
    assert kinds[IdType.RESIDENT_ID] > 0.85 * sum(kinds.values())


def test_every_unit_number_is_a_valid_unique_guangzhou_housing_unit(register: Register) -> None:
    units = register.units
    assert len(units) == UNITS
    assert len({u.unit_number for u in units}) == UNITS
    counties = set()
    for unit in units:
        parsed = parse_unit_number(unit.unit_number, counties=GUANGZHOU_COUNTY_CODES)
        assert parsed.parcel_right_type in "BS"
        assert parsed.fixture_type == "F"
        assert unit.county_code == parsed.county
        counties.add(parsed.county)
    assert counties & set(GUANGZHOU_LEGACY_COUNTIES)


def test_units_spread_over_all_11_districts() -> None:
    districts = {u.district for batch in generate(SEED, 20_000, batch_size=5_000) for u in batch.units}
    assert districts == set(GUANGZHOU_DISTRICTS.values())


def test_certificate_numbers_follow_the_guangzhou_pattern_and_never_repeat(register: Register) -> None:
    numbers = [o.title_number for o in register.ownerships]
    numbers += [m.certificate_number for m in register.mortgages]
    numbers += [n.certificate_number for n in register.purchase_notices]
    numbers += [n.certificate_number for n in register.presale_mortgage_notices]
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        match = CERTIFICATE.match(number)
        assert match, number
        assert int(match[1]) <= AS_OF.year


def test_shares_sum_to_one_and_joint_owners_have_none(register: Register) -> None:
    tenures: Counter[Tenure] = Counter()
    rights: list[Ownership | PurchaseNotice] = [*register.ownerships, *register.purchase_notices]
    for right in rights:
        holders = right.holders
        tenures[right.tenure] += 1
        if right.tenure is Tenure.JOINT:
            assert len(holders) >= 2
            assert all(h.share_numerator is None and h.share_denominator is None for h in holders)
        else:
            shares = [Fraction(h.share_numerator or 0, h.share_denominator or 1) for h in holders]
            assert all(share > 0 for share in shares)
            assert sum(shares, Fraction(0)) == 1
            assert (len(holders) == 1) == (right.tenure is Tenure.SOLE)
        assert len({h.party_ref for h in holders}) == len(holders)
    assert set(tenures) == set(Tenure)


def test_mortgages_have_ranks_1_to_n_in_registration_order(register: Register) -> None:
    by_unit: defaultdict[str, list[Mortgage]] = defaultdict(list)
    for mortgage in register.mortgages:
        by_unit[mortgage.unit_number].append(mortgage)
    assert max(len(ms) for ms in by_unit.values()) >= 3
    for ms in by_unit.values():
        assert [m.rank for m in ms] == list(range(1, len(ms) + 1))
        assert [m.registered_on for m in ms] == sorted(m.registered_on for m in ms)


def test_mortgages_are_well_formed_and_name_the_owners_as_mortgagors(register: Register) -> None:
    owners = {o.unit_number: tuple(h.party_ref for h in o.holders) for o in register.ownerships}
    banks = {c.ref for c in register.companies if c.kind is CompanyKind.BANK}
    methods: Counter[MortgageMethod] = Counter()
    restricted = 0
    for m in register.mortgages:
        assert m.mortgagor_refs == owners[m.unit_number]
        assert m.mortgagee_ref in banks
        methods[m.method] += 1
        if m.method is MortgageMethod.ORDINARY:
            assert m.max_claim_fen is None
            assert m.secured_principal_fen is not None
            assert 0 < m.secured_principal_fen <= 10**13
        else:
            assert m.secured_principal_fen is None
            assert m.max_claim_fen is not None
            assert 0 < m.max_claim_fen <= 10**13
            assert m.determination_start is not None
            assert m.determination_end is not None
            assert m.determination_start <= m.determination_end
        assert m.term_start < m.term_end
        assert m.registered_on <= AS_OF
        assert (m.restriction_terms is not None) == m.transfer_restricted
        restricted += m.transfer_restricted
    assert set(methods) == set(MortgageMethod)
    assert restricted > 0


def test_predicted_units_carry_notices_and_surveyed_units_carry_titles(register: Register) -> None:
    predicted = {u.unit_number for u in register.units if u.predicted}
    surveyed = {u.unit_number for u in register.units} - predicted
    assert predicted
    assert {o.unit_number for o in register.ownerships} == surveyed
    assert {m.unit_number for m in register.mortgages} <= surveyed
    notices = {n.unit_number: n for n in register.purchase_notices}
    assert set(notices) <= predicted
    presale = register.presale_mortgage_notices
    assert presale
    for p in presale:
        notice = notices[p.unit_number]
        assert p.purchase_notice_certificate == notice.certificate_number
        assert p.obligor_refs == tuple(h.party_ref for h in notice.holders)
        assert p.rank == 1
        assert p.registered_on >= notice.registered_on


def test_seizures_are_in_effect_queued_in_order_and_postdate_every_mortgage(register: Register) -> None:
    seizures: defaultdict[str, list[Seizure]] = defaultdict(list)
    for s in register.seizures:
        seizures[s.unit_number].append(s)
    assert {s.kind for ss in seizures.values() for s in ss} >= {SeizureKind.SEIZURE, SeizureKind.QUEUED}
    last_registration: defaultdict[str, date] = defaultdict(lambda: date(1900, 1, 1))
    records: list[Mortgage | PresaleMortgageNotice] = [*register.mortgages, *register.presale_mortgage_notices]
    for record in records:
        unit = record.unit_number
        last_registration[unit] = max(last_registration[unit], record.registered_on)
    for unit, ss in seizures.items():
        assert [s.queue_position for s in ss] == list(range(1, len(ss) + 1))
        assert all(s.start <= AS_OF < s.end for s in ss)
        assert last_registration[unit] < ss[0].start
