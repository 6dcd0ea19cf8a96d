"""A resident reads, at the identity authority's node, the loan contract a bank uploaded at its own node.

Real node processes over three real NATS servers on loopback (no registry node: nothing here needs
one). ICBC uploads and files a mortgage on person1's flat at its node; person1 signs in to the
portal of the identity authority's node (the node that keeps their key) and opens the loan contract
they are asked to confirm: that node fetches it from ICBC's node, which first checks on its own
ledger that the case cites it and that the identity authority acts for one of its applicants. Only
ICBC's node is asked: the other bank's and the court's nodes, which have nothing to do with the
case, receive no request naming it or the resident (their record of signed requests shows none from
the identity node). Both nodes keep a durable record of the exchange (``materials/fetches.jsonl``).
The other bank's and the court's nodes, asking the same, are refused, and the refusal is recorded;
a peer that answers with other bytes is not believed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import pytest

from estatechain.api.auth import NONCE_FILE
from estatechain.clock import SystemClock
from estatechain.contract import keys
from estatechain.node.outbox import WebhookKey
from estatechain.node.peers import FETCH_LOG, MaterialLog, fetch_material
from estatechain.sdk import SdkError
from estatechain.sdk.client import Client
from estatechain.sdk.errors import ServerError
from estatechain.storage.materials import MaterialStore
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import material_pdf, mortgage_first_body, with_uploaded_materials
from estatechain.testing.devcluster import DevCluster
from estatechain.web.accounts import Account, AccountStore
from estatechain.web.portal import PORTAL_DB

from .cluster_processes import dev_cluster, run

BANK: Final = "icbc-gz"
IDENTITY: Final = "gz-identity"
OWNER: Final = "gz-identity/person1"
STRANGER: Final = "gz-identity/person2"
OTHERS: Final = ("ccb-gz", "gz-court")
"""Orgs with nothing to do with the case: another bank and the court (both sort before ICBC)."""
ORGS: Final = (BANK, *OTHERS, IDENTITY)
LOAN: Final = material_pdf("LOAN_CONTRACT")
LOAN_SHA: Final = hashlib.sha256(LOAN).hexdigest()
CSRF: Final = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevCluster, str]]:
    """The cluster, and a mortgage ICBC filed on person1's flat at its node (materials uploaded there only)."""
    with dev_cluster(tmp_path_factory.mktemp("applicant-materials"), orgs=ORGS) as cluster:
        owner = cluster.dev_owners()[OWNER]
        today = dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        body = mortgage_first_body(unit_number=str(owner["unit_number"]), party_id=str(owner["party_id"]),
                                   record_ref=str(owner["record_ref"]), bank_party=bank_party(cluster),
                                   title_number=str(owner["title_number"]), contract="LOAN-APPLICANT-READ",
                                   today=today)

        async def file() -> str:
            async with cluster.client(BANK, f"{BANK}/operator1") as bank:
                signed, status = await bank.step("file", timeout_s=30,
                                                 **await with_uploaded_materials(body, bank.upload_material))
            assert status.valid, (status.code, status.message)
            return signed.tx_id

        application = run(file())
        cluster.wait_tx(application, timeout_s=60)
        yield cluster, application


def bank_party(cluster: DevCluster) -> str:
    """The party id the identity authority bound to ICBC (read from its node's ledger)."""
    store = LedgerStore.open(cluster.ledger_dir(BANK), readonly=True)
    try:
        return next(str(row["party_id"]) for _, row in store.scan(keys.org_of_party("")) if row.get("org") == BANK)
    finally:
        store.close()


def copies(cluster: DevCluster, org: str) -> frozenset[str]:
    """Who ``org``'s node keeps the loan contract for (empty: it has no copy)."""
    return MaterialStore(cluster.ledger_dir(org) / "materials", max_bytes=1 << 20).holders(LOAN_SHA)


