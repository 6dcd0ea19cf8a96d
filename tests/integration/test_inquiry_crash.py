"""Kill -9 the registry's node around an inquiry's commit (design §3.19, issue 6).

The node runs in a child process (``inquiry_crash_child.py``) that SIGKILLs itself right after, or
right before, the first block holding an ``inquiry.request`` commits. Shown here:

* killed after the commit, before the inquirer got a receipt or an answer: after a restart the
  inquiry is committed and its answer is obtainable, signed by the registry for the committed height,
  and byte for byte the same after a further kill -9 and restart;
* killed before the commit: no answer while it was pending (409) and none after the restart, where
  the node has never heard of it (404) — nothing is released for an inquiry that did not commit;
  submitted again it commits and only then is answered. A refused inquiry (a valid tx, REFUSED) gets
  403 with the rule's code, and an invalid one 409, each with a reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from estatechain import canonical
from estatechain.cli.main import DEFAULT_SEED, init
from estatechain.crypto import x509
from estatechain.sdk import Client, ClientIdentity, SdkError, ServerError
from estatechain.sdk.signing import SignedTransaction

CHILD = Path(__file__).with_name("inquiry_crash_child.py")
OWNER, NEIGHBOUR = "gz-identity/person1", "gz-identity/person2"


@dataclass
class Node:
    """The child node process of one consortium folder; ``start`` (re)starts it."""

    directory: Path
    root: Path
    process: subprocess.Popen[bytes] | None = None
    url: str = ""

    def start(self, kill: str | None = None) -> Node:
        (self.root / "port").unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "ESTATECHAIN_TEST_KILL"}
        if kill is not None:
            env["ESTATECHAIN_TEST_KILL"] = kill
        self.process = subprocess.Popen([sys.executable, str(CHILD), str(self.directory), str(self.root)], env=env,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while not (self.root / "port").exists():
            assert self.process.poll() is None, "the node child died on start-up"
            assert time.monotonic() < deadline, "the node child did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{(self.root / 'port').read_text()}"
        return self

    def died_by_its_hook(self) -> str:
        assert self.process is not None
        code = self.process.wait(timeout=20)
        assert code == -signal.SIGKILL, code
        killed = (self.root / "killed").read_text()
        (self.root / "killed").unlink()
        return killed

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)

    def identity(self, handle: str) -> ClientIdentity:
        return ClientIdentity.from_dev(self.directory, handle)


@pytest.fixture(name="node")
def node_fixture(tmp_path: Path) -> Iterator[Node]:
    directory = tmp_path / "net"
    init(directory, units=60, seed=DEFAULT_SEED)
    root = tmp_path / "run"
    root.mkdir()
    node = Node(directory=directory, root=root)
    try:
        yield node
    finally:
        node.kill()


def owners(node: Node) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((node.directory / "orgs" / "gz-identity" / "dev-owners.json").read_text())
    return document


async def signed_inquiry(node: Node, handle: str, **fields: Any) -> SignedTransaction:
    """The inquirer's own signature over the payload the node prepared (the node never signs for it)."""
    async with Client(node.url, node.identity(handle)) as client:
        return client.sign_prepared(await client.prepare("inquiry", **fields))


async def call(node: Node, handle: str, method: str, path: str, content: bytes | None = None) -> Any:
    async with Client(node.url, node.identity(handle), timeout_s=15) as client:
        request = client.build_request(method, path, content=content, target=await client.target())
        return await client.send(request)


def refusal(node: Node, handle: str, path: str) -> ServerError:
    async def go() -> ServerError:
        with pytest.raises(ServerError) as caught:
            await call(node, handle, "GET", path)
        return caught.value

    return asyncio.run(go())


def verified(node: Node, data: dict[str, Any]) -> dict[str, Any]:
    """The registry's signature over the canonical answer, its certificate a registry ``node`` identity."""
    der = base64.b64decode(data["certificate"])
    cert = x509.load_certificate(der)
    ed25519.Ed25519PublicKey.from_public_bytes(x509.public_key_bytes(cert)).verify(
        base64.b64decode(data["signature"]), data["canonical"].encode())
    assert data["canonical"].encode() == canonical.encode(data["answer"])
    assert x509.fingerprint(der) == node.identity("gz-registry/node").fingerprint
    document: dict[str, Any] = data["answer"]
    assert (document["type"], document["registry"]) == ("estatechain.inquiry-answer.v1", "gz-registry")
    return document


