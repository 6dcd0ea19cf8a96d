"""The asyncio client of an org node: sign, submit, wait for commit, query, verify proofs locally.

One implementation; ``SyncClient`` in ``sync.py`` is a thin blocking wrapper. Every request is signed
with the caller's own key (RFC 9421); every transaction is built and signed on the caller's side.
``verify_inclusion`` trusts nothing the node says about hashes: it recomputes the block hash from the
header, the tx-log leaf from the envelope bytes it sent and the committed result, and checks the
RFC 9162 audit path against the header's tree size and root.

``Client`` is assembled here from one base and small mixins, one module each, split where what a
method must know changes:

* ``transport``: HTTP, request signing, error answers and streams; the only module that knows httpx
  errors and headers (``Transport``, which every mixin extends);
* ``transactions``: sign, submit, status, wait for the commit (``TxStatus``);
* ``workflow``: payloads the node prepares and this client checks before signing (``PreparedPayload``);
* ``inquiries`` and ``certificates``: workflow steps with answers of their own (``PreparedCertificate``);
* ``materials``, ``proofs`` (``Block``, ``VerifiedInclusion``), ``directory``: reads, the first two
  checked locally against hashes;
* ``webhooks`` and ``events``: the org's events, pushed and pulled.

A mixin extends the part it calls (``InquiryMethods`` extends ``WorkflowMethods``, which extends
``TransactionMethods``), so mypy checks each one against the methods it uses. The values and ``Client``
are imported from this module as before the split (``from estatechain.sdk.client import Client``).
"""

from __future__ import annotations

# ``noqa: F401``: the SDK's own names this module imported before the split, still importable from here
# at run time for code that took them from ``estatechain.sdk.client`` rather than ``estatechain.sdk``
# (not in ``__all__``, as before: a type checker points such code at ``estatechain.sdk``).
from estatechain.sdk.certificates import CertificateMethods, PreparedCertificate
from estatechain.sdk.directory import DirectoryMethods
from estatechain.sdk.errors import CommitTimeout, ProofInvalid, SdkError, ServerError  # noqa: F401
from estatechain.sdk.events import EventMethods
from estatechain.sdk.identity import ClientIdentity  # noqa: F401
from estatechain.sdk.inquiries import InquiryMethods
from estatechain.sdk.materials import MaterialMethods
from estatechain.sdk.proofs import Block, ProofMethods, VerifiedInclusion
from estatechain.sdk.responses import Deliveries, InquiryAnswer, InquiryEntry, RemovedWebhook, Webhook  # noqa: F401
from estatechain.sdk.signing import RequestTarget, SignedTransaction, sign_request, sign_transaction  # noqa: F401
from estatechain.sdk.transactions import TxStatus
from estatechain.sdk.webhooks import WebhookMethods
from estatechain.sdk.workflow import PreparedPayload

__all__ = ["Block", "Client", "PreparedCertificate", "PreparedPayload", "TxStatus", "VerifiedInclusion"]


class Client(InquiryMethods, CertificateMethods, MaterialMethods, ProofMethods, DirectoryMethods, WebhookMethods,
             EventMethods):
    """An authenticated asyncio client of one node. Use ``async with Client(...) as c:``."""
