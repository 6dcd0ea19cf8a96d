"""Inquiries (domain.md §7): every inquiry is a transaction, and the registry signs its answer.

A module of its own because an inquiry is both a workflow step (prepared, signed, submitted to
``POST /v1/inquiries``) and a read whose answer is checked here (``InquiryAnswer.of``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from estatechain.sdk.responses import InquiryAnswer, InquiryEntry
from estatechain.sdk.signing import SignedTransaction
from estatechain.sdk.transactions import TxStatus
from estatechain.sdk.transport import path_segment
from estatechain.sdk.workflow import WorkflowMethods


class InquiryMethods(WorkflowMethods):
    """Inquire into a unit, fetch the signed answer, list who looked (a part of ``Client``)."""

    async def inquire(  # noqa: PLR0913  (keywords only: the inquiry's fields, each optional but the basis)
        self, *, basis: str, unit_number: str | None = None, certificate_number: str | None = None,
        purpose: str | None = None, requester_party: str | None = None, consent_ids: Sequence[str] | None = None,
        evidence_sha256: str | None = None, interest_kind: str | None = None, case_no: str | None = None,
        timeout_s: float = 30.0,
    ) -> tuple[SignedTransaction, TxStatus]:
        """Inquire into one unit: prepared at the node, signed here, submitted and waited for.

        The node checks the fields before anything is signed (422 naming a malformed one); the envelope
        goes to ``POST /v1/inquiries``; fetch the answer with ``inquiry_answer(tx_id)``.

        An inquiry the ledger does not entitle is still a valid transaction, outcome REFUSED, recorded
        so the unit's owner sees it; its answer is then refused (403 ``INQUIRY_REFUSED``).

        Raises:
            ServerError: the node refused to prepare or take it (422 ``VALIDATION_FAILED``, 403 for a role
                that may not inquire).
            CommitTimeout: still pending after ``timeout_s`` (it may commit later: ask ``status``).

        """
        fields: dict[str, Any] = {
            "basis": basis, "unit_number": unit_number, "certificate_number": certificate_number,
            "purpose": purpose, "requester_party": requester_party,
            "consent_ids": None if consent_ids is None else list(consent_ids), "evidence_sha256": evidence_sha256,
            "interest_kind": interest_kind, "case_no": case_no}
        signed = self.sign_prepared(await self.prepare("inquiry", **{k: v for k, v in fields.items()
                                                                     if v is not None}))
        status = await self._committed(signed.tx_id, await self.submit_inquiry(signed.envelope), timeout_s)
        return signed, status

    async def submit_inquiry(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """Submit this identity's own signed ``inquiry.request`` envelope to ``POST /v1/inquiries`` (as ``submit``).

        Raises:
            ServerError: 400 ``WRONG_COMMAND`` for another command, 403 when another key signed the envelope.
            SdkError: no answer, as for ``submit``.

        """
        return await self._submit_to("/v1/inquiries", envelope, wait_s)

    async def inquiry_answer(self, tx_id: str) -> InquiryAnswer:
        """The registry-signed answer of a committed, GRANTED inquiry, its signature and context checked here.

        Raises:
            ServerError: 403 ``INQUIRY_REFUSED`` (``detail.code`` says why) or ``FORBIDDEN`` (another org's
                inquiry), 409 ``INQUIRY_PENDING`` (ask again once it committed) or ``INQUIRY_NOT_COMMITTED``.
            ProofInvalid: the signature, the canonical bytes, the chain or the inquiry id does not check out.

        """
        data = await self._send("GET", f"/v1/inquiries/{path_segment(tx_id)}/answer")
        return InquiryAnswer.of(data, suite=self._suite, chain_id=await self.chain_id(), inquiry_id=tx_id)

    async def unit_inquiries(self, unit_number: str) -> tuple[InquiryEntry, ...]:
        """Who looked at a unit: every inquiry of it in ledger order, granted or refused.

        For the unit's current owners, the buyer holding its purchase notice and the regulator's auditor
        (403 ``FORBIDDEN`` for anyone else).
        """
        data = await self._send("GET", f"/v1/units/{path_segment(unit_number)}/inquiries")
        return tuple(InquiryEntry.of(entry) for entry in data["inquiries"])