def portal_of(cluster: DevCluster, handle: str) -> httpx.Client:
    """A browser signed in as the resident ``handle`` at the identity authority's portal (a fresh one-time code)."""
    accounts = AccountStore(cluster.ledger_dir(IDENTITY) / PORTAL_DB, clock=SystemClock())
    try:
        accounts.add(Account(username=handle, handle=handle, org=IDENTITY, role="person"), secrets.token_urlsafe(32))
        code = accounts.issue_code(handle)
    finally:
        accounts.close()
    browser = httpx.Client(base_url=f"{cluster.url(IDENTITY)}/portal", timeout=30)
    token = CSRF.search(browser.get("/signin").text)
    assert token is not None
    assert browser.post("/signin", data={"csrf": token[1], "username": handle, "password": code}).status_code == 303
    return browser


@pytest.fixture(scope="module")
def read(filed: tuple[DevCluster, str]) -> tuple[str, bytes, bytes]:
    """Person1 opens the case at the identity authority's portal, then the loan contract (download, view)."""
    cluster, application = filed
    assert copies(cluster, IDENTITY) == frozenset()  # uploaded at ICBC's node only
    with closing(portal_of(cluster, OWNER)) as owner:
        page = owner.get(f"/cases/{application}")
        assert page.status_code == 200
        address = f"/cases/{application}/materials/{LOAN_SHA}"
        got = owner.get(address)
        assert got.status_code == 200, got.text
        return page.text, got.content, owner.get(f"{address}/view").content


def records(cluster: DevCluster, org: str) -> list[dict[str, Any]]:
    """``org``'s node's durable record of materials asked of and given to peers (empty: no file)."""
    path = cluster.ledger_dir(org) / "materials" / FETCH_LOG
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def requests_signed_by(cluster: DevCluster, org: str, fingerprint: str) -> int:
    """How many signed requests ``org``'s node took from key ``fingerprint``: its own record of used nonces."""
    db = sqlite3.connect(f"{(cluster.ledger_dir(org) / NONCE_FILE).as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM seen WHERE key_id = ?", (fingerprint,)).fetchone()[0])
    finally:
        db.close()


def test_the_resident_reads_at_the_identity_node_the_loan_contract_uploaded_at_the_bank_s_node(
    filed: tuple[DevCluster, str], read: tuple[str, bytes, bytes],
) -> None:
    cluster, application = filed
    page, content, viewed = read
    assert f'href="/portal/cases/{application}/materials/{LOAN_SHA}"' in page  # offered before this node held it
    assert content == LOAN  # the very bytes ICBC uploaded
    assert viewed == LOAN
    fingerprint = cluster.identity(OWNER).fingerprint
    assert copies(cluster, IDENTITY) == {f"{IDENTITY}.{fingerprint}"}  # kept, for that resident alone

    async def through_the_api() -> None:  # the API applies the same rule: another resident is refused
        async with cluster.client(IDENTITY, STRANGER) as stranger:
            with pytest.raises(SdkError, match="only the org that uploaded"):
                await stranger._send("GET", f"/v1/materials/{LOAN_SHA}?case={application}")

    run(through_the_api())


def test_only_the_node_of_an_org_the_case_involves_is_asked(
    filed: tuple[DevCluster, str], read: tuple[str, bytes, bytes],
) -> None:
    cluster, _ = filed
    assert read[1] == LOAN
    identity_node = WebhookKey.from_dev(cluster.directory, f"{IDENTITY}/node").fingerprint
    assert requests_signed_by(cluster, BANK, identity_node) >= 1  # the filer's node was asked, and answered
    for org in OTHERS:  # another bank and the court learnt neither the case nor the resident
        assert requests_signed_by(cluster, org, identity_node) == 0, org
        assert [r for r in records(cluster, org) if r["side"] == "answered" and r["to_org"] == IDENTITY] == []


