"""The PDF half of verification: the PAdES signature, its chain to a registry CA, the attached file.

Kept apart from ``verify.py`` because pyhanko is slow to import and the JSON path needs none of it.
"""

from __future__ import annotations

import io
import logging
from typing import Final

from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from estatechain.certificates.check_codes import CheckCode
from estatechain.certificates.pdf import ATTACHMENT, attachments
from estatechain.certificates.verify import REGISTRY_TYPE, CheckFailed
from estatechain.crypto import x509
from estatechain.identity.genesis import Genesis

CHECK: Final = "pdf signature"


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
