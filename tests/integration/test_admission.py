"""Every refusal class at submission: the reason is machine-readable and nothing is stored."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import orjson
import pytest

from estatechain.crypto.batch import BAD_SIGNATURE, NON_CANONICAL, VALID
from estatechain.crypto.suites import get_suite
from estatechain.errors import Refused, Unavailable
from estatechain.identity.devca import create_dev_consortium, issue_identity
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.node.signatures import SignatureChecker
from estatechain.testing.harness import LedgerHarness


@pytest.fixture
def ledger(tmp_path: Path) -> LedgerHarness:
    harness = LedgerHarness(tmp_path)
    bank = harness.factory.identity("icbc-gz/operator1")
    harness.commit([harness.factory.note(bank, "seed/1", {"v": 1})])
    return harness


def _refused_unchanged(ledger: LedgerHarness, envelope: bytes, code: str) -> dict[str, str]:
    before = ledger.snapshot()
    refused = ledger.refuse(envelope)
    assert refused.code == code, refused
    assert refused.message
    assert ledger.snapshot() == before
    return refused.detail


def test_oversized_envelope_is_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    big = ledger.factory.note(bank, "big", {"blob": "x" * (ledger.consortium.genesis.policies.max_tx_bytes + 1)})
    detail = _refused_unchanged(ledger, big, "TOO_LARGE")
    assert detail["limit"] == str(ledger.consortium.genesis.policies.max_tx_bytes)


def test_non_canonical_bytes_are_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = json.loads(ledger.factory.note(bank, "k1", {"v": 1}))
    pretty = json.dumps(envelope, indent=1).encode()  # same content, not RFC 8785 bytes
    _refused_unchanged(ledger, pretty, "NON_CANONICAL")
    unsorted = json.dumps({"signature": envelope["signature"], "payload": envelope["payload"]},
                          separators=(",", ":")).encode()
    _refused_unchanged(ledger, unsorted, "NON_CANONICAL")


def test_floats_in_a_payload_are_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = json.loads(ledger.factory.note(bank, "k1", {"v": 1}))
    envelope["payload"]["body"]["data"]["v"] = 1.5
    _refused_unchanged(ledger, orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS), "NON_CANONICAL")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("signature"),
        lambda e: e["payload"].pop("nonce"),
        lambda e: e["payload"].update(type="estatechain.attestation.v1"),
        lambda e: e["payload"].update(nonce="short"),
        lambda e: e["payload"].update(created_at=-5),
        lambda e: e.update(signature="not base64!"),
        lambda e: e["payload"].update(extra=1),
    ],
    ids=["no-signature", "no-nonce", "wrong-type-tag", "short-nonce", "negative-time", "bad-base64", "extra-field"],
)
def test_malformed_envelopes_are_refused(ledger: LedgerHarness, mutate: object) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = json.loads(ledger.factory.note(bank, "k1", {"v": 1}))
    assert callable(mutate)
    mutate(envelope)
    _refused_unchanged(ledger, orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS), "MALFORMED_ENVELOPE")


def test_not_json_is_refused(ledger: LedgerHarness) -> None:
    _refused_unchanged(ledger, b"\xff\xfe not json", "MALFORMED_ENVELOPE")


def test_a_signature_made_for_another_chain_is_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    other_chain = "ab" * 32
    detail = _refused_unchanged(ledger, ledger.factory.sign(bank, "note.put", {"data": {}, "key": "x"},
                                                           chain_id=other_chain), "WRONG_CHAIN")
    assert detail["got"] == other_chain


def test_a_tampered_payload_fails_its_signature(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = json.loads(ledger.factory.note(bank, "k1", {"v": 1}))
    envelope["payload"]["body"]["data"]["v"] = 2
    _refused_unchanged(ledger, orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS), "BAD_SIGNATURE")


def test_a_signature_by_another_key_is_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    other = ledger.factory.identity("ccb-gz/operator1")
    forged = json.loads(ledger.factory.note(other, "k1", {"v": 1}))
    genuine = json.loads(ledger.factory.note(bank, "k2", {"v": 1}))
    forged["payload"]["signer"] = bank.fingerprint
    forged["certificate"] = genuine["certificate"]
    _refused_unchanged(ledger, orjson.dumps(forged, option=orjson.OPT_SORT_KEYS), "BAD_SIGNATURE")


def test_a_certificate_that_does_not_match_the_named_signer_is_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    other = ledger.factory.identity("ccb-gz/operator1")
    envelope = json.loads(ledger.factory.note(bank, "k1", {"v": 1}))
    envelope["certificate"] = base64.b64encode(other.cert_der).decode()
    _refused_unchanged(ledger, orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS), "SIGNER_MISMATCH")


def test_an_unknown_signer_without_certificate_is_refused(ledger: LedgerHarness) -> None:
    newcomer = ledger.factory.identity("ccb-gz/approver1")
    envelope = ledger.factory.sign(newcomer, "note.put", {"data": {}, "key": "x"}, with_certificate=False)
    _refused_unchanged(ledger, envelope, "UNKNOWN_SIGNER")


def test_a_known_signer_may_omit_its_certificate(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")  # its certificate is on the ledger since the seed tx
    envelope = ledger.factory.sign(bank, "note.put", {"data": {}, "key": "short"}, with_certificate=False)
    (receipt,) = ledger.commit([envelope])
    assert receipt.valid


def test_a_certificate_from_outside_the_consortium_is_refused(ledger: LedgerHarness, tmp_path: Path) -> None:
    stranger_consortium = create_dev_consortium(tmp_path / "other", now_ms=ledger.clock.now_ms())
    stranger = stranger_consortium.identities["icbc-gz/operator1"]
    _refused_unchanged(ledger, ledger.factory.note(stranger, "k", {}), "UNKNOWN_ISSUER")


def test_a_bank_issued_registry_role_is_refused(ledger: LedgerHarness) -> None:
    rogue = issue_identity(ledger.consortium.directory, org_id="icbc-gz", user="rogue", role="registry.recorder",
                           now_ms=ledger.clock.now_ms())
    detail = _refused_unchanged(ledger, ledger.factory.note(rogue, "k", {}), "ROLE_NOT_GRANTABLE")
    assert "registry.recorder" in str(detail)


def test_an_unknown_command_is_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    _refused_unchanged(ledger, ledger.factory.sign(bank, "mortgage.forge", {}), "UNKNOWN_COMMAND")


def test_resubmitting_a_committed_transaction_is_refused(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = ledger.factory.note(bank, "once", {"v": 1})
    (receipt,) = ledger.commit([envelope])
    assert receipt.valid
    detail = _refused_unchanged(ledger, envelope, "DUPLICATE_TX")
    assert detail["tx_id"] == receipt.tx_id


def test_a_re_signed_copy_of_a_committed_payload_is_refused(ledger: LedgerHarness) -> None:
    """Re-signing cannot make a new transaction: the tx id is the payload's hash, signature excluded."""
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = ledger.factory.note(bank, "once", {"v": 1})
    (receipt,) = ledger.commit([envelope])
    copy = json.loads(envelope)
    copy.pop("certificate")  # a different envelope around the very same payload
    resent = orjson.dumps(copy, option=orjson.OPT_SORT_KEYS)
    assert resent != envelope
    detail = _refused_unchanged(ledger, resent, "DUPLICATE_TX")
    assert detail["tx_id"] == receipt.tx_id


