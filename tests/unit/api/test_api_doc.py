"""docs/api.md's worked examples are recomputed from the document itself, byte for byte."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures.digests import ContentDigest

from estatechain import canonical

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
