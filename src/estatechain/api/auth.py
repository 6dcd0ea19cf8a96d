"""RFC 9421 HTTP Message Signatures → the calling member's identity (design §3.9).

Every ``/v1`` call except health and readiness is signed by the caller with its certificate's
Ed25519 key. The profile (``docs/api.md`` has a worked example):

* ``Signature-Input: sig=("@method" "@path" "@query" "content-digest");created=…;expires=…;
  nonce="…";keyid="<certificate SHA-256 fingerprint, hex>";alg="ed25519";tag="<chain id>/<node org id>"``
  and ``Signature: sig=:<base64>:``. ``content-digest`` (RFC 9530, ``sha-256``) is covered whenever
  the request has a body; ``expires`` is optional.
* The certificate travels as ``Estatechain-Certificate: <base64 DER>``, or is omitted when a
  certificate with that fingerprint is already on the ledger.
* ``tag`` names the node the request is for (``RequestTarget``): the consortium's chain id and the
  org that runs this node. Each node keeps its own replay cache, so without it a request captured
  on its way to one org's node was accepted once more at every other org's node of the consortium,
  and at any node of another network that knows the same certificate.
* Replay: ``created`` must lie within ``signature_max_age_s`` (± ``clock_skew_s``) of the node's
  clock, and each (keyid, nonce) is accepted once while it could still pass that window — also
  across a restart of the node: the pairs are kept in ``request-nonces.sqlite`` beside the ledger.

Every rejection is 401 with a reason code: ``MISSING_SIGNATURE``, ``MALFORMED_SIGNATURE``,
``BAD_SIGNATURE``, ``MISSING_TAG``, ``WRONG_CHAIN``, ``WRONG_NODE``, ``UNKNOWN_KEY``, ``REVOKED``,
``CERTIFICATE_EXPIRED``, ``INSUFFICIENT_COVERAGE``, ``DIGEST_MISMATCH``, ``EXPIRED``, ``NOT_YET_VALID``,
``REPLAYED``.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, InvalidSignature, algorithms
from http_message_signatures.digests import ContentDigest

from estatechain.api.problems import ApiError
from estatechain.clock import Clock
from estatechain.errors import InputError, NotFound, Refused
from estatechain.identity.membership import Signer
from estatechain.sdk.signing import RequestTarget

CERTIFICATE_HEADER: Final = "estatechain-certificate"
COVERED: Final = ("@method", "@path", "@query")
"""Components every request signature must cover; ``content-digest`` joins them when there is a body."""
ALGORITHM: Final = "ed25519"
_NONCE: Final = re.compile(r"^[A-Za-z0-9_\-.~+/=]{8,128}$")
NONCE_FILE: Final = "request-nonces.sqlite"
"""Where a node keeps the (keyid, nonce) pairs of accepted requests while they could be replayed."""
_PRUNE_EVERY: Final = 4096
"""Accepted requests between two deletions of expired pairs from the file."""


class CallerResolver(Protocol):
    """**Protocol:** who a key id (certificate fingerprint) speaks for; the node service implements it."""

    def resolve_caller(self, *, key_id: str, certificate: bytes | None) -> Signer:
        """The member identity, or NotFound / Refused."""
        ...


def unauthorized(code: str, message: str, **detail: str) -> ApiError:
    """A 401 with a reason code."""
    return ApiError(401, code, message, detail)


class NonceCache:
    """(key id, nonce) pairs seen while their requests could still pass the time window.

    Entries expire at ``created + max_age + skew``; after that the time check alone rejects a
    replay, so forgetting them is safe. When full of live entries the node refuses new requests
    (503) rather than forget one early, which would reopen a replay.
    """

    def __init__(self, max_entries: int, *, path: Path | None = None, now_s: int = 0) -> None:
        """``path``: the file that keeps the pairs across restarts (None: memory only, for tools and tests).

        A restarted node loads the pairs that have not expired at ``now_s``: kept in memory only, a
        request captured before a restart was accepted again after it while its ``created`` was in
        the window. The file is WAL with ``synchronous=NORMAL``: a killed process loses nothing; a
        power cut may lose the last pairs, and the machine's restart takes most of the window.
        """
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._db: sqlite3.Connection | None = None
        self._added = 0
        if path is not None:
            try:
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA busy_timeout=5000")
                self._db.execute("CREATE TABLE IF NOT EXISTS seen (key_id TEXT NOT NULL, nonce TEXT NOT NULL, "
                                 "expires_s INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)) WITHOUT ROWID")
                self._db.execute("DELETE FROM seen WHERE expires_s < ?", (now_s,))
                for key_id, nonce, expires_s in self._db.execute(
                        "SELECT key_id, nonce, expires_s FROM seen ORDER BY expires_s"):
                    self._seen[(str(key_id), str(nonce))] = int(expires_s)
            except sqlite3.DatabaseError as exc:
                if self._db is not None:
                    self._db.close()
                raise InputError(f"{path}: the node's record of used request nonces cannot be read ({exc}); it "
                                 "holds no ledger data: with the node stopped, delete it (and its -wal and -shm "
                                 "files) and start again") from None

    def close(self) -> None:
        """Close the file (the pairs stay in it for the next start)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __len__(self) -> int:
        return len(self._seen)

    def remember(self, key_id: str, nonce: str, *, expires_s: int, now_s: int) -> bool:
        """Record the pair; False when it was already seen (a replay)."""
        pair = (key_id, nonce)
        if pair in self._seen:
            return False
        while self._seen:
            oldest, expiry = next(iter(self._seen.items()))
            if expiry >= now_s:
                break
            del self._seen[oldest]
        if len(self._seen) >= self._max:
            self._purge(now_s)
            if len(self._seen) >= self._max:
                raise ApiError(503, "BUSY", "too many signed requests in the replay window; retry shortly",
                               retry_after_s=5)
        if self._db is not None:  # the file first: a pair the file did not take is not remembered either
            try:
                self._db.execute("INSERT OR REPLACE INTO seen (key_id, nonce, expires_s) VALUES (?, ?, ?)",
                                 (key_id, nonce, expires_s))
                self._added += 1
                if self._added % _PRUNE_EVERY == 0:
                    self._db.execute("DELETE FROM seen WHERE expires_s < ?", (now_s,))
            except sqlite3.Error as exc:
                raise ApiError(503, "UNAVAILABLE", f"this node cannot record the request's nonce ({exc}); nothing "
                               "was done: retry shortly, or send the request to another member's node",
                               retry_after_s=5) from None
        self._seen[pair] = expires_s
        return True

    def _purge(self, now_s: int) -> None:
        for pair in [p for p, expiry in self._seen.items() if expiry < now_s]:
            del self._seen[pair]


