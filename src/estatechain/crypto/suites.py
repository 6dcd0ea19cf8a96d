"""Signature suites, chosen by name in the genesis config (design §3.3, roadmap wave 2).

Callers never name an algorithm: they ask the genesis for its suite and use this protocol, so a
national SM2/SM3 suite can be registered beside Ed25519/SHA-256 without touching them.
"""

from __future__ import annotations

from typing import Protocol

from estatechain.errors import InputError


class SignatureSuite(Protocol):
    """**Protocol:** one signature algorithm paired with one hash function."""

    @property
    def name(self) -> str:
        """The suite's stable name as written in a genesis config."""
        ...

    @property
    def hash_size(self) -> int:
        """Digest length in bytes."""
        ...

    def hash(self, data: bytes) -> bytes:
        """Digest of ``data`` (tx ids, block hashes, Merkle nodes)."""
        ...

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Sign ``message`` with a raw private key of this suite."""
        ...

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is valid for ``message`` under ``public_key``; never raises on bad input."""
        ...

    def generate(self) -> tuple[bytes, bytes]:
        """A fresh (private, public) raw key pair. Shell only: uses the OS random source."""
        ...


_REGISTRY: dict[str, SignatureSuite] = {}


def register_suite(suite: SignatureSuite) -> None:
    """Make ``suite`` selectable by its name."""
    _REGISTRY[suite.name] = suite


def get_suite(name: str) -> SignatureSuite:
    """The suite a genesis config names.

    Raises:
        InputError: no suite has that name.

    """
    if not _REGISTRY:
        from estatechain.crypto import ed25519  # noqa: F401, PLC0415  (registers itself on import)
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise InputError(f"unknown signature suite {name!r}; known suites: {known}") from None
