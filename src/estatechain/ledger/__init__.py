"""Transactions, canonical envelopes, blocks, results and chain audit."""
