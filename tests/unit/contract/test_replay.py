"""The same command sequence gives byte-identical effects whatever the dict insertion order."""

from __future__ import annotations

import random  # noqa: TID251  (seeded shuffles of insertion order; seeds are fixed below)
from collections.abc import Mapping

import orjson
from conftest import BANK_A_PARTY, BANK_C_PARTY, OWNER_A, PREDICTED, PresaleRegister, h, material

from estatechain.contract.command import Accepted
from estatechain.contract.effects import JSON, Delete, Emit, Put


def shuffled(value: JSON, rng: random.Random) -> JSON:
    """``value`` with every object's keys re-inserted in a random order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


def effect_bytes(outcome: object) -> bytes:
    if not isinstance(outcome, Accepted):
        return orjson.dumps({"rejected": repr(outcome)})
    rows: list[JSON] = []
    for effect in outcome.effects:
        if isinstance(effect, Put):
            rows.append({"put": effect.key, "value": dict(effect.value)})
        elif isinstance(effect, Delete):
            rows.append({"delete": effect.key})
        elif isinstance(effect, Emit):
            rows.append({"emit": effect.name, "data": dict(effect.data)})
    return orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)


def run_sequence(seed: int | None) -> list[bytes]:
    rng = random.Random(seed)
    reg = PresaleRegister()
    recorded: list[bytes] = []
    original_run = reg.d.run

    def run(name: str, body: Mapping[str, JSON], **kwargs: str) -> object:
        if seed is not None:
            body = shuffled(dict(body), rng)  # type: ignore[assignment]
            reg.d.view.rows = {key: reg.d.view.rows[key] for key in rng.sample(list(reg.d.view.rows),
                                                                                 len(reg.d.view.rows))}
        outcome = original_run(name, body, **kwargs)  # type: ignore[arg-type]
        recorded.append(effect_bytes(outcome))
        return outcome

    reg.d.run = run  # type: ignore[method-assign,assignment]
    reg.seed()
    first = reg.file()
    reg.register_mortgage(first)
    second = reg.file(contract_numbers=["ICBC-2"])
    reg.accept_review(second)
    reg.ok("application.record", {"application_id": second}, "recorder")
    reg.ok("seizure.register", {"unit_number": "440106001001GB00123F00010204", "order_no": "(2026)1", "kind": "1",
                                "start_date": "2026-01-04", "end_date": "2027-01-03"}, "court")
    cancel = reg.file({"business_type": "mortgage.cancel",
                       "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"},
                                      {"party_id": OWNER_A, "capacity": "mortgagor"}],
                       "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
                       "details": {"certificate_number": "粤(2026)广州市不动产证明第00000001号", "reason": "REPAID"}})
    reg.accept_review(cancel)
    reg.ok("application.record", {"application_id": cancel}, "recorder")
    reg.ok("application.issue", {"application_id": second, "document_sha256": h("doc2")}, "issuer")
    reg.notices()  # pre-sale contract, purchase notice, 预抵押
    reg.case({"business_type": "mortgage_notice.transfer", "unit_number": PREDICTED,
              "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"},
                             {"party_id": BANK_C_PARTY, "capacity": "transferee"}],
              "materials": [material("APPLICATION_FORM"), material("ASSIGNMENT_AGREEMENT"), material("DEBTOR_NOTICE")],
              "details": {"certificate_number": "粤(2026)广州市不动产证明第00000004号", "cause": "ASSIGNMENT"}},
             "bank_c")
    reg.first_registration()
    reg.ok("inquiry.request", {"unit_number": PREDICTED, "basis": "intent", "purpose": "PRE_LOAN"}, "bank_a")
    return recorded


def test_replay_with_shuffled_insertion_order_gives_identical_effects() -> None:
    baseline = run_sequence(None)
    assert len(baseline) > 20
    for seed in (1, 2, 3):
        assert run_sequence(seed) == baseline
