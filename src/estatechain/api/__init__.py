"""The org node's HTTP API: FastAPI under ``/v1``, RFC 9421-signed calls, one error shape."""

from estatechain.api.app import create_app
from estatechain.api.server import NodeServer

__all__ = ["NodeServer", "create_app"]
