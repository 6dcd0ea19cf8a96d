"""The demo's driver: each party's SDK client, one signed step at a time, and the common lifecycle.

Every step is signed by the party that acts, with its own development key from ``DIR/identities.json``,
through the SDK: workflow steps are prepared by the node (``/v1/payloads/<step>``) and checked and signed
by the party; other commands the party builds and signs itself. Each step waits for its commit and
raises ``DemoFailed`` with the node's rejection code when it was marked invalid. ``demo.py`` holds the
business cases built from these steps.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Self

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from rich.console import Console
from rich.progress import Progress, TaskID

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.cli.demo_world import Owner, World
from estatechain.crypto import x509
from estatechain.errors import Conflict, IntegrityFault
from estatechain.node.inquiry_answers import ANSWER_TYPE
from estatechain.sdk import Client, ClientIdentity, TxStatus

DEFAULT_NODE: Final = "http://127.0.0.1:8700"
INTAKE, REVIEWER, RECORDER, ISSUER = ("gz-registry/intake1", "gz-registry/reviewer1", "gz-registry/recorder2",
                                      "gz-registry/issuer1")
COURT: Final = "gz-court/court1"
ADMIN: Final = "gz-registry/admin1"
OFFICER: Final = "gz-identity/officer1"
DEVELOPER: Final = "poly-developer/developer1"
DEVELOPER_ORG: Final = "poly-developer"
ICBC, CCB = "icbc-gz", "ccb-gz"
OWNER, MAX_OWNER, BUYER, SEIZED_OWNER = ("gz-identity/person1", "gz-identity/person2", "gz-identity/person3",
                                         "gz-identity/person4")
WAIT_S: Final = 10.0
"""Server-side wait for a commit per submission; a block is cut within the batch timeout (200 ms)."""
COMMIT_TIMEOUT_S: Final = 30.0
TITLE_MARK: Final = "不动产权第"
"""What sets a title certificate number (不动产权证书) apart from a registration certificate's (不动产证明)."""
STEPS_TOTAL: Final = 89
"""Transactions a run commits (for the progress bar)."""


class DemoFailed(Conflict):
    """A step of the demo was refused or marked invalid: the message names the step, the party and the code."""


@dataclass
class Row:
    """One business type as the demo ran it: the application, its certificate and every tx id."""

    business: str
    title: str
    application_id: str | None = None
    certificate: str | None = None
    document_sha256: str | None = None
    expected_status: str | None = None
    """The certificate's status at the end of the run (a later case may supersede, correct or cancel it)."""
    note: str = ""
    txs: list[str] = field(default_factory=list)


def guangzhou_today() -> dt.date:
    """Today's civil date in Guangzhou (UTC+8): the date terms and orders are written with."""
    return dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()


def years_after(day: dt.date, years: int) -> dt.date:
    """The date ``years`` later, its day capped at 28 so that a 29 February start never fails."""
    return day.replace(year=day.year + years, day=min(day.day, 28))


def _pdf(label: str) -> bytes:
    """A tiny placeholder PDF: the material store sniffs the type from the bytes."""
    return f"%PDF-1.4\n% estatechain demo material: {label}\n%%EOF\n".encode()


