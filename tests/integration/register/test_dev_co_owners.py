"""The dev persons ``estatechain init`` binds: four sole owners as before, and the two holders of one co-owned unit.

The co-owned unit is the same for the same seed (the register is), its two holders are the two
owners its ownership right on the ledger names, and dev-owners.json says which dev persons share it.
"""

from __future__ import annotations

import json
from pathlib import Path

from register_case import import_register

from estatechain.contract import keys
from estatechain.testing.register import assign_dev_persons, choose_dev_owners, write_dev_owners

SOLE = [f"gz-identity/person{n}" for n in range(1, 5)]
CO = ["gz-identity/person5", "gz-identity/person6"]


def test_two_dev_persons_are_the_two_holders_of_one_co_owned_unit(tmp_path: Path) -> None:
    register = import_register(tmp_path / "a", units=100)
    persons = assign_dev_persons(SOLE, CO, register.importer)

    assert [persons[h] for h in SOLE] == choose_dev_owners(register.importer.owners, len(SOLE))
    first, second = persons[CO[0]], persons[CO[1]]
    assert first.unit_number == second.unit_number
    assert first.party_id != second.party_id
    assert first.form in {"joint", "shares"}
    right = register.row(keys.ownership(f"OWN-{first.unit_number}"))
    holders = right["holders"]
    assert isinstance(holders, list)
    assert [h["party_id"] for h in holders if isinstance(h, dict)] == [first.party_id, second.party_id]
    assert first.unit_number not in {persons[h].unit_number for h in SOLE}

    again = assign_dev_persons(SOLE, CO, import_register(tmp_path / "b", units=100).importer)
    assert [(again[h].unit_number, again[h].title_number) for h in SOLE + CO] == [
        (persons[h].unit_number, persons[h].title_number) for h in SOLE + CO]

    document = json.loads(write_dev_owners(tmp_path / "a", persons).read_text(encoding="utf-8"))
    assert document[CO[0]]["co_owners"] == [CO[1]]
    assert document[CO[1]]["co_owners"] == [CO[0]]
    assert all(document[h]["co_owners"] == [] and document[h]["form"] == "sole" for h in SOLE)
