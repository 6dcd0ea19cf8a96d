"""Stable codes for transactions refused at submission (design §3.13): never ordered, never stored."""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    """Why a submitted transaction was refused. Wire names never change.

    A certificate that cannot sign is refused with a code of
    ``estatechain.identity.membership.CertificateRefusal`` (MALFORMED_CERTIFICATE, UNKNOWN_ISSUER,
    ROLE_NOT_GRANTABLE, ORG_MISMATCH, NOT_END_ENTITY), defined once there.
    """

    TOO_LARGE = "TOO_LARGE"
    MALFORMED_ENVELOPE = "MALFORMED_ENVELOPE"
    NON_CANONICAL = "NON_CANONICAL"
    WRONG_CHAIN = "WRONG_CHAIN"
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"
    SIGNER_MISMATCH = "SIGNER_MISMATCH"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    SIGNER_REVOKED = "SIGNER_REVOKED"
    DUPLICATE_TX = "DUPLICATE_TX"
    DUPLICATE_NONCE = "DUPLICATE_NONCE"


class InvalidCode(StrEnum):
    """Why an authentic, ordered transaction was marked invalid by the ledger (before the contract ran).

    Contract rejections use ``estatechain.contract.rejections.RejectionCode``.
    """

    OUTSIDE_TIME_WINDOW = "OUTSIDE_TIME_WINDOW"
    CERTIFICATE_NOT_VALID_AT_BLOCK_TIME = "CERTIFICATE_NOT_VALID_AT_BLOCK_TIME"
    SIGNER_REVOKED = "SIGNER_REVOKED"
    DUPLICATE_NONCE = "DUPLICATE_NONCE"