def test_both_nodes_record_which_node_read_the_loan_contract_for_whom(
    filed: tuple[DevCluster, str], read: tuple[str, bytes, bytes],
) -> None:
    cluster, application = filed
    assert read[1] == LOAN
    resident = cluster.identity(OWNER).fingerprint
    identity_node = WebhookKey.from_dev(cluster.directory, f"{IDENTITY}/node").fingerprint
    asked = [r for r in records(cluster, IDENTITY) if r["sha256"] == LOAN_SHA]
    assert [(r["side"], r["outcome"], r["from_org"], r["case"], r["person"], r["reader"], r["verified_sha256"])
            for r in asked] == [("asked", "fetched", BANK, application, resident, resident, LOAN_SHA)]
    given = [r for r in records(cluster, BANK) if r["side"] == "answered" and r["to_org"] == IDENTITY]
    assert [(r["outcome"], r["sha256"], r["node"], r["case"], r["person"]) for r in given] == [
        ("served", LOAN_SHA, identity_node, application, resident)]
    assert given[0]["at_ms"] <= asked[0]["at_ms"]  # served before the asking node checked and kept it


@pytest.mark.parametrize("org", OTHERS)
def test_a_node_of_an_org_no_applicant_of_the_case_is_refused_by_the_bank_s_node(
    filed: tuple[DevCluster, str], org: str,
) -> None:
    cluster, application = filed
    node = WebhookKey.from_dev(cluster.directory, f"{org}/node").client_identity()
    resident = cluster.identity(OWNER).fingerprint

    async def ask() -> list[tuple[int, str]]:
        answers = []
        async with Client(cluster.url(BANK), node, chain_id=cluster.chain_id, node_org=BANK) as peer:
            for query in (f"?case={application}", f"?case={application}&for={resident}", ""):
                try:
                    await peer._send("GET", f"/v1/materials/{LOAN_SHA}{query}")
                except ServerError as exc:
                    answers.append((exc.status, exc.message))
                else:
                    answers.append((200, ""))
        return answers

    answers = run(ask())
    assert [status for status, _ in answers] == [403, 403, 403]
    assert len({message for _, message in answers}) == 1  # the same answer as without a case: nothing learnt
    assert copies(cluster, org) == frozenset()
    refused = [(r["outcome"], r["sha256"], r["node"], r["case"], r["person"])
               for r in records(cluster, BANK) if r["side"] == "answered" and r["to_org"] == org]
    assert refused == [("refused", LOAN_SHA, node.fingerprint, application, None),
                       ("refused", LOAN_SHA, node.fingerprint, application, resident),
                       ("refused", LOAN_SHA, node.fingerprint, None, None)]  # ICBC's record of what it said no to


class _Tampering(BaseHTTPRequestHandler):
    """A peer answering every request with a PDF that is not the one asked for."""

    asked: list[str] = []  # noqa: RUF012  (the test's record of requests; one server per test)

    def do_GET(self) -> None:
        type(self).asked.append(self.path)
        body = LOAN + b"% amended by the peer\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base class's name)
        """Quiet: the test reads ``asked``."""


def test_a_peer_answering_other_bytes_for_the_hash_is_not_believed(
    filed: tuple[DevCluster, str], caplog: pytest.LogCaptureFixture, tmp_path: Path,
) -> None:
    cluster, application = filed
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tampering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    resident = cluster.identity(OWNER).fingerprint
    try:
        with caplog.at_level(logging.INFO, logger="estatechain.node.peers"):
            got = run(fetch_material(
                LOAN_SHA, peers=[(BANK, f"http://127.0.0.1:{server.server_address[1]}")], own_org=IDENTITY,
                key=WebhookKey.from_dev(cluster.directory, f"{IDENTITY}/node"), chain_id=cluster.chain_id,
                max_bytes=1 << 20, record=MaterialLog(SystemClock(), tmp_path / FETCH_LOG), reader=resident,
                case=application, person=resident), timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert got is None
    assert _Tampering.asked == [f"/v1/materials/{LOAN_SHA}?case={application}&for={resident}"]
    assert f"peer {BANK} answered material {LOAN_SHA} for case {application} with other bytes" in caplog.text
    [entry] = [orjson.loads(line) for line in (tmp_path / FETCH_LOG).read_bytes().splitlines()]
    assert (entry["outcome"], entry["from_org"], entry["verified_sha256"]) == ("other_bytes", BANK, None)
