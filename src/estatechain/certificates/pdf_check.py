"""The PDF half of verification: the PAdES signature, its chain to a registry CA, the attached file, the page.

Kept apart from ``verify.py`` because pyhanko is slow to import and the JSON path needs none of it.

The signature vouches for the file, and the attached record is verified on its own; neither says
that the *page* a reader looks at shows that record. Whoever holds the registry's PDF-signing key
could draw another obligor or amount and attach the genuine record, so ``check_page`` reads the
page's text and requires every value the record displays on it, and no text the record does not
account for. Why text and not a byte comparison with a fresh rendering: the content stream holds
the glyph ids of the Noto CJK build of the node that rendered it, and the QR code the address the
node had then (not in the record); a verifier years later, on another font build, would fail a
genuine certificate. The text is what ``pdftotext`` shows an outsider too.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Final

from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from estatechain.canonical import JSONValue
from estatechain.certificates.check_codes import CheckCode
from estatechain.certificates.page_text import PageUnfit, read_page_text
from estatechain.certificates.pdf import ATTACHMENT, attachments, page_texts
from estatechain.certificates.record import displayed_fields
from estatechain.certificates.verify import REGISTRY_TYPE, CheckFailed
from estatechain.crypto import x509
from estatechain.identity.genesis import Genesis

CHECK: Final = "pdf signature"
PAGE_CHECK: Final = "pdf page"


def check_pdf(data: bytes, genesis: Genesis) -> tuple[str, bytes]:
    """The registry org that signed ``data`` and its attached certificate file.

    Raises:
        CheckFailed: the file is not a PDF with one intact PAdES signature over the whole file by a
            certificate of a registry CA in genesis, or ``certificate.json`` is not attached.

    """
    registries = {org.id: org for org in genesis.orgs if org.type == REGISTRY_TYPE}
    roots = [cert for org in registries.values() for cert in load_certs_from_pemder_data(org.ca_cert_der)]
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # failures are reported by the check, not logged
    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        status = None if len(signatures) != 1 else validate_pdf_signature(
            signatures[0], ValidationContext(trust_roots=roots))
    except Exception as exc:  # noqa: BLE001  (untrusted bytes: any parse failure)
        raise CheckFailed(CHECK, CheckCode.PDF_UNREADABLE, error=f"{type(exc).__name__}: {exc}") from None
    if status is None:
        raise CheckFailed(CHECK, CheckCode.PDF_SIGNATURE_COUNT, count=len(signatures))
    if not status.intact:
        raise CheckFailed(CHECK, CheckCode.PDF_CHANGED)
    if not status.valid:
        raise CheckFailed(CHECK, CheckCode.PDF_BAD_SIGNATURE)
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        raise CheckFailed(CHECK, CheckCode.PDF_NOT_WHOLE_FILE)
    signer = x509.load_certificate(status.signing_cert.dump())
    orgs = x509.subject_values(signer, NameOID.ORGANIZATION_NAME)
    if not status.trusted or len(orgs) != 1 or orgs[0] not in registries:
        raise CheckFailed(CHECK, CheckCode.PDF_UNTRUSTED_SIGNER, signer=status.signing_cert.subject.human_friendly)
    files = dict(attachments(data))
    if ATTACHMENT not in files:
        raise CheckFailed(CHECK, CheckCode.PDF_NO_ATTACHMENT, attachment=ATTACHMENT)
    return orgs[0], files[ATTACHMENT]


def check_page(data: bytes, record: Mapping[str, JSONValue], issued_ms: int) -> int:
    """How many of ``record``'s displayed values the page of ``data`` shows (all of them, or it raises).

    Every value ``record.displayed_fields`` lists must be in the page's text (a value wrapped over lines
    reads as one, since lines are drawn in order; whitespace is not compared, see ``_unspaced``), and
    every text the page draws must be a piece of one the record's page draws (``pdf.page_texts``, the
    issue time from the issuing block's ``issued_ms``): an added line such as a second obligor or
    another amount fails as well.

    Raises:
        CheckFailed: the page is unfit to read (``PageUnfit``), lacks a value (naming the first
            field), or shows text the record does not account for.

    """
    try:
        page = read_page_text(data)
    except PageUnfit as exc:
        raise CheckFailed(PAGE_CHECK, CheckCode.PDF_PAGE_UNFIT, what=exc) from None
    shown = _unspaced("".join(page.runs))
    fields = displayed_fields(record)
    for field, value in fields:
        if _unspaced(value) not in shown:
            raise CheckFailed(PAGE_CHECK, CheckCode.PDF_PAGE_FIELD_MISSING, field=field, value=value)
    expected = [_unspaced(whole) for whole in page_texts(record, issued_ms)]
    for text in (*page.runs, *page.actual_texts):
        if not any(_unspaced(text) in whole for whole in expected):
            raise CheckFailed(PAGE_CHECK, CheckCode.PDF_PAGE_EXTRA_TEXT, text=text)
    return len(fields)


def _unspaced(text: str) -> str:
    """``text`` without whitespace, which pypdf puts between text objects as their places suggest.

    Nothing is lost by it: the check already reads text objects in drawing order wherever they are
    drawn, so a value split over two of them set apart reads as one with or without a space.
    """
    return "".join(text.split())
