"""docs/api.md's worked examples are recomputed from the document itself, byte for byte."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures.digests import ContentDigest

from estatechain import canonical
from estatechain.sdk import ClientIdentity, RequestTarget, sign_request

DOC = Path(__file__).parents[3] / "docs" / "api.md"


def examples() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    pattern = re.compile(r"<!-- example: ([\w-]+) -->\n```\n(.*?)\n```", re.DOTALL)
    return {m.group(1): m.group(2) for m in pattern.finditer(text)}


def test_the_transaction_example_recomputes() -> None:
    ex = examples()
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ex["seed"]))
    payload = ex["payload"].encode()
    assert canonical.encode(canonical.decode(payload)) == payload
    assert hashlib.sha256(payload).hexdigest() == ex["tx-id"]
    assert base64.b64encode(key.sign(payload)).decode() == ex["signature"]


def test_the_request_signature_example_recomputes() -> None:
    ex = examples()
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ex["seed"]))
    assert ContentDigest.create(b'{"a":1}') == ex["content-digest"]
    base = ex["signature-base"]
    assert f'"content-digest": {ex["content-digest"]}' in base.splitlines()
    params = base.splitlines()[-1].removeprefix('"@signature-params": ')
    assert ex["signature-input"] == f"sig={params}"
    signature = base64.b64encode(key.sign(base.encode())).decode()
    assert ex["signature-header"] == f"sig=:{signature}:"


def test_the_sdk_signs_the_request_example_byte_for_byte_with_the_documented_tag() -> None:
    """What the document tells an integrator to send is what the SDK sends (and a node checks)."""
    ex = examples()
    tag = re.search(r';tag="([^"]*)"', ex["signature-input"])
    assert tag is not None
    target = RequestTarget.from_tag(tag.group(1))
    assert target == RequestTarget(chain_id="ab" * 32, node_org="icbc-gz")
    identity = ClientIdentity(cert_der=b"", private_key=bytes.fromhex(ex["seed"]), fingerprint="cd" * 32)
    request = httpx.Request("POST", "http://node.example/v1/transactions?wait=5", content=b'{"a":1}')
    sign_request(request, identity, target=target, created_s=1767484800, expires_s=1767484860,
                 nonce="docs-request-0001", include_certificate=False)
    assert request.headers["content-digest"] == ex["content-digest"]
    assert request.headers["signature-input"] == ex["signature-input"]
    assert request.headers["signature"] == ex["signature-header"]
