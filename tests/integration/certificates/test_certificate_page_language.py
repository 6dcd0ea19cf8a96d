"""The portal's verification report reads in the page's language, every step's name and detail (design §3.20-3.21).

A resident checks a certificate file on the public page in Chinese: each step of the check (format,
issuer, signature, ledger inclusion, attestation, status) says what it found in Chinese, not in the
verifier's English; the same page in English reads as the command line does. Three files: the
authentic certificate of a current mortgage, the same file with a field changed, and the authentic
certificate of a mortgage since cancelled. Real cases through the pipeline (``certificate_case``),
then the ledger served by a node with its portal, and the page fetched as a browser posts the form.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import httpx
import orjson
import pytest
from certificate_case import new_case

from estatechain.certificates.document import to_bytes
from estatechain.node.settings import Settings
from estatechain.testing.serving import served

REPORT: Final = re.compile(r'<div [^>]*data-testid="verify-report"[^>]*>(.*?)</div>', re.DOTALL)
CSRF: Final = re.compile(r'name="csrf" value="([^"]+)"')
IDENTIFIER: Final = re.compile(r"\S*[0-9._:/-]\S*")
"""Ids the report shows as they are: hashes, org ids (gz-registry), suite names, the file's type tag."""
WORD: Final = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class Files:
    portal: str
    authentic: bytes
    tampered: bytes
    cancelled: bytes


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    directory = tmp_path_factory.mktemp("page-language")
    case = new_case(directory)
    first = case.mortgage(contract="LOAN-2026-0001")
    cancelled = case.issue(first)
    case.cancel(first)
    authentic = case.issue(case.mortgage(contract="LOAN-2026-0002"))
    record = authentic["record"]
    assert isinstance(record, dict)
    tampered = {**authentic, "record": {**record, "unit_number": f"{record['unit_number']}9"}}
    case.harness.store.close()
    ledger_dir = case.harness.consortium.directory / "nodes" / "gz-registry"
    ledger_dir.parent.mkdir(parents=True)
    shutil.move(case.harness.ledger_dir, ledger_dir)
    with served(Settings(ledger_dir=ledger_dir, port=0)) as url:
        yield Files(portal=f"{url}/portal", authentic=to_bytes(authentic), tampered=orjson.dumps(tampered),
                    cancelled=to_bytes(cancelled))


def report(files: Files, data: bytes, locale: str) -> tuple[int, str]:
    """The answer's status and the report's text, as a browser asking for ``locale`` posts the file."""
    language = "en-GB,en;q=0.8" if locale == "en" else "zh-CN,zh;q=0.9"
    with httpx.Client(timeout=30, headers={"accept-language": language}) as browser:
        form = browser.get(f"{files.portal}/public/certificate")
        found = CSRF.search(form.text)
        assert found is not None, form.text[:500]
        answer = browser.post(f"{files.portal}/public/verify", data={"csrf": found.group(1)},
                              files={"file": ("certificate.json", data, "application/json")})
    shown = REPORT.search(answer.text)
    assert shown is not None, answer.text[:2000]
    return answer.status_code, html.unescape(re.sub(r"<[^>]+>", " ", shown.group(1)))


def english_words(text: str) -> list[str]:
    """Plain ASCII words left once identifiers are taken out: English sentences leave many."""
    return WORD.findall(IDENTIFIER.sub(" ", text))


def test_the_chinese_page_reports_every_step_in_chinese(files: Files) -> None:
    for data, status, headline in ((files.authentic, 200, "文件真实有效"), (files.tampered, 422, "文件未通过查验"),
                                   (files.cancelled, 422, "证明真实，但已不再有效")):
        answered, text = report(files, data, "zh-CN")
        assert answered == status, text
        assert headline in text, text
        assert english_words(text) == [], text
    assert "记录" in report(files, files.tampered, "zh-CN")[1]  # why it failed, in words: a field was changed
    assert "注销" in report(files, files.cancelled, "zh-CN")[1]  # why it is no longer in force


def test_the_english_page_reports_the_verifier_s_english(files: Files) -> None:
    assert "VALID on the ledger now" in report(files, files.authentic, "en")[1]
    assert "the issuer's signature does not match the record: a field was changed" in report(
        files, files.tampered, "en")[1]
    assert "CANCELLED: the certificate is authentic but no longer in force" in report(files, files.cancelled, "en")[1]
