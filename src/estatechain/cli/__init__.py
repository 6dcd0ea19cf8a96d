"""The ``estatechain`` command line."""
