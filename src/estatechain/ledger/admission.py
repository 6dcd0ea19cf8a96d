"""Admission: the checks a transaction must pass before it may be ordered (design §3.13).

Static checks (``envelope.parse_envelope``) come first, then authentication against the consortium
(certificate chain, role its org may grant, signature over the payload, chain id) and finally replay
and revocation against the committed ledger. Anything that fails is *refused*: the caller gets a
``Refused`` with a stable code, and nothing is stored. The same authentication runs again when an
auditor replays the chain, against the state as it was then.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from estatechain.canonical import JSONValue
from estatechain.contract.effects import Record
from estatechain.contract.rules.governance import revoked_key
from estatechain.contract.versions import known_commands
from estatechain.crypto.suites import SignatureSuite, get_suite
from estatechain.errors import Refused
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import Signer, SignerCache
from estatechain.ledger.envelope import SignedTx, parse_envelope
from estatechain.ledger.refusals import RefusalCode

CERT_PREFIX: Final = "identity/cert/"


def cert_key(fingerprint: str) -> str:
    """State key under which a signer's certificate is registered on first valid use."""
    return CERT_PREFIX + fingerprint


class StateReader(Protocol):
    """**Protocol:** read access to current state (committed, or replayed by an auditor)."""

    def get(self, key: str) -> Record | None:
        """Current version of ``key``."""
        ...


def nonce_refusal(tx: SignedTx, earlier: str | None) -> Refused:
    """DUPLICATE_NONCE naming the transaction that used the nonce, and what a retrying caller should do.

    A caller that signs a step again with the same nonce is usually retrying a submission whose answer it
    lost; signing it once more with a fresh nonce would make a *second* transaction (a second filing, a
    confirmation refused as already given). So the refusal names the first one to ask about instead.
    """
    if earlier is None:
        return Refused(RefusalCode.DUPLICATE_NONCE, "this signer already used this nonce; use a fresh nonce",
                       {"signer": tx.signer, "nonce": tx.nonce})
    return Refused(RefusalCode.DUPLICATE_NONCE,
                   f"this signer already used this nonce, in transaction {earlier}: if you are retrying that step, "
                   f"ask GET /v1/transactions/{earlier} instead of signing it again; for a new transaction, sign it "
                   "with a fresh nonce", {"signer": tx.signer, "nonce": tx.nonce, "tx_id": earlier})


