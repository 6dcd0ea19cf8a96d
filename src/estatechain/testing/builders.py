"""Signed transactions built the way a member's own system would: locally, with its own key.

Used by tests, the demo and the benchmarks. Nothing here is a shortcut around the ledger's checks:
every envelope it builds goes through the same admission as one from a bank's SDK.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import date

from estatechain.canonical import JSONValue
from estatechain.clock import Clock
from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import DevConsortium, Identity
from estatechain.ledger.envelope import build_envelope


class TxFactory:
    """Builds and signs envelopes for a development consortium's identities."""

    def __init__(self, consortium: DevConsortium, clock: Clock) -> None:
        self.consortium = consortium
        self.clock = clock
        self.suite = get_suite(consortium.genesis.suite)
        self._prefix = secrets.token_hex(6)
        self._counter = itertools.count()

    def identity(self, handle: str) -> Identity:
        """The identity with ``handle`` (``org/user``)."""
        return self.consortium.identities[handle]

    def fresh_nonce(self) -> str:
        """A nonce never used before by this factory."""
        return f"{self._prefix}-{next(self._counter):010d}"

    def sign(  # noqa: PLR0913  (each keyword overrides one envelope field for a test)
        self,
        identity: Identity,
        command: str,
        body: Mapping[str, JSONValue],
        *,
        nonce: str | None = None,
        created_at_ms: int | None = None,
        with_certificate: bool = True,
        chain_id: str | None = None,
    ) -> bytes:
        """An envelope for ``command`` signed by ``identity``."""
        return build_envelope(
            suite=self.suite,
            private_key=identity.private_key,
            chain_id=chain_id or self.consortium.genesis.chain_id,
            signer=identity.fingerprint,
            command=command,
            body=body,
            nonce=nonce or self.fresh_nonce(),
            created_at_ms=self.clock.now_ms() if created_at_ms is None else created_at_ms,
            certificate=identity.cert_der if with_certificate else None,
        )

    def note(self, identity: Identity, key: str, data: Mapping[str, JSONValue], *, if_absent: bool = False) -> bytes:
        """A ``note.put`` envelope."""
        return self.sign(identity, "note.put", {"data": dict(data), "if_absent": if_absent, "key": key})


def sample_stream(factory: TxFactory, count: int) -> Iterator[bytes]:
    """``count`` sample transactions from the consortium's writers.

    Every tenth asks to create a note that already exists (``if_absent``), so the stream shows both
    valid transactions and ones the contract marks invalid.
    """
    writers = [i for i in factory.consortium.identities.values() if i.role != "auditor"]
    for n in range(count):
        signer = writers[n % len(writers)]
        if n % 10 == 9:
            yield factory.note(signer, f"sample/{n - 9:07d}", {"n": n}, if_absent=True)
        else:
            yield factory.note(signer, f"sample/{n:07d}", {"n": n, "by": signer.handle})


def label_digest(label: str) -> str:
    """A stable 64-hex stand-in for a hash or id named by a test label (a document, a material)."""
    return hashlib.sha256(label.encode()).hexdigest()


def material_ref(kind: str) -> dict[str, JSONValue]:
    """A material reference as a filing cites it (type, SHA-256, size, media type), for a 200 KiB PDF."""
    return {"type": kind, "sha256": label_digest(f"material:{kind}"), "size": 204_800, "media_type": "application/pdf"}


def material_pdf(kind: str) -> bytes:
    """A tiny PDF standing for a material of ``kind`` (the store judges a file's type by its bytes)."""
    return f"%PDF-1.4\n% estatechain test material: {kind}\n%%EOF\n".encode()


async def with_uploaded_materials(
    body: Mapping[str, JSONValue], upload: Callable[[bytes], Awaitable[Mapping[str, JSONValue]]],
) -> dict[str, JSONValue]:
    """``body`` citing, for each material it names, a small PDF uploaded with ``upload`` (an SDK client's).

    A filing is prepared only when every material it cites is on the filer's node as uploaded, so
    tests that file through the API upload what ``material_ref`` only describes.
    """
    materials: list[JSONValue] = []
    for cited in body.get("materials", []) or []:  # type: ignore[union-attr]
        kind = str(cited["type"])  # type: ignore[index,call-overload]
        materials.append({"type": kind, **(await upload(material_pdf(kind)))})
    return {**body, "materials": materials}


def mortgage_first_body(  # noqa: PLR0913  (keywords only; each is one field of the filing)
    *, unit_number: str, party_id: str, record_ref: str | None, bank_party: str, title_number: str, contract: str,
    today: date,
) -> dict[str, JSONValue]:
    """The body of an ordinary mortgage first registration (CNY 1.2 M over 20 years from ``today``)."""
    return {
        "business_type": "mortgage.first", "unit_number": unit_number,
        "applicants": [{"party_id": party_id, "record_ref": record_ref, "capacity": "mortgagor"},
                       {"party_id": bank_party, "capacity": "mortgagee"}],
        "materials": [material_ref("APPLICATION_FORM"), material_ref("POWER_OF_ATTORNEY"),
                      material_ref("LOAN_CONTRACT")],
        "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                    "debt_term": {"start": today.isoformat(), "end": today.replace(year=today.year + 20).isoformat()},
                    "scope": "主债权及利息", "contract_numbers": [contract], "transfer_restricted": False,
                    "title_number": title_number},
    }
