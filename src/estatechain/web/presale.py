"""What the pre-sale pages read: a developer's projects and contracts, a buyer's contracts, who may read one.

A pre-sale contract (商品房预售合同, ``contract/rules/presale.py``) names its developer and buyers by
party id. Its parties and the registry may read it and its document; anyone else gets "not found",
as for a case (``cases.may_see``): the developer's org is the member org the identity authority bound
to the developer's party, a buyer is the person whose certificate is bound to a buyer's party.

The ledger records no pre-sale permit, so it does not say which predicted units make up a
developer's project [A]. A project is shown as its parcel (宗地, the first ``PARCEL_CODE_LENGTH``
characters of its units' numbers, GB/T 37346): the parcels of the units the developer has contracts
on, and any parcel the sales office looks up, with every predicted unit there and whether it can be
pre-sold now, as the contract's checks say (first registration, housing use, seizure, a live
contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.register import check_v13_not_seized
from estatechain.contract.checks.unit import check_v2_housing
from estatechain.contract.records.presale import PresaleContract, PresaleState
from estatechain.contract.records.unit import Unit, UnitKind
from estatechain.contract.rules.presale import unit_contracts
from estatechain.contract.unit_number import PARCEL_CODE_LENGTH, UNIT_NUMBER_LENGTH
from estatechain.storage.store import LedgerStore
from estatechain.web.cases import Viewer
from estatechain.web.presaleindex import PresaleIndex

LISTED: Final = 100
"""Contracts a list shows at once; the page says how many there are in all."""
PROJECT_UNITS: Final = 500
"""Predicted units a project's table shows at most (a parcel of several towers)."""
PROJECTS: Final = 10
"""Projects (parcels) the desk lists at once, newest contract first; the lookup shows any other."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractLine:
    """A contract with the buyers whose signature it still awaits (none once signed or terminated)."""

    contract: PresaleContract
    awaiting: tuple[str, ...]

    @property
    def state(self) -> str:
        """``AWAITING_BUYERS``, ``SIGNED`` or ``TERMINATED``, as the ledger records it."""
        return self.contract.state.value


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectUnit:
    """A predicted unit of a project and whether it can be pre-sold now.

    ``status`` is ``available``, ``awaiting`` or ``signed`` (the developer's own live contract,
    ``contract_id``), ``sold_elsewhere`` (a live contract of another developer), ``seized``,
    ``not_housing`` or ``first_registered``.
    """

    unit: Unit
    status: str
    contract_id: str | None = None


def line(contract: PresaleContract) -> ContractLine:
    """The contract with its awaited buyers, in the contract's order."""
    waiting = contract.state is PresaleState.AWAITING_BUYERS
    return ContractLine(contract=contract, awaiting=tuple(b.party_id for b in contract.buyers
                                                          if waiting and b.party_id not in contract.signed_by))


def load(store: LedgerStore, contract_id: str) -> PresaleContract | None:
    """The contract ``contract_id`` as the ledger holds it now, or None."""
    if len(contract_id) != 64 or not contract_id.isalnum():
        return None
    row = store.get(keys.presale_contract(contract_id))
    return None if row is None else PresaleContract.from_json(row)


def org_of(store: LedgerStore, party: str) -> str | None:
    """The member org the identity authority bound to the organisation ``party`` (a developer's sales office)."""
    row = store.get(keys.org_of_party(party))
    return None if row is None else str(row.get("org"))


def may_read(store: LedgerStore, viewer: Viewer, contract: PresaleContract) -> bool:
    """The registry, the developer's org (its staff, not a person) and the buyers."""
    if viewer.org_type == "registry":
        return True
    if viewer.role == "person":
        return viewer.party is not None and viewer.party in contract.buyer_ids()
    return org_of(store, contract.developer.party_id) == viewer.org


def named(store: LedgerStore, index: PresaleIndex, party: str, side: str) -> list[ContractLine]:
    """Up to ``LISTED`` contracts naming ``party`` on ``side``, newest first, read back and checked on the ledger."""
    found = []
    for contract_id in index.ids(party, side, limit=LISTED):
        contract = load(store, contract_id)
        if contract is None:
            continue
        if party == contract.developer.party_id or party in contract.buyer_ids():
            found.append(line(contract))
    return found


def parcel_of(text: str) -> str | None:
    """The parcel code a sales office typed: a parcel code itself or any unit number on it (None: neither)."""
    text = text.strip().upper()
    if len(text) in {PARCEL_CODE_LENGTH, UNIT_NUMBER_LENGTH} and text.isalnum() and text.isascii():
        return text[:PARCEL_CODE_LENGTH]
    return None


def project_units(store: LedgerStore, parcel: str, developer: str, at_ms: int) -> list[ProjectUnit]:
    """The predicted units on ``parcel`` (at most ``PROJECT_UNITS``), each with whether it can be pre-sold now.

    The order of the checks is the contract's (``rules/presale.py``): first registration (V3), housing
    (V2), a seizure in effect (V13), then a live contract on the unit; another developer's contract is
    shown as such, without its parties or price.
    """
    found = []
    for _, row in store.scan(keys.unit(parcel)):
        unit = Unit.from_json(row)
        if unit.kind is not UnitKind.PREDICTED:
            continue
        found.append(_project_unit(store, unit, developer, at_ms))
        if len(found) == PROJECT_UNITS:
            break
    return found


def _project_unit(store: LedgerStore, unit: Unit, developer: str, at_ms: int) -> ProjectUnit:
    if unit.successor is not None:
        return ProjectUnit(unit=unit, status="first_registered")
    if check_v2_housing(unit) is not None:
        return ProjectUnit(unit=unit, status="not_housing")
    for contract in unit_contracts(store, unit.unit_number):
        if contract.developer.party_id != developer:
            return ProjectUnit(unit=unit, status="sold_elsewhere")
        status = "signed" if contract.state is PresaleState.SIGNED else "awaiting"
        return ProjectUnit(unit=unit, status=status, contract_id=contract.contract_id)
    if check_v13_not_seized(store, unit.unit_number, at_ms) is not None:
        return ProjectUnit(unit=unit, status="seized")
    return ProjectUnit(unit=unit, status="available")


def projects(lines: list[ContractLine]) -> list[str]:
    """The parcels of the developer's contracts, newest contract first, at most ``PROJECTS``."""
    return list(dict.fromkeys(item.contract.unit_number[:PARCEL_CODE_LENGTH] for item in lines))[:PROJECTS]
