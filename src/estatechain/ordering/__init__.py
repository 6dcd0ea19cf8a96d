"""Ordering: deciding which admitted transactions form the next block, and in what order."""