def test_a_reused_nonce_is_refused_naming_the_transaction_that_used_it(ledger: LedgerHarness) -> None:
    """A retry signed again with the same nonce gets the first transaction's id to ask about, not just "use a
    fresh nonce", which would make a second transaction (a second filing) out of a lost answer."""
    bank = ledger.factory.identity("icbc-gz/operator1")
    first = ledger.factory.sign(bank, "note.put", {"data": {}, "key": "a"}, nonce="nonce-0000001")
    (receipt,) = ledger.commit([first])
    again = ledger.factory.sign(bank, "note.put", {"data": {}, "key": "b"}, nonce="nonce-0000001")
    detail = _refused_unchanged(ledger, again, "DUPLICATE_NONCE")
    assert detail["tx_id"] == receipt.tx_id
    assert f"GET /v1/transactions/{receipt.tx_id}" in ledger.refuse(again).message


def test_forged_signatures_in_a_large_burst_are_refused_and_the_rest_commit(ledger: LedgerHarness) -> None:
    """A burst of 200 is verified in the worker process: each forgery is refused alone, nothing of it stored."""
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelopes = [ledger.factory.note(bank, f"burst/{n}", {"n": n}) for n in range(200)]
    forged_at = {7, 64, 199}
    for n in forged_at:
        envelope = json.loads(envelopes[n])
        envelope["payload"]["body"]["data"]["n"] = -1
        envelopes[n] = orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)
    before = ledger.snapshot()

    async def burst() -> list[Receipt | BaseException]:
        pipeline = Pipeline(ledger.store, ledger.clock)
        runner = asyncio.create_task(pipeline.run())
        futures = [pipeline.submit_nowait(e) for e in envelopes]  # one loop turn: one batch for the worker
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        pipeline.stop()
        await runner
        return outcomes

    outcomes = asyncio.run(burst())
    refused = {n: outcome.code for n, outcome in enumerate(outcomes) if isinstance(outcome, Refused)}
    assert refused == dict.fromkeys(forged_at, "BAD_SIGNATURE")
    assert ledger.snapshot().txs == before.txs + 197
    rows = ledger.store.connection.execute("SELECT key FROM state_current WHERE key LIKE 'note/burst/%'")
    stored = {row[0] for row in rows}
    assert len(stored) == 197
    assert not any(key.endswith(f"/{n}") for n in forged_at for key in stored)


