"""Builders for tests, demos and benchmarks: signed transactions from development identities."""
