"""The default suite: Ed25519 signatures (libsodium via PyNaCl) with SHA-256.

PyNaCl was chosen by measurement: on our machines libsodium verified about twice as many Ed25519
signatures per second as OpenSSL through ``cryptography`` (``bench/bench_signatures.py`` repeats
that comparison). Keys are the raw 32-byte seed (private) and 32-byte point (public).
"""

from __future__ import annotations

import hashlib
from typing import Final

import nacl.bindings
import nacl.exceptions
import nacl.signing

from estatechain.crypto.suites import register_suite
from estatechain.errors import InputError

NAME: Final = "ed25519-sha256"


class Ed25519Sha256:
    """Ed25519 (RFC 8032) with SHA-256 digests."""

    name: Final = NAME
    hash_size: Final = 32

    def hash(self, data: bytes) -> bytes:
        """SHA-256 of ``data``."""
        return hashlib.sha256(data).digest()

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Sign with a 32-byte seed."""
        if len(private_key) != 32:
            raise InputError(f"Ed25519 private key must be a 32-byte seed, got {len(private_key)} bytes")
        return nacl.signing.SigningKey(private_key).sign(message).signature

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Check a detached signature; malformed keys or signatures are simply invalid."""
        if len(public_key) != 32 or len(signature) != 64:
            return False
        try:
            nacl.bindings.crypto_sign_open(signature + message, public_key)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
            return False
        return True

    def generate(self) -> tuple[bytes, bytes]:
        """A fresh key pair from the OS random source."""
        key = nacl.signing.SigningKey.generate()
        return bytes(key), bytes(key.verify_key)


ED25519_SHA256: Final = Ed25519Sha256()
register_suite(ED25519_SHA256)
