"""Tests against a real nats-server cluster on loopback (a package: its conftest must not clash with others)."""
