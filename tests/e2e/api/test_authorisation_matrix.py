"""Authorisation matrix: every route of the app × every role of domain.md §2, over real HTTP.

``ROWS`` is the documented outcome: one row per (route, subject) — a route that reads an object has a
row per kind of owner of that object — and one expected status per caller column. Each cell is its own
test, so a change in who may do what shows up as exactly the cells it moved. ``test_every_route_has_a_row``
walks ``app.routes`` and fails for a route the table does not cover (or a row whose route is gone).

Cells marked as known bugs are strict xfails: they document the outcome domain.md asks for and fail
loudly once the node is fixed, so the mark is then removed.

The world every cell reads is built once over the synthetic register (``register_node``): the filing
bank (icbc-gz) uploads materials and files a first-mortgage application for the owner's unit naming
them, makes a pre-loan inquiry; the owner (gz-identity/person1) uploads a material and inquires into
their own unit; every member org's administrator (``org.admin``, no column here) registers the org's
webhook (to a closed loopback port): no column's role may set or remove it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import httpx
import orjson
import pytest
from register_node import OWNER_A, OWNER_B, RegisterNode, register_node

from estatechain.api.app import create_app
from estatechain.api.routes.parties import LOOKUP_ROLES
from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.bootstrap import build_node
from estatechain.node.settings import Settings
from estatechain.sdk import ClientIdentity, SyncClient, sign_request, sign_transaction
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import label_digest as h

# ------------------------------------------------------------------------------------------ the columns

UNSIGNED: Final = "unsigned"
CALLERS: Final[dict[str, str | None]] = {
    "registry.intake": "gz-registry/intake1",
    "registry.reviewer": "gz-registry/reviewer1",
    "registry.recorder": "gz-registry/recorder1",
    "registry.issuer": "gz-registry/issuer1",
    "bank.operator": "icbc-gz/operator1",  # of the filing bank
    "bank.approver": "icbc-gz/approver1",  # of the filing bank
    "other-bank.operator": "ccb-gz/operator1",
    "owner": OWNER_A,  # the owner named as mortgagor in the filing bank's application
    "other-person": OWNER_B,  # a person who owns another unit and is party to nothing here
    "developer": "poly-developer/developer1",
    "court": "gz-court/court1",
    "auditor": "gz-regulator/auditor1",
    "identity.officer": "gz-identity/officer1",
    UNSIGNED: None,
}
"""Column → the dev identity that signs as it (None: no signature at all)."""

COLUMNS: Final = tuple(CALLERS)
REGISTRY: Final = ("registry.intake", "registry.reviewer", "registry.recorder", "registry.issuer")
FILING_BANK: Final = ("bank.operator", "bank.approver")
PERSONS: Final = ("owner", "other-person")
SIGNED: Final = tuple(c for c in COLUMNS if c != UNSIGNED)

BANK_ORG: Final = "icbc-gz"
FILER: Final = "icbc-gz/operator1"
OTHER_BANK: Final = "ccb-gz/operator1"
DEAD_HOOK: Final = "http://127.0.0.1:9/estatechain-hook"
NO_CERTIFICATE: Final = quote("粤(2026)广州市不动产证明第99999999号", safe="")
"""A well-formed certificate number no certificate has, percent-encoded for the path."""
"""A loopback URL nothing listens on: deliveries fail fast and are retried in the background."""


def public(status: int) -> dict[str, int]:
    """Everyone, signed or not, gets ``status``."""
    return dict.fromkeys(COLUMNS, status)


def signed_callers(status: int) -> dict[str, int]:
    """Every signed caller gets ``status``; the unsigned caller 401."""
    return {**dict.fromkeys(SIGNED, status), UNSIGNED: 401}


def only(status: int, *allowed: str, denied: int = 403) -> dict[str, int]:
    """``allowed`` columns get ``status``, other signed callers ``denied``, the unsigned caller 401."""
    unknown = set(allowed) - set(COLUMNS)
    assert not unknown, unknown
    return {**{c: status if c in allowed else denied for c in SIGNED}, UNSIGNED: 401}


def columns_with(*roles: str) -> tuple[str, ...]:
    """The signed columns whose identity holds one of ``roles`` (the table names roles, not handles)."""
    role_of = {**{c: c for c in REGISTRY + FILING_BANK}, "other-bank.operator": "bank.operator",
               "owner": "person", "other-person": "person", "developer": "developer", "court": "court",
               "auditor": "auditor", "identity.officer": "identity.officer"}
    return tuple(c for c in SIGNED if role_of[c] in roles)


# ------------------------------------------------------------------------------------------ the world


@dataclass(slots=True)
class World:
    """The objects the cells read, and how to reach the node."""

    reg: RegisterNode
    http: httpx.Client
    ids: dict[str, str] = field(default_factory=dict)
    filing: dict[str, Any] = field(default_factory=dict)
    correction: dict[str, Any] = field(default_factory=dict)

    def identity(self, column: str) -> ClientIdentity | None:
        handle = CALLERS[column]
        return None if handle is None else self.reg.identity(handle)

    def request(self, method: str, path: str, *, signer: ClientIdentity | None, content: bytes | None = None,
                content_type: str | None = None) -> httpx.Request:
        headers = {"content-type": content_type} if content_type else {}
        request = httpx.Request(method, self.reg.url + path, content=content, headers=headers)
        if signer is not None:
            sign_request(request, signer, target=self.reg.target, created_s=int(time.time()))
        return request

    def send(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/events":  # an endless stream: the status and headers are the answer
            response = self.http.send(request, stream=True)
            if response.status_code != 200:
                response.read()
            response.close()
            return response
        return self.http.send(request)

    def call(self, handle: str, method: str, path: str, *, content: bytes | None = None,
             content_type: str | None = None) -> httpx.Response:
        return self.send(self.request(method, path, signer=self.reg.identity(handle), content=content,
                                      content_type=content_type))


def pdf(label: str) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% " + label.encode() + b"\ntrailer<<>>\n%%EOF\n"


def _upload(world: World, handle: str, label: str) -> dict[str, Any]:
    response = world.call(handle, "POST", "/v1/materials", content=pdf(label), content_type="application/pdf")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _filing(reg: RegisterNode, materials: list[dict[str, Any]]) -> dict[str, Any]:
    owner = reg.owners[OWNER_A]
    today = dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    return {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                       {"party_id": reg.bank_parties[BANK_ORG], "capacity": "mortgagee"}],
        "materials": materials,
        "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                    "debt_term": {"start": today.isoformat(), "end": today.replace(year=today.year + 20).isoformat()},
                    "scope": "主债权及利息", "contract_numbers": ["LOAN-MATRIX-0001"], "transfer_restricted": False,
                    "title_number": owner.title_number},
    }


def _correction(reg: RegisterNode, materials: list[dict[str, Any]]) -> dict[str, Any]:
    """A 预抵押 correction (the node prepares filings without reading the register: any unit will do)."""
    return {
        "business_type": "mortgage_notice.correct", "unit_number": reg.owners[OWNER_A].unit_number,
        "applicants": [{"party_id": reg.bank_parties[BANK_ORG], "capacity": "mortgagee"}], "materials": materials,
        "details": {"certificate_number": "粤(2026)广州市不动产证明第00000002号", "error_evidence_sha256": h("loan"),
                    "corrections": [{"field": "contract_numbers", "old": ["A-1"], "new": ["A-2"]}]},
    }


def _commit(reg: RegisterNode, handle: str, command: str, body: dict[str, Any]) -> str:
    with SyncClient(reg.url, reg.identity(handle), chain_id=reg.chain_id) as client:
        signed, status = client.submit_and_wait(command, body)
    assert status.valid, (command, status.code, status.message, status.detail)
    return signed.tx_id


def _build(world: World) -> None:
    reg = world.reg
    kinds = ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT")
    materials = [{"type": kind, **_upload(world, FILER, f"icbc {kind}")} for kind in kinds]
    world.ids["bank_material"] = materials[0]["sha256"]
    world.ids["owner_material"] = _upload(world, OWNER_A, "owner's identity document")["sha256"]
    world.filing = _filing(reg, materials)
    world.correction = _correction(reg, [materials[0], {"type": "ERROR_PROOF", **_upload(world, FILER, "icbc error")}])
    world.ids["application"] = _commit(reg, FILER, "application.file", world.filing)
    unit = reg.owners[OWNER_A].unit_number
    world.ids["unit"] = unit
    world.ids["bank_inquiry"] = _commit(reg, FILER, "inquiry.request",
                                        {"unit_number": unit, "basis": "intent", "purpose": "PRE_LOAN"})
    world.ids["owner_inquiry"] = _commit(reg, OWNER_A, "inquiry.request", {"unit_number": unit, "basis": "own_right"})
    for org in ("gz-registry", BANK_ORG, "ccb-gz", "gz-court", "gz-regulator", "gz-identity", "poly-developer"):
        hook = world.call(f"{org}/org-admin", "POST", "/v1/webhooks", content=orjson.dumps({"url": DEAD_HOOK}),
                          content_type="application/json")
        assert hook.status_code == 201, hook.text


@pytest.fixture(name="world", scope="module")
def world_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with register_node(tmp_path_factory.mktemp("matrix")) as reg, httpx.Client(timeout=30) as http:
        world = World(reg=reg, http=http)
        _build(world)
        yield world


# ------------------------------------------------------------------------------------------ the rows

Build = Callable[[World, str], httpx.Request]
"""(world, column) → the request that column's caller sends (signed by it unless it is the unsigned one)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One route (method and path template), what it is called on, and each column's expected status."""

    method: str
    path: str
    subject: str
    expect: Mapping[str, int]
    build: Build
    bugs: Mapping[str, str] = field(default_factory=dict)
    """Column → why the node's answer differs from ``expect`` today (a strict xfail)."""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} [{self.subject}]"