@dataclass(slots=True)
class _Message:
    """The request as the signature library reads it: method, absolute URL and header lines."""

    method: str
    url: str
    headers: _Headers


class _Headers:
    """Read-only header lines in wire order (names and values as latin-1 strings)."""

    def __init__(self, lines: Iterable[tuple[str, str]]) -> None:
        self._lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._lines)

    def get(self, name: str) -> str | None:
        values = [v for n, v in self._lines if n.lower() == name]
        return ", ".join(values) if values else None


class _Verifier(HTTPMessageVerifier):
    """The library's verifier with its wall-clock checks off: the node checks time with its own clock."""

    def validate_created_and_expires(self, sig_input: object, max_age: object = None) -> None:
        """Skipped here; ``RequestAuthenticator`` checks created/expires after the signature."""


class _CallerKeys(HTTPSignatureKeyResolver):
    """Resolves the signature's keyid through membership, remembering the signer or why it failed."""

    def __init__(self, callers: CallerResolver, certificate: bytes | None) -> None:
        self._callers = callers
        self._certificate = certificate
        self.signer: Signer | None = None
        self.failure: ApiError | None = None

    def resolve_public_key(self, key_id: str) -> ed25519.Ed25519PublicKey | None:
        try:
            self.signer = self._callers.resolve_caller(key_id=key_id, certificate=self._certificate)
        except NotFound as exc:
            self.failure = unauthorized("UNKNOWN_KEY", str(exc), keyid=key_id)
            return None
        except Refused as exc:
            code = {"SIGNER_REVOKED": "REVOKED", "CERTIFICATE_EXPIRED": "CERTIFICATE_EXPIRED"}.get(exc.code,
                                                                                                 "UNKNOWN_KEY")
            self.failure = unauthorized(code, exc.message, keyid=key_id, reason=exc.code)
            return None
        return ed25519.Ed25519PublicKey.from_public_bytes(self.signer.public_key)

    def resolve_private_key(self, key_id: str) -> ed25519.Ed25519PrivateKey:
        raise NotImplementedError(f"the node never signs as a caller ({key_id})")


