"""Custodial signing measures the signed envelope before anything is signed (``custody.prepare``).

The measurement is the API's (``ledger.envelope.signed_size``): a payload whose signed envelope is
exactly ``max_tx_bytes`` is prepared and the node's static check takes it; one byte more is refused
with the size and the limit, and nothing is prepared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import create_dev_consortium
from estatechain.ledger.envelope import parse_envelope
from estatechain.node.keys import NodeKeys
from estatechain.web.custody import SUITE, KeyCustody, TooLarge

CLERK: Final = "icbc-gz/operator1"
NOW_MS: Final = 1_767_484_800_000


def prepare(custody: KeyCustody, padding: int) -> bytes:
    """Prepare and sign a note whose body carries ``padding`` bytes of ASCII: the signed envelope."""
    pending = custody.prepare(handle=CLERK, chain_id="ab" * 32, command="note.put",
                              body={"key": "k", "value": "x" * padding}, now_ms=NOW_MS, summary=[], back="")
    return custody.sign(pending, chain_id="ab" * 32)


def test_a_payload_is_refused_before_signing_one_byte_over_the_limit(tmp_path: Path) -> None:
    create_dev_consortium(tmp_path, now_ms=NOW_MS)
    probe = len(prepare(KeyCustody(NodeKeys.from_dev(tmp_path, "icbc-gz"), max_tx_bytes=1 << 20), 0))
    limit = probe + 100
    custody = KeyCustody(NodeKeys.from_dev(tmp_path, "icbc-gz"), max_tx_bytes=limit)

    envelope = prepare(custody, 100)
    assert len(envelope) == limit
    parse_envelope(envelope, suite=get_suite(SUITE), max_bytes=limit)  # the node's size check takes it

    with pytest.raises(TooLarge) as refused:
        prepare(custody, 101)
    assert (refused.value.size, refused.value.limit, refused.value.excess) == (limit + 1, limit, 1)
    assert f"max_tx_bytes of {limit}" in str(refused.value)
