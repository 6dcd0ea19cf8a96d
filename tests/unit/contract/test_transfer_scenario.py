"""带押过户: an ownership transfer carries the unit's mortgages along (民法典 406; domain.md §5.10)."""

from __future__ import annotations

from conftest import BANK_A_PARTY, OWNER_A, OWNER_B, TITLE_A, UNIT_A, PresaleRegister, material

from estatechain.contract.effects import JSON, Emit


def sale(extra: tuple[dict[str, JSON], ...] = ()) -> dict[str, JSON]:
    return {"business_type": "ownership.transfer", "unit_number": UNIT_A,
            "applicants": [{"party_id": OWNER_A, "capacity": "transferor"},
                           {"party_id": OWNER_B, "capacity": "transferee"}, *extra],
            "materials": [material("APPLICATION_FORM"), material("TAX_PROOF"), material("SALE_CONTRACT")],
            "details": {"cause": "SALE", "title_number": TITLE_A, "form": "sole",
                        "holders": [{"party_id": OWNER_B, "share_numerator": 1, "share_denominator": 1}]}}


def test_sale_of_a_mortgaged_unit_keeps_the_mortgage_and_notifies_the_mortgagee(pre: PresaleRegister) -> None:
    mortgage = pre.file()
    pre.register_mortgage(mortgage)
    before = dict(pre.row(f"mortgage/{mortgage}"))
    transfer = pre.case(sale(), OWNER_A)
    right = pre.row(f"ownership/{transfer}")
    assert (right["title_number"], right["status"]) == ("粤(2026)广州市不动产权第00000001号", "current")
    assert right["holders"] == [{"party_id": OWNER_B, "record_ref": None, "share_numerator": 1,
                                 "share_denominator": 1}]
    assert pre.row("ownership/own-a")["status"] == "historic"
    assert pre.row("ownership/own-a")["successor"] == f"ownership/{transfer}"
    assert pre.row("certificate/title/2020/09400110")["status"] == "SUPERSEDED"
    assert pre.row(f"mortgage/{mortgage}") == before  # rank 1, certificate 第00000001号, untouched
    assert before["rank"] == 1
    assert before["certificate_number"] == "粤(2026)广州市不动产证明第00000001号"
    event = next(e for e in pre.d.events if isinstance(e, Emit) and e.name == "ownership.transferred")
    assert event.data["mortgages_carried"] == [mortgage]
    assert event.data["notify"] == [BANK_A_PARTY]


def test_a_restricted_mortgage_needs_its_mortgagee_to_co_sign(pre: PresaleRegister) -> None:
    mortgage = pre.file(transfer_restricted=True, transfer_restriction_text="未经抵押权人同意不得转让")
    pre.register_mortgage(mortgage)
    rejection = pre.no("application.file", sale(), OWNER_A)
    assert (rejection.code, rejection.detail["field"], rejection.detail["mortgage_id"]) == (
        "TRANSFER_NEEDS_MORTGAGEE", "applicants", mortgage)
    transfer = pre.case(sale(({"party_id": BANK_A_PARTY, "capacity": "mortgagee"},)), OWNER_A)
    assert pre.row(f"ownership/{transfer}")["status"] == "current"
    assert pre.row(f"mortgage/{mortgage}")["status"] == "current"
