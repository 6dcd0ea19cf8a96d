"""The asyncio client of an org node: sign, submit, wait for commit, query, verify proofs locally.

One implementation (this module); ``SyncClient`` in ``sync.py`` is a thin blocking wrapper. Every
request is signed with the caller's own key (RFC 9421); every transaction is built and signed here,
on the caller's side. ``verify_inclusion`` trusts nothing the node says about hashes: it recomputes
the block hash from the header, the tx-log leaf from the envelope bytes it sent and the committed
result, and checks the RFC 9162 audit path against the header's tree size and root.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.merkle import leaf_hash, verify_inclusion
from estatechain.crypto.suites import get_suite
from estatechain.errors import EstatechainError
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.envelope import TX_TYPE, build_envelope, parse_envelope
from estatechain.ledger.results import TxResult, leaf_bytes
from estatechain.sdk.errors import CommitTimeout, ProofInvalid, SdkError, ServerError, server_error
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.responses import Deliveries, InquiryAnswer, InquiryEntry, RemovedWebhook, Webhook, picked
from estatechain.sdk.signing import SUITE, RequestTarget, SignedTransaction, sign_request, sign_transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class TxStatus:
    """A transaction's status as the node reports it."""

    tx_id: str
    status: str
    result: str | None = None
    code: str | None = None
    message: str | None = None
    detail: dict[str, Any] | None = None
    height: int | None = None
    seq: int | None = None
    position: int | None = None

    @property
    def committed(self) -> bool:
        """True once a block holds the transaction."""
        return self.status == "committed"

    @property
    def valid(self) -> bool:
        """True when committed and valid."""
        return self.result == "valid"


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A committed block; ``header.hash`` has been checked against ``hash``."""

    hash: str
    header: BlockHeader
    txs: tuple[TxStatus, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedInclusion:
    """What ``verify_inclusion`` established: this leaf is in the tree that ``header`` commits to."""

    tx_id: str
    seq: int
    header: BlockHeader
    block_hash: str
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedPayload:
    """An unsigned payload from ``POST /v1/payloads/<step>``, checked locally before it is signed.

    ``canonical`` are the exact bytes to sign (they re-encode from ``payload``), ``tx_id`` their hash.
    """

    command: str
    payload: dict[str, JSONValue]
    canonical: bytes
    tx_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedCertificate:
    """A certificate the registry's node built and signed (``POST /v1/certificates``), and its issue payload.

    ``issue`` is the unsigned ``application.issue`` payload carrying the document's hash, checked here like
    any prepared payload; the issuer signs it with ``sign_prepared`` and submits it.
    """

    certificate: dict[str, Any]
    issue: PreparedPayload


class Client:
    """An authenticated asyncio client of one node. Use ``async with Client(...) as c:``."""

    def __init__(  # noqa: PLR0913  (keywords after the two essentials; each has a default)
        self,
        base_url: str,
        identity: ClientIdentity,
        *,
        chain_id: str | None = None,
        node_org: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        include_certificate: bool = True,
    ) -> None:
        """``chain_id`` and ``node_org`` (the org whose node ``base_url`` is) are asked of the node when not given.

        Every request is signed for that node (``RequestTarget``): no other node accepts it.
        """
        self.identity = identity
        self._chain_id = chain_id
        self._node_org = node_org
        self._include_certificate = include_certificate
        self._suite = get_suite(SUITE)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- plumbing ----------------------------------------------------------------------------------------

    async def chain_id(self) -> str:
        """The consortium's chain id (from ``/v1/health`` on first use unless given)."""
        if self._chain_id is None:
            return (await self._discover()).chain_id
        return self._chain_id

    async def target(self) -> RequestTarget:
        """The node this client's requests are signed for (from ``/v1/health`` on first use unless given)."""
        if self._chain_id is None or self._node_org is None:
            return await self._discover()
        return RequestTarget(chain_id=self._chain_id, node_org=self._node_org)

    async def _discover(self) -> RequestTarget:
        """Fill in the chain id and node org not given, from the node's unsigned ``/v1/health``.

        Raises:
            SdkError: the node does not name both there (a node older than this SDK).

        """
        health = await self._send("GET", "/v1/health", signed=False)
        chain_id, node_org = (health.get(k) if isinstance(health, dict) else None for k in ("chain_id", "org_id"))
        if not isinstance(chain_id, str) or not isinstance(node_org, str):
            raise SdkError(f"the node at {self._http.base_url} does not name its chain_id and org_id in /v1/health; "
                           "requests are signed for one node's org (docs/api.md): upgrade the node, or pass "
                           "chain_id and node_org to the client")
        chain_id = chain_id if self._chain_id is None else self._chain_id
        node_org = node_org if self._node_org is None else self._node_org
        self._chain_id, self._node_org = chain_id, node_org
        return RequestTarget(chain_id=chain_id, node_org=node_org)

    def build_request(  # noqa: PLR0913  (keywords only; each overrides one part of the request)
        self, method: str, path: str, *, params: Mapping[str, int | str] | None = None,
        content: bytes | None = None, target: RequestTarget, created_s: int | None = None, nonce: str | None = None,
        content_type: str = "application/json",
    ) -> httpx.Request:
        """A request signed with this identity for ``target`` (exposed so tests and integrators can inspect it)."""
        headers = {"content-type": content_type} if content is not None else {}
        request = self._http.build_request(method, path, params=params, content=content, headers=headers)
        sign_request(request, self.identity, target=target,
                     created_s=int(time.time()) if created_s is None else created_s, nonce=nonce,
                     include_certificate=self._include_certificate)
        return request

    async def send(self, request: httpx.Request) -> Any:  # noqa: ANN401  (decoded JSON of any documented shape)
        """Send a built request; return the decoded JSON body or raise the node's error.

        Raises:
            ServerError: the node answered with an error (``detail`` as sent, ``retry_after_s``).
            SdkError: no answer: the node cannot be reached, or did not answer in time (the message says which).

        """
        return await self._exchange(request)

    async def _exchange(self, request: httpx.Request, *, tx_id: str | None = None) -> Any:  # noqa: ANN401  (JSON)
        """``send``; for a submission (``tx_id``), a failure after the request left says the tx may have committed."""
        try:
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise SdkError(self._no_answer(request, exc, tx_id=tx_id)) from exc
        try:
            data = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            data = None
        if response.status_code >= 400:
            raise _server_error(response, data)
        return data

    def _no_answer(self, request: httpx.Request, exc: httpx.HTTPError, *, tx_id: str | None = None) -> str:
        """What went wrong when ``request`` got no answer, in words (httpx's own message is often empty)."""
        where = f"the node at {self._http.base_url}"
        what = f"{request.method} {request.url.path}"
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            text = f"cannot reach {where}: {reason} ({type(exc).__name__})"
            return text + (f"; transaction {tx_id} was not sent" if tx_id is not None else "")
        if isinstance(exc, httpx.TimeoutException):
            limit = (request.extensions.get("timeout") or {}).get("read")
            text = (f"{where} did not answer {what} in time ({type(exc).__name__}: no answer within "
                    f"{limit if limit is not None else '?'} s; raise timeout_s if the node is only slow)")
        else:
            text = f"{where} broke off {what}: {reason} ({type(exc).__name__})"
        if tx_id is not None:
            text += (f"; transaction {tx_id} may have been received and even committed: ask status({tx_id!r}) "
                     "before doing anything else (submitting the same envelope again is safe: it returns the "
                     "first submission's status)")
        return text

    async def _stream(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` for a streamed body; an error answer is raised (and its response closed)."""
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise SdkError(self._no_answer(request, exc)) from exc
        if response.status_code >= 400:
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise SdkError(self._no_answer(request, exc)) from exc
            finally:
                await response.aclose()
            try:
                data = orjson.loads(response.content) if response.content else None
            except orjson.JSONDecodeError:
                data = None
            raise _server_error(response, data)
        return response

    async def _send(self, method: str, path: str, *, params: Mapping[str, int | str] | None = None,  # noqa: PLR0913
                    content: bytes | None = None, signed: bool = True,
                    content_type: str = "application/json") -> Any:  # noqa: ANN401  (decoded JSON)
        if not signed:
            headers = {"content-type": content_type} if content is not None else {}
            return await self.send(self._http.build_request(method, path, params=params, content=content,
                                                            headers=headers))
        return await self.send(self.build_request(method, path, params=params, content=content,
                                                  target=await self.target(), content_type=content_type))

    # -- transactions ------------------------------------------------------------------------------------

    async def sign(self, command: str, body: Mapping[str, JSONValue], *, nonce: str | None = None,
                   created_at_ms: int | None = None) -> SignedTransaction:
        """Build and sign a transaction locally with this identity."""
        return sign_transaction(
            self.identity, chain_id=await self.chain_id(), command=command, body=body, nonce=nonce,
            created_at_ms=time.time_ns() // 1_000_000 if created_at_ms is None else created_at_ms,
            include_certificate=self._include_certificate,
        )

    async def submit(self, envelope: bytes, *, wait_s: float = 0) -> TxStatus:
        """Submit signed envelope bytes; the same envelope again returns the first submission's status.

        With ``wait_s`` the node holds the answer until the commit (at most 30 s and its ``max_wait_s``),
        so this request may take ``wait_s`` longer than the client's ``timeout_s``: it is given that long.

        Raises:
            SdkError: no answer in time, or the connection broke after the envelope was sent: the message
                names the tx id, which may have been committed; ask ``status(tx_id)`` before anything else.

        """
        return await self._submit_to("/v1/transactions", envelope, wait_s)

    async def _submit_to(self, path: str, envelope: bytes, wait_s: float) -> TxStatus:
        """POST signed envelope bytes to ``path`` (``/v1/transactions`` or ``/v1/inquiries``), waiting ``wait_s``."""
        request = self.build_request("POST", path, content=envelope, target=await self.target(),
                                     params={"wait": str(wait_s)} if wait_s else None)
        if wait_s:
            timeout = self._http.timeout
            request.extensions["timeout"] = httpx.Timeout(
                connect=timeout.connect, write=timeout.write, pool=timeout.pool,
                read=None if timeout.read is None else timeout.read + wait_s).as_dict()
        return _status(await self._exchange(request, tx_id=self._tx_id(envelope)))

    def _tx_id(self, envelope: bytes) -> str:
        """The tx id of envelope bytes, to name in an error; ``<unreadable envelope>`` when they do not parse."""
        try:
            return parse_envelope(envelope, suite=self._suite, max_bytes=len(envelope)).tx_id
        except EstatechainError:
            return "<unreadable envelope>"

    async def status(self, tx_id: str) -> TxStatus:
        """The transaction's current status."""
        return _status(await self._send("GET", f"/v1/transactions/{tx_id}"))

    async def wait_for_commit(self, tx_id: str, *, timeout_s: float = 30.0, poll_s: float = 0.05) -> TxStatus:
        """Poll until the transaction is committed.

        Raises:
            CommitTimeout: still pending after ``timeout_s``.

        """
        deadline = time.monotonic() + timeout_s
        while True:
            status = await self.status(tx_id)
            if status.committed:
                return status
            if time.monotonic() >= deadline:
                raise CommitTimeout(f"transaction {tx_id} still pending after {timeout_s} s")
            await asyncio.sleep(poll_s)
            poll_s = min(poll_s * 2, 1.0)

    async def submit_and_wait(self, command: str, body: Mapping[str, JSONValue], *,
                              timeout_s: float = 30.0) -> tuple[SignedTransaction, TxStatus]:
        """Sign, submit and wait for the commit; returns the signed transaction and its committed status."""
        signed = await self.sign(command, body)
        status = await self.submit(signed.envelope)
        if not status.committed:
            status = await self.wait_for_commit(signed.tx_id, timeout_s=timeout_s)
        return signed, status

    # -- typed workflow steps (the node prepares, the caller signs) ---------------------------------------

    async def prepare(self, step: str, **fields: Any) -> PreparedPayload:  # noqa: ANN401  (JSON of the step)
        """The unsigned payload of workflow ``step`` (``confirm``, ``not_accept`` …) with ``fields`` as its body.

        Nothing the node returns is trusted blindly: the payload must name this identity as signer and
        this chain, and its canonical bytes and tx id are recomputed here.

        Raises:
            ProofInvalid: the node's payload is not what this client asked to sign.
            ServerError: the node refused it, e.g. 413 ``PAYLOAD_TOO_LARGE`` when the envelope, once signed,
                would exceed the consortium's ``max_tx_bytes`` (``detail``: ``size`` of the envelope,
                ``payload_size``, ``limit``); nothing was signed and the body must shrink by the difference.

        """
        path = "/v1/payloads/" + step.replace("_", "-")
        return await self._checked(step, await self._send("POST", path, content=orjson.dumps(fields)), fields)

    async def _checked(self, step: str, data: Any, fields: Mapping[str, Any]) -> PreparedPayload:  # noqa: ANN401
        """The node's prepared payload ``data`` of ``step``, checked against this identity, chain and ``fields``.

        Raises:
            ProofInvalid: the payload is not what this client asked to sign.

        """
        payload: dict[str, JSONValue] = data["payload"]
        encoded = canonical.encode(payload)
        if encoded != str(data["canonical"]).encode("utf-8") or self._suite.hash(encoded).hex() != data["tx_id"]:
            raise ProofInvalid(f"the node's {step} payload does not match its canonical bytes or tx id")
        if (payload.get("signer") != self.identity.fingerprint or payload.get("chain_id") != await self.chain_id()
                or payload.get("type") != TX_TYPE or payload.get("command") != data["command"]):
            raise ProofInvalid(f"the node's {step} payload names another signer, chain, type or command")
        body = payload.get("body")
        if not isinstance(body, dict) or any(body.get(k) != _without_none(v) for k, v in fields.items()
                                             if k not in {"nonce", "created_at"} and v is not None):
            raise ProofInvalid(f"the node's {step} payload body differs from the fields sent")
        return PreparedPayload(command=str(data["command"]), payload=payload, canonical=encoded,
                               tx_id=str(data["tx_id"]))

    def sign_prepared(self, prepared: PreparedPayload) -> SignedTransaction:
        """Sign a prepared payload locally with this identity's key (the node never signs for a caller)."""
        payload = prepared.payload
        body = payload["body"]
        assert isinstance(body, dict)  # checked by prepare
        envelope = build_envelope(
            suite=self._suite, private_key=self.identity.private_key, chain_id=str(payload["chain_id"]),
            signer=str(payload["signer"]), command=str(payload["command"]), body=body, nonce=str(payload["nonce"]),
            created_at_ms=int(str(payload["created_at"])),
            certificate=self.identity.cert_der if self._include_certificate else None,
        )
        return SignedTransaction(envelope=envelope, tx_id=prepared.tx_id)

    async def step(self, step: str, *, timeout_s: float = 30.0,
                   **fields: Any) -> tuple[SignedTransaction, TxStatus]:  # noqa: ANN401  (JSON of the step)
        """Prepare workflow ``step``, sign it here, submit it and wait for the commit."""
        signed = self.sign_prepared(await self.prepare(step, **fields))
        status = await self.submit(signed.envelope)
        if not status.committed:
            status = await self.wait_for_commit(signed.tx_id, timeout_s=timeout_s)
        return signed, status

    # -- inquiries (domain.md §7: every inquiry is a transaction; the registry signs the answer) ----------

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
        status = await self.submit_inquiry(signed.envelope)
        if not status.committed:
            status = await self.wait_for_commit(signed.tx_id, timeout_s=timeout_s)
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
        data = await self._send("GET", f"/v1/inquiries/{_segment(tx_id)}/answer")
        return InquiryAnswer.of(data, suite=self._suite, chain_id=await self.chain_id(), inquiry_id=tx_id)

    async def unit_inquiries(self, unit_number: str) -> tuple[InquiryEntry, ...]:
        """Who looked at a unit: every inquiry of it in ledger order, granted or refused.

        For the unit's current owners, the buyer holding its purchase notice and the regulator's auditor
        (403 ``FORBIDDEN`` for anyone else).
        """
        data = await self._send("GET", f"/v1/units/{_segment(unit_number)}/inquiries")
        return tuple(InquiryEntry.of(entry) for entry in data["inquiries"])

    # -- certificates (design §3.20; docs/certificates.md) ---------------------------------------------

    async def prepare_certificate(self, application_id: str, *, nonce: str | None = None,
                                  created_at: int | None = None) -> PreparedCertificate:
        """The registry issuer's step: the node builds and signs the certificate of a RECORDED application.

        Its ``issue`` payload (``application.issue`` with the document's hash) is checked here like any
        prepared payload, and must carry the hash of the certificate returned with it.

        Raises:
            ServerError: 403 for anyone but the registry's ``registry.issuer``, 404 for an unknown
                application, 409 ``NOT_ISSUABLE`` when it is not RECORDED or was issued already.
            ProofInvalid: the issue payload is not for this identity, chain, application or document.

        """
        body = {k: v for k, v in (("application_id", application_id), ("nonce", nonce), ("created_at", created_at))
                if v is not None}
        data = await self._send("POST", "/v1/certificates", content=orjson.dumps(body))
        certificate: dict[str, Any] = data["certificate"]
        issue = await self._checked("issue", data["issue"], {
            "application_id": application_id, "document_sha256": certificate.get("document_sha256")})
        return PreparedCertificate(certificate=certificate, issue=issue)

    async def issue_certificate(self, application_id: str, *,
                                timeout_s: float = 30.0) -> tuple[PreparedCertificate, SignedTransaction, TxStatus]:
        """``prepare_certificate``, sign the issue payload here, submit it and wait for the commit.

        Raises:
            CommitTimeout: still pending after ``timeout_s`` (it may commit later: ask ``status``).

        """
        prepared = await self.prepare_certificate(application_id)
        signed = self.sign_prepared(prepared.issue)
        status = await self.submit(signed.envelope)
        if not status.committed:
            status = await self.wait_for_commit(signed.tx_id, timeout_s=timeout_s)
        return prepared, signed, status

    async def certificate(self, number: str) -> dict[str, Any]:
        """An issued certificate's file (the signed record and its ledger evidence).

        For the registry and the parties the certificate names: it carries their names.

        Raises:
            ServerError: 403 for anyone else, 404 for an unknown number, 409 ``NOT_ISSUED``.

        """
        data: dict[str, Any] = await self._send("GET", f"/v1/certificates/{_segment(number)}")
        return data

    async def certificate_pdf(self, number: str, target: Path) -> int:
        """Stream an issued certificate's signed PDF into ``target``; its size (``certificate`` says who may)."""
        return await self.download(f"/v1/certificates/{_segment(number)}/pdf", target)

    async def certificate_status(self, number: str, *, sha256: str | None = None) -> dict[str, Any]:
        """The public check of a certificate number (unsigned, rate-limited and recorded by the node).

        The number alone yields ``status`` (VALID, CANCELLED, CORRECTED …), ``document_sha256`` and
        ``issued_ms``; with the record hash of its QR code (``sha256``) also ``content``, names masked.

        Raises:
            ServerError: 404 for an unknown number or a hash the ledger does not hold for it, 429
                ``RATE_LIMITED`` (``retry_after_s``).

        """
        params: dict[str, int | str] = {"number": number}
        if sha256 is not None:
            params["sha256"] = sha256
        data: dict[str, Any] = await self._send("GET", "/v1/certificates/verify", params=params, signed=False)
        return data

    async def verify_certificate_file(self, data: bytes) -> dict[str, Any]:
        """The public check of a certificate file (PDF or JSON, 2 MiB at most; unsigned, rate-limited).

        The answer: ``ok``, ``kind``, the current ``status``, the first ``failed`` check, every check and
        the file's own ``content``.

        Raises:
            ServerError: 400 ``BAD_FILE`` (empty or too large), 429 ``RATE_LIMITED``.

        """
        report: dict[str, Any] = await self._send("POST", "/v1/certificates/verify", content=data, signed=False,
                                                  content_type="application/octet-stream")
        return report

    # -- webhooks (docs/api.md, Events) --------------------------------------------------------------------

    async def register_webhook(self, url: str) -> Webhook:
        """Register (or replace) where the node POSTs the caller org's events; the org's ``org.admin`` only.

        Raises:
            ServerError: 400 ``INVALID_INPUT`` for a URL the node will not post to (``https://`` only, or
                ``http://`` to a loopback host), 403 for another role or a person.

        """
        return picked(Webhook, await self._send("POST", "/v1/webhooks", content=orjson.dumps({"url": url})))

    async def webhook(self) -> Webhook:
        """The caller org's webhook registration (404 ``NOT_FOUND`` when it has none)."""
        return picked(Webhook, await self._send("GET", "/v1/webhooks"))

    async def remove_webhook(self) -> RemovedWebhook:
        """Remove the caller org's webhook (its ``org.admin`` only); ``dropped`` events were still waiting.

        They stay on the ledger: read them with ``events`` from a cursor. 404 when the org has none.
        """
        return picked(RemovedWebhook, await self._send("DELETE", "/v1/webhooks"))

    async def webhook_deliveries(self, *, limit: int = 100, event_id: str | None = None,
                                 after: int | None = None) -> Deliveries:
        """A page of the caller org's delivery log (optionally of one event) and how many events still wait.

        Newest first; with ``after`` (0: from the first) oldest first, ``next_after`` naming the next
        page, so a reader pages through the whole log: ``after=0``, then ``after=page.next_after`` until
        it is None.
        """
        params: dict[str, int | str] = {"limit": limit}
        if event_id is not None:
            params["event_id"] = event_id
        if after is not None:
            params["after"] = after
        return Deliveries.of(await self._send("GET", "/v1/webhooks/deliveries", params=params))

    # -- queries -----------------------------------------------------------------------------------------

    async def lookup_party(self, id_type: str, id_number: str) -> str:
        """The party id of an ID document, asked of the identity authority's node (design §3.18).

        Raises:
            SdkError: refused (V5 format, role, rate limit) or not the identity authority's node.

        """
        body = orjson.dumps({"id_number": id_number, "id_type": id_type})
        return str((await self._send("POST", "/v1/parties/lookup", content=body))["party_id"])

    async def upload_material(self, data: bytes) -> dict[str, Any]:
        """Store a material (PDF, OFD, JPEG, PNG) at the node; ``sha256``, ``size`` and ``media_type`` to cite it.

        The hash is returned once the file is durable at the node; transactions cite materials by it.
        The bytes go as ``application/octet-stream``, as the API documents (the node judges the type by
        the content, never by this header).
        """
        return dict(await self._send("POST", "/v1/materials", content=data, content_type="application/octet-stream"))

    async def download_material(self, sha256: str, target: Path) -> int:
        """Stream a material's bytes into ``target``; their size. The uploading org and the registry only.

        A material is named by its hash, so the bytes are checked against it here: a node that sends
        other bytes gets ``ProofInvalid`` and ``target`` is removed.

        Raises:
            ServerError: 403 ``FORBIDDEN`` for another org (whether or not the node holds it), 404.
            ProofInvalid: the bytes received do not hash to ``sha256``.

        """
        digest = hashlib.sha256()
        size = await self._download(f"/v1/materials/{_segment(sha256)}", target, digest)
        if digest.hexdigest() != sha256:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise ProofInvalid(f"the node sent {size} bytes for material {sha256} that hash to "
                               f"{digest.hexdigest()}: not that material (the file was not kept)")
        return size

    async def download(self, path: str, target: Path) -> int:
        """Stream a signed GET of a binary resource (a join snapshot, a PDF) into ``target``; its size.

        Raises:
            SdkError: the node is unreachable or answered with an error.

        """
        return await self._download(path, target, None)

    async def _download(self, path: str, target: Path, digest: hashlib._Hash | None) -> int:
        """``download``, feeding each chunk to ``digest`` as well when one is given."""
        response = await self._stream(self.build_request("GET", path, target=await self.target()))
        try:
            size = 0
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
                    if digest is not None:
                        digest.update(chunk)
                    size += len(chunk)
            return size
        finally:
            await response.aclose()

    async def block(self, height: int | str) -> Block:
        """The block at ``height`` (or ``"head"``), its hash checked against its header.

        Raises:
            ProofInvalid: the header does not hash to the hash the node gave.

        """
        data = await self._send("GET", f"/v1/blocks/{height}")
        fields = {k: v for k, v in data["header"].items() if k != "type"}
        header = BlockHeader(**fields)
        if header.hash(self._suite) != data["hash"]:
            raise ProofInvalid(f"block {height}: header does not hash to {data['hash']}")
        return Block(hash=data["hash"], header=header, txs=tuple(_status(t) for t in data["txs"]))

    async def head(self) -> Block:
        """The last committed block."""
        return await self.block("head")

    async def members(self) -> dict[str, Any]:
        """Consortium members and the caller as the node sees it."""
        data: dict[str, Any] = await self._send("GET", "/v1/members")
        return data

    async def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """The node's RFC 9162 inclusion proof of tx-log leaf ``seq`` (unverified)."""
        data: dict[str, Any] = await self._send("GET", f"/v1/proofs/inclusion/{seq}",
                                                params={"size": size} if size is not None else None)
        return data

    async def consistency_proof(self, old_size: int, size: int | None = None) -> dict[str, Any]:
        """The node's RFC 9162 consistency proof between two tree sizes (unverified)."""
        params: dict[str, int | str] = {"from": old_size}
        if size is not None:
            params["to"] = size
        data: dict[str, Any] = await self._send("GET", "/v1/proofs/consistency", params=params)
        return data

    async def verify_inclusion(self, envelope: bytes, status: TxStatus) -> VerifiedInclusion:
        """Check locally that ``envelope``, with its committed result, is in the log its block commits to.

        Raises:
            ProofInvalid: the header, the recomputed leaf or the audit path does not check out.

        """
        if not status.committed or status.height is None or status.seq is None or status.position is None:
            raise ProofInvalid(f"transaction {status.tx_id} is not committed yet")
        block = await self.block(status.height)
        h = self._suite.hash
        leaf = leaf_bytes(tx_id=status.tx_id, envelope_hash=h(envelope).hex(), height=status.height,
                          position=status.position,
                          result=TxResult(valid=status.result == "valid", code=status.code))
        data = await self.inclusion_proof(status.seq, block.header.txlog_size)
        proof = tuple(bytes.fromhex(p) for p in data["proof"])
        if not verify_inclusion(h, leaf_hash(h, leaf), status.seq, block.header.txlog_size, proof,
                                bytes.fromhex(block.header.txlog_root)):
            raise ProofInvalid(f"the inclusion proof of {status.tx_id} does not verify against block "
                               f"{status.height}'s tx-log root")
        return VerifiedInclusion(tx_id=status.tx_id, seq=status.seq, header=block.header, block_hash=block.hash,
                                 proof=proof)

    # -- events ------------------------------------------------------------------------------------------

    async def events(self, after: str | None = None, *, heartbeat_s: int = 15) -> AsyncGenerator[dict[str, Any]]:
        """The caller org's events (``GET /v1/events``, Server-Sent Events) as they commit, forever.

        ``after`` is the ``cursor`` of the last event handled (``"0.0"``: from the first block; None:
        only new events). Each item is the event JSON (``event_id``, ``cursor``, ``kind``, ``data`` …);
        keep the last ``cursor`` to resume after a disconnect. Events may repeat across reconnects
        only if a cursor older than the last one is given: de-duplicate on ``event_id``.

        A client that falls 1,000 blocks behind is sent ``event: overflow`` and the node closes the
        stream; this generator then reconnects from the last cursor it yielded, so a slow consumer
        loses nothing and needs no code of its own for it. With ``after=None`` and no event yielded
        yet, that is the position the node named when the stream opened (its ``id:``), so the events
        committed in between are not skipped either.

        Raises:
            ServerError: the node refused the stream: e.g. 400 ``INVALID_INPUT`` for a cursor beyond
                its last block (a cursor kept from another network: ``detail`` has ``head``).
            SdkError: the node cannot be reached, went silent (no heartbeat within ``3 × heartbeat_s``),
                broke the connection or closed the stream; the message names the cursor to resume from.

        """
        cursor = after
        while True:
            response = await self._open_events(cursor, heartbeat_s)
            overflow = False
            try:
                async for kind, position, decoded in _messages(response):
                    if kind == "overflow":
                        overflow = True
                        break
                    if isinstance(decoded, dict) and "event_id" in decoded:
                        cursor = str(decoded.get("cursor", cursor))
                        yield decoded
                    elif position is not None and cursor is None:  # where the node began "only new events"
                        cursor = position
            except httpx.TimeoutException as exc:
                raise SdkError(f"the event stream from the node at {self._http.base_url} went silent: nothing, not "
                               f"even a heartbeat, for {heartbeat_s * 3} s (3 × heartbeat_s; {type(exc).__name__}): "
                               f"the node is paused or unreachable; resume with after={cursor!r}") from exc
            except httpx.HTTPError as exc:
                raise SdkError(f"the event stream from the node at {self._http.base_url} broke off: "
                               f"{str(exc) or type(exc).__name__} ({type(exc).__name__}); resume with "
                               f"after={cursor!r}") from exc
            finally:
                await response.aclose()
            if not overflow:
                raise SdkError(f"the node at {self._http.base_url} closed the event stream; "
                               f"resume with after={cursor!r}")
            if cursor is None:
                raise SdkError(f"the node at {self._http.base_url} ended the event stream (overflow: the consumer "
                               "fell behind) before any event arrived and without naming where the stream "
                               "began, so the events committed since it opened cannot be resumed from here and "
                               "would be lost; resume with after= the cursor of the last event you handled "
                               "(after='0.0' replays them all)")

    async def _open_events(self, cursor: str | None, heartbeat_s: int) -> httpx.Response:
        """The response of ``GET /v1/events`` after ``cursor``; a stream that cannot open names the cursor.

        Raises:
            ServerError: the node refused it (its code).
            SdkError: the node cannot be reached; the message names the cursor to resume from.

        """
        params: dict[str, int | str] = {"heartbeat": heartbeat_s}
        if cursor is not None:
            params["after"] = cursor
        request = self.build_request("GET", "/v1/events", params=params, target=await self.target())
        request.extensions["timeout"] = httpx.Timeout(10.0, read=heartbeat_s * 3.0).as_dict()
        try:
            return await self._stream(request)
        except ServerError:
            raise
        except SdkError as exc:
            raise SdkError(f"{exc}; resume the event stream with after={cursor!r}") from exc


async def _messages(response: httpx.Response) -> AsyncGenerator[tuple[str, str | None, object]]:
    """Each Server-Sent Events message of ``response``: its ``event`` kind, ``id`` and decoded ``data``.

    Comments (heartbeats) and ``retry`` are skipped; a message without data has None as its data.
    """
    kind, position, data_lines = "", None, list[str]()
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
        elif line.startswith("id:"):
            position = line[3:].strip() or None
        elif not line:
            yield kind, position, orjson.loads("\n".join(data_lines)) if data_lines else None
            kind, position, data_lines = "", None, []


def _server_error(response: httpx.Response, data: object) -> ServerError:
    """The node's error answer as an exception: its code, message and ``detail`` (JSON types kept)."""
    retry_after_s = _retry_after_s(response.headers.get("retry-after"))
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        detail = data.get("detail")
        return server_error(response.status_code, data["error"], str(data.get("message", "")),
                            detail if isinstance(detail, dict) else None, retry_after_s=retry_after_s)
    return server_error(response.status_code, f"HTTP_{response.status_code}", response.text[:200],
                        retry_after_s=retry_after_s)


def _retry_after_s(value: str | None) -> int | None:
    """``Retry-After`` in whole seconds: delay-seconds as sent, an HTTP-date as seconds from now (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, int((when - datetime.now(tz=UTC)).total_seconds() + 0.999))


def _segment(value: str) -> str:
    """``value`` as one URL path segment: a certificate number's brackets and Chinese percent-encoded, a ``/`` too."""
    return quote(value, safe="")


def _without_none(value: Any) -> Any:  # noqa: ANN401  (any JSON value)
    """``value`` with every object member whose value is None left out, at any depth.

    The node builds a step's body from its typed model without the unset (None) fields, nested ones
    included; what was sent is compared in that form, so leaving an optional field as None is not
    mistaken for a node that altered the payload.
    """
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value


def _status(data: Mapping[str, Any]) -> TxStatus:
    return TxStatus(tx_id=data["tx_id"], status=data["status"], result=data.get("result"), code=data.get("code"),
                    message=data.get("message"), detail=data.get("detail"), height=data.get("height"),
                    seq=data.get("seq"), position=data.get("position"))