class Driver:
    """Drives one node as every party in turn; ``Demo`` adds the business cases."""

    def __init__(  # noqa: PLR0913  (keywords after the node and the facts; each is one output channel)
        self, url: str, directory: Path, world: World, *, console: Console, progress: Progress, task: TaskID,
    ) -> None:
        self.url = url
        self.directory = directory
        self.world = world
        self.console = console
        self.progress = progress
        self.task = task
        self.tag = dt.datetime.now(tz=dt.UTC).strftime("%m%d%H%M%S")
        self.today = guangzhou_today()
        self._clients: dict[str, Client] = {}
        self.loan_contracts: dict[str, str] = {}
        """Contract number → the loan contract a 预抵押 was recorded from (the evidence a correction cites)."""
        self.presale_document = ""
        """The pre-sale contract's hash: the buyer's evidence of interest when inquiring into the flat."""
        self.chain_id = ""
        self.node_org = ""
        """The node's chain id and org, asked of it once (``run``) and given to every client after."""

    # -- plumbing -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for client in self._clients.values():
            await client.aclose()

    def client(self, handle: str) -> Client:
        """The SDK client of ``handle``, signing with its own development key."""
        found = self._clients.get(handle)
        if found is None:
            found = Client(self.url, ClientIdentity.from_dev(self.directory, handle), chain_id=self.chain_id or None,
                           node_org=self.node_org or None, timeout_s=30.0)
            self._clients[handle] = found
        return found

    def _say(self, text: str) -> None:
        self.progress.update(self.task, description=text)

    async def _committed(self, handle: str, what: str, tx_id: str, status: TxStatus) -> str:
        if not status.committed:
            status = await self.client(handle).wait_for_commit(tx_id, timeout_s=COMMIT_TIMEOUT_S)
        if not status.valid:
            raise DemoFailed(f"{what} signed by {handle} was marked invalid: {status.code} {status.message} "
                             f"(tx {tx_id})")
        self.progress.advance(self.task)
        return tx_id

    async def step(self, handle: str, step: str, **fields: JSONValue) -> str:
        """Workflow ``step``: the node prepares the payload, ``handle`` checks and signs it, submits, waits."""
        self._say(f"{step} — {handle}")
        client = self.client(handle)
        signed = client.sign_prepared(await client.prepare(step, **fields))
        status = await client.submit(signed.envelope, wait_s=WAIT_S)
        return await self._committed(handle, step, signed.tx_id, status)

    async def command(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> str:
        """A command without a prepare endpoint: ``handle`` builds and signs it locally, submits, waits."""
        self._say(f"{command} — {handle}")
        client = self.client(handle)
        signed = await client.sign(command, body)
        status = await client.submit(signed.envelope, wait_s=WAIT_S)
        return await self._committed(handle, command, signed.tx_id, status)

    async def call(self, handle: str, method: str, path: str, body: JSONValue | bytes | None = None) -> Any:  # noqa: ANN401  (decoded JSON)
        """A signed request as ``handle``; the decoded JSON answer."""
        client = self.client(handle)
        content = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        request = client.build_request(method, path, content=content, target=await client.target())
        return await client.send(request)

    async def material(self, handle: str, kind: str, label: str) -> dict[str, JSONValue]:
        """Upload a placeholder file as ``handle``'s org; its reference as the ledger holds it."""
        stored = await self.call(handle, "POST", "/v1/materials", _pdf(f"{kind} {label} {self.tag}"))
        return {"type": kind, "sha256": stored["sha256"], "size": stored["size"], "media_type": stored["media_type"]}

    async def materials(self, handle: str, label: str, *kinds: str) -> list[JSONValue]:
        """Several materials of one filing, uploaded together."""
        return list(await asyncio.gather(*(self.material(handle, kind, label) for kind in kinds)))

    # -- the common lifecycle -------------------------------------------------------------------------

    async def case(self, row: Row, filer: str, filing: dict[str, JSONValue], confirmers: Sequence[tuple[str, str]],
                   ) -> Row:
        """File, every applicant confirms (each with its own key), accept, review, record, and issue when due."""
        application = await self.step(filer, "file", **filing)
        row.application_id = application
        row.txs.append(application)
        confirmations = await asyncio.gather(*(
            self.step(handle, "confirm", application_id=application, party_id=party) for handle, party in confirmers))
        row.txs.extend(confirmations)
        for handle, step in ((INTAKE, "accept"), (REVIEWER, "review"), (RECORDER, "record")):
            row.txs.append(await self.step(handle, step, application_id=application))
        seen = await self.call(INTAKE, "GET", f"/v1/applications/{application}")
        if seen["certificate_number"] is not None:
            await self.issue(row)
        state = (await self.call(INTAKE, "GET", f"/v1/applications/{application}"))["state"]
        self.console.print(f"[green]✓[/green] {row.title}: application {application[:12]}… {state}"
                           + (f", certificate {row.certificate}" if row.certificate else ""))
        return row

    async def issue(self, row: Row) -> None:
        """The issuer asks the registry's node to prepare the certificate, then signs the issue tx itself."""
        assert row.application_id is not None
        self._say(f"certificate — {ISSUER}")
        number = await self.number(row.application_id)
        if TITLE_MARK in number:
            # the desk renders 不动产登记证明 only: a title certificate's document comes from elsewhere, so
            # the issuer puts the hash of a stand-in document on the ledger (the desk cannot verify it)
            document = hashlib.sha256(_pdf(f"title certificate {number} {self.tag}")).hexdigest()
            row.txs.append(await self.step(ISSUER, "issue", application_id=row.application_id,
                                           document_sha256=document))
            row.certificate, row.document_sha256, row.expected_status = number, document, "VALID"
            row.note = "title certificate: stand-in document hash"
            return
        prepared = await self.call(ISSUER, "POST", "/v1/certificates", {"application_id": row.application_id})
        certificate, body = prepared["certificate"], prepared["issue"]["payload"]["body"]
        if body.get("document_sha256") != certificate["document_sha256"]:
            raise IntegrityFault(f"application {row.application_id}",
                                 "the node's issue payload names another document than the record it signed")
        row.txs.append(await self.command(ISSUER, "application.issue", body))
        row.certificate = str(certificate["record"]["number"])
        row.document_sha256 = str(certificate["document_sha256"])
        row.expected_status = "VALID"

    async def number(self, application: str) -> str:
        """The certificate number the recording gave ``application``."""
        return str((await self.call(INTAKE, "GET", f"/v1/applications/{application}"))["certificate_number"])

    # -- the cases ------------------------------------------------------------------------------------

    def _owner(self, handle: str) -> Owner:
        return self.world.owners[handle]

    def _ref(self, owner: Owner, capacity: str) -> dict[str, JSONValue]:
        return {"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": capacity}

    def _bank(self, org: str, capacity: str) -> dict[str, JSONValue]:
        return {"party_id": self.world.banks[org], "capacity": capacity}

    async def inquire(self, handle: str, **fields: JSONValue) -> dict[str, Any]:
        """``inquiry.request`` signed by ``handle``, submitted to ``/v1/inquiries``; the verified answer."""
        self._say(f"inquiry — {handle}")
        client = self.client(handle)
        signed = client.sign_prepared(await client.prepare("inquiry", **fields))
        status = await self.call(handle, "POST", f"/v1/inquiries?wait={WAIT_S:g}", signed.envelope)
        if status["status"] != "committed" or status["result"] != "valid":
            raise DemoFailed(f"inquiry by {handle} did not commit valid: {status}")
        self.progress.advance(self.task)
        data = await self.call(handle, "GET", f"/v1/inquiries/{signed.tx_id}/answer")
        return verified_answer(data, chain_id=self.chain_id, inquiry_id=signed.tx_id, height=int(status["height"]))


def verified_answer(data: Mapping[str, Any], *, chain_id: str, inquiry_id: str, height: int) -> dict[str, Any]:
    """The answer document after checking the registry's signature and that it answers this inquiry.

    Raises:
        IntegrityFault: the signature, the canonical bytes, the chain, the inquiry or the height do not match.

    """
    signed = str(data["canonical"]).encode("utf-8")
    document: dict[str, Any] = dict(data["answer"])
    cert = x509.load_certificate(base64.b64decode(data["certificate"]))
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(x509.public_key_bytes(cert)).verify(
            base64.b64decode(data["signature"]), signed)
    except InvalidSignature:
        raise IntegrityFault(f"inquiry {inquiry_id}", "the answer's signature does not verify") from None
    expected = {"type": ANSWER_TYPE, "chain_id": chain_id, "inquiry_id": inquiry_id, "height": height}
    if signed != canonical.encode(document) or any(document.get(k) != v for k, v in expected.items()):
        raise IntegrityFault(f"inquiry {inquiry_id}", "the answer is not the signed answer of this inquiry at its "
                             "height")
    return document


