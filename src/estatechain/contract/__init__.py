"""The registry's business rules as one pure, deterministic function.

``execute(view, ctx, command) -> Accepted | Rejected`` is the single entry point. Determinism rules,
enforced by import-linter (this package imports nothing from the shell), ruff's banned-api list in
this folder, and replay tests:

* no clock: the only time is ``BlockContext.block_time_ms``, taken from the block header;
* no randomness, no I/O, no floats, no iteration whose order depends on dict insertion or hashing;
* state is read only through ``StateView`` and changed only by returning ``Effect`` values;
* a broken rule is a ``Rejected`` value with a stable code, never an exception. An exception that
  escapes ``execute`` is a bug: the node halts rather than mark the transaction invalid.
"""