class ReplayIndex(Protocol):
    """**Protocol:** what the committed ledger knows about earlier transactions."""

    def tx_known(self, tx_id: str) -> bool:
        """True when the tx id is in a committed block."""
        ...

    def nonce_used(self, signer: str, nonce: str) -> bool:
        """True when the signer used the nonce in a committed transaction."""
        ...

    def nonce_tx(self, signer: str, nonce: str) -> str | None:
        """The committed transaction in which the signer used the nonce, or None."""
        ...

    def replay_status(self, tx_id: str, signer: str, nonce: str) -> tuple[bool, bool]:
        """(tx id committed, nonce used by signer) in one look-up."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AdmittedTx:
    """An authentic transaction with its resolved signer and the facts derived from its bytes."""

    tx: SignedTx
    signer: Signer
    facts: Mapping[str, JSONValue]


def bad_signature(tx: SignedTx) -> Refused:
    """The refusal for a signature that does not verify."""
    return Refused(RefusalCode.BAD_SIGNATURE, "the signature does not verify over the canonical payload with the "
                   "signer's certificate key", {"signer": tx.signer})


class Authenticator:
    """Authenticates envelopes against one consortium's genesis. Caches resolved certificates."""

    def __init__(self, genesis: Genesis) -> None:
        self.genesis = genesis
        self.suite: SignatureSuite = get_suite(genesis.suite)
        self.max_tx_bytes = genesis.policies.max_tx_bytes
        self._signers = SignerCache(genesis)
        self._commands = known_commands()

    def parse(self, data: bytes, *, defer_payload: bool = False) -> SignedTx:
        """Static checks only (shape, size, canonical form; see ``parse_envelope`` for ``defer_payload``)."""
        return parse_envelope(data, suite=self.suite, max_bytes=self.max_tx_bytes, defer_payload=defer_payload)

    def authenticate(self, tx: SignedTx, state: StateReader, *, check_signature: bool = True) -> AdmittedTx:
        """Check chain, command, signer and signature; derive the facts the contract needs.

        ``check_signature=False`` leaves the signature to the caller, who must check it (with
        ``tx.signature`` over ``tx.payload_bytes`` and the returned signer's key) before the
        transaction is ordered: the pipeline checks a whole batch at once.

        Raises:
            Refused: WRONG_CHAIN, UNKNOWN_COMMAND, UNKNOWN_SIGNER, SIGNER_MISMATCH, BAD_SIGNATURE, or a
                certificate code (MALFORMED_CERTIFICATE, UNKNOWN_ISSUER, ROLE_NOT_GRANTABLE …).

        """
        if tx.chain_id != self.genesis.chain_id:
            raise Refused(RefusalCode.WRONG_CHAIN, "the payload names another chain; sign for this consortium's "
                          "chain id", {"expected": self.genesis.chain_id, "got": tx.chain_id})
        if tx.command not in self._commands:
            raise Refused(RefusalCode.UNKNOWN_COMMAND, f"no such command {tx.command!r}",
                          {"known": ", ".join(sorted(self._commands))})
        signer = self._signer(tx, state)
        if check_signature and not self.suite.verify(signer.public_key, tx.payload_bytes, tx.signature):
            raise bad_signature(tx)
        return AdmittedTx(tx=tx, signer=signer, facts=self._facts(tx))

    def _signer(self, tx: SignedTx, state: StateReader) -> Signer:
        certificate = tx.certificate
        if certificate is None:
            registered = state.get(cert_key(tx.signer))
            if registered is None:
                raise Refused(RefusalCode.UNKNOWN_SIGNER, "no certificate with this fingerprint is on the ledger; "
                              "include the certificate in the envelope", {"signer": tx.signer})
            certificate = base64.b64decode(str(registered["certificate"]))
        signer = self._signers.resolve(certificate)
        if signer.fingerprint != tx.signer:
            raise Refused(RefusalCode.SIGNER_MISMATCH, "payload.signer is not the fingerprint of the enclosed "
                          "certificate", {"signer": tx.signer, "certificate": signer.fingerprint})
        return signer

    def _facts(self, tx: SignedTx) -> Mapping[str, JSONValue]:
        """Deterministic facts from the signed bytes that the pure contract cannot derive itself."""
        if tx.command != "identity.revoke":
            return {}
        encoded = tx.body.get("certificate")
        try:
            target = self._signers.resolve(base64.b64decode(str(encoded), validate=True))
        except (ValueError, Refused) as exc:
            raise Refused(RefusalCode.MALFORMED_ENVELOPE, f"body.certificate must be the base64 DER of a member "
                          f"certificate: {exc}", {"field": "body.certificate"}) from None
        return {"target_fingerprint": target.fingerprint, "target_org": target.org_id, "target_role": target.role}


class Admission:
    """Submission-time gate of one node: authentication plus replay and revocation checks."""

    def __init__(self, authenticator: Authenticator, state: StateReader, replay: ReplayIndex) -> None:
        self._auth = authenticator
        self._state = state
        self._replay = replay

    def admit(self, data: bytes, *, defer: bool = False) -> AdmittedTx:
        """Run every submission check on envelope bytes.

        ``defer=True``: every check but the two that depend on the bytes alone, which the caller then
        owes before ordering: the signature over ``tx.payload_bytes`` with ``signer.public_key``, and
        that those bytes are canonical (``envelope.payload_is_canonical``). The pipeline runs both for
        a whole batch at once, off the event loop.

        Raises:
            Refused: with the stable code of the first failed check; nothing is stored.

        """
        tx = self._auth.parse(data, defer_payload=defer)
        tx_known, nonce_used = self._replay.replay_status(tx.tx_id, tx.signer, tx.nonce)
        if tx_known:
            raise Refused(RefusalCode.DUPLICATE_TX, "this transaction is already on the ledger", {"tx_id": tx.tx_id})
        admitted = self._auth.authenticate(tx, self._state, check_signature=not defer)
        if nonce_used:
            raise nonce_refusal(tx, self._replay.nonce_tx(tx.signer, tx.nonce))
        if self._state.get(revoked_key(tx.signer)) is not None:
            raise Refused(RefusalCode.SIGNER_REVOKED, "the signer's certificate has been revoked",
                          {"signer": tx.signer})
        return admitted
