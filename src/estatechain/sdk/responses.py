"""Typed answers of the node's inquiry, webhook and certificate endpoints, as the SDK returns them.

Each is a frozen value read from the JSON the API documents (``/openapi.json``); the client's methods
build them. ``InquiryAnswer.of`` also checks what can be checked without the consortium's genesis: that
the registry's signature over the canonical bytes verifies with the certificate sent, that those bytes
are the answer's RFC 8785 form, and that the answer is for this chain and this inquiry. Whether that
certificate is the registry node's (issued by the registry's CA in genesis) is the caller's to check
with ``certificate_der``: the SDK ships without the genesis.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, fields
from typing import Any, Final, TypeVar

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto import x509
from estatechain.crypto.suites import SignatureSuite
from estatechain.errors import EstatechainError
from estatechain.sdk.errors import ProofInvalid

ANSWER_TYPE: Final = "estatechain.inquiry-answer.v1"
"""The type tag of an inquiry answer (``node.inquiry_answers.ANSWER_TYPE``, which the SDK cannot import)."""

_V = TypeVar("_V")


def picked(kind: type[_V], data: dict[str, Any]) -> _V:
    """``kind`` from the JSON object's members of its field names: a member a newer node adds is ignored.

    Raises:
        KeyError: a member the value needs is missing.

    """
    return kind(**{field.name: data[field.name] for field in fields(kind)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class InquiryAnswer:
    """A registry-signed inquiry answer whose signature and context were checked here.

    ``answer`` is the document (``answer`` FULL or LIMITED, ``height`` it answers for, ``result`` …);
    ``canonical`` the exact bytes signed, ``signature`` the registry node's signature over them and
    ``certificate_der`` the certificate it was checked with.
    """

    answer: dict[str, JSONValue]
    canonical: bytes
    signature: bytes
    certificate_der: bytes

    @staticmethod
    def of(data: Any, *, suite: SignatureSuite, chain_id: str, inquiry_id: str) -> InquiryAnswer:  # noqa: ANN401
        """Read and check ``GET /v1/inquiries/{inquiry_id}/answer``'s body.

        Raises:
            ProofInvalid: the signature does not verify with the certificate sent, the bytes are not the
                answer's canonical form, or the answer is of another type, chain, inquiry or signer.

        """
        try:
            answer = data["answer"]
            signed = str(data["canonical"]).encode("utf-8")
            signature = base64.b64decode(str(data["signature"]), validate=True)
            certificate_der = base64.b64decode(str(data["certificate"]), validate=True)
            key = x509.public_key_bytes(x509.load_certificate(certificate_der))
        except (KeyError, TypeError, binascii.Error, EstatechainError) as exc:
            raise ProofInvalid(f"the answer to inquiry {inquiry_id} is not a signed answer: {exc}") from None
        if not isinstance(answer, dict) or canonical.encode(answer) != signed:
            raise ProofInvalid(f"the answer to inquiry {inquiry_id} is not the canonical form of the bytes signed")
        if not suite.verify(key, signed, signature):
            raise ProofInvalid(f"the registry's signature on the answer to inquiry {inquiry_id} does not verify")
        expected = {"type": ANSWER_TYPE, "chain_id": chain_id, "inquiry_id": inquiry_id,
                    "signer": x509.fingerprint(certificate_der)}
        wrong = sorted(name for name, value in expected.items() if answer.get(name) != value)
        if wrong:
            raise ProofInvalid(f"the answer to inquiry {inquiry_id} names another {', '.join(wrong)} than "
                               "asked for: it is not this inquiry's answer on this chain")
        return InquiryAnswer(answer=answer, canonical=signed, signature=signature, certificate_der=certificate_der)


@dataclass(frozen=True, slots=True, kw_only=True)
class InquiryEntry:
    """One inquiry of a unit, granted or refused (``GET /v1/units/{unit}/inquiries``)."""

    inquiry_id: str
    requester_org: str
    requester_role: str | None
    basis: str | None
    purpose: str | None
    outcome: str
    answer: str | None
    released: list[str] | None
    as_of_height: int | None
    at_ms: int | None
    code: str | None

    @staticmethod
    def of(data: dict[str, Any]) -> InquiryEntry:
        """From one entry of the node's list."""
        members: dict[str, Any] = {field.name: data.get(field.name) for field in fields(InquiryEntry)}
        return InquiryEntry(**members)


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """Where the node POSTs an org's events (``GET``/``POST /v1/webhooks``)."""

    org: str
    url: str
    registered_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemovedWebhook(Webhook):
    """The registration ``DELETE /v1/webhooks`` removed, and how many events were still waiting.

    The ``dropped`` events stay on the ledger: read them with ``events`` from a cursor.
    """

    dropped: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One delivery attempt of a webhook event; ``outcome`` is delivered, retry or abandoned."""

    id: int
    event_id: str
    url: str
    attempt: int
    at_ms: int
    outcome: str
    http_status: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliveries:
    """A page of an org's delivery log and how many events still wait.

    Newest first without ``after``; oldest first with it, and ``next_after`` the ``after`` of the next
    page (None at the end of the log).
    """

    org: str
    pending: int
    deliveries: tuple[Delivery, ...]
    next_after: int | None

    @staticmethod
    def of(data: dict[str, Any]) -> Deliveries:
        """From ``GET /v1/webhooks/deliveries``'s body."""
        return Deliveries(org=data["org"], pending=data["pending"], next_after=data.get("next_after"),
                          deliveries=tuple(picked(Delivery, row) for row in data["deliveries"]))
