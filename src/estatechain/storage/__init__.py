"""SQLite adapters: one connection owns the block, tx-log and state writes of a block (design §3.7)."""