@pytest.mark.timeout(60)
def test_killed_after_the_inquiry_commits_the_answer_is_obtainable_after_restart(node: Node) -> None:
    owner = owners(node)[OWNER]
    node.start()
    inquiry = asyncio.run(signed_inquiry(node, OWNER, unit_number=owner["unit_number"], basis="own_right"))
    node.kill()
    node.start(kill="after-inquiry-commit")

    with pytest.raises(SdkError):  # the node dies inside the commit's aftermath: no receipt, no answer
        asyncio.run(call(node, OWNER, "POST", "/v1/inquiries?wait=10", inquiry.envelope))
    killed = node.died_by_its_hook()
    assert killed.startswith("after-inquiry-commit")

    node.start()
    status = asyncio.run(call(node, OWNER, "GET", f"/v1/transactions/{inquiry.tx_id}"))
    assert (status["status"], status["result"]) == ("committed", "valid")
    answer = asyncio.run(call(node, OWNER, "GET", f"/v1/inquiries/{inquiry.tx_id}/answer"))
    document = verified(node, answer)
    assert (document["inquiry_id"], document["height"], document["answer"]) == (inquiry.tx_id, status["height"],
                                                                                  "FULL")
    assert int(killed.rsplit(" ", 1)[1]) == status["height"]  # the height the hook saw right after the commit
    assert [o["party_id"] for o in document["result"]["owners"]] == [owner["party_id"]]

    node.kill()  # and once more, at rest: the same signed answer comes back
    node.start()
    again = asyncio.run(call(node, OWNER, "GET", f"/v1/inquiries/{inquiry.tx_id}/answer"))
    assert again["canonical"] == answer["canonical"]


@pytest.mark.timeout(60)
def test_an_inquiry_that_did_not_commit_never_yields_an_answer(node: Node) -> None:
    owner = owners(node)[OWNER]
    node.start()
    inquiry = asyncio.run(signed_inquiry(node, OWNER, unit_number=owner["unit_number"], basis="own_right"))
    refused = asyncio.run(signed_inquiry(node, NEIGHBOUR, unit_number=owner["unit_number"], basis="own_right",
                                         purpose="OTHER"))
    node.kill()
    node.start(kill="before-inquiry-commit")

    pending = asyncio.run(call(node, OWNER, "POST", "/v1/inquiries", inquiry.envelope))
    assert pending["status"] == "pending"
    early: SdkError
    try:  # while it waits for its block: no answer (unless the node is already dying at the commit)
        early = refusal(node, OWNER, f"/v1/inquiries/{inquiry.tx_id}/answer")
    except SdkError as exc:  # the node went down under the request: no answer either
        early = exc
    if isinstance(early, ServerError):
        assert (early.status, early.code) == (409, "INQUIRY_PENDING"), early
    assert node.died_by_its_hook().startswith("before-inquiry-commit")

    node.start()
    unknown = refusal(node, OWNER, f"/v1/inquiries/{inquiry.tx_id}/answer")
    assert (unknown.status, unknown.code) == (404, "NOT_FOUND")
    assert "no transaction with that id" in unknown.message
    assert refusal(node, OWNER, f"/v1/transactions/{inquiry.tx_id}").status == 404

    # a refused inquiry commits as a valid tx with outcome REFUSED: recorded, and nothing released
    done = asyncio.run(call(node, NEIGHBOUR, "POST", "/v1/inquiries?wait=10", refused.envelope))
    assert (done["status"], done["result"]) == ("committed", "valid")
    denied = refusal(node, NEIGHBOUR, f"/v1/inquiries/{refused.tx_id}/answer")
    assert (denied.status, denied.code, denied.detail["code"]) == (403, "INQUIRY_REFUSED", "V26_INQUIRY_NOT_ENTITLED")

    # an invalid inquiry (a search by name) is kept with its reason, and nothing is released either
    async def by_name() -> tuple[str, Any]:
        async with Client(node.url, node.identity(OWNER)) as client:
            signed = await client.sign("inquiry.request", {"name": "张三", "basis": "intent", "purpose": "PRE_LOAN"})
        return signed.tx_id, await call(node, OWNER, "POST", "/v1/inquiries?wait=10", signed.envelope)

    invalid_id, invalid = asyncio.run(by_name())
    assert (invalid["result"], invalid["code"]) == ("invalid", "V26_SEARCH_NOT_BY_PROPERTY")
    rejected = refusal(node, OWNER, f"/v1/inquiries/{invalid_id}/answer")
    assert (rejected.status, rejected.code) == (409, "INQUIRY_NOT_COMMITTED")

    # the inquiry lost with the kill, submitted again: it commits now, and only now is it answered
    again = asyncio.run(call(node, OWNER, "POST", "/v1/inquiries?wait=10", inquiry.envelope))
    assert (again["status"], again["result"]) == ("committed", "valid")
    document = verified(node, asyncio.run(call(node, OWNER, "GET", f"/v1/inquiries/{inquiry.tx_id}/answer")))
    assert (document["inquiry_id"], document["height"]) == (inquiry.tx_id, again["height"])
