"""A signed request is accepted once, also across a restart of the node within its time window.

The replay cache used to live in memory only, so a request captured on the wire (or from a proxy's
log) was accepted again by the same node after a restart, as long as its ``created`` was within
the 300 s window: a webhook registration put back, a party look-up recorded twice, a body with
its digest sent again.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from register_node import serving

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.settings import Settings
from estatechain.sdk import Client, ClientIdentity, RequestTarget
from estatechain.storage.store import LedgerStore

OPERATOR = "icbc-gz/operator1"


def _replayed(request: httpx.Request, url: str) -> httpx.Response:
    """The same bytes sent again to ``url`` (the port changes across restarts; the signature does not cover it)."""
    again = httpx.Request(request.method, url + request.url.raw_path.decode(), headers=request.headers,
                          content=request.content)
    with httpx.Client() as http:
        return http.send(again)


def test_a_request_accepted_before_a_restart_is_refused_as_replayed_after_it(tmp_path: Path) -> None:
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    LedgerStore.create(tmp_path / "ledger", consortium.genesis).close()
    identity = ClientIdentity.from_dev(tmp_path / "net", OPERATOR)
    chain_id = consortium.genesis.chain_id
    with serving(Settings(ledger_dir=tmp_path / "ledger", port=0)) as url:
        target = RequestTarget(chain_id=chain_id, node_org="ledger")  # a node outside a dev layout: its folder
        request = Client(url, identity, chain_id=chain_id).build_request(
            "POST", "/v1/payloads/inquiry", target=target,
            content=b'{"unit_number":"440114026003GB00001F00010021","purpose":"PRE_LOAN","basis":"intent"}')
        first = _replayed(request, url)
        assert first.status_code != 401, first.text
        assert _replayed(request, url).status_code == 401
    with serving(Settings(ledger_dir=tmp_path / "ledger", port=0)) as url:
        answer = _replayed(request, url)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "REPLAYED"
        fresh = Client(url, identity, chain_id=chain_id).build_request("GET", "/v1/members", target=target)
        with httpx.Client() as http:
            assert http.send(fresh).status_code == 200  # the restarted node still serves fresh requests
