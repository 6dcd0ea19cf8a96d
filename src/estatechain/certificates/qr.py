"""The QR code content of a certificate: a verification URL carrying the number and the record hash.

Content (docs/certificates.md)::

    <node base URL>/v1/certificates/verify?number=<percent-encoded UTF-8 number>&sha256=<64 hex>

A phone that scans it opens the registry node's public verification endpoint, which answers with the
certificate's current status and its verified content (personal names masked); the number alone
would yield the status only (design §3.20). Registry software puts the number and a hash in the QR
as well (domain.md §6.2, C2); the URL form adds where to verify it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, quote, urlsplit

from estatechain.errors import InputError

VERIFY_PATH: Final = "/v1/certificates/verify"
_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class QrContent:
    """What a certificate's QR code says."""

    base_url: str
    number: str
    sha256: str

    def text(self) -> str:
        """The encoded content."""
        return f"{self.base_url.rstrip('/')}{VERIFY_PATH}?number={quote(self.number, safe='')}&sha256={self.sha256}"


def parse_qr(text: str) -> QrContent:
    """Read QR content back.

    Raises:
        InputError: it is not a certificate verification URL with one number and one 64-hex hash.

    """
    parts = urlsplit(text.strip())
    if not parts.scheme or not parts.path.endswith(VERIFY_PATH):
        raise InputError(f"QR content {text[:80]!r} is not an estatechain certificate verification URL "
                         f"(expected …{VERIFY_PATH}?number=…&sha256=…)")
    query = parse_qs(parts.query)
    numbers, hashes = query.get("number", []), query.get("sha256", [])
    if len(numbers) != 1 or len(hashes) != 1 or not _HEX64.fullmatch(hashes[0]):
        raise InputError("QR content: needs exactly one number and one sha256 of 64 lower-case hex characters")
    base = f"{parts.scheme}://{parts.netloc}{parts.path[: -len(VERIFY_PATH)]}"
    return QrContent(base_url=base, number=numbers[0], sha256=hashes[0])