class RequestAuthenticator:
    """Verifies one request's signature, time window and nonce; returns the caller's identity."""

    def __init__(  # noqa: PLR0913  (keywords only; each is one knob of the profile)
        self, *, callers: CallerResolver, clock: Clock, target: RequestTarget, max_age_s: int, skew_s: int,
        nonces: NonceCache,
    ) -> None:
        """``target``: this node, as a request signed for it names it in its ``tag``."""
        self._callers = callers
        self._clock = clock
        self._target = target
        self._max_age_s = max_age_s
        self._skew_s = skew_s
        self._nonces = nonces

    def close(self) -> None:
        """Close the replay cache's file when the node stops."""
        self._nonces.close()

    def authenticate(self, *, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes) -> Signer:
        """The signer of a request whose raw target (path and query as sent) and body are given.

        Raises:
            ApiError: 401 with a reason code when the request is not acceptably signed.

        """
        lines = _Headers(headers)
        if "signature-input" not in lines or "signature" not in lines:
            raise unauthorized("MISSING_SIGNATURE", "sign the request (RFC 9421) with your certificate's key; "
                               "see docs/api.md")
        certificate = _certificate(lines.get(CERTIFICATE_HEADER))
        keys = _CallerKeys(self._callers, certificate)
        verifier = _Verifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
        message = _Message(method=method.upper(), url="http://node" + target, headers=lines)
        try:
            results = verifier.verify(message, max_age=None)  # one signature: its tag is checked below
        except InvalidSignature as exc:
            raise self._classify(exc, keys) from None
        except Exception as exc:  # noqa: BLE001  (the library raises its base error for malformed input)
            raise unauthorized("MALFORMED_SIGNATURE", f"the signature headers cannot be read: {exc}") from None
        if keys.signer is None or len(results) != 1:
            raise unauthorized("MALFORMED_SIGNATURE", "send exactly one signature")
        result = results[0]
        self._check_target(result.parameters.get("tag"))
        self._check_coverage(result.covered_components, body)
        self._check_time_and_nonce(result.parameters, keys.signer.fingerprint)
        return keys.signer

    def _classify(self, exc: InvalidSignature, keys: _CallerKeys) -> ApiError:
        if keys.failure is not None:
            return keys.failure
        text = str(exc)
        if keys.signer is not None:
            return unauthorized("BAD_SIGNATURE", "the signature does not verify with the certificate's key over "
                                "the covered components", keyid=keys.signer.fingerprint)
        return unauthorized("MALFORMED_SIGNATURE", f"the signature headers are not acceptable: {text}")

    def _check_target(self, tag: int | str | None) -> None:
        """The signature's tag must name this node: checked after the signature, which covers it.

        A request that verifies but names another node or network was signed by its key's holder for
        somewhere else: it is refused here before its nonce is used, and the answer says what to sign.
        """
        expected = self._target
        how = (f'sign each request for the node it is sent to: tag="{expected.tag}" (chain id "/" org id; '
               "GET /v1/health names both)")
        target = RequestTarget.from_tag(tag) if isinstance(tag, str) else None
        if target is None:
            got = {} if tag is None else {"got": str(tag)[:200]}
            raise unauthorized("MISSING_TAG", f"the signature has no tag naming this node; {how}",
                               expected=expected.tag, **got)
        if target.chain_id != expected.chain_id:
            raise unauthorized("WRONG_CHAIN", f"the request was signed for another network (chain id "
                               f"{target.chain_id[:16]}…), not this consortium's; {how}",
                               expected=expected.chain_id, got=target.chain_id)
        if target.node_org != expected.node_org:
            raise unauthorized("WRONG_NODE", f"the request was signed for the node of {target.node_org}, but "
                               f"this node is {expected.node_org}'s; {how}",
                               expected=expected.node_org, got=target.node_org)

    @staticmethod
    def _check_coverage(covered: dict[str, str], body: bytes) -> None:
        names = {key.split(";", 1)[0].strip('"') for key in covered}
        missing = [c for c in COVERED if c not in names]
        if body and "content-digest" not in names:
            missing.append("content-digest")
        if missing:
            raise unauthorized("INSUFFICIENT_COVERAGE", f"the signature must cover {', '.join(missing)}",
                               missing=", ".join(missing))
        try:
            ContentDigest.verify_components(covered, body)
        except InvalidSignature as exc:
            raise unauthorized("DIGEST_MISMATCH", f"Content-Digest does not match the body: {exc}") from None

    def _check_time_and_nonce(self, parameters: dict[str, int | str], key_id: str) -> None:
        now_s = self._clock.now_ms() // 1000
        created, expires, nonce = parameters.get("created"), parameters.get("expires"), parameters.get("nonce")
        if not isinstance(created, int):
            raise unauthorized("MALFORMED_SIGNATURE", "the signature needs created: integer Unix seconds")
        if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
            raise unauthorized("MALFORMED_SIGNATURE", "the signature needs a nonce of 8-128 characters from "
                               "A-Z a-z 0-9 _ - . ~ + / = (new for every request)",
                               nonce=str(nonce)[:140] if nonce is not None else "missing")
        if created > now_s + self._skew_s:
            raise unauthorized("NOT_YET_VALID", "the signature was created in the future; check your clock",
                               created=str(created), now=str(now_s))
        if created < now_s - self._max_age_s - self._skew_s:
            raise unauthorized("EXPIRED", f"the signature is older than {self._max_age_s} s; sign the request anew",
                               created=str(created), now=str(now_s))
        if isinstance(expires, int) and expires < now_s - self._skew_s:
            raise unauthorized("EXPIRED", "the signature's expires time has passed; sign the request anew",
                               expires=str(expires), now=str(now_s))
        if not self._nonces.remember(key_id, nonce, expires_s=created + self._max_age_s + self._skew_s, now_s=now_s):
            raise unauthorized("REPLAYED", "this signed request was already received; sign each request with a "
                               "fresh nonce", nonce=nonce)


def _certificate(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise unauthorized("MALFORMED_SIGNATURE", f"{CERTIFICATE_HEADER} must be the base64 DER certificate") from None
