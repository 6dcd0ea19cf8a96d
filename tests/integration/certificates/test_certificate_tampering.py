"""Any change to a certificate file makes verification fail, naming the check that caught it.

The JSON file: every field (recursively, every leaf of the record, the signature, the ledger evidence)
is changed one at a time. The PDF: 500 bytes sampled across the signature's signed byte range are
flipped one at a time, in process; and a page drawn from another record (another obligor and amount,
an added line) over the genuine certificate.json, signed with the registry's own PDF key, fails at
the page, as ``estatechain certificate verify`` says.
"""

from __future__ import annotations

import copy
import os
import random  # noqa: TID251  (a seeded sample of byte offsets, not a nonce)
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from certificate_case import Case, new_case

from estatechain.canonical import JSONValue
from estatechain.certificates.document import to_bytes
from estatechain.certificates.pdf import certificate_pdf, cjk_font, render, sign
from estatechain.certificates.verify import verify_bytes

SAMPLES = 500
CHECKS = {"pdf signature", "format", "chain", "issuer", "record signature", "record hash", "issue transaction",
          "ledger inclusion", "attestation"}


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, dict[str, JSONValue], bytes]:
    case = new_case(tmp_path_factory.mktemp("tamper"))
    document = case.issue(case.mortgage())
    pdf = certificate_pdf(document, signer=case.desk.keys.docsign, ca_der=case.desk.keys.ca_der,
                          base_url="http://127.0.0.1:8700")
    return case, document, pdf


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every field path of a JSON value, containers and leaves."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key in value:
            yield from paths(value[key], (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def changed(value: Any) -> Any:
    """A different value of the same kind where possible."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"
    if isinstance(value, list):
        return [*value, "extra"]
    if isinstance(value, dict):
        return {**value, "extra": 1}
    return "was null"


def test_changing_any_field_of_the_json_fails_naming_the_check(
    issued: tuple[Case, dict[str, JSONValue], bytes],
) -> None:
    case, document, _ = issued
    assert verify_bytes(to_bytes(document), case.genesis).ok
    tried = 0
    for path in paths(document):
        tampered = copy.deepcopy(document)
        target: Any = tampered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = changed(target[path[-1]])
        report = verify_bytes(to_bytes(tampered), case.genesis)
        failure = report.failure
        assert failure is not None, f"changing {path} went unnoticed"
        assert failure.name in CHECKS, (path, failure)
        assert failure.detail, (path, failure)
        tried += 1
    assert tried > 60  # the record's leaves, the signature, every header field and proof step
    record = document["record"]
    assert isinstance(record, dict)
    for name in record:  # every record field by name, with the message a user sees
        edited: dict[str, Any] = copy.deepcopy(document)
        edited["record"][name] = changed(record[name])
        failure = verify_bytes(to_bytes(edited), case.genesis).failure
        assert failure is not None, name
        assert failure.name in {"format", "chain", "issuer", "record signature"}, name


def test_removing_a_field_or_the_ledger_evidence_fails(issued: tuple[Case, dict[str, JSONValue], bytes]) -> None:
    case, document, _ = issued
    for name in document:
        tampered = {k: v for k, v in document.items() if k != name}
        assert verify_bytes(to_bytes(tampered), case.genesis).failure is not None, name
    early = {**document, "ledger": None}
    failure = verify_bytes(to_bytes(early), case.genesis).failure
    assert failure is not None
    assert failure.name == "issue transaction"
    assert "before the issue transaction committed" in failure.detail


def test_a_file_of_another_consortium_fails_at_the_chain(
    issued: tuple[Case, dict[str, JSONValue], bytes], tmp_path: Path,
) -> None:
    _, document, pdf = issued
    other = new_case(tmp_path, units=60).genesis
    json_failure = verify_bytes(to_bytes(document), other).failure
    assert json_failure is not None
    assert json_failure.name == "chain"
    pdf_failure = verify_bytes(pdf, other).failure
    assert pdf_failure is not None
    assert pdf_failure.name == "pdf signature"


def test_flipping_any_of_500_sampled_signed_bytes_of_the_pdf_fails(
    issued: tuple[Case, dict[str, JSONValue], bytes],
) -> None:
    case, _, pdf = issued
    assert verify_bytes(pdf, case.genesis).ok
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match is not None
    start1, length1, start2, length2 = (int(g) for g in match.groups())
    assert start1 == 0
    assert start2 + length2 == len(pdf)
    signed = [*range(start1, start1 + length1), *range(start2, start2 + length2)]
    rng = random.Random(20260104)
    seen: dict[str, int] = {}
    for offset in rng.sample(signed, SAMPLES):
        data = bytearray(pdf)
        data[offset] ^= 1 << rng.randrange(8)
        failure = verify_bytes(bytes(data), case.genesis).failure
        assert failure is not None, f"flipping byte {offset} went unnoticed"
        assert failure.name == "pdf signature", (offset, failure)
        assert failure.detail, (offset, failure)
        seen[failure.detail.split(" (")[0]] = seen.get(failure.detail.split(" (")[0], 0) + 1
    assert sum(seen.values()) == SAMPLES
    assert any("changed after signing" in reason for reason in seen), seen


def test_an_appended_update_is_refused(issued: tuple[Case, dict[str, JSONValue], bytes]) -> None:
    case, _, pdf = issued
    failure = verify_bytes(pdf + b"\n% appended after signing\n", case.genesis).failure
    assert failure is not None
    assert failure.name == "pdf signature"
    assert orjson.dumps(failure.detail)


def drawn_from(case: Case, document: dict[str, JSONValue], shown: dict[str, Any]) -> bytes:
    """A PDF whose page shows ``shown`` over the genuine file attached, signed with the registry's PDF key."""
    ledger = document["ledger"]
    assert isinstance(ledger, dict)
    header = ledger["header"]
    assert isinstance(header, dict)
    assert isinstance(header["time_ms"], int)
    unsigned = render(shown, qr_content="http://127.0.0.1:8700/", attachment=to_bytes(document), font=cjk_font(),
                      issued_ms=header["time_ms"])
    return sign(unsigned, case.desk.keys.docsign, ca_der=case.desk.keys.ca_der, reason="forged")


def test_the_genuine_pdf_s_page_shows_every_value_of_its_record(
    issued: tuple[Case, dict[str, JSONValue], bytes],
) -> None:
    case, _, pdf = issued
    report = verify_bytes(pdf, case.genesis)
    assert report.ok, report.failure
    (page,) = [c for c in report.checks if c.name == "pdf page"]
    assert page.detail.startswith("the page shows all ")


def test_a_page_with_another_obligor_and_amount_over_the_genuine_record_fails_at_the_page(
    issued: tuple[Case, dict[str, JSONValue], bytes], tmp_path: Path,
) -> None:
    case, document, _ = issued
    record: dict[str, Any] = orjson.loads(orjson.dumps(document["record"]))
    shown = copy.deepcopy(record)
    shown["obligors"][0]["name"] = "王五"
    shown["other"] = [line.replace("120万元", "12万元") for line in shown["other"]]
    forged = drawn_from(case, document, shown)
    report = verify_bytes(forged, case.genesis)
    failure = report.failure
    assert failure is not None
    assert (failure.name, failure.code, failure.params["field"]) == (
        "pdf page", "CERT_PDF_PAGE_FIELD_MISSING", "obligors[0].name")
    assert failure.params["value"] == record["obligors"][0]["name"]
    assert "页面未显示记录中的 obligors[0].name" in failure.text("zh-CN")
    assert next(c.name for c in report.checks if c.ok) == "pdf signature"  # the signature itself is the registry's

    shown = copy.deepcopy(record)
    shown["other"] = [line.replace("120万元", "12万元") for line in shown["other"]]
    failure = verify_bytes(drawn_from(case, document, shown), case.genesis).failure
    assert failure is not None
    assert (failure.code, failure.params["value"]) == ("CERT_PDF_PAGE_FIELD_MISSING", "被担保主债权数额：120万元")

    (tmp_path / "forged.pdf").write_bytes(forged)
    result = subprocess.run(
        [sys.executable, "-c", "from estatechain.cli.main import main; main()", "certificate", "verify",
         str(tmp_path / "forged.pdf"), "--genesis", str(case.harness.consortium.directory / "genesis.json")],
        capture_output=True, text=True, check=False, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED at pdf page: the page does not show the record's obligors[0].name" in result.stderr
    assert "VERIFIED" not in result.stdout
    assert "AUTHENTIC" not in result.stdout


def test_a_page_with_a_line_the_record_does_not_hold_fails_at_the_page(
    issued: tuple[Case, dict[str, JSONValue], bytes],
) -> None:
    case, document, _ = issued
    shown: dict[str, Any] = orjson.loads(orjson.dumps(document["record"]))
    shown["notes"] = [*shown["notes"], "抵押权人已同意抵押人转让抵押财产"]
    failure = verify_bytes(drawn_from(case, document, shown), case.genesis).failure
    assert failure is not None
    assert (failure.name, failure.code) == ("pdf page", "CERT_PDF_PAGE_EXTRA_TEXT")
    assert failure.params["text"] == "抵押权人已同意抵押人转让抵押财产"
