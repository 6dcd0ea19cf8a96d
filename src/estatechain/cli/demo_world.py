"""What the demo needs to know before it drives a node: who acts for whom, and a flat still to be sold.

A bank's system knows its own party id, an owner knows their unit and title, a developer knows its
unsold flats. In the development consortium these facts come from the folder ``estatechain init``
wrote: the dev persons' owners (``orgs/gz-identity/dev-owners.json``) and the synthetic register,
which is deterministic in its seed, so the demo regenerates its first batch to learn the member
banks' registered identities. Party ids are computed with the identity authority's party-id key
(``orgs/gz-identity/party-id.key``): the lookup the identity authority performs for a member (design
§3.18), done here with the development key.

The pre-sale chain needs a predicted unit (预测户) that nobody has bought. The synthetic register
places its first pre-sale project after more than a thousand units, and a second demo run must not
reuse the first one's flat, so the demo has the registry enter a newly surveyed pre-sale building of
the dev developer ``poly-developer`` (one predicted flat, numbered from the run's time in a cadastral
sub-zone the synthetic register never uses) with ``register.import``, the way every unit enters the ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.errors import InputError
from estatechain.identity.documents import uscc_check_character
from estatechain.identity.parties import party_id
from estatechain.testing.register import DEV_BANK_ORGS, DEV_OWNERS, IDENTITY_ORG, PARTY_ID_KEY
from estatechain.testing.synthetic import generate

MAX_SCAN_UNITS: Final = 20_000
"""Units of the register regenerated at most while looking for the dev owners' units (a seed check)."""
_ENDLESS: Final = 10_000_000
"""Generation target: the register is read lazily, and a register of the seed is a prefix of this one."""
DEV_DEVELOPER_USCC: Final = "91440101MA59PL7K0" + uscc_check_character("91440101MA59PL7K0")
"""The unified social credit code of the dev developer org ``poly-developer`` [A: a development placeholder]."""
PRESALE_PARCEL: Final = "440106099099GB"
"""County 440106 (天河), cadastral zone 099, sub-zone 099: outside the synthetic register's zones 1–40, 1–30."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """A dev person and the registered owner it acts for."""

    handle: str
    party_id: str
    record_ref: str
    unit_number: str
    title_number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Flat:
    """A pre-sale flat (预测户) to be entered by the registry, its developer, and its surveyed number later."""

    predicted: str
    surveyed: str
    developer: str
    area_centi_m2: int
    location_code: str

    def import_body(self) -> dict[str, JSONValue]:
        """The ``register.import`` body that enters the flat as a predicted residential unit."""
        unit: dict[str, JSONValue] = {
            "unit_number": self.predicted, "kind": "predicted", "use": "residential",
            "area_centi_m2": self.area_centi_m2, "location_code": self.location_code, "predecessor": None,
            "successor": None}
        return {"units": [unit], "ownerships": [], "mortgages": [], "notices": [], "seizures": []}


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    """The facts the demo acts on."""

    owners: dict[str, Owner]
    banks: dict[str, str]
    """Member bank org → its party id."""
    flat: Flat


def load_owners(directory: Path) -> dict[str, Owner]:
    """The dev persons ``init`` bound to owners of the register.

    Raises:
        InputError: the file is missing or malformed (the folder was not made by ``estatechain init``).

    """
    path = directory / "orgs" / IDENTITY_ORG / DEV_OWNERS
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {handle: Owner(handle=handle, party_id=str(o["party_id"]), record_ref=str(o["record_ref"]),
                              unit_number=str(o["unit_number"]), title_number=str(o["title_number"]))
                for handle, o in sorted(document.items())}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"{path}: missing or not a dev-owners file; create the consortium with "
                         "`estatechain init` or `estatechain up`") from None


def _party_key(directory: Path) -> bytes:
    path = directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY
    try:
        return path.read_bytes()
    except OSError:
        raise InputError(f"{path}: missing; the demo needs the development identity authority's key") from None


def member_banks(key: bytes, seed: int, owners: dict[str, Owner]) -> dict[str, str]:
    """Member bank org → party id, from the register of ``seed`` (checked: the dev owners' units are in it).

    Raises:
        InputError: the register of ``seed`` does not hold the dev owners' units.

    """
    banks: dict[str, str] = {}
    wanted = {o.unit_number for o in owners.values()}
    seen = 0
    for batch in generate(seed, _ENDLESS):
        for company in batch.companies:
            org = DEV_BANK_ORGS.get(company.name)
            if org is not None:
                banks[org] = party_id(key, company.id_type.value, company.id_number)
        wanted -= {u.unit_number for u in batch.units}
        seen += len(batch.units)
        if not wanted or seen >= MAX_SCAN_UNITS:
            break
    if wanted or set(banks) != set(DEV_BANK_ORGS.values()):
        raise InputError(f"the dev owners' units are not in the synthetic register of seed {seed}; pass the "
                         "--seed that `estatechain init` used")
    return banks


def new_flat(key: bytes, run: int) -> Flat:
    """A predicted flat numbered from ``run`` (seconds since 1970), developed by the dev developer org."""
    serial, room = divmod(run % 10**9, 10_000)
    predicted = f"{PRESALE_PARCEL}{serial % 100_000:05d}F0001{room:04d}"
    return Flat(predicted=predicted, surveyed=f"{PRESALE_PARCEL}{serial % 100_000:05d}F0002{room:04d}",
                developer=party_id(key, "uscc", DEV_DEVELOPER_USCC), area_centi_m2=8912,
                location_code=f"DEMO{serial % 100_000:05d}-1-F{1 + room % 30:02d}")


def discover(directory: Path, seed: int, run: int) -> World:
    """Owners, member banks' party ids and this run's pre-sale flat.

    Raises:
        InputError: the folder lacks the dev files, or its register was not made with ``seed``.

    """
    owners = load_owners(directory)
    key = _party_key(directory)
    return World(owners=owners, banks=member_banks(key, seed, owners), flat=new_flat(key, run))
