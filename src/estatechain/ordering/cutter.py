"""The block cutter's decision, pure so that every node cutting the same stream cuts the same blocks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, kw_only=True)
class BlockCutter:
    """Accumulates entries into a batch bounded by transaction count and bytes.

    The batch timeout is the caller's business (a timer in single-node mode, a cut marker on the
    stream in a cluster); this class only answers "does the next entry still fit".
    """

    max_tx: int
    max_bytes: int
    count: int = field(default=0, init=False)
    size: int = field(default=0, init=False)

    def fits(self, entry_bytes: int) -> bool:
        """True when an entry of ``entry_bytes`` may join the current batch.

        An empty batch always takes one entry, so an entry larger than ``max_bytes`` (admission
        bounds those anyway) cannot stall the cutter.
        """
        if self.count == 0:
            return True
        return self.count < self.max_tx and self.size + entry_bytes <= self.max_bytes

    def add(self, entry_bytes: int) -> None:
        """Count an entry into the current batch."""
        self.count += 1
        self.size += entry_bytes

    @property
    def full(self) -> bool:
        """True when no further entry fits by count."""
        return self.count >= self.max_tx

    def reset(self) -> None:
        """Start a new batch."""
        self.count = 0
        self.size = 0
