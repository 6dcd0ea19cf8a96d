"""estatechain: a consortium ledger for real-estate mortgage registration.

Importing the package performs no I/O; the composition root in ``estatechain.node`` builds everything.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
