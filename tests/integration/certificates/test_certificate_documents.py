"""A real mortgage's certificate, issued through the pipeline: the JSON file, the PDF and outside tools.

One module-scoped case (import, register, issue) serves every test here; each test reads it only.
``pdfsig``, ``zbarimg``, ``pdftoppm`` and ``pdftotext`` are Poppler's and zbar's own binaries
(scripts/system-packages installs them): they check the PDF without our code.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from certificate_case import Case, new_case

from estatechain.canonical import JSONValue
from estatechain.certificates.document import to_bytes
from estatechain.certificates.pdf import certificate_pdf
from estatechain.certificates.qr import parse_qr
from estatechain.certificates.record import FIELDS, document_sha256
from estatechain.certificates.verify import verify_bytes
from estatechain.contract.checks.elicence import check_v27_elicence

BASE_URL = "http://127.0.0.1:8700"
LABELS = ("不动产登记证明", "证明权利或事项", "权利人（申请人）", "义务人", "坐落", "不动产单元号", "其他", "附记",
          "登记机构（章）")


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, dict[str, JSONValue], Path]:
    directory = tmp_path_factory.mktemp("certificate")
    case = new_case(directory)
    app = case.mortgage()
    document = case.issue(app)
    pdf = certificate_pdf(document, signer=case.desk.keys.docsign, ca_der=case.desk.keys.ca_der, base_url=BASE_URL)
    path = directory / "certificate.pdf"
    path.write_bytes(pdf)
    return case, document, path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)


def test_the_record_has_every_box_of_the_form_and_its_hash_is_on_the_ledger(
    issued: tuple[Case, dict[str, JSONValue], Path],
) -> None:
    case, document, _ = issued
    record: dict[str, Any] = orjson.loads(orjson.dumps(document["record"]))
    assert tuple(sorted(record)) == FIELDS
    assert record["number"] == "粤(2026)广州市不动产证明第00000001号"
    assert (record["type"], record["chain_id"]) == ("estatechain.certificate.v1", case.genesis.chain_id)
    assert (record["right_or_matter"], record["mortgage_type"]) == ("抵押权", "一般抵押")
    assert record["secured_amount"] == {"basis": "被担保主债权数额", "currency": "CNY", "fen": 120_000_000}
    assert record["debt_term"] == {"end": "2046-01-03", "start": "2026-01-04"}
    assert record["unit_number"] == case.owner.unit_number
    assert record["registry"] == {"name": "广州市不动产登记中心", "org": "gz-registry"}
    assert "被担保主债权数额：120万元" in record["other"]
    assert record["notes"] == ["抵押顺位：第1顺位"]
    (obligor,) = record["obligors"]
    assert obligor["party_id"] == case.owner.party_id
    assert obligor["kind"] == "person"
    assert obligor["name"]
    (holder,) = record["right_holders"]
    assert holder["name"] == "中国工商银行广州分行"
    assert check_v27_elicence(str(record["elicence_id"])) is None
    row = case.row("certificate/proof/2026/00000001")
    assert row["document_sha256"] == document["document_sha256"] == document_sha256(record)
    assert row["elicence_id"] == record["elicence_id"]
    # personal names never stand on the shared ledger: only the hash does
    ledger = case.harness.ledger_dir / "ledger.sqlite"
    assert str(obligor["name"]).encode() not in ledger.read_bytes()


def test_the_json_file_verifies_offline_with_every_check(issued: tuple[Case, dict[str, JSONValue], Path]) -> None:
    case, document, _ = issued
    report = verify_bytes(to_bytes(document), case.genesis)
    assert report.ok, report.failure
    assert [c.name for c in report.checks] == ["format", "chain", "issuer", "record signature", "record hash",
                                               "issue transaction", "ledger inclusion", "attestation", "status"]


def test_pdfsig_reports_a_valid_signature_by_the_registry(issued: tuple[Case, dict[str, JSONValue], Path]) -> None:
    _, _, path = issued
    result = run("pdfsig", str(path))
    assert "Signature Validation: Signature is Valid." in result.stdout, result.stdout + result.stderr
    assert "Signer Certificate Common Name: 广州市不动产登记中心" in result.stdout
    assert "O=gz-registry" in result.stdout
    assert "Total document signed" in result.stdout
    assert "Signature Type: ETSI.CAdES.detached" in result.stdout


def test_zbarimg_reads_the_qr_code_and_its_content_verifies(
    issued: tuple[Case, dict[str, JSONValue], Path], tmp_path: Path,
) -> None:
    case, document, path = issued
    assert run("pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")).returncode == 0
    result = run("zbarimg", "-q", "--raw", str(tmp_path / "page-1.png"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("/v1/certificates/verify?") == 1, result.stdout
    qr = parse_qr(result.stdout.strip())
    assert qr.base_url == BASE_URL
    assert (qr.number, qr.sha256) == ("粤(2026)广州市不动产证明第00000001号", document["document_sha256"])
    # the content the QR code points to is what the ledger holds for that number
    assert case.row("certificate/proof/2026/00000001")["document_sha256"] == qr.sha256
    assert case.desk.archived(qr.sha256) is not None


def test_the_pdf_renders_chinese_text(issued: tuple[Case, dict[str, JSONValue], Path], tmp_path: Path) -> None:
    _, document, path = issued
    text = run("pdftotext", "-layout", str(path), "-").stdout
    for label in LABELS:
        assert label in text, label
    record = document["record"]
    assert isinstance(record, dict)
    assert str(record["number"]) in text
    assert "120万元" in text
    fonts = run("pdffonts", str(path)).stdout
    assert "NotoSansCJKsc" in fonts
    assert " yes yes yes " in fonts  # embedded, subset, with ToUnicode
    # ink where the title is: the top band holds dark pixels, the blank margin above it none
    assert run("pdftoppm", "-r", "50", "-gray", str(path), str(tmp_path / "g")).returncode == 0
    width, height, pixels = read_pgm(next(tmp_path.glob("g-1.pgm")).read_bytes())
    def dark(top: int, bottom: int) -> int:
        return sum(1 for y in range(top, bottom) for x in range(width) if pixels[y * width + x] < 128)
    title_top = int(height * 60 / 842)  # the title's baseline is 80 pt below the top of an A4 page
    assert dark(title_top, int(height * 90 / 842)) > 150
    assert dark(0, int(height * 40 / 842)) == 0


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and 8-bit pixels of a binary PGM (P5) image."""
    fields = data.split(maxsplit=4)
    assert fields[0] == b"P5"
    assert fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return width, height, fields[4][-width * height:]


def test_the_pdf_verifies_offline(issued: tuple[Case, dict[str, JSONValue], Path]) -> None:
    case, _, path = issued
    report = verify_bytes(path.read_bytes(), case.genesis)
    assert report.ok, report.failure
    assert report.checks[0].name == "pdf signature"


def test_the_document_signing_certificate_passes_openssl_verify(
    issued: tuple[Case, dict[str, JSONValue], Path],
) -> None:
    case, _, _ = issued
    org = case.harness.consortium.directory / "orgs" / "gz-registry"
    result = run("openssl", "verify", "-CAfile", str(org / "ca.pem"), str(org / "users" / "docsign" / "cert.pem"))
    assert result.returncode == 0, result.stdout + result.stderr
    text = run("openssl", "x509", "-in", str(org / "users" / "docsign" / "cert.pem"), "-noout", "-text").stdout
    assert "Digital Signature, Non Repudiation" in text
    assert "ASN1 OID: prime256v1" in text
