"""Random sequences of every command by every role over a small register, with the invariants of issue 5.

A hypothesis ``RuleBasedStateMachine`` drives the real contract through the pure driver
(``testing.contract_view``): filings of every business type with right and wrong parties, every
lifecycle step by right and wrong roles, seizures, pre-sale contracts, the building's first
registration, inquiries, stale ids, and time passing. A ``drive`` rule takes an open application one
correct step further so that deep states (converted notices, promoted ranks) are reached. After every
step the register must satisfy:

* current mortgages on a unit have ranks 1..n without gaps, in priority-key order, and the unit's
  index rows name exactly its current entries;
* no new mortgage or notice is recorded on a unit while a seizure is in effect there (a conversion
  only when the seizure came after the notice, domain.md §5.10; a successor entry of a change,
  transfer or correction is not a new right);
* every historic row has its successor or its cancellation, and the successor exists;
* certificate numbers never repeat: a certificate key never changes the right it proves, no two
  entries carry the same number, and the sequences never fall behind a used serial;
* a rejected command changes nothing; and no command raises (an exception halts the node);
* a terminated pre-sale contract carries no current purchase notice and is out of its unit's index.

Random walks alone rarely carry a mortgage cancellation or a 预抵押 conversion to RECORDED (a
conversion needs a purchase notice, a 预抵押, the building's first registration and the buyer's
ownership first), so ``cancel_case`` and ``conversion_case`` take those paths step by step with the
right parties; ``REACHED`` counts the business types recorded over the whole run and the test fails
if either was never recorded.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from conftest import (
    ACTORS,
    BANK_A,
    BANK_A_PARTY,
    BANK_A_RENAMED,
    BANK_B_PARTY,
    BANK_C_PARTY,
    BUYER,
    BUYER_2,
    CO_1,
    CO_2,
    CO_3,
    DEVELOPER_PARTY,
    IDA,
    NOTICE_MATERIALS,
    OWNER_A,
    OWNER_B,
    PREDICTED,
    PREDICTED_2,
    SPOUSE,
    SURVEYED,
    SURVEYED_2,
    TITLE_A,
    UNIT_A,
    UNIT_B,
    UNIT_JOINT,
    UNIT_LAND,
    UNIT_SHARES,
    UNIT_SHOP,
    PresaleRegister,
    first_details,
    h,
    material,
    notice_details,
    unit,
)
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from estatechain.contract import keys
from estatechain.contract.command import Accepted, Outcome
from estatechain.contract.effects import JSON, Put
from estatechain.contract.seizure_queue import in_effect

PEOPLE = (OWNER_A, OWNER_B, SPOUSE, CO_1, CO_2, CO_3, BUYER, BUYER_2)
STRANGER = "stranger"
"""A person key no identity officer ever bound."""
ALL_ACTORS: tuple[str, ...] = (*ACTORS, *PEOPLE, STRANGER)
SURVEYED_UNITS = (UNIT_A, UNIT_B, UNIT_JOINT, UNIT_SHARES, UNIT_SHOP, UNIT_LAND, SURVEYED, SURVEYED_2)
PREDICTED_UNITS = (PREDICTED, PREDICTED_2)
UNITS = (*SURVEYED_UNITS, *PREDICTED_UNITS)
BANKS = (BANK_A_PARTY, BANK_B_PARTY, BANK_C_PARTY)
BANK_OPERATOR = {BANK_A_PARTY: "bank_a", BANK_B_PARTY: "bank_b", BANK_C_PARTY: "bank_c", BANK_A_RENAMED: "bank_a"}
APPROVER = {BANK_A_PARTY: "bank_a_approver", BANK_B_PARTY: "bank_b_approver", BANK_C_PARTY: "bank_c_approver",
            BANK_A_RENAMED: "bank_a_approver", DEVELOPER_PARTY: "developer"}
STAFF_STEPS = ("accept", "not_accept", "hold", "resume", "review", "refuse", "record", "issue")
RIGHT_STAFF = {"accept": "intake", "not_accept": "intake", "hold": "intake", "resume": "intake",
               "review": "reviewer", "refuse": "reviewer", "record": "recorder", "issue": "issuer"}
OPEN = frozenset({"FILED", "CONFIRMED", "ACCEPTED", "APPROVED", "ON_HOLD", "RECORDED"})

actors = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(ALL_ACTORS))
"""None (three times in four): the party who may act; else anyone (wrong roles, wrong parties, unbound keys)."""
picks = st.integers(min_value=0, max_value=1_000)
REACHED: Counter[str] = Counter()
"""Business types recorded (登簿) over the whole run, all examples together."""


def cap(parties: Sequence[str], capacity: str) -> list[Any]:
    """Applicant entries of ``parties`` in one capacity."""
    return [{"party_id": party, "capacity": capacity} for party in parties]


def pick(items: Sequence[Any], index: int) -> Any:
    """``items[index]`` modulo their number, or None when there are none."""
    return items[index % len(items)] if items else None


class RegisterMachine(RuleBasedStateMachine):
    """The contract over a small register; every rule runs one command and the invariants check the result."""

    def __init__(self) -> None:
        super().__init__()
        self.reg = PresaleRegister()
        self.reg.seed()
        self.reg.ok("identity.bind_party", {"org": BANK_A, "party_id": BANK_A_RENAMED}, "officer")
        self.certificates: dict[str, JSON] = {}
        self.last: Outcome | None = None
        self.deep_paths: set[str] = set()
        """Deep paths already taken in this example: each runs once, to keep the run time of the whole test."""

    # ------------------------------------------------------------------ helpers

    @property
    def rows(self) -> dict[str, Any]:
        """Every row, loosely typed: the invariants read stored JSON."""
        return self.reg.d.view.rows

    def values(self, prefix: str) -> list[Any]:
        return [row for key, row in sorted(self.rows.items()) if key.startswith(prefix)]

    def actor(self, name: str) -> tuple[str, str, str]:
        if name == STRANGER:
            return "person", h("cert:stranger"), IDA
        return self.reg.actor(APPROVER.get(name, name))

    def run(self, name: str, body: Mapping[str, Any], actor: str | None, right: str) -> Outcome:
        """Run one command; a rejected one must leave every row as it was."""
        before = copy.deepcopy(self.rows)
        role, signer, org = self.actor(right if actor is None else actor)
        outcome = self.reg.d.run(name, body, role=role, signer=signer, org=org)
        if isinstance(outcome, Accepted):
            self.check_new_entries(before, outcome)
            if name == "application.record":
                business = str(self.rows[keys.application(str(body["application_id"]))]["business_type"])
                REACHED[business] += 1
                event(f"recorded {business}")
        else:
            assert self.rows == before, (name, outcome)
        self.last = outcome
        return outcome

    def check_new_entries(self, before: dict[str, Any], outcome: Accepted) -> None:
        """No new mortgage or notice on a unit while a seizure is in effect there (V13, §5.10)."""
        view = type(self.reg.d.view)(before)
        now = self.reg.d.time_ms
        for effect in outcome.effects:
            if not isinstance(effect, Put) or effect.key in before:
                continue
            row = effect.value
            if effect.key.startswith("mortgage/") and str(row.get("priority_key")).startswith("P"):
                seizure = in_effect(view, str(row["unit_number"]), now)
                derived = row.get("derived_from")
                if derived is not None and seizure is not None:
                    notice = before[keys.notice(str(derived))]
                    assert seizure.delivered_ms >= notice["registered_ms"], (effect.key, seizure)
                else:
                    assert seizure is None, (effect.key, seizure)
            if effect.key.startswith("notice/") and row.get("previous") is None:
                assert in_effect(view, str(row["unit_number"]), now) is None, effect.key

    def owners(self, unit_number: str) -> list[str]:
        for key, row in sorted(self.rows.items()):
            if key.startswith(keys.unit_index(unit_number, "ownership")):
                right = self.rows[keys.ownership(str(row["right_id"]))]
                return [str(holder["party_id"]) for holder in right["holders"]]
        return []

    def title(self, unit_number: str) -> str:
        for key, row in sorted(self.rows.items()):
            if key.startswith(keys.unit_index(unit_number, "ownership")):
                return str(self.rows[keys.ownership(str(row["right_id"]))]["title_number"])
        return TITLE_A

    def notices(self, kind: int, *, current: bool = False) -> list[Any]:
        return [row for row in self.values("notice/") if row["kind"] == kind
                and (not current or row["status"] == "current")]

    def parties(self, row: Any, name: str) -> list[str]:
        return [str(p["party_id"]) for p in row[name]]

    def file(self, body: dict[str, Any], actor: str | None, right: str) -> None:
        self.run("application.file", body, actor, right)

    # ------------------------------------------------------------------ filings

    @rule(target_unit=st.sampled_from(UNITS), bank=st.sampled_from(BANKS), maximum=st.booleans(),
          contract=st.integers(0, 2), stranger_mortgagor=st.booleans(), actor=actors)
    def file_mortgage(self, *, target_unit: str, bank: str, maximum: bool, contract: int,  # noqa: PLR0913
                      stranger_mortgagor: bool, actor: str | None) -> None:
        mortgagors = self.owners(target_unit) or [OWNER_A]
        if stranger_mortgagor:
            mortgagors = [BUYER_2]
        changes: dict[str, JSON] = {"contract_numbers": [f"C-{bank[:6]}-{contract}"],
                                    "title_number": self.title(target_unit)}
        materials = [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY")]
        if maximum:
            changes |= {"method": 2, "secured_principal_fen": None, "max_claim_fen": 90_000_000}
            materials.append(material("MAX_MORTGAGE_CONTRACT"))
        else:
            materials.append(material("LOAN_CONTRACT"))
        self.file({"business_type": "mortgage.first", "unit_number": target_unit,
                   "applicants": [*cap(mortgagors, "mortgagor"),
                                  {"party_id": bank, "capacity": "mortgagee"}],
                   "materials": materials, "details": first_details(**changes)}, actor, BANK_OPERATOR[bank])

    @rule(index=picks, reason=st.sampled_from(["REPAID", "WAIVED", "JUDGMENT", "OTHER"]), joint=st.booleans(),
          actor=actors)
    def file_mortgage_cancel(self, index: int, reason: str, joint: bool, actor: str | None) -> None:
        row = pick(self.values("mortgage/"), index)
        if row is None:
            return
        applicants: list[JSON] = [{"party_id": p, "capacity": "mortgagee"} for p in self.parties(row, "mortgagees")]
        if joint or reason == "JUDGMENT":
            applicants += [{"party_id": p, "capacity": "mortgagor"} for p in self.parties(row, "mortgagors")]
        proof = {"REPAID": "PAYOFF_PROOF", "WAIVED": "WAIVER_STATEMENT", "JUDGMENT": "JUDGMENT", "OTHER": "OTHER_PROOF"}
        self.file({"business_type": "mortgage.cancel", "unit_number": str(row["unit_number"]),
                   "applicants": applicants, "materials": [material("APPLICATION_FORM"), material(proof[reason])],
                   "details": {"certificate_number": row["certificate_number"], "reason": reason}},
                  actor, BANK_OPERATOR.get(self.parties(row, "mortgagees")[0], "bank_a"))

    @rule(target_unit=st.sampled_from(PREDICTED_UNITS), two_buyers=st.booleans(), actor=actors)
    def presale_contract(self, target_unit: str, two_buyers: bool, actor: str | None) -> None:
        buyers: list[JSON] = [BUYER, BUYER_2] if two_buyers else [BUYER]
        self.run("presale.contract", {
            "unit_number": target_unit, "developer": DEVELOPER_PARTY, "buyers": buyers, "price_fen": 250_000_000,
            "contract_no": f"YX-{target_unit[-4:]}", "filing_no": f"GZYS-{target_unit[-4:]}",
            "document_sha256": h(f"presale:{target_unit}")}, actor, "developer")

    @rule(index=picks, buyer=st.sampled_from([BUYER, BUYER_2]), actor=actors)
    def presale_sign(self, index: int, buyer: str, actor: str | None) -> None:
        row = pick(self.values("presale/"), index)
        if row is not None:
            self.run("presale.sign", {"contract_id": row["contract_id"], "document_sha256": row["document_sha256"]},
                     actor, buyer)

    @rule(index=picks, buyer_files=st.booleans(), actor=actors)
    def file_purchase_notice(self, index: int, buyer_files: bool, actor: str | None) -> None:
        row = pick(self.values("presale/"), index)
        if row is None:
            return
        buyers = self.parties(row, "buyers")
        self.file({"business_type": "purchase_notice.first", "unit_number": str(row["unit_number"]),
                   "applicants": [*cap(buyers, "buyer"),
                                  {"party_id": DEVELOPER_PARTY, "capacity": "developer"}],
                   "materials": [material("APPLICATION_FORM"), material("NOTICE_AGREEMENT")],
                   "details": {"presale_contract": str(row["contract_id"])}}, actor,
                  buyers[0] if buyer_files else "developer")

    @rule(index=picks, bank=st.sampled_from(BANKS), maximum=st.booleans(), consent=st.booleans(), actor=actors)
    def file_mortgage_notice(self, index: int, bank: str, maximum: bool, consent: bool,
                             actor: str | None) -> None:
        row = pick(self.notices(1), index)
        if row is None:
            return
        target_unit = str(row["unit_number"])
        extra: list[JSON] = []
        if consent:
            others = {p for n in self.notices(3, current=True) if n["unit_number"] == target_unit
                      for p in self.parties(n, "holders")} - {bank}
            extra = [{"party_id": p, "capacity": "consenter"} for p in sorted(others)]
        changes: dict[str, JSON] = {"contract_numbers": [f"YG-{bank[:6]}"]}
        materials = list(NOTICE_MATERIALS)
        if maximum:
            changes |= {"method": 2, "secured_principal_fen": None, "max_claim_fen": 150_000_000}
            materials.append(material("MAX_MORTGAGE_CONTRACT"))
        self.file({"business_type": "mortgage_notice.first", "unit_number": target_unit,
                   "applicants": [*cap(self.parties(row, "holders"), "mortgagor"),
                                  {"party_id": bank, "capacity": "mortgagee"}, *extra],
                   "materials": materials,
                   "details": notice_details(str(row["certificate_number"]), **changes)}, actor, BANK_OPERATOR[bank])

    def notice_applicants(self, row: Any, *, consenters: bool) -> list[JSON]:
        applicants: list[JSON] = [
            *cap(self.parties(row, "obligors"), "mortgagor"),
            *cap(self.parties(row, "holders"), "mortgagee")]
        if consenters:
            named = set(self.parties(row, "obligors")) | set(self.parties(row, "holders"))
            others = {p for n in self.notices(3, current=True) if n["unit_number"] == row["unit_number"]
                      for p in self.parties(n, "holders")} - named
            applicants += [{"party_id": p, "capacity": "consenter"} for p in sorted(others)]
        return applicants

    @rule(index=picks, other=picks, kind=st.sampled_from(["terms", "party", "rank"]),
          fen=st.sampled_from([60_000_000, 200_000_000]), consent=st.booleans(), actor=actors)
    def file_notice_change(self, *, index: int, other: int, kind: str, fen: int,  # noqa: PLR0913
                           consent: bool, actor: str | None) -> None:
        row = pick(self.notices(3), index)
        if row is None:
            return
        holder = self.parties(row, "holders")[0]
        details: dict[str, JSON] = {"certificate_number": row["certificate_number"], "change_kind": kind}
        applicants = self.notice_applicants(row, consenters=consent)
        proof = "SUPPLEMENTARY_AGREEMENT"
        if kind == "terms":
            amount = "secured_principal_fen" if row["method"] == 1 else "max_claim_fen"
            details["changes"] = {amount: fen}
        elif kind == "party":
            new = BANK_A_RENAMED if holder != BANK_A_RENAMED else BANK_A_PARTY
            details["party"] = {"old": holder, "new": new}
            applicants, proof = [{"party_id": new, "capacity": "mortgagee"}], "NAME_CHANGE_PROOF"
        else:
            ahead = pick(self.notices(3), other)
            details["rank_before"] = None if ahead is None else ahead["certificate_number"]
        self.file({"business_type": "mortgage_notice.change", "unit_number": str(row["unit_number"]),
                   "applicants": applicants, "materials": [material("APPLICATION_FORM"), material(proof)],
                   "details": details}, actor, BANK_OPERATOR[holder])

    @rule(index=picks, to=st.sampled_from(BANKS), partial=st.booleans(), actor=actors)
    def file_notice_transfer(self, index: int, to: str, partial: bool, actor: str | None) -> None:
        row = pick(self.notices(3), index)
        if row is None:
            return
        self.file({"business_type": "mortgage_notice.transfer", "unit_number": str(row["unit_number"]),
                   "applicants": [*cap(self.parties(row, "holders"), "mortgagee"),
                                  {"party_id": to, "capacity": "transferee"}],
                   "materials": [material("APPLICATION_FORM"), material("ASSIGNMENT_AGREEMENT"),
                                 material("DEBTOR_NOTICE")],
                   "details": {"certificate_number": row["certificate_number"], "cause": "ASSIGNMENT",
                               "partial": partial}}, actor, BANK_OPERATOR[to])

    @rule(index=picks, actor=actors)
    def file_notice_correct(self, index: int, actor: str | None) -> None:
        row = pick(self.notices(3), index)
        if row is None:
            return
        holder = self.parties(row, "holders")[0]
        self.file({"business_type": "mortgage_notice.correct", "unit_number": str(row["unit_number"]),
                   "applicants": [{"party_id": p, "capacity": "mortgagee"} for p in self.parties(row, "holders")],
                   "materials": [material("APPLICATION_FORM"), material("ERROR_PROOF")],
                   "details": {"certificate_number": row["certificate_number"],
                               "error_evidence_sha256": h("material:LOAN_CONTRACT:"),
                               "corrections": [{"field": "contract_numbers", "old": row["contract_numbers"],
                                                "new": [f"FIX-{index}"]}]}}, actor, BANK_OPERATOR[holder])

    @rule(index=picks, kind=st.sampled_from([1, 3]), actor=actors)
    def file_notice_cancel(self, index: int, kind: int, actor: str | None) -> None:
        row = pick(self.notices(kind), index)
        if row is None:
            return
        holder = self.parties(row, "holders")[0]
        self.file({"business_type": "mortgage_notice.cancel", "unit_number": str(row["unit_number"]),
                   "applicants": [{"party_id": p, "capacity": "mortgagee"} for p in self.parties(row, "holders")],
                   "materials": [material("APPLICATION_FORM"), material("WAIVER_STATEMENT")],
                   "details": {"certificate_number": row["certificate_number"], "reason": "WAIVED"}},
                  actor, BANK_OPERATOR.get(holder, "bank_a"))

    @rule(target_unit=st.sampled_from(PREDICTED_UNITS), bank=st.sampled_from(BANKS), two_buyers=st.booleans(),
          maximum=st.booleans())
    def presale_case(self, target_unit: str, bank: str, two_buyers: bool, maximum: bool) -> None:
        """Contract, signatures, purchase notice and a 预抵押, each step by the right party (deep states)."""
        self.presale_contract(target_unit, two_buyers, None)
        for index, row in enumerate(self.values("presale/")):
            for buyer in self.parties(row, "buyers"):
                if row["unit_number"] == target_unit and buyer not in row["signed_by"]:
                    self.presale_sign(index, buyer, None)
        for _ in range(2):
            before = len(self.applications(open_only=False))
            if not self.notices(1, current=True) or _:
                self.file_purchase_notice(len(self.values("presale/")) - 1, buyer_files=False, actor=None)
            else:
                index = self.notices(1).index(self.notices(1, current=True)[-1])
                self.file_mortgage_notice(index, bank, maximum, consent=True, actor=None)
            if len(self.applications(open_only=False)) > before:
                self.drive(len(self.applications(open_only=True)) - 1, 12)

    @precondition(lambda self: self.reg.d.height > 150 or bool(self.notices(3)))
    @rule(both=st.booleans(), actor=actors)
    def first_registration(self, both: bool, actor: str | None) -> None:
        pairs = [(PREDICTED, SURVEYED), (PREDICTED_2, SURVEYED_2)] if both else [(PREDICTED, SURVEYED)]
        self.run("building.first_registration", {
            "developer": DEVELOPER_PARTY,
            "units": [{"predicted": predicted, "surveyed": unit(surveyed)} for predicted, surveyed in pairs]},
            actor, "recorder")

    @rule(target_unit=st.sampled_from(SURVEYED_UNITS), presale=st.booleans(), actor=actors)
    def file_ownership_transfer(self, target_unit: str, presale: bool, actor: str | None) -> None:
        owners = self.owners(target_unit) or [OWNER_A]
        details: dict[str, JSON] = {"cause": "SALE", "title_number": self.title(target_unit), "form": "sole"}
        buyers = [BUYER_2 if BUYER_2 not in owners else OWNER_B]
        materials = [material("APPLICATION_FORM"), material("TAX_PROOF"), material("SALE_CONTRACT")]
        if presale:
            predecessor = str((self.rows.get(keys.unit(target_unit)) or {}).get("predecessor"))
            purchase = next((n for n in self.notices(1, current=True) if n["unit_number"] == predecessor), None)
            if purchase is not None:
                buyers = self.parties(purchase, "holders")
                details |= {"cause": "PRESALE", "purchase_notice_certificate_number": purchase["certificate_number"]}
                materials = materials[:2]
        details["form"] = "sole" if len(buyers) == 1 else "joint"
        details["holders"] = [{"party_id": b, "share_numerator": 1, "share_denominator": 1} for b in buyers]
        mortgagees = sorted({p for m in self.values("mortgage/") if m["unit_number"] == target_unit
                             and m["status"] == "current" for p in self.parties(m, "mortgagees")})
        self.file({"business_type": "ownership.transfer", "unit_number": target_unit,
                   "applicants": [*cap(owners, "transferor"),
                                  *cap(buyers, "transferee"),
                                  *cap(mortgagees, "mortgagee")],
                   "materials": materials, "details": details}, actor, "developer" if presale else owners[0])

    @rule(target_unit=st.sampled_from(SURVEYED_UNITS), bank=st.sampled_from(BANKS), actor=actors)
    def file_transfer_mortgage(self, target_unit: str, bank: str, actor: str | None) -> None:
        """带押过户 with the buyer's new loan from ``bank`` as one case (``ownership.transfer_mortgage``)."""
        owners = self.owners(target_unit) or [OWNER_A]
        buyer = BUYER_2 if BUYER_2 not in owners else OWNER_B
        carried = sorted({p for m in self.values("mortgage/") if m["unit_number"] == target_unit
                          and m["status"] == "current" for p in self.parties(m, "mortgagees")} - {bank})
        loan = {**first_details(title_number=None, contract_numbers=[f"TM-{bank[:6]}"]), "mortgagees": [bank]}
        self.file({"business_type": "ownership.transfer_mortgage", "unit_number": target_unit,
                   "applicants": [*cap(owners, "transferor"), *cap([buyer], "transferee"),
                                  *cap([bank, *carried], "mortgagee")],
                   "materials": [material(kind) for kind in ("APPLICATION_FORM", "TAX_PROOF", "SALE_CONTRACT",
                                                             "POWER_OF_ATTORNEY", "LOAN_CONTRACT")],
                   "details": {"cause": "SALE", "title_number": self.title(target_unit), "form": "sole",
                               "holders": [{"party_id": buyer, "share_numerator": 1, "share_denominator": 1}],
                               "mortgage": loan}}, actor, BANK_OPERATOR[bank])

    @rule(index=picks, actor=actors)
    def file_conversion(self, index: int, actor: str | None) -> None:
        row = pick(self.notices(3), index)
        if row is None:
            return
        surveyed = (self.rows.get(keys.unit(str(row["unit_number"]))) or {}).get("successor") or SURVEYED
        holder = self.parties(row, "holders")[0]
        self.file({"business_type": "mortgage.convert", "unit_number": str(surveyed),
                   "applicants": [*cap(self.parties(row, "obligors"), "mortgagor"),
                                  *cap(self.parties(row, "holders"), "mortgagee")],
                   "materials": [material("APPLICATION_FORM")],
                   "details": {"notice_certificate_number": row["certificate_number"],
                               "title_number": self.title(str(surveyed))}}, actor, BANK_OPERATOR[holder])

    @rule(index=picks, judgment=st.booleans(), actor=actors)
    def file_presale_termination(self, index: int, judgment: bool, actor: str | None) -> None:
        row = pick(self.values("presale/"), index)
        if row is None:
            return
        buyers = [] if judgment else self.parties(row, "buyers")
        self.file({"business_type": "presale.terminate", "unit_number": str(row["unit_number"]),
                   "applicants": [*cap(buyers, "buyer"), {"party_id": DEVELOPER_PARTY, "capacity": "developer"}],
                   "materials": [material("APPLICATION_FORM"),
                                 material("JUDGMENT" if judgment else "TERMINATION_AGREEMENT")],
                   "details": {"presale_contract": str(row["contract_id"]),
                               "cause": "JUDGMENT" if judgment else "AGREED"}}, actor, "developer")

    @rule(national_day=st.booleans(), actor=actors)
    def set_calendar(self, national_day: bool, actor: str | None) -> None:
        holidays = [f"2026-10-0{d}" for d in range(1, 8)] if national_day else ["2026-06-19"]
        self.run("calendar.set", {"year": 2026, "holidays": holidays, "workdays": ["2026-10-10"],
                                  "basis": "国务院办公厅通知"}, actor, "admin")

    # ------------------------------------------------------------------ deep paths, each step by the right party

    def drive_filed(self, steps: int) -> None:
        """Carry the application the last command filed through up to ``steps`` next correct steps."""
        if not isinstance(self.last, Accepted) or not self.last.effects:
            return
        first = self.last.effects[0]
        if not isinstance(first, Put) or not first.key.startswith("application/"):
            return
        for _ in range(steps):
            row = self.rows[first.key]
            if row["state"] not in OPEN:
                return
            self.next_step(row)

    @precondition(lambda self: "cancel" not in self.deep_paths)
    @rule(index=picks, reason=st.sampled_from(["REPAID", "WAIVED"]))
    def cancel_case(self, index: int, reason: str) -> None:
        """A current mortgage (registered first if there is none) cancelled by its mortgagee alone."""
        self.deep_paths.add("cancel")
        if not any(m["status"] == "current" for m in self.values("mortgage/")):
            self.file_mortgage(target_unit=UNIT_A, bank=BANK_A_PARTY, maximum=False, contract=index % 3,
                               stranger_mortgagor=False, actor=None)
            self.drive_filed(12)
        mortgages = self.values("mortgage/")
        current = [i for i, m in enumerate(mortgages) if m["status"] == "current"]
        if current:
            self.file_mortgage_cancel(pick(current, index), reason, joint=False, actor=None)
            self.drive_filed(12)

    @precondition(lambda self: "conversion" not in self.deep_paths)
    @rule(bank=st.sampled_from(BANKS))
    def conversion_case(self, bank: str) -> None:
        """预告转本 end to end: a 预抵押, the building's first registration, the buyer's ownership, the conversion."""
        self.deep_paths.add("conversion")
        if not self.notices(3, current=True):
            self.presale_case(PREDICTED, bank, two_buyers=False, maximum=False)
        yudiya = next(iter(self.notices(3, current=True)), None)
        if yudiya is None:
            return
        predicted = str(yudiya["unit_number"])
        for both in (True, False):
            if (self.rows.get(keys.unit(predicted)) or {}).get("successor") is None:
                self.first_registration(both=both, actor=None)
        surveyed = (self.rows.get(keys.unit(predicted)) or {}).get("successor")
        if surveyed is None:
            return
        if not set(self.parties(yudiya, "obligors")) <= set(self.owners(str(surveyed))):
            self.file_ownership_transfer(str(surveyed), presale=True, actor=None)
            self.drive_filed(12)
        ids = [n["notice_id"] for n in self.notices(3)]
        self.file_conversion(ids.index(yudiya["notice_id"]), actor=None)
        self.drive_filed(12)

    # ------------------------------------------------------------------ the lifecycle

    def applications(self, *, open_only: bool) -> list[Any]:
        return [row for row in self.values("application/") if not open_only or row["state"] in OPEN]

    @rule(index=picks, who=picks, decline=st.booleans(), withdraw=st.booleans(), wrong_hash=st.booleans(),
          actor=actors)
    def applicant_step(self, *, index: int, who: int, decline: bool, withdraw: bool,  # noqa: PLR0913
                       wrong_hash: bool, actor: str | None) -> None:
        row = pick(self.applications(open_only=False), index)
        if row is None:
            return
        party = str(pick(row["applicants"], who)["party_id"])
        step = "withdraw" if withdraw else "decline" if decline else "confirm"
        body: dict[str, JSON] = {"application_id": row["application_id"], "party_id": party}
        if step != "withdraw":
            body["application_hash"] = h("other") if wrong_hash else row["application_id"]
        self.run(f"application.{step}", body, actor, APPROVER.get(party, party))

    @rule(index=picks, step=st.sampled_from(STAFF_STEPS), actor=actors)
    def staff_step(self, index: int, step: str, actor: str | None) -> None:
        row = pick(self.applications(open_only=False), index)
        self.staff(h("no such application") if row is None else str(row["application_id"]), step, actor)

    def staff(self, application_id: str, step: str, actor: str | None) -> None:
        body: dict[str, JSON] = {"application_id": application_id, "missing": [{"item": "ID", "text": "缺身份证明"}],
                                 "reason": "实地查看", "reason_code": "LEGAL_BAR", "reason_text": "不符合登记条件",
                                 "document_sha256": h(f"doc:{application_id}")}
        self.run(f"application.{step}", body, actor, RIGHT_STAFF[step])

    @rule(index=picks, steps=st.integers(1, 8))
    def drive(self, index: int, steps: int) -> None:
        """Up to ``steps`` next correct steps of one open application, by the parties who take them."""
        row = pick(self.applications(open_only=True), index)
        for _ in range(steps):
            if row is None or row["state"] not in OPEN:
                return
            self.next_step(row)
            self.register_is_consistent()
            row = self.rows[keys.application(str(row["application_id"]))]

    def next_step(self, row: Any) -> None:
        app, state = str(row["application_id"]), row["state"]
        confirmed = {str(c["party_id"]) for c in row["confirmations"]}
        if state == "FILED":
            party = next(str(a["party_id"]) for a in row["applicants"]
                         if a["party_id"] not in confirmed)
            self.run("application.confirm", {"application_id": app, "application_hash": app, "party_id": party},
                     None, APPROVER.get(party, party))
            return
        step = {"CONFIRMED": "accept", "ACCEPTED": "review", "APPROVED": "record", "ON_HOLD": "resume",
                "RECORDED": "issue"}[str(state)]
        self.staff(app, step, None)

    # ------------------------------------------------------------------ seizures, inquiries, time

    @rule(target_unit=st.sampled_from(UNITS), days=st.sampled_from([10, 60, 400]), pre=st.booleans(), actor=actors)
    def seize(self, target_unit: str, days: int, pre: bool, actor: str | None) -> None:
        start = self.reg.d.time_ms // 86_400_000
        self.run("seizure.register", {"unit_number": target_unit, "order_no": f"(2026)粤0106执{start}号",
                                      "kind": "3" if pre else "1", "start_date": iso(start),
                                      "end_date": iso(start + days)}, actor, "court")

    @rule(index=picks, renew=st.booleans(), actor=actors)
    def end_or_renew_seizure(self, index: int, renew: bool, actor: str | None) -> None:
        row = pick(self.values("seizure/"), index)
        if row is None:
            return
        if renew:
            end = iso(self.reg.d.time_ms // 86_400_000 + 500)
            self.run("seizure.renew", {"seizure_id": row["seizure_id"], "end_date": end}, actor, "court")
        else:
            self.run("seizure.release", {"seizure_id": row["seizure_id"], "order_no": "解封"}, actor, "court")

    @rule(index=picks, actor=actors)
    def mark_lapsed(self, index: int, actor: str | None) -> None:
        row = pick(self.values("notice/"), index)
        if row is not None:
            self.run("notice.mark_lapsed", {"certificate_number": row["certificate_number"]}, actor, "recorder")

    @rule(target_unit=st.sampled_from(UNITS), basis=st.sampled_from(["own_right", "intent", "consent", "case"]),
          actor=actors)
    def inquire(self, target_unit: str, basis: str, actor: str | None) -> None:
        consents = [str(c["consent_id"]) for c in self.values("consent/")]
        self.run("inquiry.request", {"unit_number": target_unit, "basis": basis, "purpose": "PRE_LOAN",
                                     "consent_ids": consents[:3], "requester_party": BANK_A_PARTY,
                                     "case_no": "(2026)粤0106民初1号"}, actor, "bank_a")

    @rule(target_unit=st.sampled_from(SURVEYED_UNITS), actor=actors)
    def consent(self, target_unit: str, actor: str | None) -> None:
        owners = self.owners(target_unit) or [OWNER_A]
        self.run("inquiry.consent", {"unit_number": target_unit, "bank_party": BANK_A_PARTY, "purpose": "PRE_LOAN",
                                     "expires_on": iso(self.reg.d.time_ms // 86_400_000 + 30)}, actor, owners[0])

    @rule(days=st.sampled_from([1, 8, 30, 95]))
    def time_passes(self, days: int) -> None:
        self.reg.d.advance_days(days)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def register_is_consistent(self) -> None:
        self.ranks_have_no_gaps()
        self.history_is_linked()
        self.certificate_numbers_never_repeat()

    def ranks_have_no_gaps(self) -> None:
        for number in UNITS:
            indexed = [(key, row) for key, row in sorted(self.rows.items())
                       if key.startswith(keys.unit_index(number, "mortgage"))]
            entries = [self.rows[keys.mortgage(str(row["mortgage_id"]))] for _, row in indexed]
            assert [e["rank"] for e in entries] == list(range(1, len(entries) + 1)), (number, entries)
            assert all(e["status"] == "current" and e["unit_number"] == number for e in entries)
            assert [e["priority_key"] for e in entries] == sorted(str(e["priority_key"]) for e in entries)
        current = {str(m["mortgage_id"]) for m in self.values("mortgage/") if m["status"] == "current"}
        indexed_ids = {str(row["mortgage_id"]) for key, row in self.rows.items() if "/mortgage/" in key}
        assert current == indexed_ids
        current_notices = {str(n["notice_id"]) for n in self.values("notice/") if n["status"] == "current"}
        indexed_notices = {str(row["notice_id"]) for key, row in self.rows.items() if "/notice/" in key}
        assert current_notices == indexed_notices

    def history_is_linked(self) -> None:
        for row in self.values("mortgage/"):
            if row["status"] == "historic":
                assert row["cancellation"] is not None, row
        for row in self.values("notice/"):
            if row["status"] == "historic":
                assert row["successor"] is not None or row["cancellation"] is not None, row
                if row["successor"] is not None:
                    assert str(row["successor"]) in self.rows, row
                if row["converted_to"] is not None:
                    assert str(row["converted_to"]) in self.rows, row
        for row in self.values("ownership/"):
            if row["status"] == "historic":
                assert row["successor"] is not None, row
                assert str(row["successor"]) in self.rows, row

    @invariant()
    def terminated_contracts_carry_nothing(self) -> None:
        terminated = [row for key, row in self.rows.items()
                      if key.startswith("presale/") and row["state"] == "TERMINATED"]
        for contract in terminated:
            contract_id = str(contract["contract_id"])
            assert keys.unit_presale(str(contract["unit_number"]), contract_id) not in self.rows, contract_id
            assert not [n for n in self.notices(1, current=True) if n["presale_contract"] == contract_id], contract_id

    def certificate_numbers_never_repeat(self) -> None:
        for key, row in self.rows.items():
            if key.startswith("certificate/"):
                assert self.certificates.setdefault(key, row["right"]) == row["right"], key
        numbers = [str(r["certificate_number"]) for prefix in ("mortgage/", "notice/") for r in self.values(prefix)
                   if r["certificate_number"] is not None]
        assert len(numbers) == len(set(numbers)), numbers
        titles = [str(r["title_number"]) for r in self.values("ownership/")]
        assert len(titles) == len(set(titles)), titles
        for key in self.rows:
            if key.startswith("certificate/proof/2026/"):
                assert int(key.rsplit("/", 1)[1]) <= int(self.rows["certseq/gz-registry/2026"]["last"])


def iso(day: int) -> str:
    """Days since 1970-01-01 (UTC; block times here are midnight in Guangzhou) as ``YYYY-MM-DD``."""
    from datetime import date, timedelta  # noqa: PLC0415

    return (date(1970, 1, 1) + timedelta(days=day + 1)).isoformat()


def test_register_machine() -> None:
    """The machine over 300 random walks; the deep paths were recorded at least once over the run."""
    REACHED.clear()
    run_state_machine_as_test(RegisterMachine, settings=settings(
        max_examples=300, stateful_step_count=50, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
    assert REACHED["mortgage.cancel"] > 0, REACHED
    assert REACHED["mortgage.convert"] > 0, REACHED
