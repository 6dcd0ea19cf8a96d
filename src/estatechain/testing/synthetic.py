"""A deterministic synthetic Guangzhou register for ``estatechain init``, tests and benchmarks.

``generate(seed, units)`` streams ``Batch`` values of plain frozen records: units across
Guangzhou's 11 districts with valid 28-character unit numbers (domain.md §4.1), surveyed
residential buildings and pre-sale projects with predicted units (预测户), owners with valid IDs of
every type of domain.md §4.5, developers and other companies with valid USCCs or organisation
codes, sole, joint (共同共有) and by-share (按份共有) ownership, mortgages at ranks 1..n (some with a
transfer restriction), pre-sale purchase notices and pre-sale mortgage notices (预抵押), and a few
seizures, queued seizures and pre-seizures. The register stands as of ``AS_OF`` (just before the
platform opened in 2026), so every imported certificate number is from 2025 or earlier and cannot
collide with one the ledger issues. Current titles date from 2015-03-01 or later (unified
registration), so all carry ``粤(YYYY)广州市不动产权第NNNNNNNN号`` numbers; older parcels keep legacy
county codes in their unit numbers. Within a year, serials follow generation order, not dates.
Mortgages and 预抵押 always predate a seizure on the same unit (V13), and amounts are integer fen.

Determinism: the same ``(seed, units, batch_size)`` gives the same records and the same
``encode_batch`` bytes in any process (no set or hash order is ever iterated). Everything is
drawn from one ``random.Random(seed)``; names come from Faker's zh_CN word lists (surnames with
their frequency weights, given names, company-name prefixes, mobile prefixes) drawn by that same
generator. Faker's own seeded calls are not used: they cost ~30 µs per name, and both ways tie
the output to Faker's data, so pin Faker's version where bytes must match across machines.

Uniqueness without memory: ID numbers, organisation codes and unit numbers must never repeat (two
"persons" with one ID number would share a party id). Each document kind maps a running counter
through a seeded affine permutation ``k -> (a*k + b) mod N`` of its number space onto the
document's fields, so numbers look scattered yet are distinct, and 10,000,000 units need no set
of numbers seen. Unit numbers are unique by construction (one parcel serial per project).

References (``*_ref``) point to a record in the same batch or an earlier one; banks come first.
Memory stays flat: only the banks, developer refs and a few small counters outlive a batch.
"""

from __future__ import annotations

import random  # noqa: TID251  (seeded generation of test data in the shell, never randomness in the ledger)
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, timedelta
from enum import Enum, IntEnum, StrEnum
from itertools import accumulate
from math import gcd
from typing import Final

from faker.providers.company.zh_CN import Provider as _FakerCompany
from faker.providers.person.zh_CN import Provider as _FakerPerson
from faker.providers.phone_number.zh_CN import Provider as _FakerPhone

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.identity.documents import (
    GUANGZHOU_DISTRICTS,
    IdType,
    organisation_code_check_character,
    resident_id_check_character,
    uscc_check_character,
)

AS_OF: Final = date(2025, 12, 31)
_UNIFIED_REGISTRATION: Final = date(2015, 3, 1)
"""不动产登记暂行条例 in force: current titles date from then, so all carry 不动产权 numbers."""
DEFAULT_BATCH_SIZE: Final = 1_000
FEN_PER_WAN_YUAN: Final = 1_000_000
RESTRICTION_TERMS: Final = "抵押期间，未经抵押权人书面同意，抵押人不得转让抵押财产。"
MORTGAGE_SCOPE: Final = "主债权、利息、违约金、损害赔偿金和实现抵押权的费用"


class Tenure(StrEnum):
    """Form of ownership: 单独所有, 共同共有 (no shares), 按份共有 (shares summing to 1)."""

    SOLE = "sole"
    JOINT = "joint"
    SHARES = "shares"


class CompanyKind(StrEnum):
    """What a company is in the register."""

    BANK = "bank"
    DEVELOPER = "developer"
    OTHER = "other"


