"""Named pure checks, one function per rule of domain.md §12: each returns ``Rejected`` or None."""
