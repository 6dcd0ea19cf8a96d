"""The Python SDK a bank's system uses: load an identity, sign, submit, wait, query, verify locally.

Depends only on ``estatechain.ledger``, ``crypto``, ``canonical`` and ``errors`` (an import contract
checks it), so it can ship to integrators without the node.
"""

from estatechain.sdk.certificates import CertificateFile, CertificatePdf
from estatechain.sdk.client import Block, Client, PreparedCertificate, PreparedPayload, TxStatus, VerifiedInclusion
from estatechain.sdk.errors import (
    AuthenticationFailed,
    CommitTimeout,
    Forbidden,
    NotFound,
    ProofInvalid,
    Refused,
    SdkError,
    ServerError,
)
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.responses import Deliveries, Delivery, InquiryAnswer, InquiryEntry, RemovedWebhook, Webhook
from estatechain.sdk.signing import RequestTarget, SignedTransaction, sign_request, sign_transaction
from estatechain.sdk.sync import SyncClient

__all__ = [
    "AuthenticationFailed", "Block", "CertificateFile", "CertificatePdf", "Client", "ClientIdentity",
    "CommitTimeout", "Deliveries", "Delivery", "Forbidden", "InquiryAnswer", "InquiryEntry", "NotFound",
    "PreparedCertificate", "PreparedPayload", "ProofInvalid", "Refused", "RemovedWebhook", "RequestTarget",
    "SdkError", "ServerError", "SignedTransaction", "SyncClient", "TxStatus", "VerifiedInclusion", "Webhook",
    "sign_request", "sign_transaction",
]