class MortgageMethod(IntEnum):
    """``DYFS``: 1 ordinary (一般抵押), 2 maximum amount (最高额抵押)."""

    ORDINARY = 1
    MAXIMUM = 2


class SeizureKind(IntEnum):
    """``CFLX``: 1 查封, 2 轮候查封, 3 预查封 (domain.md §1)."""

    SEIZURE = 1
    QUEUED = 2
    PRE_SEIZURE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A natural person; ``ref`` is a generator-local handle, not a party id."""

    ref: str
    name: str
    gender: str
    id_type: IdType
    id_number: str
    phone: str
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Company:
    """A legal person identified by a USCC (or, for some older institutions, an organisation code)."""

    ref: str
    name: str
    kind: CompanyKind
    id_type: IdType
    id_number: str
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A development on one parcel: surveyed (built and first-registered) or pre-sale (predicted units)."""

    ref: str
    name: str
    county_code: str
    district: str
    developer_ref: str
    presale: bool
    parcel: str
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Building:
    """One building (幢) of a project."""

    ref: str
    project_ref: str
    number: int
    floors: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """A housing unit (不动产单元); ``building_area_dm2`` is 建筑面积 in 0.01 m²."""

    unit_number: str
    building_ref: str
    county_code: str
    district: str
    location: str
    use: str
    floor: int
    building_area_dm2: int
    predicted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    """One holder of a right; shares are ``None`` for joint ownership, else an exact fraction."""

    party_ref: str
    share_numerator: int | None
    share_denominator: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ownership:
    """Current ownership right (房屋所有权) of a surveyed unit with its title certificate."""

    unit_number: str
    title_number: str
    tenure: Tenure
    holders: tuple[Holding, ...]
    registered_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Mortgage:
    """A current mortgage right (``DYAQ``) with its rank among the unit's mortgages."""

    unit_number: str
    rank: int
    certificate_number: str
    mortgagee_ref: str
    mortgagor_refs: tuple[str, ...]
    method: MortgageMethod
    secured_principal_fen: int | None
    max_claim_fen: int | None
    determination_start: date | None
    determination_end: date | None
    term_start: date
    term_end: date
    scope: str
    transfer_restricted: bool
    restriction_terms: str | None
    registered_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseNotice:
    """Pre-sale purchase notice (预购商品房预告登记, ``YGDJZL`` 1): buyers against the developer."""

    unit_number: str
    certificate_number: str
    tenure: Tenure
    holders: tuple[Holding, ...]
    developer_ref: str
    price_fen: int
    registered_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class PresaleMortgageNotice:
    """Pre-sale mortgage notice (预抵押, ``YGDJZL`` 3): bank against the buyers, linked to their purchase notice."""

    unit_number: str
    rank: int
    certificate_number: str
    purchase_notice_certificate: str
    bank_ref: str
    obligor_refs: tuple[str, ...]
    principal_fen: int
    term_start: date
    term_end: date
    transfer_restricted: bool
    restriction_terms: str | None
    registered_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Seizure:
    """A court's seizure (查封) in effect at ``AS_OF``; ``queue_position`` 1 is effective, 2+ queued."""

    unit_number: str
    court: str
    order_number: str
    kind: SeizureKind
    queue_position: int
    start: date
    end: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """Records introduced by one slice of ``batch_size`` units."""

    index: int
    persons: tuple[Person, ...]
    companies: tuple[Company, ...]
    projects: tuple[Project, ...]
    buildings: tuple[Building, ...]
    units: tuple[Unit, ...]
    ownerships: tuple[Ownership, ...]
    mortgages: tuple[Mortgage, ...]
    purchase_notices: tuple[PurchaseNotice, ...]
    presale_mortgage_notices: tuple[PresaleMortgageNotice, ...]
    seizures: tuple[Seizure, ...]


