"""Hashing, signature suites, X.509 helpers and the RFC 9162 Merkle tree."""