def test_the_worker_and_the_loop_give_the_same_verdicts() -> None:
    suite = get_suite("ed25519-sha256")
    private, public = suite.generate()
    messages = [b'{"n":%d}' % n for n in range(40)]
    checks = [(public, m, suite.sign(private, m)) for m in messages]
    checks[5] = (public, b'{"n":-5}', checks[5][2])  # signed something else
    checks[9] = (b"short key", checks[9][1], checks[9][2])
    checks[12] = (public, b'{"n": 12}', suite.sign(private, b'{"n": 12}'))  # signed, but not canonical
    expected = [NON_CANONICAL if n == 12 else BAD_SIGNATURE if n in {5, 9} else VALID for n in range(40)]

    async def verdicts(inline_below: int) -> list[int]:
        checker = SignatureChecker(suite, inline_below=inline_below)
        return list(await asyncio.gather(*(checker.check(*c, canonical=True).wait() for c in checks)))

    in_worker, on_loop = asyncio.run(verdicts(1)), asyncio.run(verdicts(1000))
    assert in_worker == on_loop == expected


def test_a_payload_that_is_not_canonical_inside_a_canonical_frame_is_refused_as_non_canonical(
    ledger: LedgerHarness,
) -> None:
    """The deferred payload check: the frame around the payload is exact, the payload's key order is not."""
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = json.loads(ledger.factory.note(bank, "k1", {"v": 1}))
    payload = json.dumps(dict(reversed(list(envelope["payload"].items()))), separators=(",", ":"))
    framed = ('{"certificate":' + json.dumps(envelope["certificate"]) + ',"payload":' + payload
              + ',"signature":' + json.dumps(envelope["signature"]) + "}").encode()
    detail = _refused_unchanged(ledger, framed, "NON_CANONICAL")
    assert detail == {}
    assert "envelope.payload: not in RFC 8785 canonical form" in ledger.refuse(framed).message


def test_after_a_commit_fault_a_submission_is_unavailable_and_nothing_is_stored(
    ledger: LedgerHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API answers 503 UNAVAILABLE (retry elsewhere or later), not 500 INTERNAL, once the pipeline stopped."""
    bank = ledger.factory.identity("icbc-gz/operator1")
    before = ledger.snapshot()

    def disk_full(**_: object) -> None:
        raise OSError(28, "No space left on device")

    async def fault_then_submit() -> None:
        pipeline = Pipeline(ledger.store, ledger.clock)
        runner = asyncio.create_task(pipeline.run())
        monkeypatch.setattr(ledger.store, "commit_block", disk_full)
        with pytest.raises(OSError, match="No space left"):
            await pipeline.submit(ledger.factory.note(bank, "fault/1", {"n": 1}))
        await asyncio.gather(runner, return_exceptions=True)
        with pytest.raises(Unavailable, match=r"stopped after a fault.*restarted"):
            pipeline.submit_nowait(ledger.factory.note(bank, "fault/2", {"n": 2}))

    asyncio.run(fault_then_submit())
    monkeypatch.undo()
    assert ledger.snapshot().txs == before.txs