def generate(seed: int, units: int, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[Batch]:
    """Stream a register of exactly ``units`` units in batches of ``batch_size`` units (the last may be smaller)."""
    if units < 0 or batch_size < 1:
        msg = f"units must be >= 0 and batch_size >= 1, got units={units}, batch_size={batch_size}"
        raise ValueError(msg)
    return _Generator(seed, units, batch_size).run()


def to_json(value: object) -> JSONValue:
    """Plain JSON form of a record: dates as ISO strings, enums as their values, tuples as lists."""
    if isinstance(value, Enum):
        return value.value  # type: ignore[no-any-return]
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    msg = f"cannot convert {type(value).__name__} to JSON"
    raise TypeError(msg)


def encode_batch(batch: Batch) -> bytes:
    """Canonical JSON bytes of a batch: what the determinism test compares."""
    return canonical.encode(to_json(batch))


# --- vocabulary -------------------------------------------------------------------------------

_SURNAMES: Final = tuple(_FakerPerson.last_names)
_SURNAME_CUM: Final = tuple(accumulate(_FakerPerson.last_names.values()))
_GIVEN_MALE: Final = tuple(_FakerPerson.first_names_male)
_GIVEN_FEMALE: Final = tuple(_FakerPerson.first_names_female)
_COMPANY_WORDS: Final = tuple(w for w in _FakerCompany.company_prefixes if 2 <= len(w) <= 4)
_MOBILE_PREFIXES: Final = tuple(str(p) for p in _FakerPhone.phonenumber_prefixes)

_DISTRICT_WEIGHTS: Final = {
    "440103": 8, "440104": 7, "440105": 10, "440106": 12, "440111": 14, "440112": 9,
    "440113": 14, "440114": 9, "440115": 6, "440117": 4, "440118": 9,
}
_DISTRICT_CODES: Final = tuple(_DISTRICT_WEIGHTS)
_DISTRICT_CUM: Final = tuple(accumulate(_DISTRICT_WEIGHTS.values()))
_LEGACY: Final = {"440104": ("440102", 2005), "440103": ("440107", 2005), "440112": ("440116", 2014),
                  "440117": ("440184", 2014), "440118": ("440183", 2014)}
"""District → (legacy code, year it was retired): older parcels keep the old code half the time."""

_ROADS: Final = {
    "440103": ("中山七路", "中山八路", "黄沙大道", "芳村大道", "花地大道", "康王中路", "龙津西路"),
    "440104": ("东风中路", "环市东路", "解放北路", "中山五路", "农林下路", "东湖路", "越秀北路"),
    "440105": ("江南大道中", "新港中路", "昌岗中路", "工业大道", "宝岗大道", "滨江东路", "南洲路"),
    "440106": ("天河路", "体育东路", "黄埔大道西", "中山大道西", "天河北路", "花城大道", "五山路"),
    "440111": ("白云大道北", "机场路", "广园中路", "同和路", "云城西路", "石井大道", "增槎路"),
    "440112": ("黄埔东路", "开创大道", "科学大道", "香雪大道", "丰乐北路", "大沙地东"),
    "440113": ("西环路", "迎宾路", "兴南大道", "亚运大道", "番禺大道北", "汉溪大道"),
    "440114": ("公益路", "凤凰北路", "迎宾大道", "花城路", "天贵路"),
    "440115": ("进港大道", "凤凰大道", "金隆路", "黄阁大道", "蕉门路"),
    "440117": ("河滨北路", "新城中路", "从城大道", "温泉东路"),
    "440118": ("府佑路", "港口大道", "挂绿路", "荔景大道", "增城大道"),
}
_ESTATE_HEADS: Final = ("锦绣", "翠湖", "雅景", "御景", "星河", "珠江", "南湖", "云山", "金沙", "碧水", "凤凰",
                        "紫荆", "棠德", "榕树", "荔港", "海印", "华南", "东方", "逸景", "骏景")
_ESTATE_TAILS: Final = ("花园", "华庭", "名苑", "山庄", "广场", "雅居", "新城", "豪庭", "湾", "公馆")
_PRICE_PER_M2: Final = {"440103": 42_000, "440104": 60_000, "440105": 52_000, "440106": 75_000,
                        "440111": 38_000, "440112": 35_000, "440113": 33_000, "440114": 18_000,
                        "440115": 22_000, "440117": 14_000, "440118": 17_000}
_COURTS: Final = {code: (f"广州市{name}人民法院", f"粤01{code[4:]}") for code, name in GUANGZHOU_DISTRICTS.items()}
_CITY_COURT: Final = ("广州市中级人民法院", "粤01")
_BANKS: Final = ("中国工商银行股份有限公司广州分行", "中国建设银行股份有限公司广州分行",
                 "中国农业银行股份有限公司广州分行", "中国银行股份有限公司广州分行",
                 "交通银行股份有限公司广州分行", "招商银行股份有限公司广州分行",
                 "广州银行股份有限公司", "广州农村商业银行股份有限公司")
_ID_REGIONS: Final = (
    "440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114", "440115", "440117",
    "440118", "440303", "440304", "440604", "440605", "441302", "445102", "440507", "441802", "440803",
    "441402", "440402", "430102", "360102", "450103", "420106", "510104", "350102", "110105", "310104",
    "610113", "500103", "410105", "320106", "330106", "340104", "370102", "130102", "210102", "220102",
    "230103", "460106", "520102", "530102", "620102", "150102", "640104", "630102", "650102", "540102",
    "140105", "120101",
)
_PASSPORT_PREFIXES: Final = ("PA", "XK", "GB", "UB", "CA", "LA", "SG", "MY", "TH", "KR")
_MILITARY_HEADS: Final = ("南", "北", "东", "西", "中", "空", "海")
_BIRTH_FIRST: Final = date(1950, 1, 1).toordinal()
_BIRTH_DAYS: Final = date(2003, 12, 31).toordinal() - _BIRTH_FIRST + 1
_DOC_KINDS: Final = (
    (IdType.RESIDENT_ID, 917), (IdType.HOUSEHOLD_REGISTER, 10), (IdType.HK_MACAU_PERMIT, 20),
    (IdType.TAIWAN_PERMIT, 6), (IdType.HMT_RESIDENCE_PERMIT, 12), (IdType.PASSPORT, 25),
    (IdType.MILITARY_OFFICER_CARD, 10),
)
_DOC_TYPES: Final = tuple(kind for kind, _ in _DOC_KINDS)
_DOC_CUM: Final = tuple(accumulate(weight for _, weight in _DOC_KINDS))
_SHARE_SPLITS: Final = (((1, 2), (1, 2)), ((1, 3), (2, 3)), ((3, 10), (7, 10)), ((1, 4), (1, 4), (1, 2)),
                        ((1, 3), (1, 3), (1, 3)), ((2, 5), (3, 5)))


class _Permutation:
    """A seeded bijection of ``range(size)``: counters in, distinct scattered numbers out."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.size = size
        self.b = rng.randrange(size)
        a = rng.randrange(size // 3, size)
        while gcd(a, size) != 1:
            a += 1
        self.a = a
        self.next = 0

    def draw(self) -> int:
        value = (self.a * self.next + self.b) % self.size
        self.next += 1
        if self.next > self.size:
            msg = f"number space of {self.size} exhausted; generate fewer units"
            raise OverflowError(msg)
        return value


class _Generator:  # the generator's state; one instance per generate() call
    def __init__(self, seed: int, units: int, batch_size: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        self.units = units
        self.batch_size = batch_size
        rng = self.rng
        self.resident = _Permutation(rng, len(_ID_REGIONS) * _BIRTH_DAYS * 999)
        self.hmt = _Permutation(rng, 3 * _BIRTH_DAYS * 999)
        self.hk = _Permutation(rng, 10**8)
        self.macau = _Permutation(rng, 10**8)
        self.taiwan = _Permutation(rng, 10**8)
        self.passport = _Permutation(rng, 10**8)
        self.military = _Permutation(rng, 10**8)
        self.org_body = _Permutation(rng, 10**8)
        self.persons = 0
        self.companies = 0
        self.projects = 0
        self.parcels: dict[tuple[str, int, int], int] = {}
        self.certificates: dict[tuple[str, int], int] = {}
        self.orders: dict[tuple[str, int], int] = {}
        self.developers: list[str] = []
        self.banks: list[str] = []
        self._reset()

    def _reset(self) -> None:
        self.b_persons: list[Person] = []
        self.b_companies: list[Company] = []
        self.b_projects: list[Project] = []
        self.b_buildings: list[Building] = []
        self.b_units: list[Unit] = []
        self.b_ownerships: list[Ownership] = []
        self.b_mortgages: list[Mortgage] = []
        self.b_purchase: list[PurchaseNotice] = []
        self.b_presale: list[PresaleMortgageNotice] = []
        self.b_seizures: list[Seizure] = []

    def _batch(self, index: int) -> Batch:
        batch = Batch(
            index=index, persons=tuple(self.b_persons), companies=tuple(self.b_companies),
            projects=tuple(self.b_projects), buildings=tuple(self.b_buildings), units=tuple(self.b_units),
            ownerships=tuple(self.b_ownerships), mortgages=tuple(self.b_mortgages),
            purchase_notices=tuple(self.b_purchase), presale_mortgage_notices=tuple(self.b_presale),
            seizures=tuple(self.b_seizures),
        )
        self._reset()
        return batch

    def run(self) -> Iterator[Batch]:
        for name in _BANKS:
            self.banks.append(self._company(name, CompanyKind.BANK, "440104").ref)
        made = 0
        index = 0
        while made < self.units:
            for _ in self._project(self.units - made):
                made += 1
                if len(self.b_units) == self.batch_size:
                    yield self._batch(index)
                    index += 1
        if self.b_units or index == 0:
            yield self._batch(index)

    # --- parties ---

    def _name(self, gender: str) -> str:
        rng = self.rng
        surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
        given = _GIVEN_MALE if gender == "M" else _GIVEN_FEMALE
        first = rng.choice(given)
        if len(first) == 1 and rng.random() < 0.5:
            second = rng.choice(given)
            if len(second) == 1:
                first += second
        return surname + first

    def _address(self) -> str:
        code = self._district()
        return f"广东省广州市{GUANGZHOU_DISTRICTS[code]}{self.rng.choice(_ROADS[code])}{self.rng.randint(1, 999)}号"

    def _district(self) -> str:
        return self.rng.choices(_DISTRICT_CODES, cum_weights=_DISTRICT_CUM)[0]

    def _person(self) -> Person:
        rng = self.rng
        kind = rng.choices(_DOC_TYPES, cum_weights=_DOC_CUM)[0]
        number, gender = self._document(kind)
        self.persons += 1
        person = Person(
            ref=f"P{self.persons:09d}", name=self._name(gender), gender=gender, id_type=kind, id_number=number,
            phone=f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}", address=self._address(),
        )
        self.b_persons.append(person)
        return person

    def _document(self, kind: IdType) -> tuple[str, str]:  # noqa: PLR0911  (one return per document kind)
        """A fresh, never-repeated number of ``kind`` and the holder's gender."""
        gender = "M" if self.rng.random() < 0.5 else "F"
        if kind in (IdType.RESIDENT_ID, IdType.HOUSEHOLD_REGISTER):
            x = self.resident.draw()
            return _gb11643(_ID_REGIONS[x // (_BIRTH_DAYS * 999)], x % (_BIRTH_DAYS * 999))
        if kind is IdType.HMT_RESIDENCE_PERMIT:
            x = self.hmt.draw()
            return _gb11643(("810000", "820000", "830000")[x // (_BIRTH_DAYS * 999)], x % (_BIRTH_DAYS * 999))
        if kind is IdType.HK_MACAU_PERMIT:
            if self.rng.random() < 0.8:
                return f"H{self.hk.draw():08d}", gender
            return f"M{self.macau.draw():08d}", gender
        if kind is IdType.TAIWAN_PERMIT:
            return f"{self.taiwan.draw():08d}", gender
        if kind is IdType.PASSPORT:
            x = self.passport.draw()
            if x % 5 < 3:
                return f"E{x:08d}", gender
            return f"{_PASSPORT_PREFIXES[x // 10**7]}{x % 10**7:07d}", gender
        x = self.military.draw()
        return f"{_MILITARY_HEADS[x % 7]}字第{x:08d}号", gender

    def _company(self, name: str, kind: CompanyKind, county: str, *, org_code: bool = False) -> Company:
        body = f"{self.org_body.draw():08d}"
        code = body + organisation_code_check_character(body)
        if not org_code:
            first17 = f"91{county}{code}"
            code = first17 + uscc_check_character(first17)
        self.companies += 1
        company = Company(
            ref=f"C{self.companies:07d}", name=name, kind=kind,
            id_type=IdType.ORGANISATION_CODE if org_code else IdType.USCC, id_number=code, address=self._address(),
        )
        self.b_companies.append(company)
        return company

    def _company_word(self) -> str:
        return self.rng.choice(_COMPANY_WORDS)

    def _holders(self, tenure: Tenure) -> tuple[Holding, ...]:
        rng = self.rng
        if tenure is Tenure.SOLE:
            # now and then an owner of several units
            reuse = self.b_persons and rng.random() < 0.03
            ref = rng.choice(self.b_persons).ref if reuse else self._person().ref
            return (Holding(party_ref=ref, share_numerator=1, share_denominator=1),)
        if tenure is Tenure.JOINT:
            count = 2 if rng.random() < 0.9 else 3
            return tuple(Holding(party_ref=self._person().ref, share_numerator=None, share_denominator=None)
                         for _ in range(count))
        split = rng.choice(_SHARE_SPLITS)
        return tuple(Holding(party_ref=self._person().ref, share_numerator=n, share_denominator=d) for n, d in split)

    # --- register ---

    def _certificate(self, kind: str, year: int) -> str:
        serial = self.certificates.get((kind, year), 0) + 1
        self.certificates[kind, year] = serial
        return f"粤({year})广州市不动产{kind}第{serial:08d}号"

    def _day(self, first: date, last: date) -> date:
        if last < first:
            return first
        return date.fromordinal(self.rng.randint(first.toordinal(), last.toordinal()))

    def _project(self, room_left: int) -> Iterator[None]:
        rng = self.rng
        district = self._district()
        presale = rng.random() < 0.15
        completed = self._day(date(2024, 1, 1), date(2025, 6, 30)) if presale else self._day(
            date(1995, 1, 1), date(2023, 12, 31))
        county = district
        legacy = _LEGACY.get(district)
        if legacy is not None and completed.year < legacy[1] and rng.random() < 0.5:
            county = legacy[0]
        zone, subzone = rng.randint(1, 40), rng.randint(1, 30)
        serial = self.parcels.get((county, zone, subzone), 0) + 1
        self.parcels[county, zone, subzone] = serial
        parcel = f"{county}{zone:03d}{subzone:03d}G{'B' if rng.random() < 0.98 else 'S'}{serial:05d}F"
        if not self.developers or rng.random() < 0.4:
            name = f"广州{self._company_word()}房地产开发有限公司"
            self.developers.append(self._company(name, CompanyKind.DEVELOPER, district).ref)
        developer = rng.choice(self.developers)
        estate = rng.choice(_ESTATE_HEADS) + rng.choice(_ESTATE_TAILS)
        address = f"广州市{GUANGZHOU_DISTRICTS[district]}{rng.choice(_ROADS[district])}{rng.randint(1, 999)}号"
        self.projects += 1
        project = Project(
            ref=f"J{self.projects:07d}", name=estate, county_code=county, district=GUANGZHOU_DISTRICTS[district],
            developer_ref=developer, presale=presale, parcel=parcel, address=address,
        )
        self.b_projects.append(project)
        walk_up = not presale and completed.year < 2005 and rng.random() < 0.6  # 楼梯楼: small, no lift
        for number in range(1, (rng.randint(1, 2) if walk_up else rng.randint(1, 4)) + 1):
            if room_left == 0:
                return
            floors = rng.randint(5, 9) if walk_up else rng.randint(11, 33)
            per_floor = rng.randint(2, 4)
            building = Building(ref=f"{project.ref}-{number}", project_ref=project.ref, number=number, floors=floors)
            self.b_buildings.append(building)
            seq = 0
            for floor in range(1, floors + 1):
                for room in range(1, per_floor + 1):
                    if room_left == 0:
                        return
                    room_left -= 1
                    seq += 1
                    unit = Unit(
                        unit_number=f"{parcel}{number:04d}{seq:04d}", building_ref=building.ref, county_code=county,
                        district=project.district, location=f"{address}{estate}{number}栋{floor}{room:02d}房",
                        use="住宅", floor=floor, building_area_dm2=rng.randint(4_500, 16_000), predicted=presale,
                    )
                    self.b_units.append(unit)
                    if presale:
                        self._presale_unit(unit, project, district, completed)
                    else:
                        self._surveyed_unit(unit, district, completed)
                    yield None

    def _surveyed_unit(self, unit: Unit, district: str, completed: date) -> None:
        rng = self.rng
        owned_on = self._day(max(completed, _UNIFIED_REGISTRATION), AS_OF - timedelta(days=90))
        if rng.random() < 0.01:
            org_code = rng.random() < 0.3
            name = (f"广州市{self._company_word()}服务中心" if org_code
                    else f"广州{self._company_word()}投资有限公司")
            company = self._company(name, CompanyKind.OTHER, district, org_code=org_code)
            tenure = Tenure.SOLE
            holders: tuple[Holding, ...] = (Holding(party_ref=company.ref, share_numerator=1, share_denominator=1),)
        else:
            draw = rng.random()
            tenure = Tenure.SOLE if draw < 0.55 else Tenure.JOINT if draw < 0.9 else Tenure.SHARES
            holders = self._holders(tenure)
        self.b_ownerships.append(Ownership(
            unit_number=unit.unit_number, title_number=self._certificate("权", owned_on.year), tenure=tenure,
            holders=holders, registered_on=owned_on,
        ))
        seized = rng.random() < 0.006
        # a seizure blocks new mortgages (V13), so every mortgage here predates the seizure
        seized_on = self._day(max(owned_on + timedelta(days=1), AS_OF - timedelta(days=900)),
                              AS_OF - timedelta(days=30))
        last_day = seized_on - timedelta(days=1) if seized else AS_OF - timedelta(days=1)
        draw = rng.random()
        count = 0 if draw < 0.6 else 1 if draw < 0.9 else 2 if draw < 0.98 else 3
        days = sorted(self._day(owned_on, last_day) for _ in range(count))
        mortgagors = tuple(h.party_ref for h in holders)
        for rank, day in enumerate(days, start=1):
            self._mortgage(unit, rank, day, mortgagors)
        if seized:
            self._seizures(unit, district, SeizureKind.SEIZURE, seized_on)

    def _mortgage(self, unit: Unit, rank: int, day: date, mortgagors: tuple[str, ...]) -> None:
        rng = self.rng
        maximum = rng.random() < 0.2
        amount = rng.randint(20, 600) * FEN_PER_WAN_YUAN
        end = _add_years(day, rng.randint(1, 5) if maximum else rng.randint(5, 30))
        restricted = rng.random() < 0.12
        self.b_mortgages.append(Mortgage(
            unit_number=unit.unit_number, rank=rank, certificate_number=self._certificate("证明", day.year),
            mortgagee_ref=rng.choice(self.banks), mortgagor_refs=mortgagors,
            method=MortgageMethod.MAXIMUM if maximum else MortgageMethod.ORDINARY,
            secured_principal_fen=None if maximum else amount, max_claim_fen=amount if maximum else None,
            determination_start=day if maximum else None, determination_end=end if maximum else None,
            term_start=day, term_end=end, scope=MORTGAGE_SCOPE, transfer_restricted=restricted,
            restriction_terms=RESTRICTION_TERMS if restricted else None, registered_on=day,
        ))

    def _presale_unit(self, unit: Unit, project: Project, district: str, launched: date) -> None:
        rng = self.rng
        if rng.random() >= 0.7:
            return
        draw = rng.random()
        tenure = Tenure.SOLE if draw < 0.5 else Tenure.JOINT if draw < 0.95 else Tenure.SHARES
        holders = self._holders(tenure)
        day = self._day(launched, AS_OF - timedelta(days=1))
        price = unit.building_area_dm2 * _PRICE_PER_M2[district] // 100 * 100
        notice = PurchaseNotice(
            unit_number=unit.unit_number, certificate_number=self._certificate("证明", day.year), tenure=tenure,
            holders=holders, developer_ref=project.developer_ref, price_fen=price, registered_on=day,
        )
        self.b_purchase.append(notice)
        last = day
        if rng.random() < 0.6:
            start = min(day + timedelta(days=rng.randint(0, 60)), AS_OF - timedelta(days=1))
            last = start
            restricted = rng.random() < 0.1
            self.b_presale.append(PresaleMortgageNotice(
                unit_number=unit.unit_number, rank=1, certificate_number=self._certificate("证明", start.year),
                purchase_notice_certificate=notice.certificate_number, bank_ref=rng.choice(self.banks),
                obligor_refs=tuple(h.party_ref for h in holders),
                principal_fen=max(1, price * rng.randint(30, 70) // 100 // FEN_PER_WAN_YUAN) * FEN_PER_WAN_YUAN,
                term_start=start, term_end=_add_years(start, rng.randint(10, 30)), transfer_restricted=restricted,
                restriction_terms=RESTRICTION_TERMS if restricted else None, registered_on=start,
            ))
        if rng.random() < 0.004 and last < AS_OF - timedelta(days=1):
            seized_on = self._day(max(last + timedelta(days=1), AS_OF - timedelta(days=900)), AS_OF - timedelta(days=1))
            self._seizures(unit, district, SeizureKind.PRE_SEIZURE, seized_on)

    def _seizures(self, unit: Unit, district: str, kind: SeizureKind, start: date) -> None:
        rng = self.rng
        queued = 2 if rng.random() < 0.3 else 1
        for position in range(1, queued + 1):
            court, code = _COURTS[district] if position == 1 and rng.random() < 0.7 else _CITY_COURT
            begins = start if position == 1 else self._day(start, AS_OF)
            serial = self.orders.get((code, begins.year), 0) + 1
            self.orders[code, begins.year] = serial
            self.b_seizures.append(Seizure(
                unit_number=unit.unit_number, court=court, order_number=f"({begins.year}){code}执保{serial}号",
                kind=kind if position == 1 else SeizureKind.QUEUED, queue_position=position, start=begins,
                end=_add_years(start, 3),
            ))


def _gb11643(region: str, x: int) -> tuple[str, str]:
    """An 18-digit GB 11643 number from a region and a point ``x`` of (birth day × sequence) space."""
    day, seq = divmod(x, 999)
    seq += 1
    first17 = f"{region}{date.fromordinal(_BIRTH_FIRST + day):%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_character(first17), "M" if seq % 2 else "F"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year + years, day=28)
