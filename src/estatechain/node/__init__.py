"""The org node: pipeline from submission to commit, and its composition."""
