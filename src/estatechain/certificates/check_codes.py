"""Stable codes of what each step of a certificate's verification found (``verify``, ``pdf_check``).

A step reports a code and its values, never a sentence: the edges render it from the shared message
catalogue (design §3.21, ``estatechain.messages``) in their reader's language. The public portal page
shows it in zh-CN or en; the command line and the API show the English text (``Check.detail``).
"""

from __future__ import annotations

from enum import StrEnum


class CheckCode(StrEnum):
    """What a verification step found; each has a zh-CN and an en text with the same placeholders."""

    # pdf signature (pdf_check)
    PDF_SIGNED = "CERT_PDF_SIGNED"
    PDF_UNREADABLE = "CERT_PDF_UNREADABLE"
    PDF_SIGNATURE_COUNT = "CERT_PDF_SIGNATURE_COUNT"
    PDF_CHANGED = "CERT_PDF_CHANGED"
    PDF_BAD_SIGNATURE = "CERT_PDF_BAD_SIGNATURE"
    PDF_NOT_WHOLE_FILE = "CERT_PDF_NOT_WHOLE_FILE"
    PDF_UNTRUSTED_SIGNER = "CERT_PDF_UNTRUSTED_SIGNER"
    PDF_NO_ATTACHMENT = "CERT_PDF_NO_ATTACHMENT"
    # pdf page (pdf_check.check_page, after the record and its ledger evidence)
    PDF_PAGE_SHOWS_RECORD = "CERT_PDF_PAGE_SHOWS_RECORD"
    PDF_PAGE_UNFIT = "CERT_PDF_PAGE_UNFIT"
    PDF_PAGE_FIELD_MISSING = "CERT_PDF_PAGE_FIELD_MISSING"
    PDF_PAGE_EXTRA_TEXT = "CERT_PDF_PAGE_EXTRA_TEXT"
    # format
    FORMAT_OK = "CERT_FORMAT_OK"
    NOT_JSON = "CERT_NOT_JSON"
    NOT_CERTIFICATE = "CERT_NOT_CERTIFICATE"
    FILE_FIELDS = "CERT_FILE_FIELDS"
    RECORD_FIELDS = "CERT_RECORD_FIELDS"
    # chain
    CHAIN_OK = "CERT_CHAIN_OK"
    OTHER_CHAIN = "CERT_OTHER_CHAIN"
    # any step reading base64
    NOT_BASE64_TEXT = "CERT_NOT_BASE64_TEXT"
    BAD_BASE64 = "CERT_BAD_BASE64"
    # issuer
    ISSUER_OK = "CERT_ISSUER_OK"
    ISSUER_UNTRUSTED = "CERT_ISSUER_UNTRUSTED"
    ISSUER_MISMATCH = "CERT_ISSUER_MISMATCH"
    # record signature, record hash
    RECORD_SIGNATURE_OK = "CERT_RECORD_SIGNATURE_OK"
    RECORD_SIGNATURE_BAD = "CERT_RECORD_SIGNATURE_BAD"
    RECORD_HASH_OK = "CERT_RECORD_HASH_OK"
    RECORD_HASH_MISMATCH = "CERT_RECORD_HASH_MISMATCH"
    # issue transaction
    ISSUE_OK = "CERT_ISSUE_OK"
    NO_LEDGER_EVIDENCE = "CERT_NO_LEDGER_EVIDENCE"
    LEDGER_FIELDS = "CERT_LEDGER_FIELDS"
    BAD_ENVELOPE = "CERT_BAD_ENVELOPE"
    ISSUE_MISMATCH = "CERT_ISSUE_MISMATCH"
    # ledger inclusion
    INCLUDED = "CERT_INCLUDED"
    EVIDENCE_MISFIT = "CERT_EVIDENCE_MISFIT"
    PROOF_NOT_HEX = "CERT_PROOF_NOT_HEX"
    NOT_INCLUDED = "CERT_NOT_INCLUDED"
    HEADER_FIELDS = "CERT_HEADER_FIELDS"
    HEADER_FIELD_TYPE = "CERT_HEADER_FIELD_TYPE"
    # attestation
    ATTESTED = "CERT_ATTESTED"
    ATTESTATION_INVALID = "CERT_ATTESTATION_INVALID"
    ATTESTATION_OTHER_BLOCK = "CERT_ATTESTATION_OTHER_BLOCK"
    # status
    VALID_OFFLINE = "CERT_VALID_OFFLINE"
    VALID_NOW = "CERT_VALID_NOW"
    STATUS_UNAVAILABLE = "CERT_STATUS_UNAVAILABLE"
    STATUS_OTHER_DOCUMENT = "CERT_STATUS_OTHER_DOCUMENT"
    CANCELLED = "CERT_CANCELLED"
    CORRECTED = "CERT_CORRECTED"
    SUPERSEDED = "CERT_SUPERSEDED"
    CONVERTED = "CERT_CONVERTED"
    REVOKED = "CERT_REVOKED"
    NOT_IN_FORCE = "CERT_NOT_IN_FORCE"
    """A status this version has no word for (a newer node's): "see the register"."""
    ISSUER_REVOKED_LATER = "CERT_ISSUER_REVOKED_LATER"
    """The issuer's certificate was revoked after the issue: the signature stands (it was made before)."""
