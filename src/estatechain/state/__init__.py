"""The world state model and its authenticated commitment (design §3.15)."""
