"""The certificate as an A4 PDF laid out like the national form, QR code included, signed with PAdES.

Why these choices: the form text is Chinese, so a CJK font (Debian's Noto Sans CJK SC) is embedded as
a subset with a ToUnicode map, so the page renders anywhere and ``pdftotext`` gives the text back. The
QR code is drawn as vector squares from segno's module matrix (no image library needed, crisp at
any resolution). The certificate file (JSON, ``document.py``) is attached as ``certificate.json``
before signing, so the PDF alone carries everything an offline verifier needs. The PAdES signature
(ETSI.CAdES.detached) uses the registry's ECDSA P-256 document-signing certificate, which common PDF
validators accept (design §3.20); the registry CA is embedded so they can build the chain.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Final

import segno
from cryptography.hazmat.primitives import serialization
from fontTools import ttLib  # type: ignore[import-untyped]
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from estatechain.canonical import JSONValue
from estatechain.certificates.record import chinese_date, lines_of, registry_name
from estatechain.clock import china_time
from estatechain.errors import InputError
from estatechain.identity.devca import DocumentSigner

FONT_PATH: Final = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_FAMILY: Final = "Noto Sans CJK SC"
ATTACHMENT: Final = "certificate.json"
SIGNATURE_FIELD: Final = "RegistrySeal"
A4: Final = (595.28, 841.89)
_LEFT, _RIGHT, _LABEL = 50.0, 545.0, 118.0
_SIZE, _LEADING = 11.0, 16.0
_TITLE: Final = "不动产登记证明"
_QR_CAPTION: Final = "扫码核验证明状态与内容"


@cache
def cjk_font(path: Path = FONT_PATH) -> bytes:
    """The Simplified Chinese face of a Noto CJK collection as a standalone OpenType font (read once).

    Raises:
        InputError: the file is missing or holds no Simplified Chinese face.

    """
    if not path.exists():
        raise InputError(f"{path}: missing; install Debian's fonts-noto-cjk (scripts/system-packages does)")
    collection = ttLib.TTCollection(str(path)) if path.suffix.lower() == ".ttc" else None
    faces = collection.fonts if collection is not None else [ttLib.TTFont(str(path))]
    face = next((f for f in faces if f["name"].getDebugName(1) == FONT_FAMILY), None)
    if face is None:
        raise InputError(f"{path}: has no {FONT_FAMILY} face; use NotoSansCJK-Regular.ttc")
    out = io.BytesIO()
    face.save(out)
    return out.getvalue()


class _Page:
    """Content-stream builder over one shaped font: text, lines, boxes and the QR code."""

    def __init__(self, writer: PdfFileWriter, font: bytes) -> None:
        self.font = GlyphAccumulator(writer, io.BytesIO(font), int(_SIZE))
        self.ops: list[bytes] = []
        self._widths: dict[str, float] = {}

    def width(self, text: str, size: float) -> float:
        total = 0.0
        for char in text:
            if char not in self._widths:
                self._widths[char] = self.font.shape(char).x_advance
            total += self._widths[char]
        return total * size

    def text(self, x: float, y: float, text: str, size: float = _SIZE) -> None:
        shaped = self.font.shape(text)
        self.ops.append(b"BT /F1 %.2f Tf %.2f %.2f Td %s ET" % (size, x, y, shaped.graphics_ops))

    def wrap(self, text: str, width: float, size: float = _SIZE) -> list[str]:
        lines, line = [], ""
        for char in text:
            if line and self.width(line + char, size) > width:
                lines.append(line)
                line = ""
            line += char
        return [*lines, line]

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.ops.append(b"%.2f %.2f m %.2f %.2f l S" % (x1, y1, x2, y2))

    def qr(self, content: str, x: float, y: float, side: float) -> None:
        matrix = [list(row) for row in segno.make(content, error="m", boost_error=False).matrix]
        quiet = 4
        n = len(matrix) + 2 * quiet
        module = side / n
        squares = [b"%.3f %.3f %.3f %.3f re" % (x + (c + quiet) * module, y + (n - quiet - 1 - r) * module,
                                                module, module)
                   for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark]
        self.ops.append(b"q 0 g " + b" ".join(squares) + b" f Q")


def _names(parties: JSONValue) -> str:
    if not isinstance(parties, list):
        return ""
    return "、".join(str(p.get("name", "")) for p in parties if isinstance(p, dict))


def _rows(record: Mapping[str, JSONValue]) -> list[tuple[str, list[str]]]:
    return [
        ("证明权利或事项", [str(record.get("right_or_matter", ""))]),
        ("权利人（申请人）", [_names(record.get("right_holders"))]),
        ("义务人", [_names(record.get("obligors"))]),
        ("坐落", [str(record.get("location", ""))]),
        ("不动产单元号", [str(record.get("unit_number", ""))]),
        ("其他", lines_of(record.get("other"))),
        ("附记", lines_of(record.get("notes"))),
    ]


def issued_line(time_ms: int) -> str:
    """The issuing block's time as the page prints it: ``发证时间：2026年01月04日 10:23:45（北京时间）``.

    The recording date (登簿) is the record's; the issue is the block that put the record's hash on
    the ledger, and a reader of the page should see that moment without opening the attachment.
    """
    moment = china_time(time_ms)
    return f"发证时间：{moment:%Y年%m月%d日 %H:%M:%S}（北京时间）"


def page_texts(record: Mapping[str, JSONValue], issued_ms: int | None) -> tuple[str, ...]:
    """Every text the page of ``record`` draws, whole (a value wrapped over lines is one text here).

    A text run on a certificate's page must be a piece of one of these (``pdf_check.check_page``);
    ``issued_ms`` None: a page rendered before the issue time was printed (it has no such line).
    """
    texts = [_TITLE, str(record.get("number", "")), f"登记机构（章）：{registry_name(record)}",
             chinese_date(str(record.get("date", "0000-00-00"))), _QR_CAPTION,
             f"电子证照标识：{record.get('elicence_id', '')}"]
    for label, values in _rows(record):
        texts += [label, *values]
    if issued_ms is not None:
        texts.append(issued_line(issued_ms))
    return tuple(texts)


def render(record: Mapping[str, JSONValue], *, qr_content: str, attachment: bytes, font: bytes,
           issued_ms: int | None = None) -> bytes:
    """The unsigned PDF of ``record`` with ``qr_content`` in its QR code and ``attachment`` attached.

    ``issued_ms``: the issuing block's time, printed under the date (``issued_line``).
    """
    writer = PdfFileWriter()  # type: ignore[no-untyped-call]
    page = _Page(writer, font)
    width, height = A4
    page.text((width - page.width(_TITLE, 26)) / 2, height - 80, _TITLE, 26)
    number = str(record.get("number", ""))
    page.text(_RIGHT - page.width(number, 12), height - 112, number, 12)
    page.ops.append(b"0.8 w")
    top = y = height - 125
    for label, values in _rows(record):
        lines = [wrapped for value in values for wrapped in page.wrap(value, _RIGHT - _LEFT - _LABEL - 16)] or [""]
        row_height = max(30.0, 14 + _LEADING * len(lines))
        page.text(_LEFT + 8, y - 20, label)
        for index, text in enumerate(lines):
            page.text(_LEFT + _LABEL + 8, y - 20 - index * _LEADING, text)
        y -= row_height
        page.line(_LEFT, y, _RIGHT, y)
    page.ops.append(b"%.2f %.2f %.2f %.2f re S %.2f %.2f m %.2f %.2f l S" % (
        _LEFT, y, _RIGHT - _LEFT, top - y, _LEFT + _LABEL, y, _LEFT + _LABEL, top))
    page.text(_RIGHT - 250, 170, f"登记机构（章）：{registry_name(record)}")
    page.text(_RIGHT - 250, 150, chinese_date(str(record.get("date", "0000-00-00"))))
    if issued_ms is not None:
        page.text(_RIGHT - 250, 132, issued_line(issued_ms), 10)
    page.ops.append(b"q 0.8 0 0 RG 2 w %.2f 120 m %.2f 120 l S Q" % (_RIGHT - 250, _RIGHT))
    page.qr(qr_content, _LEFT, 58, 140)
    page.text(_LEFT + 6, 50, _QR_CAPTION, 9)
    page.text(_LEFT, 30, f"电子证照标识：{record.get('elicence_id', '')}", 8)
    content = generic.StreamObject(stream_data=b"\n".join(page.ops))
    fonts = generic.DictionaryObject({generic.NameObject("/F1"): page.font.as_resource()})  # type: ignore[no-untyped-call]
    resources = generic.DictionaryObject({generic.NameObject("/Font"): fonts})  # type: ignore[no-untyped-call]
    page_object = PageObject(contents=writer.add_object(content), media_box=(0, 0, *A4),  # type: ignore[no-untyped-call]
                             resources=resources)
    writer.insert_page(page_object)  # type: ignore[no-untyped-call]
    embedded = EmbeddedFileObject.from_file_data(writer, attachment, mime_type="application/json")
    embed_file(writer, FileSpec(file_spec_string=ATTACHMENT, file_name=ATTACHMENT, embedded_data=embedded,
                                description="estatechain certificate file (signed record and ledger proof)"))
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def sign(pdf: bytes, signer: DocumentSigner, *, ca_der: bytes, reason: str) -> bytes:
    """``pdf`` with a PAdES signature by the registry's document-signing certificate (sync; not on an event loop)."""
    key = signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    cert_pem = signer.cert.public_bytes(serialization.Encoding.PEM)
    (cert,) = load_certs_from_pemder_data(cert_pem)
    (ca,) = load_certs_from_pemder_data(ca_der)
    simple = signers.SimpleSigner(signing_cert=cert, signing_key=load_private_key_from_pemder_data(key, None),
                                  cert_registry=SimpleCertificateStore.from_certs([ca]))  # type: ignore[no-untyped-call]
    meta = signers.PdfSignatureMetadata(field_name=SIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason, location="广州市")
    signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=simple)
    return bytes(signed.getvalue())