def get(path: str) -> Build:
    """A GET of ``path`` with ``{name}`` filled from the world's ids."""
    def build(world: World, column: str) -> httpx.Request:
        return world.request("GET", path.format(**world.ids), signer=world.identity(column))
    return build


def delete(path: str) -> Build:
    """A DELETE of ``path``."""
    def build(world: World, column: str) -> httpx.Request:
        return world.request("DELETE", path, signer=world.identity(column))
    return build


def _own_or_filer(world: World, column: str) -> ClientIdentity:
    """The column's identity, or the filing bank's for the unsigned caller (whose body must be well formed)."""
    return world.identity(column) or world.reg.identity(FILER)


def submit_note(world: World, column: str) -> httpx.Request:
    identity = _own_or_filer(world, column)
    signed = sign_transaction(identity, chain_id=world.reg.chain_id, command="note.put",
                              body={"data": {"column": column}, "if_absent": True,
                                    "key": f"matrix/{column}/{time.time_ns()}"},
                              created_at_ms=time.time_ns() // 1_000_000)
    return world.request("POST", "/v1/transactions", signer=world.identity(column), content=signed.envelope,
                         content_type="application/json")


def submit_inquiry(world: World, column: str) -> httpx.Request:
    identity = _own_or_filer(world, column)
    signed = sign_transaction(identity, chain_id=world.reg.chain_id, command="inquiry.request",
                              body={"unit_number": world.reg.owners[OWNER_B].unit_number, "basis": "intent",
                                    "purpose": "PRE_LOAN"},
                              created_at_ms=time.time_ns() // 1_000_000)
    return world.request("POST", "/v1/inquiries", signer=world.identity(column), content=signed.envelope,
                         content_type="application/json")


def upload(world: World, column: str) -> httpx.Request:
    return world.request("POST", "/v1/materials", signer=world.identity(column), content=pdf(f"upload {column}"),
                         content_type="application/pdf")


def post_json(path: str, body: Callable[[World], dict[str, Any]]) -> Build:
    def build(world: World, column: str) -> httpx.Request:
        return world.request("POST", path, signer=world.identity(column), content=orjson.dumps(body(world)),
                             content_type="application/json")
    return build


def _app(world: World) -> dict[str, Any]:
    return {"application_id": world.ids["application"]}


STEP_BODIES: Final[dict[str, Callable[[World], dict[str, Any]]]] = {
    "file": lambda w: w.filing,
    "confirm": lambda w: {**_app(w), "party_id": w.reg.owners[OWNER_A].party_id},
    "decline": lambda w: {**_app(w), "party_id": w.reg.owners[OWNER_A].party_id},
    "withdraw": lambda w: {**_app(w), "party_id": w.reg.owners[OWNER_A].party_id},
    "accept": _app,
    "not-accept": lambda w: {**_app(w), "missing": [{"item": "ID_CARD", "text": "the mortgagor's ID card copy"}]},
    "hold": lambda w: {**_app(w), "reason": "site visit"},
    "resume": _app,
    "review": _app,
    "refuse": lambda w: {**_app(w), "reason_code": "OTHER", "reason_text": "matrix"},
    "record": _app,
    "issue": lambda w: {**_app(w), "document_sha256": h("certificate pdf")},
    "seizure": lambda w: {"unit_number": w.ids["unit"], "kind": "1", "order_no": "(2026)粤0106执9号",
                          "start_date": "2026-01-01", "end_date": "2028-12-31"},
    "seizure-release": lambda w: {"seizure_id": h("seizure"), "order_no": "(2026)粤0106执9号之一"},
    "seizure-renew": lambda w: {"seizure_id": h("seizure"), "end_date": "2029-12-31"},
    "inquiry": lambda w: {"unit_number": w.ids["unit"], "basis": "intent", "purpose": "PRE_LOAN"},
    "inquiry-consent": lambda w: {"unit_number": w.ids["unit"], "bank_party": w.reg.bank_parties[BANK_ORG],
                                  "purpose": "PRE_LOAN", "expires_on": "2030-12-31"},
    "presale-contract": lambda w: {"unit_number": w.ids["unit"], "developer": h("developer"),
                                   "buyers": [w.reg.owners[OWNER_A].party_id], "price_fen": 250_000_000,
                                   "contract_no": "HC-MATRIX-0001", "filing_no": "GZYS-MATRIX-0001",
                                   "document_sha256": h("presale contract")},
    "presale-sign": lambda _: {"contract_id": h("presale"), "document_sha256": h("presale contract")},
}
"""A well-formed body of every workflow step (the node prepares payloads without looking at the register)."""

STEP_SIGNERS: Final[dict[str, tuple[str, ...]]] = {
    "file": ("bank.operator",),  # the body is a mortgage.first, which only the mortgagee's bank files
    "confirm": ("bank.approver", "developer", "person"),
    "decline": ("bank.approver", "developer", "person"),
    "withdraw": ("bank.approver", "developer", "person"),
    "accept": ("registry.intake",),
    "not-accept": ("registry.intake",),
    "hold": ("registry.intake", "registry.reviewer", "registry.recorder"),
    "resume": ("registry.intake", "registry.reviewer", "registry.recorder"),
    "review": ("registry.reviewer",),
    "refuse": ("registry.reviewer",),
    "record": ("registry.recorder",),
    "issue": ("registry.issuer",),
    "seizure": ("court", "state_organ"),
    "seizure-release": ("court", "state_organ"),
    "seizure-renew": ("court", "state_organ"),
    "inquiry": ("bank.operator", "bank.approver", "person", "court", "state_organ"),
    "inquiry-consent": ("person",),
    "presale-contract": ("developer",),
    "presale-sign": ("person",),
}
"""Who may sign each step (domain.md §2 and the V8 role rule): the node answers 403 to anyone else."""

ROWS: Final[tuple[Row, ...]] = (
    # Open to anyone: the schema, its docs, liveness, readiness and metrics.
    Row("GET", "/openapi.json", "the API schema", public(200), get("/openapi.json")),
    Row("GET", "/docs", "interactive docs", public(200), get("/docs")),
    Row("GET", "/docs/oauth2-redirect", "docs helper", public(200), get("/docs/oauth2-redirect")),
    Row("GET", "/metrics", "Prometheus text", public(200), get("/metrics")),
    Row("GET", "/v1/health", "liveness", public(200), get("/v1/health")),
    Row("GET", "/v1/ready", "readiness", public(200), get("/v1/ready")),
    # The public ledger: any member reads blocks, statuses and proofs (results only, never bodies).
    Row("POST", "/v1/transactions", "the caller's own note.put", signed_callers(202), submit_note),
    Row("GET", "/v1/transactions/{tx_id}", "the filing bank's filing", signed_callers(200),
        get("/v1/transactions/{application}")),
    Row("GET", "/v1/blocks/head", "the head", signed_callers(200), get("/v1/blocks/head")),
    Row("GET", "/v1/blocks/{height}", "block 1", signed_callers(200), get("/v1/blocks/1")),
    Row("GET", "/v1/proofs/inclusion/{seq}", "leaf 0", signed_callers(200), get("/v1/proofs/inclusion/0")),
    Row("GET", "/v1/proofs/consistency", "from 1", signed_callers(200), get("/v1/proofs/consistency?from=1")),
    Row("GET", "/v1/members", "the consortium", signed_callers(200), get("/v1/members")),
    Row("GET", "/v1/ping", "signed no-op", signed_callers(200), get("/v1/ping")),
    # Workflow payloads: only a role the command admits gets one to sign.
    *(Row("POST", f"/v1/payloads/{step}", "a well-formed body", only(200, *columns_with(*roles)),
          post_json(f"/v1/payloads/{step}", STEP_BODIES[step])) for step, roles in STEP_SIGNERS.items()),
    # A filing: the business type's filers (BusinessType.filers); a 预抵押 correction's include the buyer and
    # interested parties (细则 79, domain.md §5.8), not only the mortgagee's bank.
    Row("POST", "/v1/payloads/file", "a 预抵押 correction",
        only(200, *columns_with("bank.operator", "developer", "person")),
        post_json("/v1/payloads/file", lambda w: w.correction)),
    # An application: the registry, the filing org and the applicants; never another bank.
    Row("GET", "/v1/applications/{application_id}", "filed by the filing bank",
        only(200, *REGISTRY, *FILING_BANK, "owner"), get("/v1/applications/{application}")),
    # Inquiry answers: the requester's org only; who looked: the unit's owners and the auditor.
    Row("POST", "/v1/inquiries", "the caller's own inquiry.request", signed_callers(202), submit_inquiry),
    Row("GET", "/v1/inquiries/{tx_id}/answer", "the filing bank's pre-loan inquiry", only(200, *FILING_BANK),
        get("/v1/inquiries/{bank_inquiry}/answer")),
    Row("GET", "/v1/inquiries/{tx_id}/answer", "the owner's inquiry into their own unit", only(200, "owner"),
        get("/v1/inquiries/{owner_inquiry}/answer")),
    Row("GET", "/v1/units/{unit_number}/inquiries", "the owner's unit", only(200, "owner", "auditor"),
        get("/v1/units/{unit}/inquiries")),
    # Materials: anyone signed stores; the uploader's org and the registry read.
    Row("POST", "/v1/materials", "a PDF", signed_callers(201), upload),
    Row("GET", "/v1/materials/{sha256}", "uploaded by the filing bank", only(200, *REGISTRY, *FILING_BANK),
        get("/v1/materials/{bank_material}")),
    Row("GET", "/v1/materials/{sha256}", "uploaded by the owner", only(200, *REGISTRY, "owner"),
        get("/v1/materials/{owner_material}")),
    # Events and webhooks: member orgs' systems, never persons. Only an org's org.admin (no column) sets or
    # removes where its events go; its staff read the registration and the log.
    Row("GET", "/v1/events", "the caller org's stream", only(200, *SIGNED, denied=403) | dict.fromkeys(PERSONS, 403),
        get("/v1/events")),
    Row("POST", "/v1/webhooks", "the caller org's URL", only(201),
        post_json("/v1/webhooks", lambda _: {"url": DEAD_HOOK})),
    Row("DELETE", "/v1/webhooks", "the caller org's URL", only(200), delete("/v1/webhooks")),
    Row("GET", "/v1/webhooks", "the caller org's URL", only(200, *SIGNED) | dict.fromkeys(PERSONS, 403),
        get("/v1/webhooks")),
    Row("GET", "/v1/webhooks/deliveries", "the caller org's log", only(200, *SIGNED) | dict.fromkeys(PERSONS, 403),
        get("/v1/webhooks/deliveries")),
    # Certificates: the registry's issuers prepare them; the parties fetch them; anyone verifies one.
    Row("POST", "/v1/certificates", "the filed (unrecorded) application", only(409, "registry.issuer"),
        post_json("/v1/certificates", _app)),
    Row("GET", "/v1/certificates/{number}", "an unknown number", signed_callers(404),
        get(f"/v1/certificates/{NO_CERTIFICATE}")),
    Row("GET", "/v1/certificates/{number}/pdf", "an unknown number", signed_callers(404),
        get(f"/v1/certificates/{NO_CERTIFICATE}/pdf")),
    Row("GET", "/v1/certificates/verify", "an unknown number", public(404),
        get(f"/v1/certificates/verify?number={NO_CERTIFICATE}")),
    Row("POST", "/v1/certificates/verify", "a file that is no certificate", public(200),
        post_json("/v1/certificates/verify", lambda _: {"not": "a certificate"})),
    # Cluster standing: members read it (a single node answers not-a-cluster); snapshots go to nodes only.
    Row("GET", "/v1/cluster", "a single node", signed_callers(404), get("/v1/cluster")),
    Row("GET", "/v1/cluster/snapshot", "a single node", only(403), get("/v1/cluster/snapshot")),
    # Party ids: staff who file or decide ask the identity authority's node (here the single node).
    Row("POST", "/v1/parties/lookup", "a valid resident ID", only(200, *columns_with(*LOOKUP_ROLES)),
        post_json("/v1/parties/lookup", lambda _: {"id_type": "resident_id", "id_number": "11010519491231002X"})),
)


def _cells() -> Iterator[Any]:
    for row in ROWS:
        assert set(row.expect) == set(COLUMNS), row.id
        for column in COLUMNS:
            bug = row.bugs.get(column)
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(row, column, id=f"{row.id}-{column}", marks=marks)


# ------------------------------------------------------------------------------------------ the tests


@pytest.mark.parametrize(("row", "column"), list(_cells()))
def test_cell(world: World, row: Row, column: str) -> None:
    response = world.send(row.build(world, column))
    expected = row.expect[column]
    assert response.status_code == expected, (row.id, column, response.status_code, response.text[:300])
    if expected >= 400 and not row.path.startswith(("/docs", "/openapi")):
        body = response.json()
        assert set(body) == {"error", "message", "detail"}, body
        assert body["error"] == {401: "MISSING_SIGNATURE", 403: "FORBIDDEN"}.get(expected, body["error"]), body


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route of a freshly built app (HEAD is implied by GET)."""
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    LedgerStore.create(tmp_path / "ledger", consortium.genesis).close()
    service = build_node(Settings(ledger_dir=tmp_path / "ledger", port=0))
    try:
        app = create_app(service)
        try:
            from fastapi.routing import iter_route_contexts  # noqa: PLC0415  (FastAPI ≥ 0.160 nests routers)
        except ImportError:  # pragma: no cover  (older FastAPI lists every route flat in app.routes)
            routes: list[Any] = list(app.routes)
        else:
            routes = list(iter_route_contexts(app.routes))
        keys: set[tuple[str, str]] = set()
        for route in routes:
            path, methods = getattr(route, "path", None), getattr(route, "methods", None)
            if isinstance(path, str) and path.startswith("/portal"):
                continue  # the web portal: session sign-in, not RFC 9421; its access is tested in tests/e2e/portal
            assert path is not None, f"a route the matrix cannot name: {route!r}"
            assert methods, f"a route without methods: {route!r}"
            keys |= {(method, path) for method in methods if method != "HEAD"}
        return keys
    finally:
        asyncio.run(service.stop())


def test_every_route_has_a_row(tmp_path: Path) -> None:
    mounted = app_routes(tmp_path)
    tabled = {(row.method, row.path) for row in ROWS}
    assert mounted - tabled == set(), "routes without a row in ROWS: add what each role gets"
    assert tabled - mounted == set(), "rows for routes the app no longer has"


def _events(world: World, handle: str) -> list[dict[str, Any]]:
    """The org's events replayed from the first block (the stream is read until its first heartbeat)."""
    request = world.request("GET", "/v1/events?after=0.0&heartbeat=1", signer=world.reg.identity(handle))
    events: list[dict[str, Any]] = []
    with world.http.stream(request.method, request.url, headers=request.headers) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith(": heartbeat"):
                break
            if line.startswith("data: "):
                events.append(orjson.loads(line[len("data: "):]))
    return events


def test_another_bank_never_sees_the_filing_banks_application_materials_or_answers(world: World) -> None:
    application, material, answer = world.ids["application"], world.ids["bank_material"], world.ids["bank_inquiry"]
    for path in (f"/v1/applications/{application}", f"/v1/materials/{material}", f"/v1/inquiries/{answer}/answer"):
        for handle in ("ccb-gz/operator1", "ccb-gz/approver1", "ccb-gz/org-admin", "ccb-gz/node"):
            response = world.call(handle, "GET", path)
            assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN"), (handle, path)
            secrets_ = (world.ids["unit"], world.reg.owners[OWNER_A].party_id, "LOAN-MATRIX-0001", "%PDF")
            assert not [s for s in secrets_ if s in response.text], (handle, path, response.text)
        assert world.call(FILER, "GET", path).status_code == 200, path
    # Nor does it learn of them from its event stream, which the filing bank's stream does.
    others = _events(world, OTHER_BANK)
    assert others, "the other bank's own events (its webhook registration is not one; its inquiries are)"
    assert not [e for e in others if application in orjson.dumps(e).decode()]
    assert [e for e in _events(world, FILER) if application in orjson.dumps(e).decode()]


def test_another_bank_cannot_probe_for_the_filing_banks_materials(world: World) -> None:
    missing = world.call(OTHER_BANK, "GET", f"/v1/materials/{'0' * 64}")
    present = world.call(OTHER_BANK, "GET", f"/v1/materials/{world.ids['bank_material']}")
    assert (missing.status_code, missing.json()["error"]) == (present.status_code, present.json()["error"])


def test_an_inquiry_signed_by_someone_else_is_not_accepted_from_the_caller(world: World) -> None:
    victim = world.reg.identity(FILER)
    signed = sign_transaction(victim, chain_id=world.reg.chain_id, command="inquiry.request",
                              body={"unit_number": world.ids["unit"], "basis": "intent", "purpose": "PRE_LOAN"},
                              created_at_ms=time.time_ns() // 1_000_000)
    response = world.call(OTHER_BANK, "POST", "/v1/inquiries", content=signed.envelope,
                          content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")
