"""Pieces of the certificate module that need no ledger: amounts, identifiers, QR content, the lookup gate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from estatechain.certificates.lookups import LookupGate
from estatechain.certificates.qr import QrContent, parse_qr
from estatechain.certificates.record import Registry, chinese_date, elicence_id, wan_yuan
from estatechain.clock import FixedClock
from estatechain.contract.checks.elicence import TITLE_TYPE_CODE, check_v27_elicence
from estatechain.errors import InputError

REGISTRY = Registry(org_id="gz-registry", name="广州市不动产登记中心", uscc="11440100MB2C92731X")
NUMBER = "粤(2026)广州市不动产证明第00000042号"


@pytest.mark.parametrize(("fen", "text"), [(120_000_000, "120万元"), (70_000_000_0, "700万元"), (1, "0.000001万元"),
                                           (123_456_789, "123.456789万元"), (1_500_000, "1.5万元")])
def test_amounts_show_in_wan_yuan_exactly(fen: int, text: str) -> None:
    assert wan_yuan(fen) == text


def test_dates_show_as_the_form_writes_them() -> None:
    assert chinese_date("2026-01-04") == "2026年01月04日"


def test_the_e_licence_identifier_passes_v27_and_one_changed_character_does_not() -> None:
    identifier = elicence_id(NUMBER, REGISTRY)
    assert identifier.startswith("1.2.156.3005.2.11100000MB03271699022.11440100MB2C92731X.202600000042.001.")
    assert check_v27_elicence(identifier) is None
    assert check_v27_elicence(identifier, TITLE_TYPE_CODE) is not None
    broken = identifier[:-3] + ("2" if identifier[-3] != "2" else "3") + identifier[-2:]
    assert check_v27_elicence(broken) is not None


def test_qr_content_round_trips_and_names_where_to_verify() -> None:
    qr = QrContent(base_url="https://registry.example/", number=NUMBER, sha256="ab" * 32)
    text = qr.text()
    assert text.startswith("https://registry.example/v1/certificates/verify?number=%E7%B2%A4")
    assert text.isascii()
    assert parse_qr(text) == QrContent(base_url="https://registry.example", number=NUMBER, sha256="ab" * 32)
    for bad in ("hello", "https://x/v1/certificates/verify?number=1", f"https://x/v1/other?number=1&sha256={'a' * 64}"):
        with pytest.raises(InputError, match="QR content"):
            parse_qr(bad)


def test_the_gate_refuses_past_the_burst_refills_with_time_and_logs_every_lookup(tmp_path: Path) -> None:
    clock = FixedClock(1_767_484_800_000)
    gate = LookupGate(clock=clock, log_path=tmp_path / "lookups.jsonl", per_minute=6, burst=3)
    assert [gate.admit("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert gate.admit("10.0.0.2")  # per client
    clock.advance(10_000)  # one token back after 10 s at 6 a minute
    assert gate.admit("10.0.0.1")
    assert not gate.admit("10.0.0.1")
    asyncio.run(gate.record(client="10.0.0.1", kind="status", number=NUMBER, outcome="VALID"))
    (line,) = (tmp_path / "lookups.jsonl").read_bytes().splitlines()
    assert orjson.loads(line) == {"at_ms": 1_767_484_810_000, "client": "10.0.0.1", "kind": "status",
                                  "number": NUMBER, "outcome": "VALID"}