def attachments(pdf: bytes) -> Sequence[tuple[str, bytes]]:
    """Every embedded file of ``pdf`` as (name, bytes); empty when there is none."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415  (only the verifier reads PDFs)

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return ()
    found = []
    for index in range(0, len(names) - 1, 2):
        spec = names[index + 1].get_object()
        found.append((str(names[index]), bytes(spec["/EF"]["/F"].get_object().data)))
    return found


def certificate_pdf(document: Mapping[str, JSONValue], *, signer: DocumentSigner, ca_der: bytes, base_url: str,
                    font_path: Path = FONT_PATH) -> bytes:
    """The signed PDF of an issued certificate file: form, QR code (number, record hash, where to verify), file."""
    from estatechain.certificates.document import to_bytes  # noqa: PLC0415  (document imports storage)
    from estatechain.certificates.qr import QrContent  # noqa: PLC0415

    record = document["record"]
    ledger = document.get("ledger")
    header = ledger.get("header") if isinstance(ledger, dict) else None
    time_ms = header.get("time_ms") if isinstance(header, dict) else None
    if not isinstance(record, dict) or not isinstance(time_ms, int):
        raise InputError("certificate: only an issued certificate file (with ledger evidence) is rendered")
    qr = QrContent(base_url=base_url, number=str(record["number"]), sha256=str(document["document_sha256"]))
    unsigned = render(record, qr_content=qr.text(), attachment=to_bytes(document), font=cjk_font(font_path),
                      issued_ms=time_ms)
    return sign(unsigned, signer, ca_der=ca_der, reason=f"不动产登记证明 {record['number']}")
